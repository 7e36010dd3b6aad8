"""The messages Raft servers send each other, as frozen dataclasses.

Every message prints the same short way everywhere (event log, lessons, test
transcripts, error messages)::

    n1->n2 AppendEntries(t=3 prev=5/2 commit=4 entries=[6/3])

``prev=5/2`` reads "index 5, term 2"; an entry ``6/3`` is "index 6, term 3".

Names follow Figure 2 of the Raft paper (Ongaro & Ousterhout, 2014).  Every
message carries its sender ``src`` and receiver ``dst``; the network wraps it
in an :class:`raftlab.network.Envelope` with an id and delivery time.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from .membership import Configuration

__all__ = [
    "Entry", "Message", "RequestVote", "RequestVoteReply", "AppendEntries",
    "AppendEntriesReply", "InstallSnapshot", "InstallSnapshotReply",
    "ClientRequest", "ClientReply", "ElectionTimeout", "HeartbeatTimeout",
    "MembershipChange", "format_command",
]


def format_command(command: Any) -> str:
    """``("put", "x", "3")`` -> ``put x=3``; ``None`` (a leader's no-op) -> ``no-op``."""
    if command is None:
        return "no-op"
    if isinstance(command, tuple) and command:
        op = command[0]
        if op in ("put", "append") and len(command) == 3:
            return f"{op} {command[1]}={command[2]}"
        if op == "get" and len(command) == 2:
            return f"get {command[1]}"
    return repr(command)


@dataclass(frozen=True, slots=True)
class Entry:
    """One log entry: the ``term`` in which a leader received it and its ``command``.

    ``client_id``/``seq`` identify the client request it came from, so that a
    retried request is applied once (section 6.3 of the thesis); ``None`` for
    the no-op a new leader appends at the start of its term.

    ``config`` is set (and ``command`` is None) in a configuration entry: section 6,
    "cluster configurations are stored and communicated using special entries in
    the replicated log".  The state machine skips it.
    """
    term: int
    command: Any = None
    client_id: Optional[str] = None
    seq: int = 0
    config: Optional[Configuration] = None

    def __str__(self) -> str:
        if self.config is not None:
            return f"t{self.term}:config {self.config}"
        return f"t{self.term}:{format_command(self.command)}"


class Message:
    """Base of everything that travels on the network.  ``src``/``dst`` are node
    or client names such as ``"n1"`` or ``"c1"``."""
    __slots__ = ()
    src: str
    dst: str

    @property
    def kind(self) -> str:
        return type(self).__name__

    def describe(self) -> str:  # pragma: no cover - overridden
        return ""

    def __str__(self) -> str:
        return f"{self.src}->{self.dst} {type(self).__name__}({self.describe()})"


def _entries(prev: int, entries: tuple) -> str:
    shown = [f"{prev + i}/{e.term}" for i, e in enumerate(entries[:4], start=1)]
    if len(entries) > 4:
        shown.append(f"...{prev + len(entries)}/{entries[-1].term}")
    return "[" + " ".join(shown) + "]"


@dataclass(frozen=True, slots=True)
class RequestVote(Message):
    """Invoked by candidates to gather votes (section 5.2).

    With ``pre_vote=True`` it is a PreVote (thesis section 9.6): ``term`` is the
    term the sender *would* use; nobody changes term or vote because of it."""
    src: str
    dst: str
    term: int
    candidate_id: str
    last_log_index: int
    last_log_term: int
    pre_vote: bool = False

    def __str__(self) -> str:
        name = "PreVote" if self.pre_vote else "RequestVote"
        return (f"{self.src}->{self.dst} {name}(t={self.term} "
                f"last={self.last_log_index}/{self.last_log_term})")


@dataclass(frozen=True, slots=True)
class RequestVoteReply(Message):
    src: str
    dst: str
    term: int
    vote_granted: bool
    pre_vote: bool = False

    def __str__(self) -> str:
        name = "PreVoteReply" if self.pre_vote else "RequestVoteReply"
        verdict = "granted" if self.vote_granted else "rejected"
        return f"{self.src}->{self.dst} {name}(t={self.term} {verdict})"


@dataclass(frozen=True, slots=True)
class AppendEntries(Message):
    """Invoked by the leader to replicate log entries; also the heartbeat (5.3)."""
    src: str
    dst: str
    term: int
    leader_id: str
    prev_log_index: int
    prev_log_term: int
    entries: tuple = ()
    leader_commit: int = 0

    @property
    def is_heartbeat(self) -> bool:
        return not self.entries

    def __str__(self) -> str:
        return (f"{self.src}->{self.dst} AppendEntries(t={self.term} "
                f"prev={self.prev_log_index}/{self.prev_log_term} commit={self.leader_commit} "
                f"entries={_entries(self.prev_log_index, self.entries)})")


@dataclass(frozen=True, slots=True)
class AppendEntriesReply(Message):
    """``match_index`` is the index of the last entry known to match the leader
    (on success).  On failure ``conflict_term``/``conflict_index`` let the leader
    skip a whole conflicting term at once (the fast back-off of section 5.3)."""
    src: str
    dst: str
    term: int
    success: bool
    match_index: int = 0
    conflict_term: Optional[int] = None
    conflict_index: int = 0

    def __str__(self) -> str:
        if self.success:
            return f"{self.src}->{self.dst} AppendEntriesReply(t={self.term} ok match={self.match_index})"
        hint = (f"conflict={self.conflict_index}/{self.conflict_term}"
                if self.conflict_term is not None else f"conflict={self.conflict_index}")
        return f"{self.src}->{self.dst} AppendEntriesReply(t={self.term} rejected {hint})"


@dataclass(frozen=True, slots=True)
class InstallSnapshot(Message):
    """Sent by the leader when a follower needs entries it has compacted away (section 7)."""
    src: str
    dst: str
    term: int
    leader_id: str
    last_included_index: int
    last_included_term: int
    data: Any = None

    def __str__(self) -> str:
        return (f"{self.src}->{self.dst} InstallSnapshot(t={self.term} "
                f"last={self.last_included_index}/{self.last_included_term})")


@dataclass(frozen=True, slots=True)
class InstallSnapshotReply(Message):
    src: str
    dst: str
    term: int
    match_index: int = 0

    def __str__(self) -> str:
        return f"{self.src}->{self.dst} InstallSnapshotReply(t={self.term} match={self.match_index})"


@dataclass(frozen=True, slots=True)
class ClientRequest(Message):
    """A client's command.  ``(client_id, seq)`` names the request, so a retry
    of the same request is applied only once."""
    src: str
    dst: str
    client_id: str
    seq: int
    command: Any

    def __str__(self) -> str:
        return (f"{self.src}->{self.dst} ClientRequest({self.client_id}#{self.seq} "
                f"{format_command(self.command)})")


@dataclass(frozen=True, slots=True)
class ClientReply(Message):
    """The answer to a client: ``success`` with the command's ``result``, or
    ``success=False`` with ``leader_hint`` (the leader this server knows of, if any)."""
    src: str
    dst: str
    client_id: str
    seq: int
    success: bool
    result: Any = None
    leader_hint: Optional[str] = None

    def __str__(self) -> str:
        if self.success:
            return f"{self.src}->{self.dst} ClientReply({self.client_id}#{self.seq} ok {self.result!r})"
        return (f"{self.src}->{self.dst} ClientReply({self.client_id}#{self.seq} "
                f"not leader, try {self.leader_hint or '?'})")


@dataclass(frozen=True, slots=True)
class ElectionTimeout(Message):
    """A local event: the node's election timer fired (etcd calls it MsgHup)."""
    src: str
    dst: str

    def __str__(self) -> str:
        return f"{self.dst} election timeout"


@dataclass(frozen=True, slots=True)
class HeartbeatTimeout(Message):
    """A local event: time for the leader to send heartbeats (etcd's MsgBeat)."""
    src: str
    dst: str

    def __str__(self) -> str:
        return f"{self.dst} heartbeat timer"


@dataclass(frozen=True, slots=True)
class MembershipChange(Message):
    """A local input, like a timer: the operator asks server ``dst`` (which should be the leader)
    to ``add`` servers (as learners first) and ``remove`` servers (section 6, dissertation 4.1)."""
    src: str
    dst: str
    add: tuple = ()
    remove: tuple = ()

    def __str__(self) -> str:
        wants = [f"add {','.join(self.add)}"] if self.add else []
        wants += [f"remove {','.join(self.remove)}"] if self.remove else []
        return f"operator asks {self.dst} to {' and '.join(wants)}"
