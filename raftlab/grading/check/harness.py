"""What the graded exercise tests use.

* **The rules under test.**  ``raftlab check`` names the code under test with the
  plugin's ``--raftlab-impl`` (:mod:`raftlab.grading.check.plugin` calls
  :func:`select`); plain ``pytest`` leaves it unset, so the tests run against the
  reference and stay green.  :func:`rules_for` gives the rules a node runs while
  exercise N is graded: exercise N's functions from the code under test, every
  other rule the reference, and a function the code does not define counts as
  unwritten (``resolve_rules(spec, exercise=N, missing="unwritten")``).  Under
  ``raftlab check`` the process is an exam copy of raftlab without exercise N's
  reference (:mod:`raftlab.grading.check.exam`), so delegating to it earns nothing.
* **Unit nodes.**  :func:`make_node` builds one :class:`~raftlab.Node` in a given
  state, with the rules under test, so a test can feed it a message and look at
  what it did.  Its election timeouts come from a fixed list, so a test knows
  what ``node.random_election_timeout()`` returns.
* **Clusters.**  :func:`cluster` builds a :class:`~raftlab.Simulation` with the
  rules under test and remembers it, so that when the test fails ``raftlab
  check`` can save the run and ``raftlab.replay_failure`` can open it in the
  Explorer.  :func:`deliver_all` (the scenarios' own) and :func:`elect` script a
  story without letting the clock move; :func:`fault_campaign` runs seeded random faults with the
  safety checker on, then heals everything and checks the cluster recovers.
* **Explanations.**  :func:`expect` fails a test with a sentence in Raft terms
  (``n2 granted a vote to n3 in term 4 although n3's log is behind``); that
  sentence is what the student sees in the score table.
"""
from __future__ import annotations

import dataclasses
import random
from typing import Any, Callable, Iterable, Optional, Sequence

from ...campaign import apply_fault, change_schedule, fault_schedule
from ...config import Config
from ...errors import ImplementationError
from ...impl import REFERENCE, Rules, resolve_rules
from ...log import Log
from ...messages import Entry, Message
from ...node import Node, NodeConfig, Role
from ...rules import EXERCISE_RULES
from ...scenarios import deliver_all
from ...sim import Simulation

__all__ = ["RaftCheckFailed", "expect", "select", "selected_impl", "rules_for", "load_problems", "make_node",
           "TimeoutDraws", "take_sent", "describe", "terms", "cluster", "track", "tracked", "forget_tracked",
           "deliver_all", "elect", "fault_campaign", "members", "settled", "committed_text", "forget_modules",
           "with_settings", "churn", "no_bad_schedule"]


class RaftCheckFailed(AssertionError):
    """A graded test failed; the message says what went wrong in Raft terms."""


def expect(condition: Any, explanation: str) -> None:
    """Fail the test with ``explanation`` (a sentence in Raft terms) unless ``condition`` holds."""
    if not condition:
        raise RaftCheckFailed(explanation)


# --- the rules under test -------------------------------------------------------------------------

_under_test = REFERENCE
_loaded: dict[tuple[str, int], Rules] = {}
_problems: list[str] = []


def select(spec: Optional[str]) -> None:
    """Name the code under test for this process (``raftlab check``'s plugin does)."""
    global _under_test
    _under_test = spec or REFERENCE
    forget_modules()


def selected_impl() -> str:
    """The code the tests run against: what :func:`select` named, else the reference."""
    return _under_test


def load_problems() -> list[str]:
    """Problems met while loading the code under test in this process (for the score's error list)."""
    return list(_problems)


def _problem(text: str) -> None:
    if text not in _problems:
        _problems.append(text)


def _broken(error: ImplementationError, name: str) -> Callable:
    def rule(*_args: Any, **_kwargs: Any) -> None:
        raise ImplementationError(str(error))
    rule.__name__ = rule.__qualname__ = name
    return rule


def rules_for(number: int, impl: Optional[str] = None) -> Rules:
    """The rules a node runs when exercise ``number`` is graded: that exercise's functions from
    ``impl`` (default: the code under test), every other rule the reference.  A function the
    code does not define raises ``NotImplementedError``; if the code cannot be loaded, each of
    the exercise's functions raises that error.  Loaded once per process (:func:`forget_modules`)."""
    if number not in EXERCISE_RULES:
        raise ValueError(f"there is no exercise {number!r}; exercises are {sorted(EXERCISE_RULES)}")
    spec = _under_test if impl is None else impl
    if (spec, number) not in _loaded:
        try:
            rules = resolve_rules(spec, exercise=number, missing="unwritten")
        except ImplementationError as error:
            _problem(str(error))
            broken = {name: _broken(error, name) for name in EXERCISE_RULES[number]}
            rules = resolve_rules(broken, exercise=number)
        for text in rules.problems:
            _problem(text)
        _loaded[spec, number] = rules
    return _loaded[spec, number]


# --- unit nodes -----------------------------------------------------------------------------------

#: The election timeouts a unit node draws, in order (then again from the start).
DEFAULT_DRAWS = (173, 251, 162, 288, 205, 231, 196, 274)


class TimeoutDraws:
    """A node's election timeouts for unit tests: a fixed list, and a count of draws."""

    def __init__(self, values: Sequence[int] = DEFAULT_DRAWS):
        self.values = tuple(values)
        self.count = 0

    def __call__(self) -> int:
        value = self.values[self.count % len(self.values)]
        self.count += 1
        return value

    @property
    def next(self) -> int:
        """What the next draw will return."""
        return self.values[self.count % len(self.values)]


def make_node(rules: Any, node_id: str = "n1", *, nodes: int = 5, term: int = 0,
              voted_for: Optional[str] = None, log: Iterable[int] = (), commit_index: int = 0,
              role: Role = Role.FOLLOWER, leader_id: Optional[str] = None, now: int = 1000,
              election_timeout: tuple[int, int] = (150, 300), heartbeat: int = 50,
              draws: Sequence[int] = DEFAULT_DRAWS) -> Node:
    """One server of an ``nodes``-server cluster (n1..nN), in the given state.

    ``log`` lists the terms of its entries (``[1, 1, 2]``: index 1 and 2 in term 1,
    index 3 in term 2); entry ``i`` holds the command ``put x=i``.  Its election
    timer is running (due at now + 100 ms); a leader has nextIndex = last log
    index + 1 and matchIndex = 0 for every follower (section 5.3).  The node's
    draws are in ``node.draws`` (a :class:`TimeoutDraws`)."""
    names = [f"n{i}" for i in range(1, nodes + 1)]
    if node_id not in names:
        raise ValueError(f"{node_id} is not in a cluster of {nodes}")
    timeouts = TimeoutDraws(draws)
    node = Node(node_id, names, NodeConfig(election_timeout=election_timeout, heartbeat=heartbeat),
                rules, timeouts)
    node.draws = timeouts  # type: ignore[attr-defined]  # a unit node's own: what it draws
    node.now = now
    node.current_term = term
    node.voted_for = voted_for
    node.log = Log([Entry(t, ("put", "x", str(i))) for i, t in enumerate(log, 1)])
    node.commit_index = node.last_applied = commit_index
    node.election_deadline = now + 100
    node.leader_id = leader_id
    if role is Role.LEADER:
        node.role = Role.LEADER
        node.leader_id = node.id
        node.next_index = {p: node.log.last_index + 1 for p in node.peers}
        node.match_index = {p: 0 for p in node.peers}
        node.election_deadline = None
        node.heartbeat_deadline = now + heartbeat
    elif role is Role.CANDIDATE:
        node.role = Role.CANDIDATE
        node.voted_for = node.id
        node.votes_granted = {node.id}
    elif role is not Role.FOLLOWER:
        raise ValueError(f"make_node builds followers, candidates and leaders, not {role}")
    return node


def take_sent(node: Node, kind: Optional[type] = None) -> list[Message]:
    """The messages ``node`` queued (of type ``kind``, if given); empties its outbox."""
    sent = list(node.outbox)
    node.outbox.clear()
    return [m for m in sent if kind is None or isinstance(m, kind)]


def terms(node: Node) -> list[int]:
    """The terms of the entries in ``node``'s log, from index 1."""
    return [node.log.term(i) for i in range(node.log.snapshot_index + 1, node.log.last_index + 1)]


def _log_text(node: Node) -> str:
    return "[" + " ".join(f"{i}/{t}" for i, t in enumerate(terms(node), node.log.snapshot_index + 1)) + "]"


def describe(node: Node) -> str:
    """``n1 (follower, term 3, voted for n2, log [1/1 2/1 3/2], commit 2)``."""
    return (f"{node.id} ({node.role}, term {node.current_term}, voted for {node.voted_for or 'nobody'}, "
            f"log {_log_text(node)}, commit {node.commit_index})")


def sent_text(messages: Sequence[Message]) -> str:
    return "; ".join(str(m) for m in messages) if messages else "nothing"


# --- clusters -------------------------------------------------------------------------------------

_tracked: list[Simulation] = []


def track(sim: Simulation) -> Simulation:
    """Remember ``sim``: if the test fails, ``raftlab check`` saves it for the Explorer."""
    _tracked.append(sim)
    return sim


def tracked() -> list[Simulation]:
    return list(_tracked)


def forget_tracked() -> None:
    _tracked.clear()


def cluster(impl: Any, **config: Any) -> Simulation:
    """A tracked simulation running ``impl`` (the rules under test, as from :func:`rules_for`),
    configured by ``config`` (fields of :class:`~raftlab.Config`)."""
    return track(Simulation(Config(**config), impl=impl))


def elect(sim: Simulation, name: str) -> None:
    """``name``'s election timer fires and the votes (only) are delivered."""
    sim.timeout(name)
    deliver_all(sim, "RequestVote", "RequestVoteReply")


def committed_text(sim: Simulation, name: str) -> str:
    node = sim.node(name)
    return "[" + " ".join(f"{i}/{node.log.term_at(i)}" for i in range(1, node.commit_index + 1)
                          if node.log.has(i)) + "]"


def members(sim: Simulation) -> list[str]:
    """The servers of the cluster now: those the leader's configuration names (learners too), or
    every server when there is no leader.  A server removed from the cluster is not one of them."""
    leader = sim.leader()
    if leader is None:
        return list(sim.nodes)
    named = set(leader.configuration.members)
    return [name for name in sim.nodes if name in named]


def settled(sim: Simulation) -> bool:
    """A live leader, every client request answered, and every live member of its configuration
    holding the leader's whole log, committed (a server removed from the cluster is not waited for)."""
    leader = sim.leader()
    if leader is None or any(op.completed is None for op in sim.operations):
        return False
    return all(n.crashed or (n.commit_index == leader.commit_index == leader.log.last_index
                             and n.log.last_index == leader.log.last_index)
               for n in map(sim.node, members(sim)))


def _unsettled_text(sim: Simulation) -> str:
    leader = sim.leader()
    pending = [str(op) for op in sim.operations if op.completed is None]
    nodes = ", ".join(f"{n.id} term {n.current_term} {n.role} commit {n.commit_index}/{n.log.last_index}"
                      for n in sim.nodes.values())
    text = f"leader {leader.id + ' (term ' + str(leader.current_term) + ')' if leader else 'none'}; {nodes}"
    if pending:
        text += f"; unanswered: {', '.join(pending[:3])}" + (" ..." if len(pending) > 3 else "")
    return text


def fault_campaign(impl: Any, seeds: Iterable[int], *, nodes: int = 5, duration: int = 5000,
                   settle: int = 5000, **config: Any) -> list[Simulation]:
    """For each seed: a cluster running ``impl`` under a seeded schedule of crashes,
    restarts, partitions and client requests (:func:`raftlab.campaign.fault_schedule`),
    on a network that also loses, duplicates and delays messages, with every safety
    property checked after every step.  At 80% of ``duration`` the network heals
    and every node restarts; then one more request is sent, and within ``settle`` ms
    the cluster must agree again: a leader, every client request answered, every
    node holding the leader's log, committed, and every answered request in it."""
    settings = dict(drop=0.05, duplicate=0.05, delay=(5, 30), history=200)
    settings.update(config)
    sims = []
    for seed in seeds:
        sim = cluster(impl, nodes=nodes, seed=seed, **settings)
        for fault in fault_schedule(seed, nodes, duration):
            if fault[0] > sim.now:
                sim.advance(fault[0] - sim.now)
            apply_fault(sim, fault)
        sim.advance(max(0, duration - sim.now))
        sim.client_request(("put", "done", str(seed)))
        ok = sim.run_until(settled, within=settle)
        expect(ok, f"fault campaign seed {seed}: {settle} ms after the network healed and every node "
                   f"restarted (t={duration}), the cluster has not recovered: {_unsettled_text(sim)}")
        leader = sim.leader()
        assert leader is not None          # settled() found one
        done = {(e.client_id, e.seq) for e in sim.committed(leader.id)}
        lost = [op for op in sim.operations if (op.client, op.seq) not in done]
        expect(not lost, f"fault campaign seed {seed}: the client was told {lost[0]} succeeded, but the "
                         f"command is not in the committed log of leader {leader.id}" if lost else "")
        sims.append(sim)
    return sims


def forget_modules() -> None:
    """Forget the loaded code, so the next use reads the files again."""
    _loaded.clear()
    _problems.clear()


# --- pre-vote and check-quorum on unit nodes, churn with clients, exhaustive search ---------------

def with_settings(node: Node, **changes: Any) -> Node:
    """``node`` with some of its settings changed (``pre_vote=True``, ``check_quorum=True``), as the
    operator's switches in the lessons change them."""
    node.config = dataclasses.replace(node.config, **changes)
    return node


#: What the churn's clients send: writes with values that tell them apart, and reads.
_CHURN_KEYS = ("x", "y")


def _churn_command(draw: Callable[[], float], n: int) -> tuple:
    kind, key = draw(), _CHURN_KEYS[int(draw() * len(_CHURN_KEYS))]
    if kind < 0.4:
        return ("put", key, f"v{n}")
    if kind < 0.7:
        return ("append", key, "abcdefghij"[n % 10])
    return ("get", key)


def churn(impl: Any, seed: int, *, nodes: int = 5, duration: int = 5000, period: int = 250,
          clients: int = 3, think: int = 40, settle: int = 6000, changes: int = 0, **config: Any) -> Simulation:
    """MIT 6.5840's UnreliableChurn, on ``impl``: ``clients`` clients send puts, appends and gets
    throughout (a new one ``think`` ms after each answer), while every ``period`` ms a seeded
    nemesis crashes, restarts, cuts off or reconnects a random server, on a network that also loses
    and duplicates messages; every safety property is checked after every step (acknowledged writes
    durable among them).  ``changes``: also about one membership change every ``changes`` ms (add a
    new server or remove one, :func:`raftlab.campaign.change_schedule`; a change the cluster refuses
    then is skipped).  At ``duration`` every server is restarted and reconnected; within ``settle`` ms
    every request must be answered and every member of the leader's configuration hold its log,
    committed.  Then two client-visible checks: every write a client was told succeeded is in the
    committed log of *every* member, and the whole history is linearizable."""
    settings: dict[str, Any] = dict(drop=0.05, duplicate=0.05, delay=(5, 20), history=200, client_timeout=300)
    settings.update(config)
    sim = cluster(impl, nodes=nodes, seed=seed, **settings)
    draw = random.Random(f"{seed}:churn").random
    names = sim.names
    moves = change_schedule(seed, nodes, duration, changes) if changes else []
    next_request = {f"c{i}": 0 for i in range(1, clients + 1)}
    sent = 0

    def clients_act() -> None:
        nonlocal sent
        for cid, due in next_request.items():
            c = sim.clients.get(cid)
            if c is not None and c.pending is not None:
                next_request[cid] = sim.now + think
            elif sim.now >= due:
                sent += 1
                sim.client_request(_churn_command(draw, sent), client=cid)

    t = 0
    while t < duration:
        name = names[int(draw() * len(names))]
        node = sim.node(name)
        move = draw()
        if node.crashed:
            sim.restart(name)
        elif sim.network.blocked_anywhere(name) and move < 0.5:
            sim.reconnect(name)
        elif move < 0.5:
            sim.crash(name)
        else:
            sim.isolate(name)
        for _ in range(period // 10):
            clients_act()
            while moves and moves[0].time <= sim.now:
                apply_fault(sim, moves.pop(0))
            sim.advance(10)
        t += period
    sim.heal()
    for node in sim.nodes.values():
        if node.crashed:
            sim.restart(node.id)
    ok = sim.run_until(settled, within=settle)
    expect(ok, f"churn seed {seed}: {settle} ms after every server was restarted and reconnected "
               f"(t={duration}), the cluster has not recovered: {_unsettled_text(sim)}")
    writes = [op for op in sim.operations if op.completed is not None and op.command[0] in ("put", "append")]
    for node in map(sim.node, members(sim)):
        held = {(e.client_id, e.seq) for e in sim.committed(node.id)}
        lost = [op for op in writes if (op.client, op.seq) not in held]
        expect(not lost, f"churn seed {seed}: {lost[0] if lost else ''} was acknowledged to its client, but "
                         f"it is not in {node.id}'s committed log at the end: an acknowledged write was lost")
    verdict = sim.check_history()
    expect(verdict.ok, f"churn seed {seed}: the clients' history of {len(sim.operations)} operations is not "
                       f"linearizable: {verdict.explanation} (rewind to t={verdict.replay_time} to watch it)")
    return sim


def _choice_text(action: Any) -> str:
    if isinstance(action, (list, tuple)) and len(action) >= 4:
        kind, args = action[2], action[3]
        return f"{kind} {' '.join(map(str, args))}".strip()
    return str(action)


def no_bad_schedule(impl: Any, what: str, start: Optional[Simulation] = None, **search: Any) -> Any:
    """Exhaustive search (:func:`raftlab.explore.explore`, breadth-first) of every schedule of at most
    ``depth`` choices of a small cluster running ``impl`` (or from ``start``, a simulation built with
    :func:`raftlab.explore.search_config` and ``impl``); fail, naming the shortest schedule and the
    property it breaks, if any does.  ``what`` says in words what was searched."""
    from ...explore import explore
    result = explore(start=start, **search) if start is not None else explore(impl=impl, **search)
    cause = getattr(result.violation, "__cause__", None)
    if isinstance(cause, NotImplementedError):
        raise cause                               # an unwritten function: say so, as every other test does
    if result.found:
        actions = (result.run or {}).get("actions", [])
        expect(False, f"{what}: a schedule of {result.depth} choices breaks your rules: "
                      f"{', '.join(_choice_text(a) for a in actions)}: {result.violation}")
    return result
