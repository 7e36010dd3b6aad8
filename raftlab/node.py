"""A sans-I/O Raft server.

Rule 1: the node never reads a clock, never draws from the global ``random``,
starts no thread and does no I/O.  The simulator hands it one input at a time
(a message, or a timer firing, which is itself a local message) together with
the current virtual time; :meth:`Node.step` returns the step's effects as a
:class:`Ready` (like etcd-io/raft's): the messages to send, the notes for the
event log, the entries applied, and which log entries were written or removed.
When its timers should fire is in ``election_deadline`` and ``heartbeat_deadline``.

While a step runs, the rules add to its effects through ``node.send`` and
``node.note`` (into ``node.outbox``, ``node.notes`` and ``node.applied``, which
then hold the last step's effects until the next step starts).

Rule 2: the protocol's rules live in :mod:`raftlab.rules`, one function per
rule of Figure 2.  The node only dispatches to them, through ``node.rules``,
which a student's module can replace (see :mod:`raftlab.impl`).

Rule 3: only ``become_follower``, ``become_pre_candidate``,
``become_candidate`` and ``become_leader`` change ``role``; each notes one
line such as ``n1 became candidate at term 2``.

Rule 4: the node's configuration (who votes, who only listens) is the latest
configuration entry in its log, committed or not, else its snapshot's, else the
cluster's initial one (section 6 of the paper), as the rule
``current_configuration`` finds it; ``peers``, ``majority`` and ``has_quorum``
follow from it (see :mod:`raftlab.membership`).

Persistent state (kept by a crash): ``current_term``, ``voted_for``, ``log``,
``snapshot``.  Everything else is volatile and lost by a crash.  The engine
persists at the end of every step, before the step's messages leave (the
order of etcd-io/raft's ``Ready``), so nothing a reply depends on is lost.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable, Optional, Sequence

from .log import NO_CHANGES, Log, LogChanges
from .membership import Configuration
from .messages import (
    AppendEntries,
    AppendEntriesReply,
    ClientRequest,
    ElectionTimeout,
    Entry,
    HeartbeatTimeout,
    InstallSnapshot,
    InstallSnapshotReply,
    MembershipChange,
    Message,
    RequestVote,
    RequestVoteReply,
)
from .statemachine import KVStore, Snapshot

__all__ = ["Node", "Role", "NodeConfig", "Ready", "RoleChange"]


class Role(Enum):
    FOLLOWER = "follower"
    PRE_CANDIDATE = "pre-candidate"
    CANDIDATE = "candidate"
    LEADER = "leader"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class NodeConfig:
    """What one server knows of its cluster and its timing (times in ms)."""
    election_timeout: tuple[int, int] = (150, 300)
    heartbeat: int = 50
    pre_vote: bool = False
    check_quorum: bool = False
    snapshot_every: int = 0          # 0: never compact the log
    max_entries: int = 64            # at most this many entries per AppendEntries
    membership: str = "single"       # how the cluster changes: "single", "joint" or "unsafe-direct"


@dataclass(frozen=True, slots=True)
class RoleChange:
    """A note that the server's role changed (``become_*`` writes it; the event log shows it)."""
    node: str
    role: Role
    term: int

    def __str__(self) -> str:
        return f"{self.node} became {self.role} at term {self.term}"


class Ready:
    """What one step of a node produced, for the simulation to carry out (etcd-io/raft's ``Ready``).

    ``messages`` to send; ``notes`` for the event log (text, or :class:`RoleChange`); ``applied``, the
    ``(index, entry, result)`` of each entry applied to the state machine; ``log``, the lowest log index
    written and the first ``(index, term)`` removed, i.e. what a real server would write to disk
    before sending ``messages``."""
    __slots__ = ("messages", "notes", "applied", "log")

    def __init__(self, messages: Sequence[Message], notes: Sequence[Any],
                 applied: Sequence[tuple[int, Entry, Any]], log: LogChanges) -> None:
        self.messages, self.notes, self.applied, self.log = messages, notes, applied, log

    def __repr__(self) -> str:
        return (f"Ready(messages={len(self.messages)}, notes={self.notes!r}, applied={len(self.applied)}, "
                f"log={self.log})")


_QUIET = Ready((), (), (), NO_CHANGES)        # a step that did nothing visible (shared: it is never changed)


class Node:
    """One Raft server.  Read its fields freely; change it only through
    :meth:`step` (or the simulation's operator actions)."""

    def __init__(self, node_id: str, peers: list[str], config: NodeConfig,
                 rules: Any, election_timeouts: Callable[[], int], initial: Optional[Configuration] = None):
        self.id = node_id
        #: the configuration used while the log holds none: every server named in ``peers`` (and this
        #: one) a voter; a server added to a running cluster starts with ``Configuration(())``: it
        #: knows no configuration until the leader's log reaches it.
        self.initial_configuration = initial if initial is not None else Configuration(
            tuple(peers) + ((node_id,) if node_id not in peers else ()))
        self._peers_of: Optional[Configuration] = None
        self._peers: list[str] = []
        self.config = config
        self.rules = rules
        self._election_timeouts = election_timeouts
        # persistent state on all servers (Figure 2)
        self.current_term = 0
        self.voted_for: Optional[str] = None
        self.log = Log()
        self.snapshot: Optional[Snapshot] = None
        self.crashed = False
        self.now = 0
        self.outbox: list[Message] = []
        self.notes: list[Any] = []
        self.applied: list[tuple[int, Entry, Any]] = []
        self._reset_volatile()

    def copy(self, election_timeouts: Optional[Callable[[], int]] = None) -> "Node":
        """An independent copy of this server as it stands, for :meth:`raftlab.sim.Simulation.fork`:
        its own log, state machine, votes and leader bookkeeping (log entries, messages and the
        rules are immutable or shared).  The copy draws its election timeouts from
        ``election_timeouts`` (default: from this node's stream, shared with it).  Anything else a
        rule stored on the node (``node.my_field``) is deep-copied."""
        new = Node.__new__(Node)
        d = new.__dict__
        d.update(self.__dict__)
        d["_peers"], d["catch_up"] = list(self._peers), dict(self.catch_up)
        d["log"] = self.log.copy()
        d["state_machine"] = self.state_machine.copy()
        d["outbox"], d["notes"], d["applied"] = list(self.outbox), list(self.notes), list(self.applied)
        d["votes_granted"], d["recent_active"] = set(self.votes_granted), set(self.recent_active)
        d["next_index"], d["match_index"] = dict(self.next_index), dict(self.match_index)
        if election_timeouts is not None:
            d["_election_timeouts"] = election_timeouts
        for name in d.keys() - ENGINE_FIELDS:
            d[name] = copy.deepcopy(d[name])
        return new

    def _begin(self) -> None:
        """Start a step with nothing sent, noted or applied yet (the last step's lists are its Ready's)."""
        if self.outbox:
            self.outbox = []
        if self.notes:
            self.notes = []
        if self.applied:
            self.applied = []

    def _end(self) -> Ready:
        """The step's effects (empty ones as ``()``)."""
        changes = self.log.take_changes()
        if not (self.outbox or self.notes or self.applied) and changes is NO_CHANGES:
            return _QUIET
        return Ready(self.outbox or (), self.notes or (), self.applied or (), changes)

    def _reset_volatile(self) -> None:
        # volatile state on all servers
        self.role = Role.FOLLOWER
        self.leader_id: Optional[str] = None
        self.snapshot_state_restore()
        # volatile state on candidates and leaders
        self.votes_granted: set[str] = set()
        self.next_index: dict[str, int] = {}
        self.match_index: dict[str, int] = {}
        self.recent_active: set[str] = set()       # check-quorum: peers heard from this round
        self.catch_up: dict[str, tuple[int, int]] = {}   # learner -> (round's target index, start time)
        self.last_heard_from_leader: Optional[int] = None
        # timers (absolute virtual times, or None when not running)
        self.election_deadline: Optional[int] = None
        self.heartbeat_deadline: Optional[int] = None

    def snapshot_state_restore(self) -> None:
        base = self.snapshot.last_included_index if self.snapshot else 0
        self.commit_index = base
        self.last_applied = base
        self.state_machine = KVStore.restore(self.snapshot)

    # --- facts the rules use ---------------------------------------------------
    @property
    def configuration(self) -> Configuration:
        """The configuration this server uses: "a server always uses the latest configuration in its
        log, regardless of whether the entry is committed" (section 6), else its snapshot's, else the
        initial one.  The rule ``current_configuration`` (exercise 7) decides."""
        return self.rules.current_configuration(self)

    @property
    def peers(self) -> list[str]:
        """Every other server of the configuration, learners included (a leader replicates to them),
        in cluster order."""
        conf = self.configuration
        if conf is not self._peers_of:
            self._peers_of = conf
            self._peers = [m for m in conf.members if m != self.id]
        return self._peers

    @property
    def cluster_size(self) -> int:
        """How many servers vote (in a plain configuration)."""
        return len(self.configuration.voters)

    @property
    def majority(self) -> int:
        """Votes (or replicas) needed in a plain configuration: more than half of its voters, counting
        itself.  The rules use :meth:`has_quorum`, which also knows the joint phase."""
        return self.configuration.majority

    @property
    def is_voter(self) -> bool:
        """Whether this server's vote counts in its own latest configuration; a server that is not a
        voter never stands for election (etcd's "promotable")."""
        return self.configuration.is_voter(self.id)

    def has_quorum(self, ids: Any) -> bool:
        """Whether the servers ``ids`` are a quorum of this server's configuration (the rules'
        ``has_quorum`` decides)."""
        return self.rules.has_quorum(self, ids)

    @property
    def is_leader(self) -> bool:
        return self.role is Role.LEADER

    def random_election_timeout(self) -> int:
        """A fresh election timeout in ms, drawn by the simulation for this node
        (section 5.2: "election timeouts are chosen randomly from a fixed interval")."""
        return self._election_timeouts()

    def send(self, message: Message) -> None:
        """Queue ``message`` to be sent when this step ends."""
        self.outbox.append(message)

    def note(self, text: str) -> None:
        """Record one line for the event log (``n1 became leader at term 2``)."""
        self.notes.append(f"{self.id} {text}")

    # --- role changes (the only places ``role`` is assigned) ---------------------
    def become_follower(self, leader_id: Optional[str] = None) -> None:
        if self.role is not Role.FOLLOWER:
            self.notes.append(RoleChange(self.id, Role.FOLLOWER, self.current_term))
        self.role = Role.FOLLOWER
        self.leader_id = leader_id
        self.votes_granted = set()
        self.heartbeat_deadline = None
        if self.election_deadline is None:
            self.rules.reset_election_timer(self)

    def become_pre_candidate(self) -> None:
        self.role = Role.PRE_CANDIDATE
        self.leader_id = None
        self.votes_granted = {self.id}
        self.notes.append(RoleChange(self.id, self.role, self.current_term))

    def become_candidate(self) -> None:
        self.role = Role.CANDIDATE
        self.leader_id = None
        self.notes.append(RoleChange(self.id, self.role, self.current_term))

    def become_leader(self) -> None:
        """Section 5.3: a new leader sets nextIndex to its last log index + 1 and
        matchIndex to 0 for every follower, then (section 8) appends a no-op entry of
        its own term so that entries of earlier terms can be committed."""
        self.role = Role.LEADER
        self.leader_id = self.id
        self.votes_granted = set()
        self.notes.append(RoleChange(self.id, self.role, self.current_term))
        last = self.log.last_index
        self.next_index = {p: last + 1 for p in self.peers}
        self.match_index = {p: 0 for p in self.peers}
        self.recent_active = set()
        self.log.append(Entry(self.current_term, None))
        self.election_deadline = None
        if self.config.check_quorum:
            self.rules.reset_election_timer(self)
        self.rules.advance_commit_index(self)   # a cluster of one commits at once
        self.rules.broadcast_append_entries(self)
        self.heartbeat_deadline = self.now + self.config.heartbeat

    # --- the only entry point ------------------------------------------------
    def step(self, message: Message, now: int) -> Ready:
        """Handle one input at virtual time ``now``; return what it produced."""
        if self.crashed:
            raise RuntimeError(f"{self.id} is crashed: restart it before it can handle {message}")
        self._begin()
        self.now = now
        rules = self.rules
        kind = type(message)
        if kind is ElectionTimeout:
            rules.on_election_timeout(self)
        elif kind is HeartbeatTimeout:
            rules.on_heartbeat_timeout(self)
        else:
            self._receive(message, kind)
        if self.role is Role.LEADER and self.log.configuration_index:
            rules.advance_configuration(self)      # only once the cluster has changed at all
        rules.apply_committed(self)
        return self._end()

    def _receive(self, message: Message, kind: type) -> None:
        """A message from another server or a client: the term rule first (once, for every
        message: "If RPC request or response contains term T > currentTerm: set currentTerm =
        T, convert to follower", section 5.1), then the message's handler."""
        rules = self.rules
        term = getattr(message, "term", None)
        if term is not None and term > self.current_term and not _is_pre_vote_probe(message):
            if kind is RequestVote and rules.in_leader_lease(self):
                return   # section 4.2.3: ignore a disruptive candidate while a leader is alive
            rules.update_term(self, term)
        handler = _HANDLERS.get(kind)
        if handler is None:
            raise TypeError(f"{self.id} cannot handle {message!r}")
        if (kind is RequestVote or kind is RequestVoteReply) and message.pre_vote:  # type: ignore[attr-defined]
            handler = _PRE_VOTE_HANDLERS[kind]
        getattr(rules, handler)(self, message)

    def start(self, now: int) -> Ready:
        """Boot for the first time: a follower whose election timer starts now (section 5.2)."""
        self._begin()
        self.now = now
        self.rules.reset_election_timer(self)
        return self._end()

    def reconfigure(self, config: NodeConfig, now: int) -> Ready:
        """Take new settings (the operator switched pre-vote or check-quorum).  A leader that starts
        checking its quorum starts the timer that checks it (thesis 6.2), counting from now."""
        self._begin()
        self.now = now
        starts_checking = config.check_quorum and not self.config.check_quorum
        self.config = config
        if starts_checking and self.role is Role.LEADER and not self.crashed:
            self.recent_active = set()
            self.rules.reset_election_timer(self)
        return self._end()

    def crash(self) -> Ready:
        """Lose all volatile state; keep current_term, voted_for, log and snapshot."""
        self._begin()
        self.crashed = True
        self._reset_volatile()
        self.note("crashed")
        return self._end()

    def restart(self, now: int) -> Ready:
        """Come back as a follower, from the persistent state alone."""
        self._begin()
        self.crashed = False
        self.now = now
        self._reset_volatile()
        self.note(f"restarted at term {self.current_term} with {self.log.last_index} log entries")
        self.rules.reset_election_timer(self)
        return self._end()

    def __repr__(self) -> str:
        return (f"<Node {self.id} {self.role} term={self.current_term} voted_for={self.voted_for} "
                f"log={self.log.last_index} commit={self.commit_index}>")


#: The fields the engine gives a node (:meth:`Node.copy` copies them by name; anything else a rule stored
#: on a node is deep-copied, and the exhaustive search puts it in its state key as it is).
ENGINE_FIELDS = frozenset((
    "id", "_peers", "_peers_of", "initial_configuration", "catch_up",
    "config", "rules", "_election_timeouts", "current_term", "voted_for", "log", "snapshot",
    "crashed", "now", "outbox", "notes", "applied", "role", "leader_id", "commit_index", "last_applied",
    "state_machine", "votes_granted", "next_index", "match_index", "recent_active", "last_heard_from_leader",
    "election_deadline", "heartbeat_deadline"))


def _is_pre_vote_probe(m: Message) -> bool:
    """A PreVote and a granted PreVote reply carry a term nobody has adopted yet."""
    if isinstance(m, RequestVote):
        return m.pre_vote
    if isinstance(m, RequestVoteReply):
        return m.pre_vote and m.vote_granted
    return False


_HANDLERS = {
    RequestVote: "handle_request_vote",
    RequestVoteReply: "handle_request_vote_reply",
    AppendEntries: "handle_append_entries",
    AppendEntriesReply: "handle_append_entries_reply",
    InstallSnapshot: "handle_install_snapshot",
    InstallSnapshotReply: "handle_install_snapshot_reply",
    ClientRequest: "handle_client_request",
    MembershipChange: "handle_membership_change",
}
_PRE_VOTE_HANDLERS = {RequestVote: "handle_pre_vote", RequestVoteReply: "handle_pre_vote_reply"}
