"""The simulation: a virtual clock, an event queue, the nodes, the network and the operator.

Time is an integer number of virtual milliseconds.  Pending events sit in one
heap of ``(time, sequence, kind, a, b)``; the sequence number makes ties
first-in first-out, so a run is fully determined by the seed and the operator's
actions (the scheduler pattern of SimPy).

Rule 1: every move an operator can make is a public method (:meth:`crash`,
:meth:`restart`, :meth:`drop`, :meth:`deliver`, :meth:`partition`,
:meth:`isolate`, :meth:`cut`, :meth:`reconnect`, :meth:`heal`,
:meth:`set_network`, :meth:`timeout`, :meth:`client_request`,
:meth:`set_pre_vote`, :meth:`set_check_quorum`, :meth:`add_server`, :meth:`remove_server`,
:meth:`advance`), and each of
them is one :class:`raftlab.actions.Action` handed to :meth:`do`, which
validates, records and applies it.  Stepping (:meth:`step`, :meth:`run_until`)
is not recorded: it follows from the seed and the actions.

Rule 2: a node's step returns its effects (a :class:`raftlab.node.Ready`);
:meth:`_run_node` is the one place they are carried out: events logged,
messages put on the network, timers scheduled, the safety checker shown them.

Rule 3: what happened is recorded as typed events (:mod:`raftlab.events`) in
``sim.trace`` and as :class:`~raftlab.events.NodeState` /
:class:`~raftlab.events.NetworkState` records in ``sim.timeline``.

Rule 4: a run is its configuration, its rules and its recorded actions
(:class:`raftlab.run.Run`, ``sim.run``).  :meth:`rewind` replays the run up to a
step with the *same* rules object, so no student module is imported again, and
the :class:`~raftlab.node.Node` objects a caller holds stay the simulation's
nodes: after a rewind they hold the state of that earlier moment.
"""
from __future__ import annotations

import copy
import functools
import heapq
import random
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence, Union

from . import actions as act
from .config import Config
from .errors import (
    ConfigError,
    MessageNotInFlight,
    NodeError,
    OperatorError,
    RaftlabError,
    SafetyViolation,
    UnknownNodeError,
)
from .events import (
    ClientDone,
    ClientSent,
    Committed,
    Delivered,
    Dropped,
    Lost,
    NetworkState,
    NodeState,
    Note,
    OperatorMove,
    RoleChanged,
    TimerFired,
    TraceEvent,
    Violation,
)
from .impl import Rules, resolve_rules
from .invariants import SafetyChecker
from .membership import Configuration
from .messages import (
    ClientReply,
    ClientRequest,
    ElectionTimeout,
    HeartbeatTimeout,
    MembershipChange,
    Message,
    format_command,
)
from .network import Envelope, LinkConfig, Network
from .node import Node, NodeConfig, Ready, Role, RoleChange

__all__ = ["Simulation", "TraceEvent", "Operation", "NodeError", "Due"]

DELIVER, ELECTION, HEARTBEAT, CLIENT_TICK, CLIENT_RETRY = range(5)
_NOTHING = object()              # "no event was due" (an event may itself be None when history is off)
NodeName = Union[str, int]


@dataclass(slots=True)
class Operation:
    """One client operation as the client saw it: invoked at ``invoked``, answered at ``completed``
    (None while it is pending) with ``result``.  ``id`` is ``(client, seq)``."""
    client: str
    seq: int
    command: tuple
    invoked: int
    completed: Optional[int] = None
    result: Any = None
    attempts: int = 1

    @property
    def id(self) -> tuple[str, int]:
        return (self.client, self.seq)

    def __str__(self) -> str:
        end = f"t={self.completed} -> {self.result!r}" if self.completed is not None else "pending"
        return f"{self.client}#{self.seq} {format_command(self.command)} t={self.invoked}..{end}"


class _Client:
    __slots__ = ("id", "seq", "pending", "guess", "last_target")

    def __init__(self, cid: str):
        self.id, self.seq = cid, 0
        self.pending: Optional[Operation] = None
        self.guess: Optional[str] = None
        self.last_target: Optional[str] = None

    def copy(self, pending: Optional[Operation]) -> "_Client":
        new = _Client(self.id)
        new.seq, new.pending, new.guess, new.last_target = self.seq, pending, self.guess, self.last_target
        return new


class _TimeoutStream:
    """One node's election timeouts: the k-th is drawn from the k-th number of its own stream."""
    __slots__ = ("random", "lo", "hi")

    def __init__(self, generator: random.Random, lo: int, hi: int):
        self.random, self.lo, self.hi = generator, lo, hi

    def __call__(self) -> int:
        return self.lo + int(self.random.random() * (self.hi - self.lo + 1))

    def copy(self) -> "_TimeoutStream":
        generator = random.Random()
        generator.setstate(self.random.getstate())
        return _TimeoutStream(generator, self.lo, self.hi)


@dataclass(frozen=True, slots=True)
class Due:
    """The next pending event (:meth:`Simulation.next_due`): at ``time``, a ``kind`` of event
    (``"message"``, ``"election timeout"``, ``"heartbeat"``, ``"client load"``, ``"client retry"``)
    about ``subject`` (the message id, the server, the client; None for the client load)."""
    time: int
    kind: str
    subject: Any


_DUE_KINDS = {DELIVER: "message", ELECTION: "election timeout", HEARTBEAT: "heartbeat",
              CLIENT_TICK: "client load", CLIENT_RETRY: "client retry"}


class Simulation:
    """A Raft cluster in simulated time.

    >>> sim = Simulation(nodes=3, seed=1)
    >>> sim.run_until(lambda s: s.leader() is not None, within=2000)
    True
    """

    def __init__(self, config: Optional[Config] = None, *, impl: Any = None, **changes: Any):
        if config is None:
            config = Config(**changes)
        elif changes:
            config = config.replace(**changes)
        if not isinstance(config, Config):
            raise ConfigError(f"config must be a raftlab Config, got {type(config).__name__}")
        self.initial_config = config
        self.rules: Rules = resolve_rules(impl)
        self.listeners: list[Callable[["Simulation"], None]] = []
        self._start(config)

    # --- construction ------------------------------------------------------------------
    def _start(self, config: Config) -> None:
        self.config = config
        self.names = [f"n{i}" for i in range(1, config.nodes + 1)]
        node_config = self._node_config(config)
        self._timeout_streams: dict[str, _TimeoutStream] = {}
        self.nodes: dict[str, Node] = {
            name: Node(name, self.names, node_config, self.rules, self._timeout_stream(name))
            for name in self.names}
        self.network = Network(config.seed, LinkConfig(config.delay, config.drop, config.duplicate),
                               self.names)
        self.clients: dict[str, _Client] = {}
        self.operations: list[Operation] = []
        self._operations: dict[tuple[str, int], Operation] = {}
        self._load_random = random.Random(f"{config.seed}:clients").random
        self._load_clients = [f"c{i}" for i in range(1, config.clients + 1)]
        self.now = 0
        self.steps = 0
        self.actions: list[act.Recorded] = []
        self.trace: deque[TraceEvent] = deque(maxlen=config.history or 1)
        self._record_trace = config.history > 0
        self.checker = SafetyChecker() if config.check_safety else None
        self.violation: Optional[SafetyViolation] = None
        self.error: Optional[NodeError] = None
        #: the verdict of the last :meth:`check_history` (the history view outlines what it could not order)
        self.history_verdict: Optional["Verdict"] = None
        self._queue: list[tuple] = []
        self._seq = 0
        self._scheduled: dict[str, list] = {name: [None, None] for name in self.names}
        #: Changes over time, for timelines: a NodeState whenever a server's role, term, commit index
        #: or crashed flag changes, and a NetworkState whenever the network is split, cut or healed.
        self.timeline: deque[Union[NodeState, NetworkState]] = deque(maxlen=max(config.history * 10, 1000))
        for name in self.names:
            self.timeline.append(NodeState(0, name, "follower", 0, 0, False))
        for node in self.nodes.values():
            self._run_node(node, node.start, None)
        if config.request_interval:
            self._push(config.request_interval, CLIENT_TICK, None, None)

    @staticmethod
    def _node_config(config: Config) -> NodeConfig:
        return NodeConfig(config.election_timeout, config.heartbeat, config.pre_vote,
                          config.check_quorum, config.snapshot_every, config.max_entries, config.membership)

    def _timeout_stream(self, name: str) -> Callable[[], int]:
        """Node ``name``'s k-th election timeout is the k-th draw of its own stream."""
        stream = _TimeoutStream(random.Random(f"{self.config.seed}:timeout:{name}"), *self.config.election_timeout)
        self._timeout_streams[name] = stream
        return stream

    # --- reading the state ----------------------------------------------------------------
    @property
    def impl(self) -> Any:
        """How this simulation's rules are named in a saved run: ``"reference"``, ``"exercises"``, a
        path or module name as given, or ``{"custom": ...}`` (see :func:`raftlab.impl.resolve_rules`)."""
        return self.rules.spec

    def node(self, name: NodeName) -> Node:
        """The node called ``name`` (``"n2"`` or ``2``)."""
        return self.nodes[self._name(name)]

    def leader(self, reachable: bool = True) -> Optional[Node]:
        """The leader clients can use: the live leader of the highest term that can exchange messages
        with a majority of the servers (itself included) that would follow it (their term is not
        higher than its own).  ``reachable=False``: any live server that believes it is leader, of
        the highest term, even one cut off from the rest or left behind by a newer term."""
        best = None
        for node in self.nodes.values():
            if node.role is Role.LEADER and not node.crashed:
                if best is None or node.current_term > best.current_term:
                    if not reachable or self._followed_by_majority(node):
                        best = node
        return best

    def _followed_by_majority(self, leader: Node) -> bool:
        net = self.network
        split = net.groups is not None or bool(net.cut)
        blocked = net.blocked
        term, name = leader.current_term, leader.id
        following = set()
        for other, n in self.nodes.items():
            if n.crashed or n.current_term > term:
                continue
            if other == name or not split or (blocked(name, other) is None and blocked(other, name) is None):
                following.add(other)
        return leader.has_quorum(following)

    def in_flight(self) -> list[Envelope]:
        """Messages in flight, soonest delivery first."""
        return sorted(self.network.in_flight.values(), key=lambda e: (e.deliver_at, e.id))

    def peek(self) -> Optional[int]:
        """The time of the next pending event, or None.  Like :meth:`next_due` it changes nothing, so
        asking (a lesson, the Explorer, a replay) never changes what happens next."""
        due = self.next_due()
        return None if due is None else due.time

    def next_due(self) -> Optional[Due]:
        """The event :meth:`step` would process next (when, what, about whom), or None.  It changes
        nothing, not even which stale events are still queued (a stale timer event taken off ahead of
        its time could be needed again if the timer is set back to that time), so a run that asks it
        replays exactly like one that does not."""
        queue, stale = self._queue, self._is_stale
        candidates = [(queue[0], 0)] if queue else []
        while candidates:                      # walk the heap from the top, smallest first
            event, i = heapq.heappop(candidates)
            if not stale(event):
                return Due(event[0], _DUE_KINDS[event[2]], event[3])
            for child in (2 * i + 1, 2 * i + 2):
                if child < len(queue):
                    heapq.heappush(candidates, (queue[child], child))
        return None

    def fork(self, share_random: bool = False, copy_nodes: Optional[Sequence[str]] = None) -> "Simulation":
        """An independent copy of this simulation as it stands, to take a different turn from here
        (the exhaustive search, :mod:`raftlab.explore`, forks a state once per choice).  Much cheaper
        than replaying the run: servers, messages in flight, clients, the event queue, the safety
        checker's memory, the recorded actions and the trace are copied; the rules, log entries and
        messages (immutable) are shared, and listeners are not copied.

        The random streams (message delays and losses, election timeouts, the clients' load) are
        copied at the point they have reached, so the copy goes on exactly as this simulation would.
        ``share_random=True`` shares them instead, which is much cheaper but exact only when the
        configuration leaves nothing to chance (a fixed delay and election timeout, no loss, no
        duplication, no client load), as in the search's: otherwise the copies' draws interleave.

        ``copy_nodes`` copies only those servers and shares the others (the same Node objects) with
        this simulation: only for a caller that knows its next move changes no other server and
        that will not change this simulation again (the search, which forks each state once per
        choice and steps only the fork)."""
        new = Simulation.__new__(Simulation)
        d = new.__dict__
        d.update(self.__dict__)
        d["listeners"] = []
        d["names"] = list(self.names)             # add_server appends to it
        streams = self._timeout_streams
        copies = {} if share_random else {name: s.copy() for name, s in streams.items()}
        d["_timeout_streams"] = dict(streams) if share_random else copies
        d["nodes"] = {name: node.copy(copies.get(name)) if copy_nodes is None or name in copy_nodes else node
                      for name, node in self.nodes.items()}
        d["network"] = self.network.copy(share_random)
        if not share_random:
            generator = random.Random()
            generator.setstate(self._load_random.__self__.getstate())  # type: ignore[attr-defined]
            d["_load_random"] = generator.random
        operations = [copy.copy(op) for op in self.operations]
        d["operations"] = operations
        d["_operations"] = by_id = {op.id: op for op in operations}
        d["clients"] = {cid: c.copy(None if c.pending is None else by_id[c.pending.id])
                        for cid, c in self.clients.items()}
        d["actions"] = list(self.actions)
        d["trace"] = deque(self.trace, maxlen=self.trace.maxlen)
        d["timeline"] = deque(self.timeline, maxlen=self.timeline.maxlen)
        d["_queue"] = list(self._queue)
        d["_scheduled"] = {name: list(slots) for name, slots in self._scheduled.items()}
        if self.checker is not None:
            d["checker"] = self.checker.copy()
        return new

    def events(self, level: str = "debug") -> list[TraceEvent]:
        return [e for e in self.trace if level == "debug" or e.level == "info"]

    def trace_text(self, level: str = "debug") -> str:
        return "\n".join(str(e) for e in self.events(level))

    def committed(self, name: Optional[NodeName] = None) -> list:
        """The committed log entries of a node (default: the leader, else the node
        with the highest commit index), from the oldest one still in its log."""
        node = self.node(name) if name is not None else (
            self.leader() or max(self.nodes.values(), key=lambda n: n.commit_index))
        log = node.log
        return [log.entry(i) for i in range(log.snapshot_index + 1, node.commit_index + 1)]

    def history(self) -> list[Operation]:
        """Every client operation so far, as the clients saw it: command, when it was sent and when
        (and with what result) it was answered, or still pending.  See :meth:`check_history`."""
        return list(self.operations)

    def check_history(self, *, max_states: int = 500_000) -> "Verdict":
        """Is the clients' history linearizable (:mod:`raftlab.linearizability`)?  Returns the verdict;
        a history that cannot be ordered also stops the run with a ``Linearizability`` violation, like
        the Figure 3 properties (``verdict.replay_time`` is when it was already wrong)."""
        from .linearizability import check
        verdict = self.history_verdict = check(self.operations, max_states=max_states)
        if verdict.failed and self.violation is None:
            try:
                self._halt(verdict.as_violation())
            except SafetyViolation:
                pass
        return verdict

    def operation(self, op_id: tuple[str, int]) -> Operation:
        """The client operation ``op_id`` (what :meth:`client_request` returned: ``(client, seq)``):
        its command, when it was invoked and answered, and its result."""
        ok = isinstance(op_id, (tuple, list)) and len(op_id) == 2
        op = self._operations.get((op_id[0], op_id[1])) if ok else None
        if op is None:
            raise OperatorError(f"there is no client operation {op_id!r}; client_request() returns "
                                f"the id of the one it sends, like ('c1', 1)")
        return op

    def wait_for(self, op_id: tuple[str, int], within: int = 10_000) -> Operation:
        """Run until operation ``op_id`` is answered (at most ``within`` ms); return it (its
        ``completed`` is None if it was not answered in time)."""
        op = self.operation(op_id)
        self.run_until(lambda s: op.completed is not None, within=within)
        return op

    @property
    def stats(self) -> dict:
        net = self.network
        done = [op for op in self.operations if op.completed is not None]
        return {"steps": self.steps, "time": self.now, "sent": net.sent, "delivered": net.delivered,
                "dropped": net.dropped, "duplicated": net.duplicated,
                "client_requests": len(self.operations), "client_completed": len(done)}

    def summary(self) -> str:
        """A short deterministic description of the cluster (for lessons and checks)."""
        leader = self.leader()
        who = f"{leader.id} (term {leader.current_term})" if leader else "none"
        lines = [f"t={self.now} ms, leader: {who}"]
        for node in self.nodes.values():
            state = "crashed" if node.crashed else str(node.role)
            lines.append(f"  {node.id}: {state:<13} term={node.current_term} "
                         f"voted_for={node.voted_for or '-'} commit={node.commit_index} "
                         f"log={node.log.last_index}")
        return "\n".join(lines)

    # --- running ------------------------------------------------------------------------
    def step(self) -> Optional[TraceEvent]:
        """Process the next event (a message arrives, a timer fires, a client acts).
        Returns its trace line (None when history is off), or None when nothing is pending."""
        self._check_running()
        ev = self._next(None)
        self._notify()
        return None if ev is _NOTHING else ev

    def _next(self, limit: Optional[int]) -> Any:
        """Process the next live event due at or before ``limit`` (any time if None); return its
        trace event, or ``_NOTHING`` when no event is due."""
        queue = self._queue
        in_flight = self.network.in_flight
        pop = heapq.heappop
        while queue:
            time, _, kind, a, b = queue[0]
            if limit is not None and time > limit:
                return _NOTHING               # (the head may be stale: then nothing live is due either)
            event = pop(queue)
            if kind == DELIVER:
                env = in_flight.pop(a, None)
                if env is None:               # delivered early or dropped by the operator
                    continue
                self.now = time
                self.steps += 1
                return self._deliver(env)
            if self._is_stale(event):
                continue
            self.now = time
            self.steps += 1
            if kind == ELECTION or kind == HEARTBEAT:
                return self._fire_timer(a, kind)
            if kind == CLIENT_TICK:
                return self._client_tick()
            return self._client_retry(a, b)
        return _NOTHING

    def _run_events(self, limit: int) -> int:
        """Process every event due at or before ``limit``; return how many."""
        count = 0
        next_event = self._next
        while next_event(limit) is not _NOTHING:
            count += 1
        return count

    def _is_stale(self, event: tuple) -> bool:
        """An event that would do nothing: a message already delivered or dropped, a timer
        that was reset (or whose node crashed), a retry for a request already answered."""
        time, _, kind, a, b = event
        if kind == DELIVER:
            return a not in self.network.in_flight
        if kind == ELECTION or kind == HEARTBEAT:
            node = self.nodes[a]
            slot = 0 if kind == ELECTION else 1
            deadline = node.election_deadline if slot == 0 else node.heartbeat_deadline
            return node.crashed or self._scheduled[a][slot] != time or deadline != time
        if kind == CLIENT_RETRY:
            c = self.clients.get(a)
            return c is None or c.pending is None or c.pending.seq != b
        return False

    def advance(self, ms: int) -> int:
        """Run every event due in the next ``ms`` milliseconds, then move the clock
        to now + ms.  Returns the number of events processed."""
        return self.do(act.Advance(ms))

    def run_until(self, condition: Callable[["Simulation"], bool], within: int = 10_000,
                  max_steps: int = 1_000_000) -> bool:
        """Step until ``condition(sim)`` is true, for at most ``within`` ms of virtual
        time.  Returns whether the condition became true (the clock then stands at
        the step that made it true; otherwise at now + within)."""
        self._check_running()
        deadline = self.now + act.whole_ms(within, "run_until's within")
        steps = 0
        while not condition(self):
            nxt = self.peek()
            if nxt is None or nxt > deadline or steps >= max_steps:
                if deadline > self.now and steps < max_steps:
                    self.do(act.Advance(deadline - self.now))
                self._notify()
                return bool(condition(self))
            self._next(None)
            steps += 1
        self._notify()
        return True

    def run_until_leader(self, within: int = 10_000) -> Optional[Node]:
        """Run until some node is leader; return it (or None)."""
        self.run_until(lambda s: s.leader() is not None, within)
        return self.leader()

    # --- operator actions: each is one Action through do() ---------------------------------------
    def do(self, action: act.Action) -> Any:
        """Validate, record and apply one operator action: the one path every operator move takes
        (the methods below, replay, the Explorer, fault campaigns).  A refused action raises an
        :class:`OperatorError` and changes nothing."""
        if not isinstance(action, act.Action):
            raise OperatorError(f"do() takes a raftlab action such as Crash('n1'), got {action!r}")
        action = action.validate(self)
        self._check_running()
        result = action.perform(self)
        self._notify()
        return result

    def crash(self, node: NodeName) -> None:
        """Crash a node: it keeps current_term, voted_for, its log and snapshot; it loses
        everything else.  Messages to it are lost until it restarts."""
        self.do(act.Crash(node))

    def restart(self, node: NodeName) -> None:
        """Restart a crashed node from its persistent state, as a follower."""
        self.do(act.Restart(node))

    def drop(self, message_id: int) -> Envelope:
        """Drop message ``message_id`` (an id from :meth:`in_flight`) before it arrives."""
        return self.do(act.Drop(message_id))

    def deliver(self, message_id: int) -> Optional[TraceEvent]:
        """Deliver message ``message_id`` now, ahead of its time (one step)."""
        return self.do(act.Deliver(message_id))

    def partition(self, *groups: Any) -> None:
        """Split the network: nodes in different groups cannot reach each other.  Servers not named
        form one more group; clients not named reach every side (name one to place it:
        ``partition(["n1", "c1"])``).  ``partition(["n1", "n2"], ["n3", "n4", "n5"])``."""
        self.do(act.Partition(groups))

    def isolate(self, node: NodeName) -> None:
        """Cut one server (or a client, ``"c1"``) off from everyone else."""
        self.do(act.Isolate(node))

    def cut(self, src: NodeName, dst: NodeName) -> None:
        """Cut the link from ``src`` to ``dst``, one way only (servers or clients)."""
        self.do(act.Cut(src, dst))

    def reconnect(self, node: NodeName) -> None:
        """Give one server (or client) back all its links; any other split stays."""
        self.do(act.Reconnect(node))

    def heal(self) -> None:
        """Remove every partition and cut link."""
        self.do(act.Heal())

    def set_network(self, *, drop: Optional[float] = None, delay: Optional[tuple[int, int]] = None,
                    duplicate: Optional[float] = None) -> None:
        """Change the network for every message sent from now on: the probability ``drop`` that a
        message is lost, the probability ``duplicate`` that it arrives twice, and its ``delay``
        range (MIN, MAX) in ms.  Settings left out stay as they are."""
        self.do(act.SetNetwork(drop, delay, duplicate))

    def timeout(self, node: NodeName) -> TraceEvent:
        """Make a node's election timer fire now (one step)."""
        return self.do(act.Timeout(node))

    def client_request(self, command: Any, node: Optional[NodeName] = None,
                       client: Optional[str] = None) -> tuple[str, int]:
        """A client sends ``command`` (``"put x 1"``, ``("get", "x")``...) to ``node``
        (default: the leader it last heard of, else a node chosen by the seed).
        Returns the operation's id, ``(client, sequence number)``: see :meth:`operation`."""
        return self.do(act.ClientRequest(command, node, client))

    def add_server(self, *nodes: str, via: Optional[NodeName] = None) -> None:
        """Add servers to the cluster (``add_server("n4")``): each starts with an empty log, the leader
        (or ``via``, which must be the leader) appends a configuration with it as a learner, catches it
        up, then promotes it to voter with a second change (dissertation 4.2.1).  One server at a time
        unless ``membership="joint"`` or ``"unsafe-direct"``."""
        self.do(act.AddServer(nodes, via))

    def remove_server(self, *nodes: NodeName, via: Optional[NodeName] = None) -> None:
        """Remove servers from the cluster (``remove_server("n2")``): the leader appends a configuration
        without them (through C_old,new with ``membership="joint"``).  A removed leader keeps leading
        until that configuration is committed, then steps down (dissertation 4.2.2).  The removed
        server keeps running: crash it when you like."""
        self.do(act.RemoveServer(nodes, via))

    def set_pre_vote(self, enabled: bool = True) -> None:
        """Turn pre-vote (thesis section 9.6) on or off for every node."""
        self.do(act.SetPreVote(enabled))

    def set_check_quorum(self, enabled: bool = True) -> None:
        """Turn check-quorum (a leader steps down without a majority) on or off."""
        self.do(act.SetCheckQuorum(enabled))

    # --- what the actions do (called only by raftlab.actions) ------------------------------------
    def _crash(self, node: Node) -> None:
        ready = node.crash()
        self._scheduled[node.id] = [None, None]
        self._carry_out(node, ready)
        self._timeline_node(node)

    def _restart(self, node: Node) -> None:
        ready = node.restart(self.now)
        if self.checker:
            self.checker.after_restart(node)
        self._carry_out(node, ready)
        self._timeline_node(node)

    def _change_membership(self, action: act.Action, leader: str, add: tuple, remove: tuple) -> None:
        for name in add:
            if name not in self.nodes:
                self._new_server(name)
        node = self.nodes[leader]
        change = MembershipChange(leader, leader, tuple(add), tuple(remove))
        self._event(OperatorMove(self.steps, self.now, action, str(change)))
        self._run_node(node, node.step, change)

    def _new_server(self, name: str) -> None:
        """A new server process: an empty log, no configuration until the leader's log reaches it."""
        self.names.append(name)
        node = Node(name, [], self._node_config(self.config), self.rules, self._timeout_stream(name),
                    initial=Configuration(()))
        self.nodes[name] = node
        self.network.nodes.append(name)
        self._scheduled[name] = [None, None]
        self.timeline.append(NodeState(self.now, name, "follower", 0, 0, False))
        self._run_node(node, node.start, None)

    def _drop(self, message_id: int) -> Envelope:
        env = self.network.in_flight.pop(message_id)
        self.network.record(env.id, "dropped", self.now, "by the operator")
        self._event(Dropped(self.steps, self.now, env.id, env.message))
        return env

    def _deliver_early(self, message_id: int) -> Optional[TraceEvent]:
        env = self.network.in_flight.pop(message_id)
        self.steps += 1
        return self._deliver(env, early=True)

    def _force_timeout(self, node: Node, action: act.Action) -> Optional[TraceEvent]:
        self.steps += 1
        ev = self._event(OperatorMove(self.steps, self.now, action, f"operator forced {node.id}'s election timeout"))
        self._run_node(node, node.step, ElectionTimeout(node.id, node.id))
        return ev

    def _network_changed(self, action: act.Action, words: str) -> None:
        net = self.network
        self.timeline.append(NetworkState(self.now, net.sides(), tuple(sorted(net.cut))))
        self._event(OperatorMove(self.steps, self.now, action, words))

    def _reconfigure(self, action: act.Action, **changes: Any) -> None:
        self.config = c = self.config.replace(**changes)
        self.network.default = LinkConfig(c.delay, c.drop, c.duplicate)
        words = ", ".join(f"{k}={v}" for k, v in changes.items())
        self._event(OperatorMove(self.steps, self.now, action, f"operator set {words}"))
        node_config = self._node_config(c)
        for n in self.nodes.values():
            if n.crashed:
                n.config = node_config
            else:
                self._run_node(n, functools.partial(n.reconfigure, node_config), None)

    # --- history: the run, rewind, save, load -----------------------------------------------------
    @property
    def run(self) -> "Run":
        """This run so far, as data: config, rules and recorded actions (see :class:`raftlab.run.Run`)."""
        from .run import Run
        return Run(self.initial_config, self.rules, tuple(self.actions), self.steps, self.now)

    def rewind(self, step: int) -> None:
        """Go back to the moment just after step ``step`` (0: the start), by replaying the seed
        and the operator's actions taken before it, with the same rules (nothing is re-imported).
        Nodes you hold (``n = sim.node(1)``) stay this simulation's nodes, now as they were then."""
        if not isinstance(step, int) or isinstance(step, bool) or not 0 <= step <= self.steps:
            raise OperatorError(f"can only rewind to a step between 0 and {self.steps}, got {step!r}")
        fresh = self.run.replay(until=step)
        for name, node in self.nodes.items():      # keep the Node objects callers hold
            if name in fresh.nodes:                # (a server added after that step is gone)
                node.__dict__.clear()
                node.__dict__.update(fresh.nodes[name].__dict__)
                fresh.nodes[name] = node
        listeners = self.listeners
        self.__dict__.update(fresh.__dict__)
        self.listeners = listeners
        self._notify()

    def to_json(self) -> dict:
        """The run as data: seed and config, the implementation, the actions, where it stands."""
        return self.run.to_json()

    def save(self, path: Union[str, Path]) -> Path:
        return self.run.save(path)

    @classmethod
    def from_json(cls, data: Union[dict, str], impl: Any = None, until_step: Optional[int] = None) -> "Simulation":
        """Rebuild a saved run (up to ``until_step``, default where it was saved)."""
        from .run import Run
        return Run.from_json(data, impl=impl).replay(until=until_step)

    @classmethod
    def load(cls, path: Union[str, Path], impl: Any = None, until_step: Optional[int] = None) -> "Simulation":
        from .run import Run
        return Run.load(path, impl=impl).replay(until=until_step)

    # --- internals -----------------------------------------------------------------------
    def _name(self, node: Any) -> str:
        """A server's name, from ``"n2"`` or ``2``; a clear error for anything else."""
        if isinstance(node, int) and not isinstance(node, bool):
            name = f"n{node}"
        elif isinstance(node, str):
            name = node
        else:
            raise UnknownNodeError(f"a node is named like 'n2' (or given as 2), got {node!r}")
        if name not in self.nodes:
            raise UnknownNodeError(f"there is no node {name!r}: this cluster has "
                                   f"{self.names[0]}..{self.names[-1]}")
        return name

    def _endpoint(self, who: Any) -> str:
        """A server's name, or a client's (``"c1"``): the ends of a network link."""
        if isinstance(who, str) and act.CLIENT_NAME.fullmatch(who):
            return who
        try:
            return self._name(who)
        except UnknownNodeError:
            raise UnknownNodeError(f"there is no node {who!r}: this cluster has servers "
                                   f"{self.names[0]}..{self.names[-1]}, and clients are named like 'c1'"
                                   ) from None

    def _in_flight(self, message_id: Any) -> Envelope:
        ok = isinstance(message_id, int) and not isinstance(message_id, bool)
        env = self.network.in_flight.get(message_id) if ok else None
        if env is None:
            fate = self.network.fate(message_id) if ok else "is not a message id"
            raise MessageNotInFlight(f"message #{message_id} {fate}; pick one of sim.in_flight()")
        return env

    def _check_running(self) -> None:
        if self.violation is not None:
            raise self.violation
        if self.error is not None:
            raise self.error

    def _record(self, action: act.Action) -> None:
        self.actions.append(act.Recorded(self.steps, self.now, action))

    def _notify(self) -> None:
        for listener in self.listeners:
            listener(self)

    def _event(self, event: TraceEvent) -> Optional[TraceEvent]:
        if not self._record_trace:
            return None
        self.trace.append(event)
        return event

    def _push(self, time: int, kind: int, a: Any, b: Any) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (time, self._seq, kind, a, b))

    def _fire_timer(self, name: str, kind: int) -> Optional[TraceEvent]:
        election = kind == ELECTION
        self._scheduled[name][0 if election else 1] = None
        ev = None
        if self._record_trace:
            ev = TimerFired(self.steps, self.now, name, "election" if election else "heartbeat")
            self.trace.append(ev)
        self._run_node(self.nodes[name], self.nodes[name].step,
                       ElectionTimeout(name, name) if election else HeartbeatTimeout(name, name))
        return ev

    def _deliver(self, env: Envelope, early: bool = False) -> Optional[TraceEvent]:
        msg = env.message
        dst = msg.dst
        node = self.nodes.get(dst)
        net = self.network
        crashed = node is not None and node.crashed
        reason = "its receiver is crashed" if crashed else (
            net.blocked(msg.src, dst) if net.groups is not None or net.cut else None)
        if reason:
            net.record(env.id, "lost", self.now, reason)
            return self._event(Lost(self.steps, self.now, msg, reason, crashed))
        net.delivered += 1
        net.remember(env.id, ("delivered", self.now, ""))
        ev = None
        if self._record_trace:
            ev = Delivered(self.steps, self.now, msg, early)
            self.trace.append(ev)
        if node is None:                          # a reply to a client
            self._client_receive(msg)
        else:
            self._run_node(node, node.step, msg)
        return ev

    def _run_node(self, node: Node, fn: Callable, msg: Optional[Message]) -> None:
        """Run ``fn(msg, now)`` (or ``fn(now)``) on ``node``, then carry out the Ready it returns: log
        its events, put its messages on the network, (re)schedule its timers, and show the step to the
        safety checker.  This is the one place a node's step takes effect."""
        role0, term0, commit0 = node.role, node.current_term, node.commit_index
        now = self.now
        try:
            node.now = now
            ready = fn(now) if msg is None else fn(msg, now)
        except RaftlabError:
            raise
        except Exception as exc:
            raise self._node_failed(node, exc, msg) from exc
        e, h = node.election_deadline, node.heartbeat_deadline
        if (e is not None and e < now) or (h is not None and h < now):
            raise self._timer_in_past(node)
        if node.commit_index != commit0 or node.role is not role0 or node.current_term != term0:
            if node.commit_index > commit0 and node.role is Role.LEADER:
                self._event(Committed(self.steps, now, node.id, node.commit_index))
            self._timeline_node(node)
        self._carry_out(node, ready)
        if self.checker:
            try:
                self.checker.after_step(node, ready, role0, term0, commit0)
            except SafetyViolation as v:
                self._halt(v)

    def _node_failed(self, node: Node, exc: Exception, msg: Optional[Message]) -> NodeError:
        doing = f"handling {msg}" if msg is not None else "starting up"
        self.error = NodeError(f"{node.id} raised {type(exc).__name__} while {doing} at t={self.now}: {exc}")
        self.error.__cause__ = exc
        return self.error

    def _timer_in_past(self, node: Node) -> NodeError:
        e = node.election_deadline
        timer, deadline = (("election_deadline", e) if e is not None and e < self.now
                           else ("heartbeat_deadline", node.heartbeat_deadline))
        self.error = NodeError(f"{node.id} set its {timer} to t={deadline}, which is in the past "
                               f"(now t={self.now}); a timer must be set to node.now + a timeout")
        return self.error

    def _carry_out(self, node: Node, ready: Ready) -> None:
        """Log a Ready's notes, put its messages on the network, (re)schedule the node's timers."""
        if ready.notes and self._record_trace:
            self._log_notes(node, ready.notes)
        if ready.messages:
            self._send(ready.messages)
        if not node.crashed:
            sched = self._scheduled[node.id]
            deadline = node.election_deadline
            if deadline is not None and deadline != sched[0]:
                sched[0] = deadline
                self._push(deadline, ELECTION, node.id, None)
            deadline = node.heartbeat_deadline
            if deadline is not None and deadline != sched[1]:
                sched[1] = deadline
                self._push(deadline, HEARTBEAT, node.id, None)

    def _log_notes(self, node: Node, notes: Sequence[Any]) -> None:
        step, now, trace = self.steps, self.now, self.trace
        for note in notes:
            if isinstance(note, RoleChange):
                trace.append(RoleChanged(step, now, note.node, note.role.value, note.term))
            else:
                text = str(note)
                prefix = node.id + " "
                trace.append(Note(step, now, node.id, text[len(prefix):]) if text.startswith(prefix)
                             else Note(step, now, None, text))

    def _send(self, messages: Sequence[Message]) -> None:
        now = self.now
        send = self.network.send
        queue = self._queue
        push, seq = heapq.heappush, self._seq
        for msg in messages:
            envs, lost = send(msg, now)
            if lost is not None and self._record_trace:
                self.trace.append(Lost(self.steps, now, msg, lost))
            for env in envs:
                seq += 1
                push(queue, (env.deliver_at, seq, DELIVER, env.id, None))
        self._seq = seq

    def _timeline_node(self, node: Node) -> None:
        self.timeline.append(NodeState(self.now, node.id, node.role.value, node.current_term,
                                       node.commit_index, node.crashed))

    def _halt(self, v: SafetyViolation) -> None:
        v.step, v.time = self.steps, self.now
        v.recent = [str(e) for e in list(self.trace)[-12:]]
        v.run = self.to_json()
        v.replay = (f"seed={self.initial_config.seed}, {len(self.actions)} operator action(s), "
                    f"step {self.steps}: Simulation.from_json(run) or `raftlab replay FILE` on a saved run")
        v.args = (str(v),)
        self.violation = v
        self._event(Violation(self.steps, self.now, v.property, v.detail))
        raise v

    # --- clients ---------------------------------------------------------------------------
    def _client(self, cid: Optional[str]) -> _Client:
        if cid is None:
            for c in self.clients.values():
                if c.pending is None:
                    return c
            k = 1
            while f"c{k}" in self.clients:
                k += 1
            cid = f"c{k}"
        client = self.clients.get(cid)
        if client is None:
            client = self.clients[cid] = _Client(cid)
        return client

    def _client_request(self, cmd: tuple, target: Optional[str], client: Optional[str]) -> tuple[str, int]:
        c = self._client(client)
        self._submit(c, cmd, target)
        return c.id, c.seq

    def _submit(self, c: _Client, cmd: tuple, target: Optional[str]) -> Optional[TraceEvent]:
        c.seq += 1
        op = Operation(c.id, c.seq, cmd, self.now)
        c.pending = op
        self.operations.append(op)
        self._operations[op.id] = op
        if target is None:
            target = c.guess or self.names[int(self._load_random() * len(self.names))]
        return self._client_send(c, target, "sent")

    def _client_send(self, c: _Client, target: str, verb: str) -> Optional[TraceEvent]:
        op = c.pending
        assert op is not None
        c.last_target = target
        msg = ClientRequest(c.id, target, c.id, op.seq, op.command)
        envs, lost = self.network.send(msg, self.now)
        for env in envs:
            self._push(env.deliver_at, DELIVER, env.id, None)
        self._push(self.now + self.config.retry_after, CLIENT_RETRY, c.id, op.seq)
        return self._event(ClientSent(self.steps, self.now, c.id, op.seq, op.command, target, verb, lost))

    def _client_receive(self, m: Message) -> None:
        if not isinstance(m, ClientReply):
            return
        c = self.clients.get(m.dst)
        op = c.pending if c else None
        if c is None or op is None or op.seq != m.seq:
            return                              # a late or duplicate answer
        if m.success:
            op.completed, op.result = self.now, m.result
            c.pending = None
            c.guess = m.src
            self._event(ClientDone(self.steps, self.now, c.id, op.seq, op.command, m.result,
                                   self.now - op.invoked))
            if self.checker:
                try:
                    self.checker.after_answer(c.id, op.seq, op.command, m.src)
                except SafetyViolation as v:
                    self._halt(v)
        elif m.leader_hint and m.leader_hint != m.src and m.leader_hint in self.nodes:
            c.guess = m.leader_hint
            op.attempts += 1
            self._client_send(c, m.leader_hint, "resent")
        else:
            c.guess = None

    def _client_retry(self, cid: str, seq: int) -> Optional[TraceEvent]:
        c = self.clients.get(cid)
        if c is None or c.pending is None or c.pending.seq != seq:
            return None
        c.pending.attempts += 1
        if c.guess and c.guess != c.last_target:
            target = c.guess
        else:
            i = self.names.index(c.last_target) if c.last_target in self.names else -1
            target = self.names[(i + 1) % len(self.names)]
        c.guess = None
        return self._client_send(c, target, "timed out; resent")

    def _client_tick(self) -> Optional[TraceEvent]:
        """The steady load: every ``request_interval`` ms an idle client sends a command."""
        self._push(self.now + self.config.request_interval, CLIENT_TICK, None, None)
        r = self._load_random
        op, key, who = r(), "xyz"[int(r() * 3)], r()
        clients = self.clients
        cid = next((c for c in self._load_clients if c not in clients or clients[c].pending is None), None)
        if cid is None:
            return self._event(Note(self.steps, self.now, None,
                                    "load: every client is still waiting; no new request", quiet=True))
        n = len(self.operations) + 1
        cmd = ("put", key, str(n)) if op < 0.6 else ("append", key, str(n % 10)) if op < 0.9 else ("get", key)
        c = self._client(cid)
        return self._submit(c, cmd, c.guess or self.names[int(who * len(self.names))])


from .run import Run  # noqa: E402  (run.py builds Simulations; imported last to avoid a cycle)

if TYPE_CHECKING:
    from .linearizability import Verdict
