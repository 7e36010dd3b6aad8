"""The operator's moves, as records: one class per move, one registry.

Rule 1: every move an operator can make on a running cluster (crash a server,
drop a message, split the network, send a client request, change the network's
loss...) is an :class:`Action` here.  ``Simulation``'s public methods build one
and hand it to :meth:`Simulation.do`, which validates it, records it and applies
it; replay, rewind, saved runs, the Explorer and fault campaigns go through the
same :meth:`~Simulation.do`.  There is no other path.

Rule 2: an action's ``name`` is the name of the ``Simulation`` method that makes
it, and its ``args`` are that method's arguments, so a saved run reads like the
script that made it: ``[12, 340, "crash", ["n2"]]`` is ``sim.crash("n2")`` taken
after step 12 at t=340 ms.

Rule 3: :meth:`Action.validate` checks everything against the simulation as it
stands and returns the action in its recorded form (``2`` becomes ``"n2"``); it
changes nothing.  :meth:`Action.apply` then cannot fail for a bad argument.

Stepping (``step``, ``run_until``) is not an action: a run's events follow from
its seed and its actions.  ``advance`` is recorded only where it moved the clock
past the last event (``advance(ms)`` with nothing due in those ``ms``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar

from .errors import ConfigError, OperatorError
from .statemachine import check_command

if TYPE_CHECKING:
    from .sim import Simulation

__all__ = ["Action", "ACTIONS", "Recorded", "action_from_json", "CLIENT_NAME",
           "Advance", "Crash", "Restart", "Drop", "Deliver", "Timeout", "Partition", "Isolate", "Cut",
           "Heal", "Reconnect", "ClientRequest", "SetPreVote", "SetCheckQuorum", "SetNetwork",
           "AddServer", "RemoveServer", "SERVER_NAME"]

#: A client is named like ``c1``: a ``c``, then letters, digits or ``_``.
CLIENT_NAME = re.compile(r"c[A-Za-z0-9_]{1,30}")
#: A server is named like ``n4``: an ``n`` and a number from 1 to 99.
SERVER_NAME = re.compile(r"n[1-9][0-9]?")


class Action:
    """One operator move.  Subclasses are frozen dataclasses whose fields are the method's arguments."""
    name: ClassVar[str]
    #: True for a move that is itself a step of the run (delivering a message, firing a timer).
    is_step: ClassVar[bool] = False

    def validate(self, sim: "Simulation") -> "Action":
        """This action in its recorded form, or an :class:`OperatorError` saying why it cannot be done."""
        return self

    def apply(self, sim: "Simulation") -> Any:
        raise NotImplementedError

    def perform(self, sim: "Simulation") -> Any:
        """Record, then apply (the simulation calls this after :meth:`validate`)."""
        sim._record(self)
        return self.apply(sim)

    @property
    def args(self) -> list:
        return [_plain(getattr(self, f.name)) for f in fields(self)]  # type: ignore[arg-type]

    @classmethod
    def from_args(cls, args: list) -> "Action":
        return cls(*args)

    def __str__(self) -> str:
        """The call that makes this action, as you would type it: ``crash('n2')``, ``heal()``."""
        args = self.args
        defaults = [f.default for f in fields(self)]  # type: ignore[arg-type]
        while args and len(args) == len(defaults) and args[-1] == defaults[-1]:
            args, defaults = args[:-1], defaults[:-1]
        return f"{self.name}({', '.join(repr(a) for a in args)})"


def _plain(value: Any) -> Any:
    """JSON-ready: tuples become lists."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


#: The longest stretch of virtual time one call may ask for: 10**9 ms, about 11.6 days.
MAX_MS = 10**9


def whole_ms(value: Any, what: str) -> int:
    """``value`` if it is a whole number of milliseconds from 0 to ``MAX_MS`` (not a bool), else an
    OperatorError."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise OperatorError(f"{what} takes a whole number of milliseconds >= 0, got {_short(value)}")
    if value > MAX_MS:
        raise OperatorError(f"{what} takes at most {MAX_MS:,} ms (about 11 days of virtual time) at once, "
                            f"got {_short(value)}")
    return value


def _short(value: Any) -> str:
    """``repr(value)``, cut to 40 characters (a mistaken argument may be huge)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _flag(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise OperatorError(f"{what} takes True or False, got {value!r}")
    return value


# --- time ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Advance(Action):
    """Let ``ms`` milliseconds of virtual time pass, running every event due in them."""
    ms: int
    name: ClassVar[str] = "advance"

    def validate(self, sim: "Simulation") -> "Advance":
        return Advance(whole_ms(self.ms, "advance"))

    def perform(self, sim: "Simulation") -> int:
        """Run the events due by now + ms; then record the rest of the wait (if any) and move the clock."""
        target = sim.now + self.ms
        count = sim._run_events(target)
        if target > sim.now:
            sim._record(Advance(target - sim.now))
            sim.now = target
        return count


# --- servers ---------------------------------------------------------------------------------------------------

def _server(sim: "Simulation", node: Any, *, crashed: bool, otherwise: str) -> str:
    """The name of server ``node``, which must be crashed (or running); else ``otherwise`` names the problem."""
    n = sim.node(node)
    if n.crashed != crashed:
        raise OperatorError(otherwise.format(n.id))
    return n.id


@dataclass(frozen=True)
class Crash(Action):
    """Crash a server: it keeps ``current_term``, ``voted_for``, its log and snapshot, and loses the rest."""
    node: Any
    name: ClassVar[str] = "crash"

    def validate(self, sim: "Simulation") -> "Crash":
        return Crash(_server(sim, self.node, crashed=False, otherwise="{} is already crashed; restart it first"))

    def apply(self, sim: "Simulation") -> None:
        sim._crash(sim.nodes[self.node])


@dataclass(frozen=True)
class Restart(Action):
    """Restart a crashed server from its persistent state, as a follower."""
    node: Any
    name: ClassVar[str] = "restart"

    def validate(self, sim: "Simulation") -> "Restart":
        return Restart(_server(sim, self.node, crashed=True,
                               otherwise="{} is running; only a crashed node can be restarted"))

    def apply(self, sim: "Simulation") -> None:
        sim._restart(sim.nodes[self.node])


@dataclass(frozen=True)
class Timeout(Action):
    """Fire a server's election timer now (one step)."""
    node: Any
    name: ClassVar[str] = "timeout"
    is_step: ClassVar[bool] = True

    def validate(self, sim: "Simulation") -> "Timeout":
        return Timeout(_server(sim, self.node, crashed=False, otherwise="{} is crashed: it has no timer to fire"))

    def apply(self, sim: "Simulation") -> Any:
        return sim._force_timeout(sim.nodes[self.node], self)


# --- messages ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Drop(Action):
    """Drop a message in flight before it arrives (an id from ``sim.in_flight()``)."""
    message_id: Any
    name: ClassVar[str] = "drop"

    def validate(self, sim: "Simulation") -> "Drop":
        return Drop(sim._in_flight(self.message_id).id)

    def apply(self, sim: "Simulation") -> Any:
        return sim._drop(self.message_id)


@dataclass(frozen=True)
class Deliver(Action):
    """Deliver a message in flight now, ahead of its time (one step)."""
    message_id: Any
    name: ClassVar[str] = "deliver"
    is_step: ClassVar[bool] = True

    def validate(self, sim: "Simulation") -> "Deliver":
        return Deliver(sim._in_flight(self.message_id).id)

    def apply(self, sim: "Simulation") -> Any:
        return sim._deliver_early(self.message_id)


# --- the network ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Partition(Action):
    """Split the network into ``groups`` (servers and clients); servers not named form one more group;
    clients not named reach every side."""
    groups: tuple
    name: ClassVar[str] = "partition"

    def validate(self, sim: "Simulation") -> "Partition":
        if not isinstance(self.groups, (list, tuple)) or not self.groups or any(
                not isinstance(g, (list, tuple, set)) or not g for g in self.groups):
            raise OperatorError("partition needs non-empty groups of nodes, e.g. "
                                "partition(['n1', 'n2'], ['n3', 'n4', 'n5'])")
        named = [[sim._endpoint(x) for x in g] for g in self.groups]
        flat = [x for g in named for x in g]
        dup = sorted({x for x in flat if flat.count(x) > 1})
        if dup:
            raise OperatorError(f"{', '.join(dup)} cannot be in two groups of a partition")
        rest = [x for x in sim.names if x not in flat]
        if rest:
            named.append(rest)
        if len(named) < 2:
            raise OperatorError("a partition needs at least two groups; use heal() to reconnect everyone")
        return type(self)(tuple(tuple(g) for g in named))

    @property
    def args(self) -> list:
        return [list(g) for g in self.groups]

    @classmethod
    def from_args(cls, args: list) -> "Partition":
        return cls(tuple(tuple(g) for g in args))

    def apply(self, sim: "Simulation") -> None:
        sim.network.split([list(g) for g in self.groups])
        sim._network_changed(self, "operator partitioned the network: "
                             + " | ".join(" ".join(g) for g in self.groups))


@dataclass(frozen=True)
class Isolate(Action):
    """Cut one server (or client) off from everyone else."""
    node: Any
    name: ClassVar[str] = "isolate"

    def validate(self, sim: "Simulation") -> "Isolate":
        who = sim._endpoint(self.node)
        Partition(((who,),)).validate(sim)
        return Isolate(who)

    def apply(self, sim: "Simulation") -> None:
        Partition(((self.node,),)).validate(sim).apply(sim)


@dataclass(frozen=True)
class Cut(Action):
    """Cut the link from ``src`` to ``dst``, one way only."""
    src: Any
    dst: Any
    name: ClassVar[str] = "cut"

    def validate(self, sim: "Simulation") -> "Cut":
        a, b = sim._endpoint(self.src), sim._endpoint(self.dst)
        if a == b:
            raise OperatorError(f"a node has no link to itself ({a})")
        return Cut(a, b)

    def apply(self, sim: "Simulation") -> None:
        sim.network.cut.add((self.src, self.dst))
        sim._network_changed(self, f"operator cut the link {self.src}->{self.dst}")


@dataclass(frozen=True)
class Heal(Action):
    """Remove every partition and cut link."""
    name: ClassVar[str] = "heal"

    def apply(self, sim: "Simulation") -> None:
        sim.network.heal()
        sim._network_changed(self, "operator healed the network")


@dataclass(frozen=True)
class Reconnect(Action):
    """Give one server (or client) back every link: it reaches every side of a partition again, and
    its cut links are restored.  The rest of the partition stays."""
    node: Any
    name: ClassVar[str] = "reconnect"

    def validate(self, sim: "Simulation") -> "Reconnect":
        who = sim._endpoint(self.node)
        if sim.network.blocked_anywhere(who) is None:
            raise OperatorError(f"{who} is not cut off from anyone: nothing to reconnect")
        return Reconnect(who)

    def apply(self, sim: "Simulation") -> None:
        sim.network.reconnect(self.node)
        sim._network_changed(self, f"operator reconnected {self.node}")


@dataclass(frozen=True)
class SetNetwork(Action):
    """Change how the network treats every message sent from now on: loss probability ``drop``,
    ``duplicate`` probability, and the ``delay`` range (MIN, MAX) in ms.  ``None`` keeps a setting."""
    drop: Any = None
    delay: Any = None
    duplicate: Any = None
    name: ClassVar[str] = "set_network"

    def validate(self, sim: "Simulation") -> "SetNetwork":
        changes = {k: v for k, v in (("drop", self.drop), ("delay", self.delay),
                                     ("duplicate", self.duplicate)) if v is not None}
        if not changes:
            raise OperatorError("set_network needs at least one of drop=, delay=, duplicate=")
        if isinstance(changes.get("delay"), list):
            changes["delay"] = tuple(changes["delay"])
        try:
            config = sim.config.replace(**changes)
        except ConfigError as exc:
            raise OperatorError(str(exc)) from None
        return SetNetwork(config.drop if self.drop is not None else None,
                          config.delay if self.delay is not None else None,
                          config.duplicate if self.duplicate is not None else None)

    def __str__(self) -> str:                   # the method takes keywords only
        given = ", ".join(f"{k}={v!r}" for k, v in (("drop", self.drop), ("delay", self.delay),
                                                    ("duplicate", self.duplicate)) if v is not None)
        return f"set_network({given})"

    @classmethod
    def from_args(cls, args: list) -> "SetNetwork":
        drop, delay, duplicate = args
        return cls(drop, tuple(delay) if isinstance(delay, list) else delay, duplicate)

    def apply(self, sim: "Simulation") -> None:
        changes = {k: v for k, v in (("drop", self.drop), ("delay", self.delay),
                                     ("duplicate", self.duplicate)) if v is not None}
        sim._reconfigure(self, **changes)


# --- clients and settings -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClientRequest(Action):
    """A client sends ``command`` to server ``node`` (None: the leader it last heard of, else one the seed
    picks); ``client`` names the client (None: the first idle one)."""
    command: Any
    node: Any = None
    client: Any = None
    name: ClassVar[str] = "client_request"

    def validate(self, sim: "Simulation") -> "ClientRequest":
        cmd = check_command(self.command)
        target = sim.node(self.node).id if self.node is not None else None
        if target is not None and sim.nodes[target].crashed:
            raise OperatorError(f"{target} is crashed: a request sent to it would only be lost; send it to a "
                                f"live server, or leave the server out and let the client pick one")
        if self.client is not None:
            if not isinstance(self.client, str) or not CLIENT_NAME.fullmatch(self.client):
                raise OperatorError(f"client names are a 'c' then letters or digits (like 'c1'), "
                                    f"got {self.client!r}")
            c = sim.clients.get(self.client)
            if c is not None and c.pending is not None:
                raise OperatorError(f"{self.client} is still waiting for its request #{c.pending.seq}; "
                                    f"use another client or wait")
        return ClientRequest(cmd, target, self.client)

    @classmethod
    def from_args(cls, args: list) -> "ClientRequest":
        command, node, client = args
        return cls(tuple(command) if isinstance(command, list) else command, node, client)

    def apply(self, sim: "Simulation") -> tuple[str, int]:
        return sim._client_request(self.command, self.node, self.client)


@dataclass(frozen=True)
class SetPreVote(Action):
    """Turn pre-vote (Ongaro's thesis, section 9.6) on or off on every server."""
    enabled: Any = True
    name: ClassVar[str] = "set_pre_vote"

    def validate(self, sim: "Simulation") -> "SetPreVote":
        return SetPreVote(_flag(self.enabled, "set_pre_vote"))

    def apply(self, sim: "Simulation") -> None:
        sim._reconfigure(self, pre_vote=self.enabled)


@dataclass(frozen=True)
class SetCheckQuorum(Action):
    """Turn check-quorum on or off: a leader that has not heard from a majority for an election
    timeout steps down, and servers ignore candidates while they hear from a leader (thesis 4.2.3)."""
    enabled: Any = True
    name: ClassVar[str] = "set_check_quorum"

    def validate(self, sim: "Simulation") -> "SetCheckQuorum":
        return SetCheckQuorum(_flag(self.enabled, "set_check_quorum"))

    def apply(self, sim: "Simulation") -> None:
        sim._reconfigure(self, check_quorum=self.enabled)


# --- membership ----------------------------------------------------------------------------------------------

def _change_leader(sim: "Simulation", via: Any) -> Any:
    """The leader that takes a membership change: ``via`` (which must be the leader), else the leader."""
    leader = sim.leader()
    if via is None:
        if leader is None:
            raise OperatorError("there is no leader to take a configuration change now: run until one is "
                                "elected (sim.run_until_leader())")
        return leader
    node = sim.node(via)
    if node.crashed:
        raise OperatorError(f"{node.id} is crashed: only a live leader can change the configuration")
    if not node.is_leader:
        now = f"{leader.id} is" if leader is not None else "there is no leader now"
        raise OperatorError(f"{node.id} is not the leader ({now}): only the leader changes the configuration")
    return node


def _names(nodes: Any, what: str) -> tuple:
    if isinstance(nodes, (str, int)):
        nodes = (nodes,)
    if not isinstance(nodes, (list, tuple)) or not nodes:
        raise OperatorError(f"{what} needs at least one server, like {what}('n4')")
    names = tuple(f"n{n}" if isinstance(n, int) and not isinstance(n, bool) else n for n in nodes)
    for n in names:
        if not isinstance(n, str) or not SERVER_NAME.fullmatch(n):
            raise OperatorError(f"a server is named like 'n4' (n and a number from 1 to 99), got {_short(n)}")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise OperatorError(f"{', '.join(dup)} named twice in one {what}")
    return names


def _check_change(sim: "Simulation", leader: Any, names: tuple, what: str) -> None:
    if len(names) > 1 and sim.config.membership == "single":
        raise OperatorError(f"single-server changes (membership='single') {what} one server at a time: "
                            f"{what} {names[0]} first, or use membership='joint'")
    reason = sim.rules.may_change_configuration(leader)
    if reason is not None:
        raise OperatorError(f"{leader.id} cannot start a configuration change now: {reason}")


@dataclass(frozen=True)
class AddServer(Action):
    """Add servers: each starts with an empty log and joins as a learner; the leader catches it up, then
    promotes it to voter (dissertation 4.2.1).  ``via``: the leader to ask (default: the leader)."""
    nodes: tuple
    via: Any = None
    name: ClassVar[str] = "add_server"

    def validate(self, sim: "Simulation") -> "AddServer":
        names = _names(self.nodes, "add_server")
        leader = _change_leader(sim, self.via)
        conf = leader.configuration
        for n in names:
            if n in conf.members:
                role = "a learner" if n in conf.learners else "a voter"
                raise OperatorError(f"{n} is already in the configuration {conf} (as {role})")
        _check_change(sim, leader, names, "add")
        return AddServer(names, None if self.via is None else leader.id)

    @classmethod
    def from_args(cls, args: list) -> "AddServer":
        nodes, via = args
        return cls(tuple(nodes), via)

    def __str__(self) -> str:
        via = f", via={self.via!r}" if self.via is not None else ""
        return f"add_server({', '.join(repr(n) for n in self.nodes)}{via})"

    def apply(self, sim: "Simulation") -> None:
        leader = self.via if self.via is not None else sim.leader().id  # type: ignore[union-attr]
        sim._change_membership(self, leader, self.nodes, ())


@dataclass(frozen=True)
class RemoveServer(Action):
    """Remove servers from the configuration (the processes keep running).  ``via``: the leader to ask."""
    nodes: tuple
    via: Any = None
    name: ClassVar[str] = "remove_server"

    def validate(self, sim: "Simulation") -> "RemoveServer":
        names = _names(self.nodes, "remove_server")
        for n in names:
            sim.node(n)                            # a clear error for a server that does not exist
        leader = _change_leader(sim, self.via)
        conf = leader.configuration
        for n in names:
            if n not in conf.members:
                raise OperatorError(f"{n} is not in the configuration {conf}: nothing to remove")
        if not [v for v in conf.voters if v not in names]:
            raise OperatorError(f"removing {', '.join(names)} would leave the configuration {conf} with no "
                                f"voters: a cluster needs at least one")
        _check_change(sim, leader, names, "remove")
        return RemoveServer(names, None if self.via is None else leader.id)

    @classmethod
    def from_args(cls, args: list) -> "RemoveServer":
        nodes, via = args
        return cls(tuple(nodes), via)

    def __str__(self) -> str:
        via = f", via={self.via!r}" if self.via is not None else ""
        return f"remove_server({', '.join(repr(n) for n in self.nodes)}{via})"

    def apply(self, sim: "Simulation") -> None:
        leader = self.via if self.via is not None else sim.leader().id  # type: ignore[union-attr]
        sim._change_membership(self, leader, (), self.nodes)


#: Every action, by the name of the Simulation method that makes it.
ACTIONS: dict[str, type[Action]] = {cls.name: cls for cls in (
    Advance, Crash, Restart, Timeout, Drop, Deliver, Partition, Isolate, Cut, Heal, Reconnect,
    SetNetwork, ClientRequest, SetPreVote, SetCheckQuorum, AddServer, RemoveServer)}


@dataclass(frozen=True)
class Recorded:
    """An action as a run records it: taken after ``step`` steps, at virtual time ``time``."""
    step: int
    time: int
    action: Action

    def to_json(self) -> list:
        return [self.step, self.time, self.action.name, self.action.args]


def action_from_json(record: Any) -> Recorded:
    """``[step, time, name, args]`` (as saved) -> :class:`Recorded`; a clear error for anything else."""
    if (not isinstance(record, (list, tuple)) or len(record) != 4 or not isinstance(record[0], int)
            or not isinstance(record[1], int) or not isinstance(record[3], list)):
        raise ConfigError(f"a saved run has a malformed action {record!r}: expected [step, time, name, args]")
    step, time, name, args = record
    cls = ACTIONS.get(name)
    if cls is None:
        raise ConfigError(f"a saved run contains an unknown action {name!r}; known: {', '.join(ACTIONS)}")
    try:
        action = cls.from_args(args)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"a saved run has bad arguments for {name}: {args!r} ({exc})") from None
    return Recorded(step, time, action)

