"""Exhaustive search of small clusters: is there *any* schedule that breaks the rules?

A random run tries one schedule: one order in which messages arrive, timers fire
and servers crash.  Most bugs in Raft need a particular, unlucky schedule, and a
random run may never meet it.  :func:`explore` tries them all, up to a bound.

**Schedules as a tree.**  From any state of the cluster the operator has a few
*choices*: deliver one of the messages in flight, fire a server's election
timer, let the next leader heartbeat go out, crash or restart a server, have a
client send a request (and, if asked, drop a message).  Each choice leads to a
new state, with its own choices.  A schedule is a path from the start down
this tree.

**Breadth-first, so the bad run is a shortest one.**  ``order="bfs"`` (the
default) visits every state reachable in 1 choice, then every state reachable
in 2, and so on.  So the first state found that breaks a safety property is one
at the smallest depth: the run handed back is a *shortest* counterexample, with
no step that is not needed to show the bug.

**States visited once.**  Many schedules lead to the same state (delivering
message A then B, or B then A, to two different servers).  Each state gets a
key made of what decides what can happen next: every server's role, term,
vote, log, commit index, state machine and leader bookkeeping, whether it is
crashed; the messages in flight as a multiset (ids left out); the clients'
requests; how many timeouts and crashes the bounds have left; and the safety
checker's memory (who led which term, what was committed), because some
properties depend on the past.  A state whose key was seen before is not
expanded again.  Keys are compared exactly (no hash that could collide), so a
result does not depend on luck or on ``PYTHONHASHSEED``.

**Servers are interchangeable.**  At the start nothing tells n1 from n3, and
renaming the servers of any run gives a run just as possible, with the same
bugs at the same depth.  So a key is made *canonical under renaming*: the
servers are put in an order that does not depend on their names (by role,
term, log...; ties are broken by trying each order and keeping the smallest
key), then every name in the state is replaced by its place in that order.
States that differ only by names count once: on 3 servers this cuts the states
about 6-fold, and the depth reached deepens.  (It assumes the rules treat every
server alike, as Raft's do; a rule that singles out "n1" needs
``symmetry=False``.)  ``states`` always counts distinct canonical states.

**Choices that cannot matter are not made.**  Dropping a message never helps
to break safety: a run with a drop breaks the same property without it (the
message just stays in flight, undelivered), so ``drop`` is not among the
default choices (ask for it with ``choices=CHOICES``).  For the same reason a
delivery that changes nothing but the messages in flight (a message to a
crashed server, a stale reply ignored) is not expanded: everything it leads to
is reachable, sooner, without it.  Neither cut changes the shortest bad run.

**Time.**  The search ignores the clock.  Timers never fire on their own: the
election timeout, the network delay and the client's retry are set to about a
day of virtual time (:func:`search_config`), so the only things that happen are
the choices.  An election timer firing is the operator's ``timeout(node)``.  A
leader's heartbeat timer is 1 ms, so the only event ever due is a heartbeat:
the "heartbeat" choice is one unrecorded ``sim.step()``, which fires the leader
heartbeat due next; a replay steps it again.

**Messages that arrive twice.**  Delivering a message takes it off the
network, so the search has no separate "duplicate" choice: pass
``duplicate=1.0`` and every message is sent twice, one copy staying in flight
after the other is delivered.

**Bugs deeper than breadth-first can go.**  The number of states grows about
4- to 5-fold per choice, so breadth-first search of 3 servers with every
choice reaches depth 8 or so in a minute (``bench/explore.py`` prints it).
Some bugs need more: committing an entry of an earlier term by counting
replicas (the paper's Figure 8) needs 18 choices on 3 servers.  Four ways to
reach them, from the DSLabs model checker:

* **Bounds** that keep the tree narrow: ``timeouts`` (election timeouts in all),
  ``requests``, ``crashes``, and ``choices`` (only ``("deliver", "timeout")``
  for an election bug).  Within its bounds the search is still exhaustive and
  its bad run still a shortest one.
* **A start state**: ``start=`` a :class:`~raftlab.Simulation` (made with
  :func:`search_config`) or a saved :class:`~raftlab.run.Run` already brought
  to an interesting point; the search explores every schedule *from there*.
  The bad run handed back includes the start's actions; ``depth`` counts the
  choices after it, and it is shortest among runs that begin with that start.
  ``prune=`` a predicate on a simulation: states where it holds are kept but
  not expanded (to say "do not bother with states where ...").
* **Goals**, ``goal=`` a predicate on a simulation: the search stops at the
  first (shallowest) state where it holds and hands it back as
  ``result.state``, to start the next search from (``start=result.state``).
  A chain of goals ("two servers hold different entries at one index", then
  "a committed entry is missing from a server's log", then any violation)
  walks down to a deep bug one short search at a time; each leg is shortest,
  the whole run is not proven shortest.
* **Random walks**, ``order="random"`` (DSLabs' random depth-first search):
  walk down the tree ``depth`` choices at a time, choosing at random (from
  ``seed``), until a walk breaks a property or the budget (``max_states``
  distinct states, or ``seconds``) runs out.  It reaches depths breadth-first
  search cannot, but its bad run is *not* a shortest one: it is then
  shortened (choices that are not needed to break the same property are
  removed, one at a time, while it still breaks it), and the result says
  ``shortest=False``.

This is the model checking of UW's DSLabs (Michael, Woos, Anderson, Ernst and
Tatlock, "Teaching Rigorous Distributed Systems With Efficient Model Checking",
EuroSys 2019): breadth-first search over the events of a small system, state
hashing, every invariant checked in every state, search from a start state,
random depth-first search, and the shortest bad run opened in a visual debugger
(here ``Explorer.from_file`` or ``raftlab replay``).

    >>> from raftlab import explore
    >>> result = explore(depth=4)
    >>> result.violation is None
    True
"""
from __future__ import annotations

import itertools
import operator
import random
import time
from collections import deque
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Union

from . import actions as act
from . import messages as _messages
from .config import Config
from .errors import NodeError, OperatorError, SafetyViolation
from .impl import Rules, resolve_rules
from .messages import Message
from .node import ENGINE_FIELDS
from .run import Run
from .sim import Simulation

__all__ = ["explore", "SearchResult", "CHOICES", "SAFETY_CHOICES", "ORDERS", "GOALS", "search_config", "logs_diverge",
           "leader_has_old_uncommitted", "committed_entry_at_risk"]

#: Every kind of choice, in the order they are tried from each state.
CHOICES = ("deliver", "drop", "timeout", "heartbeat", "crash", "restart", "request")
#: The default: every choice but ``drop``, which never helps to break safety (see the module doc).
SAFETY_CHOICES = tuple(c for c in CHOICES if c != "drop")
#: How the tree is searched: breadth-first (shortest), depth-first (to compare), random walks.
ORDERS = ("bfs", "dfs", "random")

#: "Never" for the search's timers: about 28 hours of virtual time.
FAR = 10**8

#: A choice: ("deliver" | "drop", message key), ("timeout" | "crash" | "restart", node),
#: ("request", node) or ("heartbeat", None).  Messages are named by content, not id, so a
#: choice means the same thing in a shortened run, where ids differ.
Choice = tuple[str, Any]


@dataclass
class SearchResult:
    """What :func:`explore` found.  ``run`` is the bad run (``Run.to_json()`` form), or None."""
    violation: Optional[Exception]
    run: Optional[dict]                # the bad run, or (with goal=) the run to the goal
    depth: int                    # the counterexample's length in choices (after the start), or the depth searched
    states: int                   # distinct (canonical) states visited
    seconds: float
    complete: bool                # False when the budget (max_states or seconds) stopped the search early
    rules: Rules = field(repr=False)
    order: str = "bfs"
    shortest: bool = False        # True when the bad run is proven shortest (breadth-first, within the bounds)
    found_at: Optional[int] = None   # random walks: the length of the walk that broke it, before shortening
    state: Optional[Simulation] = field(default=None, repr=False)   # with goal=: the state that meets it
    legs: tuple[int, ...] = ()       # with a list of goals: the choices of each leg

    @property
    def states_per_second(self) -> float:
        return self.states / self.seconds if self.seconds > 0 else float("inf")

    @property
    def found(self) -> bool:
        return self.violation is not None

    @property
    def method(self) -> str:
        """How the bad run was found, in words."""
        if len(self.legs) > 1:
            return f"goal by goal, legs of {' + '.join(map(str, self.legs))} choices, each shortest"
        if self.order == "random":
            return f"random walks, a run of {self.found_at} choices shortened to {self.depth}"
        return "breadth-first: a shortest run" if self.order == "bfs" else "depth-first: not a shortest run"

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
        rate = f"{self.states:,} states searched ({self.states_per_second:,.0f} states/s)"
        if self.state is not None and self.violation is None:
            return f"goal reached after {self.depth} choices ({rate})"
        if self.violation is None:
            if self.order == "random":
                return f"none found by random walks of {self.depth} choices: {rate}"
            scope = f"none within depth {self.depth}" if self.complete else (
                f"none found (stopped by the budget after depth {self.depth})")
            return f"{scope}: {rate}"
        kind = getattr(self.violation, "property", type(self.violation).__name__)
        how = "" if self.order == "bfs" and not self.legs else f" [{self.method}]"
        return f"{kind} broken after {self.depth} choices{how} ({rate}): {self.violation}"


def search_config(nodes: int = 3, seed: int = 0, clients: int = 1, **changes: Any) -> Config:
    """The configuration the search runs: timers that never fire on their own (see the module doc)."""
    return Config(nodes=nodes, seed=seed, election_timeout=(FAR, FAR), heartbeat=1, delay=(FAR, FAR),
                  client_timeout=FAR, request_interval=0, clients=clients, history=0, **changes)


def explore(impl: Any = None, nodes: int = 3, depth: int = 8, max_states: int = 100_000,
            choices: tuple[str, ...] = SAFETY_CHOICES, clients: int = 1, requests: int = 1, crashes: int = 1,
            timeouts: Optional[int] = None, seed: int = 0, order: str = "bfs",
            start: Union[Simulation, Run, None] = None, prune: Optional[Callable[[Simulation], bool]] = None,
            goal: Union[Callable[[Simulation], bool], str, tuple, list, None] = None, symmetry: bool = True,
            seconds: Optional[float] = None, **config: Any) -> SearchResult:
    """Search every schedule of at most ``depth`` choices (or ``max_states`` distinct states, or
    ``seconds``) of a cluster of ``nodes`` servers running ``impl``; return the shortest one that
    breaks a safety property (or makes a rule raise), or say that there is none within that bound.

    ``choices``: which kinds of choice to make (:data:`CHOICES`; default :data:`SAFETY_CHOICES`).
    ``requests``: how many client requests at most (each a ``put x N``), from ``clients`` clients.
    ``crashes``, ``timeouts``: how many crashes, election timeouts at most (``timeouts=None``: no
    bound).  ``start``: search from this simulation or run instead of a fresh cluster (its rules
    are searched; build it with :func:`search_config`).  ``prune(sim)``: true for states not to
    expand.  ``goal(sim)``: stop at the first state where it is true (``result.state``); a list of
    goals (functions or names from :data:`GOALS`) searches to each in turn, each leg from where the
    last one stopped, then for a violation (the legs are shortest; the whole run is not proven so).
    ``symmetry``: count states that differ only by server names once.  ``order``:
    ``"bfs"`` (a shortest bad run), ``"dfs"`` (only to compare) or ``"random"`` (random walks of
    ``depth`` choices from ``seed``, then shortened; not a shortest run).  ``config``: more
    :class:`~raftlab.config.Config` fields (``pre_vote=True``, ``max_entries=1``...)."""
    if isinstance(goal, (list, tuple)):
        return _legs(list(goal), impl=impl, nodes=nodes, depth=depth, max_states=max_states, choices=choices,
                     clients=clients, requests=requests, crashes=crashes, timeouts=timeouts, seed=seed, order=order,
                     start=start, prune=prune, symmetry=symmetry, seconds=seconds, **config)
    if isinstance(goal, str):
        goal = _goal(goal)
    sim0 = _start(impl, nodes, seed, clients, start, config)
    _check_arguments(depth, max_states, choices, clients, requests, crashes, timeouts, order, seconds, prune)
    if goal is not None and (not callable(goal) or order == "random"):
        raise ValueError("goal must be a function of a Simulation, and is for order='bfs' or 'dfs'")
    search = _Search(sim0, tuple(c for c in CHOICES if c in choices), clients, requests, crashes, timeouts,
                     symmetry, prune, goal)
    deadline = None if seconds is None else time.perf_counter() + seconds
    t0 = time.perf_counter()
    if order == "random":
        found, reached, complete, found_at = search.walks(depth, max_states, deadline, seed)
    else:
        found, reached, complete = search.tree(depth, max_states, deadline, order == "dfs")
        found_at = None
    seconds_spent = time.perf_counter() - t0
    states = len(search.seen)
    if found is None:
        return SearchResult(None, None, reached, states, seconds_spent, complete, sim0.rules, order)
    sim, problem, path = found
    if problem is None:                 # the goal
        return SearchResult(None, sim.run.to_json(), len(path), states, seconds_spent, True, sim0.rules, order,
                            shortest=order == "bfs", state=sim)
    if order == "random":
        sim, problem, path = search.shorten(path, problem)
    run = sim.run
    shown = Run(run.config.replace(history=Config().history), sim.rules, run.actions, run.steps, run.time)
    return SearchResult(problem, shown.to_json(), len(path), states, seconds_spent, True, sim0.rules, order,
                        shortest=order == "bfs", found_at=found_at)


def _legs(goals: list, *, start: Any, seconds: Optional[float], impl: Any, **options: Any) -> SearchResult:
    """Search to each goal in turn, then for a violation (see :func:`explore`'s ``goal``)."""
    config = {k: options.pop(k) for k in list(options) if k not in _EXPLORE_OPTIONS}
    t0 = time.perf_counter()
    states, depths = 0, []
    result = None
    for goal in [*goals, None]:
        left = None if seconds is None else max(seconds - (time.perf_counter() - t0), 0.001)
        if goal is not None and not callable(goal):
            goal = _goal(goal)
        result = explore(impl=impl if start is None else None, start=start, goal=goal, seconds=left,
                         **options, **(config if start is None else {}))
        states += result.states
        depths.append(result.depth)
        if result.state is None or goal is None:
            break
        start = result.state
    assert result is not None
    result.states, result.seconds = states, time.perf_counter() - t0
    result.depth = sum(depths) if result.found or result.state is not None else result.depth
    result.shortest = result.shortest and len(depths) == 1
    result.legs = tuple(depths)
    return result


_EXPLORE_OPTIONS = frozenset(("nodes", "depth", "max_states", "choices", "clients", "requests", "crashes",
                              "timeouts", "seed", "order", "prune", "symmetry"))


def _goal(name: str) -> Callable[[Simulation], bool]:
    if name not in GOALS:
        raise ValueError(f"unknown goal {name!r} (known: {', '.join(GOALS)})")
    return GOALS[name]


def logs_diverge(sim: Simulation) -> bool:
    """A goal: two servers hold entries of different terms at the same index (two leaders of
    different terms each appended where the other did not see it).  Not a bug by itself: Raft
    repairs it, as long as no such entry was committed."""
    logs = [n.log for n in sim.nodes.values()]
    return any(a.term_at(i) != b.term_at(i) and b.term_at(i) is not None
               for a, b in itertools.combinations(logs, 2)
               for i in range(max(a.snapshot_index, b.snapshot_index) + 1, min(a.last_index, b.last_index) + 1))


def leader_has_old_uncommitted(sim: Simulation) -> bool:
    """A goal: a live leader holds, beyond its commit index, an entry of an earlier term (Figure
    8's stage c: it must not commit that entry by counting its replicas, section 5.4.2)."""
    for n in sim.nodes.values():
        if n.role.value == "leader" and not n.crashed:
            log = n.log
            first = max(n.commit_index, log.snapshot_index) + 1
            if any(log.term_at(i) < n.current_term for i in range(first, log.last_index + 1)):  # type: ignore[operator]
                return True
    return False


def committed_entry_at_risk(sim: Simulation) -> bool:
    """A goal: a server lacks an entry another server has committed, yet its log is at least as
    up-to-date (section 5.4.1) as the logs of a majority, so it could be elected and overwrite
    the entry.  The argument of section 5.4.3 says this never happens in a correct run: it is the
    last step before a Leader Completeness violation (Figure 8)."""
    nodes = list(sim.nodes.values())
    majority = len(nodes) // 2 + 1
    for a in nodes:
        for i in range(a.log.snapshot_index + 1, min(a.commit_index, a.log.last_index) + 1):
            term = a.log.term_at(i)
            for b in nodes:
                if b.log.term_at(i) != term and i > b.log.snapshot_index:
                    mine = (b.log.last_term, b.log.last_index)
                    if sum(mine >= (c.log.last_term, c.log.last_index) for c in nodes) >= majority:
                        return True
    return False


#: Goals by name, for ``goal=`` and ``raftlab explore --goal``: the stages of the paper's Figure 8.
GOALS: dict[str, Callable[[Simulation], bool]] = {
    "logs-diverge": logs_diverge, "old-uncommitted": leader_has_old_uncommitted,
    "entry-at-risk": committed_entry_at_risk}


def _start(impl: Any, nodes: int, seed: int, clients: int, start: Any, config: dict) -> Simulation:
    """The state the search starts from (a fresh cluster, or the ``start`` given)."""
    if start is None:
        if not isinstance(nodes, int) or isinstance(nodes, bool) or nodes < 1:
            raise ValueError(f"nodes must be a whole number of servers, at least 1; got {nodes!r}")
        return Simulation(search_config(nodes, seed, clients, **config), impl=resolve_rules(impl))
    if impl is not None or config:
        raise ValueError("start= already has its rules and configuration: give impl= and Config "
                         "fields to the simulation you start from, not to explore()")
    if isinstance(start, Run):
        start = start.replay()
    if not isinstance(start, Simulation):
        raise ValueError(f"start must be a raftlab Simulation or Run, got {type(start).__name__}")
    c = start.config
    if c.election_timeout != (FAR, FAR) or c.delay != (FAR, FAR) or c.heartbeat != 1 or c.drop or c.duplicate \
            or c.request_interval:
        raise ValueError("the start simulation must run the search's timers, or its own would fire "
                         "between the choices: build it with Simulation(raftlab.explore.search_config(...))")
    start._check_running()
    return start.fork(share_random=True)


def _check_arguments(depth: Any, max_states: Any, choices: Any, clients: Any, requests: Any, crashes: Any,
                     timeouts: Any, order: Any, seconds: Any, prune: Any) -> None:
    def whole(value: Any, lo: int) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= lo
    for name, value, lo in (("depth", depth, 1), ("max_states", max_states, 1), ("clients", clients, 1),
                            ("requests", requests, 0), ("crashes", crashes, 0)):
        if not whole(value, lo):
            raise ValueError(f"{name} must be a whole number, at least {lo}; got {value!r}")
    if timeouts is not None and not whole(timeouts, 0):
        raise ValueError(f"timeouts must be None (no bound) or a whole number of election timeouts; got {timeouts!r}")
    if isinstance(choices, str) or not all(isinstance(c, str) for c in choices):
        raise ValueError(f"choices must be a tuple of names from {CHOICES}, got {choices!r}")
    unknown = sorted(set(choices) - set(CHOICES))
    if unknown or not choices:
        raise ValueError(f"unknown choice(s) {unknown} (known: {', '.join(CHOICES)})" if unknown
                         else "choices is empty: nothing could ever happen")
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}: bfs (shortest), dfs or random (random walks)")
    if seconds is not None and not (isinstance(seconds, (int, float)) and seconds > 0):
        raise ValueError(f"seconds must be a positive number of seconds, got {seconds!r}")
    if prune is not None and not callable(prune):
        raise ValueError(f"prune must be a function of a Simulation, got {prune!r}")


# --- keys: what a state is, canonical under renaming servers ---------------------------------------------
#
# Keys are nested tuples of ints, strings and bools only (None is written "" or -1), so any two
# compare: the canonical key is the smallest of a state's renamings.

_ATTRS: dict[type, tuple[Callable[[Message], tuple], tuple[int, ...]]] = {}
#: The fields of a message that hold a server's name (src and dst, and these).
_NAME_FIELDS = ("src", "dst", "candidate_id", "leader_id", "leader_hint")


def _message_key(message: Message) -> tuple:
    """A message as plain data (its kind, then its fields; entries as tuples), equal for equal messages."""
    kind = type(message)
    known = _ATTRS.get(kind)
    if known is None:
        names = [f.name for f in fields(kind)]  # type: ignore[arg-type]
        known = _ATTRS[kind] = (operator.attrgetter(*names),
                                tuple(i + 1 for i, n in enumerate(names) if n in _NAME_FIELDS))
    return (kind.__name__,) + tuple(tuple(_entry(e) for e in v) if type(v) is tuple and v and hasattr(v[0], "term")
                                    else v for v in known[0](message))


def _entry(e: Any) -> tuple:
    return (e.term, e.command or (), e.client_id or "", e.seq, "" if e.config is None else str(e.config))


_MESSAGE_TYPES = {name: getattr(_messages, name) for name in dir(_messages)
                  if isinstance(getattr(_messages, name), type) and issubclass(getattr(_messages, name), Message)}

_NODE_FIELDS = ENGINE_FIELDS


def _node_parts(node: Any) -> tuple[tuple, tuple]:
    """A server's state in two parts: what holds no server name (its signature, also used to put
    servers in a canonical order) and the names it holds (vote, leader, per-peer indexes)."""
    log = node.log
    kv = node.state_machine
    extra = repr(sorted((k, repr(v)) for k, v in node.__dict__.items() if k not in _NODE_FIELDS)) \
        if len(node.__dict__) != len(_NODE_FIELDS) else ""
    plain = (node.crashed, node.role.value, node.current_term, log.snapshot_index, log.snapshot_term,
             tuple([_entry(e) for e in log.entries]), node.commit_index, node.last_applied,
             tuple(sorted(kv.data.items())), repr(sorted(kv.sessions.items())) if kv.sessions else "",
             node.election_deadline is not None, node.heartbeat_deadline is not None,
             node.last_heard_from_leader is not None, node.voted_for is None, node.leader_id is None, extra)
    names = (node.voted_for or "", node.leader_id or "", tuple(sorted(node.votes_granted)),
             tuple(sorted(node.next_index.items())), tuple(sorted(node.match_index.items())),
             tuple(sorted(node.recent_active)), tuple(sorted(node.catch_up.items())))
    return plain, names


class _Keys:
    """Makes state keys; remembers renamed messages and servers (the same ones recur in many states)."""

    def __init__(self, names: list[str], symmetry: bool):
        self.names = names
        self.symmetry = symmetry
        self.renamed: dict[tuple, str] = {}

    def key(self, parts: list[tuple[tuple, tuple]], messages: list[tuple], extra: tuple) -> tuple:
        """The canonical key of a state: the smallest of its renamings that put the servers in the
        order of their name-free signatures (trying each order of servers whose signatures tie)."""
        names = self.names
        if not self.symmetry:
            return self._key(parts, messages, extra, tuple(range(len(names))))
        order = sorted(range(len(names)), key=lambda i: parts[i][0])
        if all(parts[order[k]][0] != parts[order[k + 1]][0] for k in range(len(order) - 1)):
            return self._key(parts, messages, extra, tuple(order))
        groups = [list(g) for _, g in itertools.groupby(order, key=lambda i: parts[i][0])]
        return min(self._key(parts, messages, extra, tuple(i for g in pick for i in g))
                   for pick in itertools.product(*(itertools.permutations(g) for g in groups)))

    def _key(self, parts: list[tuple[tuple, tuple]], messages: list[tuple], extra: tuple,
             ranked: tuple[int, ...]) -> tuple:
        """The key with the server in place ``ranked[k]`` called ``names[k]``."""
        names = self.names
        to = {names[i]: names[k] for k, i in enumerate(ranked)}
        memo = self.renamed
        renamed = []
        for m in messages:
            k = (m, ranked)
            text = memo.get(k)
            if text is None:
                text = memo[k] = repr(_rename_message(m, to))
            renamed.append(text)
        renamed.sort()
        servers = []
        for i in ranked:
            plain, held = parts[i]
            k = (held, ranked)
            text = memo.get(k)
            if text is None:
                text = memo[k] = repr(_rename_node(held, to))
            servers.append((plain, text))
        heartbeat, timeouts, crashes, clients, checker = extra
        if checker:
            leaders, entries, committed, committed_in, applied, commit_seen, requests = checker
            checker = (tuple((t, to[n]) for t, n in leaders), entries, committed, committed_in, applied,
                       tuple(sorted((to[n], c) for n, c in commit_seen)), requests)
        return (tuple(servers), tuple(renamed), (to.get(heartbeat, ""), timeouts, crashes, clients, checker))


def _rename_message(m: tuple, to: dict[str, str]) -> tuple:
    where = _ATTRS[_MESSAGE_TYPES[m[0]]][1]
    return tuple(to.get(v, v) if i in where and type(v) is str else v for i, v in enumerate(m))


def _rename_node(names: tuple, to: dict[str, str]) -> tuple:
    voted_for, leader_id, votes, next_index, match_index, recent, catch_up = names
    return (to.get(voted_for, ""), to.get(leader_id, ""), tuple(sorted(to[n] for n in votes)),
            tuple(sorted((to[n], i) for n, i in next_index)), tuple(sorted((to[n], i) for n, i in match_index)),
            tuple(sorted(to[n] for n in recent)), tuple(sorted((to[n], r) for n, r in catch_up)))


# --- the search ----------------------------------------------------------------------------------------

@dataclass
class _State:
    """One state of the search: its simulation and what its key was made of (kept to make its
    children's keys without recomputing the servers a choice did not touch)."""
    sim: Simulation
    parts: list[tuple[tuple, tuple]]
    messages: dict[int, tuple]          # message id -> message_key
    timeouts: int
    crashes: int
    path: tuple


class _Search:
    """The frontier, the keys seen, and how to expand one state."""

    def __init__(self, start: Simulation, choices: tuple[str, ...], clients: int, requests: int, crashes: int,
                 timeouts: Optional[int], symmetry: bool, prune: Optional[Callable[[Simulation], bool]],
                 goal: Optional[Callable[[Simulation], bool]] = None):
        self.start = start
        self.choices, self.clients, self.requests, self.crashes = choices, clients, requests, crashes
        self.timeouts, self.prune, self.goal = timeouts, prune, goal
        # Renaming servers must rename every name a state holds; configuration entries name servers
        # too, so a cluster that has changed its membership is searched without symmetry reduction.
        changed = any(n.log.config_indexes or n.log.snapshot_config is not None for n in start.nodes.values())
        self.keys = _Keys(list(start.names), symmetry and not changed)
        self.seen: set[tuple] = set()
        self.requests_at_start = len(start.operations)

    # --- breadth-first (and depth-first) ------------------------------------------------------
    def tree(self, depth: int, max_states: int, deadline: Optional[float],
             deepest_first: bool) -> tuple[Optional[tuple], int, bool]:
        """Returns (the bad state's simulation, problem and path, or None; the depth reached;
        whether the search finished)."""
        root = self._root()
        self.seen.add(self._key(root))
        if self.goal is not None and self.goal(root.sim):
            return (root.sim, None, ()), 0, True
        frontier: deque[_State] = deque([root])
        reached, count = 0, 0
        while frontier:
            state = frontier.pop() if deepest_first else frontier.popleft()
            d = len(state.path)
            if d >= depth or (self.prune is not None and self.prune(state.sim)):
                continue
            for choice in self.moves(state):
                child, problem = self._take(state, choice)
                if problem is not None:
                    assert child is not None
                    return (child.sim, problem, child.path), d + 1, True
                if child is None:
                    continue
                key = self._key(child)
                if key in self.seen:
                    continue
                self.seen.add(key)
                reached = max(reached, d + 1)
                if self.goal is not None and self.goal(child.sim):
                    return (child.sim, None, child.path), d + 1, True
                if len(self.seen) >= max_states:
                    return None, reached, False
                count += 1
                if deadline is not None and count % 256 == 0 and time.perf_counter() > deadline:
                    return None, reached, False
                frontier.append(child)
        return None, depth, True

    # --- random walks --------------------------------------------------------------------------
    def walks(self, depth: int, max_states: int, deadline: Optional[float],
              seed: int) -> tuple[Optional[tuple], int, bool, Optional[int]]:
        """Random walks of ``depth`` choices (DSLabs' random DFS) until one breaks a property."""
        pick = random.Random(f"{seed}:explore").random
        root = self._root()
        self.seen.add(self._key(root))
        while True:
            state = root
            for _ in range(depth):
                moves = list(self.moves(state))
                child = problem = None
                while moves and child is None:
                    choice = moves.pop(int(pick() * len(moves)))
                    child, problem = self._take(state, choice)
                if problem is not None:
                    assert child is not None
                    return (child.sim, problem, child.path), depth, True, len(child.path)
                if child is None:
                    break
                self.seen.add(self._key(child))
                state = child
                if len(self.seen) >= max_states or (deadline is not None and time.perf_counter() > deadline):
                    return None, depth, False, None

    def shorten(self, path: tuple, problem: Exception) -> tuple[Simulation, Exception, tuple]:
        """Remove the choices the bad run does not need, one at a time, while it still breaks the
        same property (a locally shortest run, not a proven shortest one)."""
        kind = getattr(problem, "property", type(problem).__name__)
        best = self._replay(path)
        assert best is not None
        i = len(path) - 1
        while i >= 0:
            trial = path[:i] + path[i + 1:]
            outcome = self._replay(trial)
            if outcome is not None and getattr(outcome[1], "property", type(outcome[1]).__name__) == kind:
                path, best = outcome[2], outcome
            i = min(i, len(path)) - 1
        return best

    def _replay(self, path: tuple) -> Optional[tuple[Simulation, Exception, tuple]]:
        """Take ``path``'s choices from the start; (sim, problem, the path taken) if it breaks something."""
        state = self._root()
        for choice in path:
            child, problem = self._take(state, choice, check_new=False)
            if problem is not None:
                assert child is not None
                return child.sim, problem, child.path
            if child is None:
                return None
            state = child
        return None

    # --- one state ------------------------------------------------------------------------------
    def _root(self) -> _State:
        sim = self.start.fork(share_random=True)
        parts = [_node_parts(sim.nodes[n]) for n in sim.names]
        messages = {e.id: _message_key(e.message) for e in sim.network.in_flight.values()}
        return _State(sim, parts, messages, 0, 0, ())

    def _key(self, state: _State) -> tuple:
        sim = state.sim
        due = sim.next_due()
        heartbeat = due.subject if due is not None and due.kind == "heartbeat" else None
        clients = repr([(op.client, op.seq, op.command, op.completed is not None, op.result)
                        for op in sim.operations]) if sim.operations else ""
        extra = (heartbeat or "", state.timeouts if self.timeouts is not None else -1, state.crashes, clients,
                 _checker_state(sim))
        return self.keys.key(state.parts, list(state.messages.values()), extra)

    def moves(self, state: _State) -> Iterator[Choice]:
        """The choices from ``state``, in a fixed order (never a set's hash order)."""
        sim = state.sim
        names = sim.names
        live = [n for n in names if not sim.nodes[n].crashed]
        for kind in self.choices:
            if kind in ("deliver", "drop"):
                seen: set[tuple] = set()
                for mid in sorted(state.messages):
                    k = state.messages[mid]
                    if k not in seen:
                        seen.add(k)
                        dst = k[2]
                        if kind == "drop" or dst not in sim.nodes or not sim.nodes[dst].crashed:
                            yield (kind, k)
            elif kind == "timeout":
                if self.timeouts is None or state.timeouts < self.timeouts:
                    yield from (("timeout", n) for n in live)
            elif kind == "heartbeat":
                due = sim.next_due()
                if due is not None and due.kind == "heartbeat" and due.time < FAR:
                    yield ("heartbeat", None)
            elif kind == "crash":
                if state.crashes < self.crashes:
                    yield from (("crash", n) for n in live)
            elif kind == "restart":
                yield from (("restart", n) for n in names if sim.nodes[n].crashed)
            elif kind == "request":
                if len(sim.operations) - self.requests_at_start < self.requests and self._idle_client(sim):
                    yield from (("request", n) for n in live)

    def _idle_client(self, sim: Simulation) -> Optional[str]:
        return next((f"c{i}" for i in range(1, self.clients + 1)
                     if f"c{i}" not in sim.clients or sim.clients[f"c{i}"].pending is None), None)

    def _take(self, state: _State, choice: Choice,
              check_new: bool = True) -> tuple[Optional[_State], Optional[Exception]]:
        """The state after ``choice``: (child, None), or (child, the violation or rule error it
        raised), or (None, None) if the choice was refused or changed nothing that matters."""
        kind, what = choice
        parent = state.sim
        if kind == "deliver":
            touched = what[2] if what[2] in parent.nodes else None
        elif kind == "heartbeat":
            due = parent.next_due()
            touched = None if due is None else due.subject
        else:
            touched = None if kind in ("drop", "request") else what
        sim = parent.fork(share_random=True, copy_nodes=() if touched is None else (touched,))
        messages = state.messages
        sent = sim.network.sent
        try:
            if kind == "deliver" or kind == "drop":
                mid = next((m for m in sorted(messages) if messages[m] == what), None)
                if mid is None:                  # (a shortened run never sent it)
                    return None, None
                sim.do(act.Deliver(mid) if kind == "deliver" else act.Drop(mid))
            elif kind == "heartbeat":
                sim.step()
            elif kind == "request":
                client = self._idle_client(sim)
                command = ("put", "x", str(len(sim.operations) + 1))
                sim.do(act.ClientRequest(command, what, client))
            else:
                sim.do(act.Timeout(what) if kind == "timeout" else
                       act.Crash(what) if kind == "crash" else act.Restart(what))
        except (SafetyViolation, NodeError) as problem:
            return _State(sim, state.parts, messages, state.timeouts, state.crashes, state.path + (choice,)), problem
        except OperatorError:
            return None, None
        parts = state.parts
        if touched is not None:
            i = sim.names.index(touched)
            new = _node_parts(sim.nodes[touched])
            if check_new and kind == "deliver" and new == parts[i] and sim.network.sent == sent:
                return None, None               # only a message consumed: reachable sooner without it
            parts = list(parts)
            parts[i] = new
        in_flight = sim.network.in_flight
        messages = {m: k for m, k in messages.items() if m in in_flight}
        if len(messages) != len(in_flight):
            for m, env in in_flight.items():
                if m not in messages:
                    messages[m] = _message_key(env.message)
        return _State(sim, parts, messages, state.timeouts + (kind == "timeout"),
                      state.crashes + (kind == "crash"), state.path + (choice,)), None


def _checker_state(sim: Simulation) -> tuple:
    """The safety checker's memory: some properties depend on the past (who led a term, what was
    committed), so two states that differ only there are not the same state.  The names of
    the servers that first held or applied an entry are left out: they only word a violation."""
    c = sim.checker
    if c is None:
        return ()
    none = (-1, (), "", 0)
    return (tuple(sorted(c.leaders.items())),
            tuple(sorted((k, _entry(v[0]), v[1]) for k, v in c.entries.items())),
            tuple(none if e is None else _entry(e) for e in c.committed), tuple(getattr(c, "committed_in", ())),
            tuple(none if a is None else _entry(a[0]) for a in c.applied),
            tuple(sorted(c.commit_seen.items())), tuple(sorted(c.committed_requests.items())))
