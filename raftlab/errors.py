"""The errors raftlab raises, each saying what happened in Raft terms and what to try."""
from __future__ import annotations

from typing import Optional

__all__ = ["RaftlabError", "ConfigError", "UnknownNodeError", "MessageNotInFlight",
           "OperatorError", "ImplementationError", "NodeError", "SafetyViolation"]


class RaftlabError(Exception):
    """Base class of raftlab's own errors."""


class ConfigError(RaftlabError, ValueError):
    """A cluster configuration that cannot work (e.g. heartbeat not below the election timeout)."""


class OperatorError(RaftlabError, ValueError):
    """An operator action that cannot be carried out; the cluster is left unchanged."""


class UnknownNodeError(OperatorError, KeyError):
    """A node name that is not in this cluster."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class MessageNotInFlight(OperatorError, KeyError):
    """A message id that is not (or no longer) in flight."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ImplementationError(RaftlabError, ImportError):
    """A student's implementation could not be loaded."""


class NodeError(RaftlabError):
    """A rule raised an exception while a node handled an input (often a student's
    unfinished or buggy exercise).  The simulation stops at that step."""


class SafetyViolation(RaftlabError, AssertionError):
    """A Raft safety property broke.  Carries the property, the nodes and indexes
    involved, the last events and how to replay the run."""

    def __init__(self, prop: str, detail: str, nodes=(), index=None, time=None, step=None,
                 recent=(), replay: str = ""):
        self.property = prop
        self.detail = detail
        self.nodes = tuple(nodes)
        self.index = index
        self.time = time
        self.step = step
        self.recent = list(recent)
        self.replay = replay
        self.run: Optional[dict] = None        # the saved run (Simulation.to_json) that replays it
        super().__init__(self.__str__())

    def __str__(self) -> str:
        lines = [f"{self.property} violated: {self.detail}"]
        if self.step is not None:
            lines[0] += f" (at step {self.step}, t={self.time} ms)"
        if self.recent:
            lines.append("last events:")
            lines.extend(f"  {e}" for e in self.recent)
        if self.replay:
            lines.append(f"replay: {self.replay}")
        return "\n".join(lines)
