"""Cluster configuration: one frozen dataclass, validated, with named presets."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError

__all__ = ["Config", "PRESETS"]


@dataclass(frozen=True)
class Config:
    """Everything that shapes a run, besides the operator's actions.  Times in ms.

    The defaults are chosen for teaching: the paper's election timeout of
    150-300 ms, heartbeats every 50 ms and a network delay of 5-15 ms, so an
    election is visible in a few dozen steps.  See :data:`PRESETS` for others.
    """
    nodes: int = 5
    seed: int = 0
    election_timeout: tuple[int, int] = (150, 300)
    heartbeat: int = 50
    delay: tuple[int, int] = (5, 15)
    drop: float = 0.0
    duplicate: float = 0.0
    pre_vote: bool = False
    check_quorum: bool = False
    snapshot_every: int = 0          # take a snapshot every N applied entries; 0: never
    request_interval: int = 0        # a client request every N ms; 0: only requests you submit
    clients: int = 3                 # how many simulated clients share the load
    client_timeout: int = 0          # a client retries after this long; 0: twice the max election timeout
    max_entries: int = 64            # entries per AppendEntries at most
    #: how the cluster's membership changes (sim.add_server / remove_server): "single" (the default:
    #: one server at a time, dissertation 4.1), "joint" (C_old,new then C_new, section 6) or
    #: "unsafe-direct" (several servers straight from C_old to C_new: can elect two leaders in a term;
    #: only for the lesson that shows why)
    membership: str = "single"
    check_safety: bool = True        # check the safety properties after every step
    history: int = 10_000            # how many recent events to keep for display

    def __new__(cls, *args: Any, **fields: Any) -> "Config":
        # Before the dataclass __init__, so a misspelt field is a ConfigError, not a TypeError.
        _check_known(cls, fields)
        return super().__new__(cls)

    def __post_init__(self) -> None:
        for name in ("election_timeout", "delay"):      # a JSON list becomes a tuple
            if isinstance(getattr(self, name), list):
                object.__setattr__(self, name, tuple(getattr(self, name)))
        self.validate()

    def validate(self) -> None:
        def bad(msg: str) -> None:
            raise ConfigError(msg)
        if not isinstance(self.nodes, int) or self.nodes < 1:
            bad(f"a cluster needs at least 1 node (got nodes={self.nodes!r})")
        if self.nodes > 99:
            bad(f"nodes={self.nodes} is more than raftlab draws or checks sensibly; use at most 99")
        if not isinstance(self.seed, int):
            bad(f"seed must be an integer (got {self.seed!r})")
        lo, hi = _pair("election_timeout", self.election_timeout)
        if lo <= 0 or hi < lo:
            bad(f"election_timeout must be MIN-MAX with 0 < MIN <= MAX (got {lo}-{hi})")
        if not isinstance(self.heartbeat, int) or self.heartbeat <= 0:
            bad(f"heartbeat must be a positive number of ms (got {self.heartbeat!r})")
        if self.heartbeat >= lo:
            bad(f"heartbeat ({self.heartbeat} ms) must be below the minimum election timeout "
                f"({lo} ms), or followers start elections while the leader is healthy")
        dlo, dhi = _pair("delay", self.delay)
        if dlo < 0 or dhi < dlo:
            bad(f"delay must be MIN-MAX with 0 <= MIN <= MAX (got {dlo}-{dhi})")
        for name in ("drop", "duplicate"):
            p = getattr(self, name)
            if not isinstance(p, (int, float)) or not 0 <= p <= 1:
                bad(f"{name} is a probability between 0 and 1 (got {p!r})")
        if self.drop >= 1 and self.nodes > 1:
            bad("drop=1 loses every message: nothing could ever be elected")
        for name in ("snapshot_every", "request_interval", "client_timeout", "history"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 0:
                bad(f"{name} must be a whole number >= 0 (got {v!r})")
        if not isinstance(self.clients, int) or self.clients < 1:
            bad(f"clients must be at least 1 (got {self.clients!r})")
        if not isinstance(self.max_entries, int) or self.max_entries < 1:
            bad(f"max_entries must be at least 1 (got {self.max_entries!r})")
        if self.membership not in MEMBERSHIP:
            bad(f"membership must be one of {', '.join(MEMBERSHIP)} (got {self.membership!r})")

    @property
    def retry_after(self) -> int:
        return self.client_timeout or 2 * self.election_timeout[1]

    def replace(self, **changes: Any) -> "Config":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["election_timeout"] = list(self.election_timeout)
        d["delay"] = list(self.delay)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Config":
        return cls(**d)

    @classmethod
    def preset(cls, name: str, **changes: Any) -> "Config":
        """A named configuration (see :data:`PRESETS`), with optional changes."""
        if name not in PRESETS:
            raise ConfigError(f"unknown preset {name!r}; presets: {', '.join(PRESETS)}")
        return cls(**{**PRESETS[name], **changes})


def _check_known(cls, fields: dict) -> None:
    unknown = sorted(set(fields) - {f.name for f in dataclasses.fields(cls)})
    if unknown:
        raise ConfigError(f"unknown configuration field(s): {', '.join(unknown)}; "
                          f"known: {', '.join(f.name for f in dataclasses.fields(cls))}")


def _pair(name: str, value) -> tuple[int, int]:
    if (not isinstance(value, tuple) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        raise ConfigError(f"{name} must be a pair of whole milliseconds (MIN, MAX), got {value!r}")
    return value


#: The ways a cluster's membership can change (``Config.membership``).  "single" is the default: one
#: server per change is one step with no joint phase, it is what the dissertation (4.1) recommends and
#: what most implementations (etcd's ConfChange, LogCabin, hashicorp/raft) do.
MEMBERSHIP = ("single", "joint", "unsafe-direct")


#: Named configurations.  ``seed`` is the small Rust program raftlab grew from.
PRESETS: dict[str, dict] = {
    "teaching": {},
    "seed": dict(nodes=5, election_timeout=(30, 60), heartbeat=10, delay=(0, 15), drop=1 / 3,
                 pre_vote=True, snapshot_every=100, request_interval=20, clients=10),
    "lossy": dict(drop=0.1, duplicate=0.05, delay=(5, 40)),
    "paper-9.3": dict(nodes=5, election_timeout=(150, 300), heartbeat=50, delay=(5, 15)),
}
