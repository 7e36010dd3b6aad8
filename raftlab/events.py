"""What happened in a run, as typed records: the event log and the timeline.

Rule 1: the simulation records each thing that happens as one of the event
classes below, with the step and virtual time it happened at.  Nothing else
writes to ``sim.trace``.

Rule 2: an event renders itself (``str(event)``, ``event.text``); that is the
only place its words are chosen, so the event log, the CLI, lessons and test
transcripts print the same line.  Views and tests read fields
(``event.message``, ``event.role``), never the text.

Events are slotted dataclasses, read-only by convention (not frozen: a frozen
dataclass costs three times as much to build, and the engine builds one per
event).

Rule 3: ``level`` is ``"info"`` for what a person follows (roles, commits,
clients, the operator's moves) and ``"debug"`` for the traffic underneath
(every message and timer).

The timeline (``sim.timeline``) holds :class:`NodeState` and
:class:`NetworkState` records: a server's role, term and commit index, or the
network's partition and cut links, each time one of them changes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Optional

from .messages import Message, format_command

__all__ = ["TraceEvent", "Delivered", "Lost", "Dropped", "TimerFired", "RoleChanged", "Committed",
           "Note", "OperatorMove", "ClientSent", "ClientDone", "Violation", "NodeState", "NetworkState"]


@dataclass(slots=True)
class TraceEvent:
    """One line of the event log: something that happened at ``time`` (during step ``step``)."""
    step: int
    time: int
    level: ClassVar[str] = "debug"

    @property
    def text(self) -> str:
        return ""

    def __str__(self) -> str:
        return f"t={self.time:<6} {self.text}"


@dataclass(slots=True)
class Delivered(TraceEvent):
    """``message`` arrived at its receiver (``early``: the operator delivered it ahead of time)."""
    message: Message
    early: bool = False

    @property
    def text(self) -> str:
        return f"{self.message} (delivered early by the operator)" if self.early else str(self.message)


@dataclass(slots=True)
class Lost(TraceEvent):
    """The network lost ``message``: when it was sent, or on arrival (``reason`` says why;
    ``receiver_crashed``: it arrived at a crashed server)."""
    message: Message
    reason: str
    receiver_crashed: bool = False

    @property
    def text(self) -> str:
        return f"{self.message} lost: {self.reason}"


@dataclass(slots=True)
class Dropped(TraceEvent):
    """The operator dropped message ``message_id`` before it arrived."""
    message_id: int
    message: Message
    level: ClassVar[str] = "info"

    @property
    def text(self) -> str:
        return f"operator dropped #{self.message_id} {self.message}"


@dataclass(slots=True)
class TimerFired(TraceEvent):
    """A server's election timer (``timer="election"``) or heartbeat timer fired."""
    node: str
    timer: str

    @property
    def text(self) -> str:
        return f"{self.node} election timeout" if self.timer == "election" else f"{self.node} heartbeat timer"


@dataclass(slots=True)
class RoleChanged(TraceEvent):
    """``node`` became ``role`` (a :class:`raftlab.Role` value such as ``"leader"``) in ``term``."""
    node: str
    role: str
    term: int
    level: ClassVar[str] = "info"

    @property
    def text(self) -> str:
        return f"{self.node} became {self.role} at term {self.term}"


@dataclass(slots=True)
class Committed(TraceEvent):
    """Leader ``node`` advanced its commit index to ``index``."""
    node: str
    index: int
    level: ClassVar[str] = "info"

    @property
    def text(self) -> str:
        return f"{self.node} committed up to index {self.index}"


@dataclass(slots=True)
class Note(TraceEvent):
    """A line a server's rules wrote with ``node.note(...)`` (``node`` is None for the simulation's own)."""
    node: Optional[str]
    words: str
    quiet: bool = False          # a debug-level note

    @property
    def level(self) -> str:      # type: ignore[override]
        return "debug" if self.quiet else "info"

    @property
    def text(self) -> str:
        return self.words if self.node is None else f"{self.node} {self.words}"


@dataclass(slots=True)
class OperatorMove(TraceEvent):
    """The operator did something to the cluster or the network (``action`` is the recorded action)."""
    action: Any
    words: str
    level: ClassVar[str] = "info"

    @property
    def text(self) -> str:
        return self.words


@dataclass(slots=True)
class ClientSent(TraceEvent):
    """Client ``client`` sent request ``seq`` to ``target`` (``verb``: sent, resent, timed out; resent)."""
    client: str
    seq: int
    command: tuple
    target: str
    verb: str = "sent"
    lost: Optional[str] = None
    level: ClassVar[str] = "info"

    @property
    def text(self) -> str:
        lost = f" (lost: {self.lost})" if self.lost else ""
        return f"{self.client} {self.verb} #{self.seq} {format_command(self.command)} to {self.target}{lost}"


@dataclass(slots=True)
class ClientDone(TraceEvent):
    """Client ``client`` got the answer ``result`` to request ``seq``, ``latency`` ms after sending it."""
    client: str
    seq: int
    command: tuple
    result: Any
    latency: int
    level: ClassVar[str] = "info"

    @property
    def text(self) -> str:
        return (f"{self.client} got #{self.seq} {format_command(self.command)} -> {self.result!r} "
                f"after {self.latency} ms")


@dataclass(slots=True)
class Violation(TraceEvent):
    """The safety property called ``name`` broke; the run stops here."""
    name: str
    detail: str
    level: ClassVar[str] = "info"

    @property
    def text(self) -> str:
        return f"SAFETY VIOLATION: {self.name}: {self.detail}"


# --- the timeline ------------------------------------------------------------------------------------------

@dataclass(slots=True)
class NodeState:
    """A server's role, term and commit index from ``time`` on (``crashed``: it is down)."""
    time: int
    node: str
    role: str
    term: int
    commit_index: int
    crashed: bool


@dataclass(slots=True)
class NetworkState:
    """The network from ``time`` on: partition ``groups`` (lists of names, or None) and one-way ``cut`` links."""
    time: int
    groups: Optional[tuple[tuple[str, ...], ...]]
    cut: tuple[tuple[str, str], ...]

    @property
    def split(self) -> bool:
        return self.groups is not None or bool(self.cut)

