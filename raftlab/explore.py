"""Exhaustive search of small clusters: is there *any* schedule that breaks the rules?

A random run tries one schedule: one order in which messages arrive, timers fire
and servers crash.  Most bugs in Raft need a particular, unlucky schedule, and a
random run may never meet it.  :func:`explore` tries them all, up to a bound.

**Schedules as a tree.**  From any state of the cluster the operator has a few
*choices*: deliver one of the messages in flight, drop one, fire a server's
election timer, let the next leader heartbeat go out, crash or restart a server,
have a client send a request.  Each choice leads to a new state, with its own
choices.  A schedule is a path from the start down this tree.

**Breadth-first.**  The search visits every state reachable in 1 choice, then
every state reachable in 2, and so on (a queue, not a stack).  So the first
state found that breaks a safety property is one at the smallest depth: the run
handed back is a *shortest* counterexample, with no step that is not needed to
show the bug.  A depth-first search would find *a* bad run too, but often a
long, meandering one.

**States visited once.**  Many schedules lead to the same state (delivering
message A then B, or B then A, to two different servers).  Each state gets a
digest of what matters for what can happen next (every server's role, term,
vote, log, commit index and leader bookkeeping, whether it is crashed; the
messages in flight as a multiset, ignoring their ids; the clients' requests; the
safety checker's memory of past leaders and commits), and a state whose digest
was seen before is not expanded again.  This is what makes the search finish.

**Time.**  The search ignores the clock.  Timers never fire on their own: the
election timeout, the network delay and the client's retry are set to about a
day of virtual time, so the only things that happen are the choices.  An
election timer firing is the operator's ``timeout(node)``.  A leader's
heartbeat timer is set to 1 ms, so the only event ever due is a heartbeat:
the "heartbeat" choice is one unrecorded ``sim.step()``, which fires the leader
heartbeat due next (the clock moves 1 ms); a replay steps it again.

This is the model checking of UW's DSLabs (Michael, Woos, Anderson, Ernst and
Tatlock, "Teaching Rigorous Distributed Systems With Efficient Model Checking",
EuroSys 2019): breadth-first search over the events of a small system, state
hashing, every invariant checked in every state, and the shortest bad run opened
in a visual debugger (here ``Explorer.from_file`` or ``raftlab replay``).

    >>> from raftlab.explore import explore
    >>> result = explore(depth=4)
    >>> result.violation is None
    True
"""
from __future__ import annotations

import hashlib
import io
import pickle
import random
import time
import types
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional, Union

from . import actions as act
from .config import Config
from .errors import NodeError, OperatorError, SafetyViolation
from .impl import Rules, resolve_rules
from .run import Run
from .sim import Simulation

__all__ = ["explore", "SearchResult", "CHOICES", "search_config"]

#: Every kind of choice, in the order they are tried from each state.
CHOICES = ("deliver", "drop", "timeout", "heartbeat", "crash", "restart", "request")

#: "Never" for the search's timers: about 28 hours of virtual time.
FAR = 10**8

Choice = Union[act.Action, str]          # an action for sim.do, or "heartbeat" (one sim.step())


@dataclass
class SearchResult:
    """What :func:`explore` found.  ``run`` is the shortest bad run (``Run.to_json()`` form), or None."""
    violation: Optional[Exception]
    run: Optional[dict]
    depth: int                    # the counterexample's length in choices, or the depth fully searched
    states: int                   # distinct states visited
    seconds: float
    complete: bool                # False when max_states stopped the search early
    rules: Rules = field(repr=False)

    @property
    def states_per_second(self) -> float:
        return self.states / self.seconds if self.seconds > 0 else float("inf")

    @property
    def found(self) -> bool:
        return self.violation is not None

    def replay(self, until: Optional[int] = None) -> Simulation:
        """The bad run replayed up to step ``until`` (default: the last step, which raises the violation)."""
        if self.run is None:
            raise ValueError("nothing to replay: the search found no violation")
        return Run.from_json(self.run, impl=self.rules).replay(until=until)

    def save(self, path: Union[str, Path]) -> Path:
        """Save the bad run, for ``Explorer.from_file(path)`` and ``raftlab replay path``."""
        if self.run is None:
            raise ValueError("nothing to save: the search found no violation")
        return Run.from_json(self.run, impl=self.rules).save(path)

    def __str__(self) -> str:
        if self.violation is None:
            scope = f"none within depth {self.depth}" if self.complete else (
                f"none found (stopped by the state budget after depth {self.depth})")
            return f"{scope}: {self.states:,} states searched ({self.states_per_second:,.0f} states/s)"
        kind = getattr(self.violation, "property", type(self.violation).__name__)
        return (f"{kind} broken after {self.depth} choices ({self.states:,} states searched): "
                f"{self.violation}")


def search_config(nodes: int = 3, seed: int = 0, clients: int = 1, **changes: Any) -> Config:
    """The configuration the search runs: timers that never fire on their own (see the module doc)."""
    return Config(nodes=nodes, seed=seed, election_timeout=(FAR, FAR), heartbeat=1, delay=(FAR, FAR),
                  client_timeout=FAR, request_interval=0, clients=clients, history=0, **changes)


def explore(impl: Any = None, nodes: int = 3, depth: int = 8, max_states: int = 100_000,
            choices: tuple[str, ...] = CHOICES, clients: int = 1, requests: int = 1, crashes: int = 1,
            seed: int = 0, order: str = "bfs", **config: Any) -> SearchResult:
    """Search every schedule of at most ``depth`` choices (or ``max_states`` distinct states) of a
    cluster of ``nodes`` servers running ``impl``; return the shortest one that breaks a safety
    property (or makes a rule raise), or say that there is none within that bound.

    ``choices``: which kinds of choice to make (:data:`CHOICES`).  ``requests``: how many client
    requests at most (each a ``put x N``), from ``clients`` clients.  ``crashes``: how many crashes at
    most.  ``config``: more :class:`~raftlab.config.Config` fields (``pre_vote=True``...).
    ``order="dfs"`` explores deepest-first instead, only to compare: its bad run is not the shortest."""
    unknown = sorted(set(choices) - set(CHOICES))
    if unknown or order not in ("bfs", "dfs"):
        raise ValueError(f"unknown choice(s) {unknown} (known: {CHOICES}) or order {order!r} (bfs, dfs)")
    rules = resolve_rules(impl)
    start = Simulation(search_config(nodes, seed, clients, **config), impl=rules)
    search = _Search(rules, tuple(c for c in CHOICES if c in choices), clients, requests, crashes)
    t0 = time.perf_counter()
    found, reached, complete = search.run(start, depth, max_states, order == "dfs")
    seconds = time.perf_counter() - t0
    if found is None:
        return SearchResult(None, None, reached, len(search.seen), seconds, complete, rules)
    sim, problem = found
    run = sim.run
    shown = Run(run.config.replace(history=Config().history), rules, run.actions, run.steps, run.time)
    return SearchResult(problem, shown.to_json(), reached, len(search.seen), seconds, True, rules)


class _Search:
    """The frontier, the digests seen, and how to expand one state."""

    def __init__(self, rules: Rules, choices: tuple[str, ...], clients: int, requests: int, crashes: int):
        self.choices, self.clients, self.requests, self.crashes = choices, clients, requests, crashes
        self.snapshots = _Snapshots(rules)
        self.seen: set[bytes] = set()

    def run(self, start: Simulation, depth: int, max_states: int,
            deepest_first: bool) -> tuple[Optional[tuple[Simulation, Exception]], int, bool]:
        """Returns (the bad state and its problem, or None; the depth reached; whether it finished)."""
        self.seen.add(digest(start))
        frontier: deque[tuple[bytes, int]] = deque([(self.snapshots.dump(start), 0)])
        reached = 0
        while frontier:
            blob, d = frontier.pop() if deepest_first else frontier.popleft()
            if d >= depth:
                continue
            for choice in list(self.moves(self.snapshots.load(blob))):
                child, problem = _take(self.snapshots, blob, choice)
                if problem is not None:
                    assert child is not None
                    return (child, problem), d + 1, True
                if child is None:
                    continue
                key = digest(child)
                if key in self.seen:
                    continue
                self.seen.add(key)
                reached = max(reached, d + 1)
                if len(self.seen) >= max_states:
                    return None, reached, False
                frontier.append((self.snapshots.dump(child), d + 1))
        return None, depth, True

    def moves(self, sim: Simulation) -> Iterator[Choice]:
        """The choices from ``sim``, in a fixed order (never a set's hash order)."""
        names = sim.names
        live = [n for n in names if not sim.nodes[n].crashed]
        for kind in self.choices:
            if kind in ("deliver", "drop"):
                make = act.Deliver if kind == "deliver" else act.Drop
                yield from (make(mid) for mid in _distinct_messages(sim))
            elif kind == "timeout":
                yield from (act.Timeout(n) for n in live)
            elif kind == "heartbeat":
                due = sim.peek()
                if due is not None and due < FAR:
                    yield "heartbeat"
            elif kind == "crash":
                if sum(isinstance(r.action, act.Crash) for r in sim.actions) < self.crashes:
                    yield from (act.Crash(n) for n in live)
            elif kind == "restart":
                yield from (act.Restart(n) for n in names if sim.nodes[n].crashed)
            elif kind == "request":
                yield from self._requests(sim, live)

    def _requests(self, sim: Simulation, live: list[str]) -> Iterator[Choice]:
        sent = len(sim.operations)
        if sent >= self.requests:
            return
        idle = [f"c{i}" for i in range(1, self.clients + 1)
                if f"c{i}" not in sim.clients or sim.clients[f"c{i}"].pending is None]
        if idle:
            command = ("put", "x", str(sent + 1))
            yield from (act.ClientRequest(command, n, idle[0]) for n in live)


def _distinct_messages(sim: Simulation) -> list[int]:
    """One in-flight message id per distinct message (two copies of a message lead to the same state)."""
    first: dict[str, int] = {}
    for env in sorted(sim.network.in_flight.values(), key=lambda e: e.id):
        first.setdefault(repr(env.message), env.id)
    return [first[k] for k in sorted(first)]


def _take(parent: "_Snapshots", blob: bytes,
          choice: Choice) -> tuple[Optional[Simulation], Optional[Exception]]:
    """A copy of the state ``blob`` after ``choice``: (child, None), or (child, the violation or rule
    error it raised), or (None, None) if the simulation refused the choice."""
    child = parent.load(blob)
    try:
        if choice == "heartbeat":
            child.step()
        else:
            assert isinstance(choice, act.Action)
            child.do(choice)
    except (SafetyViolation, NodeError) as problem:
        return child, problem
    except OperatorError:
        return None, None
    return child, None


class _Snapshots:
    """Simulations to bytes and back (pickle: several times faster than ``copy.deepcopy``, and a
    frontier of bytes is small).  The rules, the timeout functions and the random streams are not
    copied but shared by every state (the search's fixed timeouts and delays make their draws
    irrelevant): they are taken off before pickling and put back after.  Should a simulation hold
    something else that pickle cannot copy, a slower pickler shares every function and stream."""

    def __init__(self, rules: Rules):
        self.shared: list[Any] = [rules]
        self.ids: dict[int, int] = {id(rules): 0}
        self.parts: Optional[tuple] = None       # (rules, load_random, streams, timeouts) once known

    def dump(self, sim: Simulation) -> bytes:
        nodes = list(sim.nodes.values())
        parts = (sim.rules, sim._load_random, sim.network._streams, [n._election_timeouts for n in nodes])
        if self.parts is None:
            self.parts = parts
        sim.rules = sim._load_random = sim.network._streams = None  # type: ignore[assignment]
        for n in nodes:
            n.rules = n._election_timeouts = None  # type: ignore[assignment]
        try:
            return b"F" + pickle.dumps(sim, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):
            pass
        finally:
            sim.rules, sim._load_random, sim.network._streams = parts[:3]
            for n, timeouts in zip(nodes, parts[3], strict=True):
                n.rules, n._election_timeouts = parts[0], timeouts
        out = io.BytesIO()
        _Pickler(out, self).dump(sim)
        return b"S" + out.getvalue()

    def load(self, blob: bytes) -> Simulation:
        if blob[:1] == b"S":
            return _Unpickler(io.BytesIO(blob[1:]), self.shared).load()
        sim = pickle.loads(blob[1:])
        assert self.parts is not None
        rules, sim._load_random, sim.network._streams, timeouts = self.parts
        sim.rules = rules
        for n, timeout in zip(sim.nodes.values(), timeouts, strict=True):
            n.rules, n._election_timeouts = rules, timeout
        return sim


class _Pickler(pickle.Pickler):
    def __init__(self, out: io.BytesIO, snapshots: _Snapshots):
        super().__init__(out, protocol=pickle.HIGHEST_PROTOCOL)
        self.snapshots = snapshots

    def persistent_id(self, obj: Any) -> Optional[int]:
        snaps = self.snapshots
        index = snaps.ids.get(id(obj))
        if index is None and type(obj) in _SHARED_TYPES:
            index = snaps.ids[id(obj)] = len(snaps.shared)
            snaps.shared.append(obj)
        return index


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: io.BytesIO, shared: list[Any]):
        super().__init__(data)
        self.shared = shared

    def persistent_load(self, pid: Any) -> Any:
        return self.shared[pid]


_SHARED_TYPES = (types.FunctionType, types.MethodType, random.Random)


def digest(sim: Simulation) -> bytes:
    """A fingerprint of what decides the future of ``sim`` (see the module doc); ids, clock and
    timer deadlines are left out, so equivalent states have equal digests."""
    parts = [tuple(_node_state(sim.nodes[n]) for n in sim.names),
             tuple(sorted(repr(e.message) for e in sim.network.in_flight.values())),
             tuple((op.client, op.seq, op.command, op.completed is not None, op.result)
                   for op in sim.operations),
             sum(isinstance(r.action, act.Crash) for r in sim.actions),
             _next_heartbeat(sim), _checker_state(sim)]
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).digest()


def _node_state(node: Any) -> tuple:
    log = node.log
    entries = tuple((e.term, e.command, e.client_id, e.seq)
                    for e in (log.entry(i) for i in range(log.snapshot_index + 1, log.last_index + 1)))
    return (node.crashed, node.role.value, node.current_term, node.voted_for, node.leader_id,
            log.snapshot_index, entries, node.commit_index, node.last_applied,
            tuple(sorted(node.votes_granted)), tuple(sorted(node.next_index.items())),
            tuple(sorted(node.match_index.items())), tuple(sorted(node.recent_active)),
            node.heartbeat_deadline is not None, node.last_heard_from_leader is not None)


def _next_heartbeat(sim: Simulation) -> Optional[str]:
    """Which leader's heartbeat the "heartbeat" choice would fire (the head of the event queue)."""
    due = sim.peek()
    if due is None or due >= FAR:
        return None
    return str(sim._queue[0][3])


def _checker_state(sim: Simulation) -> tuple:
    """The safety checker's memory: some properties depend on the past (who led a term, what was
    committed), so two states that differ only there are not the same state."""
    c = sim.checker
    if c is None:
        return ()
    return (tuple(sorted(c.leaders.items())), tuple(sorted(c.entries)),
            tuple(None if e is None else (e.term, e.command) for e in c.committed),
            tuple(None if a is None else (a[0].term, a[0].command) for a in c.applied),
            tuple(sorted(c.commit_seen.items())), tuple(sorted(c.committed_requests.items())))
