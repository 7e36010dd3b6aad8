"""The simulated network: messages in flight as data.

Each message's fate is drawn from its link's own random stream, keyed by
``(seed, sender, receiver)``: the k-th message on a link always gets the k-th
draws of that stream, whatever happens elsewhere.  So two implementations that
send the same messages in a different order see the same delays and losses,
and dropping one message by hand does not reshuffle the rest of the run.

Every message takes a delay drawn from its link's range; reordering follows
from the delays.  A message may be lost (probability ``drop``), duplicated
(probability ``duplicate``: a second copy with its own delay), or blocked by a
partition or a cut link (checked when it is sent and again when it arrives).

Clients are on the network like servers: a partition can put a client on one
side (``partition(["n1", "c1"], ...)``), a link to or from a client can be cut,
and a client can be isolated.  A client a partition does not name reaches every
side, like a client outside the data center whose split it is.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Iterable, Optional

from .messages import Message

__all__ = ["Envelope", "LinkConfig", "Network"]


@dataclass(frozen=True)
class LinkConfig:
    """The behaviour of one direction of one link (times in ms, probabilities 0..1)."""
    delay: tuple[int, int] = (5, 15)
    drop: float = 0.0
    duplicate: float = 0.0


@dataclass(slots=True)
class Envelope:
    """A message in flight: its id, the message, when it was sent and when it arrives."""
    id: int
    message: Message
    sent_at: int
    deliver_at: int
    copy: bool = False          # True for the second copy of a duplicated message

    @property
    def src(self) -> str:
        return self.message.src

    @property
    def dst(self) -> str:
        return self.message.dst

    @property
    def kind(self) -> str:
        return self.message.kind

    def __str__(self) -> str:
        dup = " (duplicate)" if self.copy else ""
        return f"#{self.id} {self.message}{dup} sent t={self.sent_at} due t={self.deliver_at}"


class _LinkStream:
    """The random stream of one directed link: four draws per message, always."""
    __slots__ = ("random",)

    def __init__(self, seed: int, src: str, dst: str):
        self.random = random.Random(f"{seed}:link:{src}->{dst}").random

    def copy(self) -> "_LinkStream":
        """The same stream, at the same point, going on independently."""
        new = _LinkStream.__new__(_LinkStream)
        generator = random.Random()
        generator.setstate(self.random.__self__.getstate())  # type: ignore[attr-defined]
        new.random = generator.random
        return new

    def draw(self, cfg: LinkConfig) -> tuple[bool, bool, int, int]:
        r = self.random
        lost, dup, d1, d2 = r() < cfg.drop, r() < cfg.duplicate, r(), r()
        lo, hi = cfg.delay
        span = hi - lo + 1
        return lost, dup, lo + int(d1 * span), lo + int(d2 * span)


class Network:
    """Messages in flight, link behaviour, partitions and cut links."""

    FATE_MEMORY = 5000   # how many past message fates to remember for error messages

    def __init__(self, seed: int, default: LinkConfig, nodes: Iterable[str]):
        self.seed = seed
        self.default = default
        self.nodes = list(nodes)
        self.links: dict[tuple[str, str], LinkConfig] = {}
        self.in_flight: dict[int, Envelope] = {}
        # endpoint -> partition group; an endpoint not listed (a client not named), or listed as None
        # (reconnected), reaches every side
        self.groups: Optional[dict[str, Optional[int]]] = None
        self.cut: set[tuple[str, str]] = set()           # one-way cut links (src, dst)
        self._streams: dict[tuple[str, str], _LinkStream] = {}
        self._next_id = 1
        self.fates: dict[int, tuple] = {}
        self.sent = self.delivered = self.dropped = self.duplicated = 0

    def copy(self, share_random: bool = False) -> "Network":
        """An independent copy of the network as it stands (for ``Simulation.fork``): the messages
        in flight, the partitions and cut links, the settings and the counters.  Each link's random
        stream is copied at the point it has reached, or, with ``share_random``, shared with this
        network (cheap; then the two draw from one stream, see ``Simulation.fork``)."""
        new = Network.__new__(Network)
        new.__dict__.update(self.__dict__)
        new.nodes = list(self.nodes)
        new.links = dict(self.links)
        new.in_flight = dict(self.in_flight)       # envelopes are never changed once sent
        new.groups = None if self.groups is None else dict(self.groups)
        new.cut = set(self.cut)
        new.fates = dict(self.fates)
        new._streams = dict(self._streams) if share_random else {
            key: stream.copy() for key, stream in self._streams.items()}
        return new

    # --- reachability ------------------------------------------------------------
    def blocked(self, src: str, dst: str) -> Optional[str]:
        """Why a message from ``src`` cannot reach ``dst`` now, or None."""
        if (src, dst) in self.cut:
            return f"link {src}->{dst} is cut"
        groups = self.groups
        if groups is not None:
            a, b = groups.get(src), groups.get(dst)
            if a is not None and b is not None and a != b:
                return f"{src} and {dst} are on different sides of a partition"
        return None

    def blocked_anywhere(self, who: str) -> Optional[str]:
        """Why ``who`` cannot reach someone now (a partition or a cut link), or None."""
        if any(who in link for link in self.cut):
            return "a cut link"
        groups = self.groups
        if groups is not None and groups.get(who) is not None:
            return "a partition"
        return None

    def link(self, src: str, dst: str) -> LinkConfig:
        return self.links.get((src, dst), self.default)

    # --- partitions ---------------------------------------------------------------
    def split(self, groups: list[list[str]]) -> None:
        """Partition into ``groups`` (every server is in one); clients not named reach every side."""
        self.groups = {x: i for i, g in enumerate(groups) for x in g}

    def reconnect(self, who: str) -> None:
        """``who`` reaches every side again and loses its cut links; the rest stays split."""
        self.cut = {link for link in self.cut if who not in link}
        if self.groups is None:
            return
        self.groups[who] = None
        if len({g for g in self.groups.values() if g is not None}) < 2:
            self.groups = None

    def heal(self) -> None:
        self.groups = None
        self.cut.clear()

    def sides(self) -> Optional[tuple[tuple[str, ...], ...]]:
        """The partition as groups of names (servers in cluster order, then clients), or None.
        Names that reach every side (see :meth:`reconnect`) are in :meth:`bridges`, not here."""
        if self.groups is None:
            return None
        by_group: dict[int, list[str]] = {}
        for name, g in self.groups.items():
            if g is not None:
                by_group.setdefault(g, []).append(name)
        return tuple(tuple(sorted(by_group[g], key=self._order)) for g in sorted(by_group))

    def bridges(self) -> tuple[str, ...]:
        """Names a partition does not hold back: they were reconnected while it stood."""
        if self.groups is None:
            return ()
        return tuple(sorted((n for n, g in self.groups.items() if g is None), key=self._order))

    def _order(self, name: str) -> tuple:
        return (0, self.nodes.index(name), "") if name in self.nodes else (1, len(name), name)

    # --- sending and delivering ----------------------------------------------------
    def send(self, message: Message, now: int) -> tuple[tuple[Envelope, ...], Optional[str]]:
        """Put ``message`` on the wire.  Returns the envelopes now in flight (none,
        one, or two for a duplicate) and, if it was lost, why."""
        key = (message.src, message.dst)
        stream = self._streams.get(key)
        if stream is None:
            stream = self._streams[key] = _LinkStream(self.seed, *key)
        lost, dup, d1, d2 = stream.draw(self.links.get(key, self.default))
        self.sent += 1
        mid = self._next_id
        self._next_id += 1
        reason = None
        if key in self.cut or self.groups is not None:
            reason = self.blocked(*key)
        if reason is None and lost:
            reason = "lost by the network"
        if reason:
            self.dropped += 1
            self.remember(mid, ("dropped when sent", now, reason))
            return (), reason
        env = Envelope(mid, message, now, now + d1)
        self.in_flight[mid] = env
        if not dup:
            return (env,), None
        self.duplicated += 1
        copy = Envelope(self._next_id, message, now, now + d2, copy=True)
        self._next_id += 1
        self.in_flight[copy.id] = copy
        return (env, copy), None

    def remember(self, mid: int, fate: tuple) -> None:
        """Keep ``(what, time, reason)`` of message ``mid`` for :meth:`fate` (the last few thousand)."""
        fates = self.fates
        fates[mid] = fate
        if len(fates) > 2 * self.FATE_MEMORY:      # forget the oldest half (dicts keep insertion order)
            for old in list(fates)[: self.FATE_MEMORY]:
                del fates[old]

    def fate(self, mid: int) -> str:
        """What became of message ``mid``, in words."""
        if mid in self.in_flight:
            return "is in flight"
        if mid in self.fates:
            what, time, reason = self.fates[mid]
            if reason.startswith("by "):
                return f"was {what} {reason} at t={time}"
            return f"was {what} at t={time}" + (f": {reason}" if reason else "")
        if 0 < mid < self._next_id:
            return "is no longer in flight"
        return "was never sent"

    def record(self, mid: int, what: str, time: int, reason: str = "") -> None:
        """Note the fate of a message that left the network (delivered, lost, dropped)."""
        if what == "delivered":
            self.delivered += 1
        else:
            self.dropped += 1
        self.remember(mid, (what, time, reason))
