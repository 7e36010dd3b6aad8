"""Named situations from the Raft paper, scripted with the simulation's public actions.

Each function builds a :class:`~raftlab.Simulation`, drives it into a situation
the paper describes, and returns it, so a lesson (or a test) can look at it,
step it further, or rewind it.  Every move is an ordinary operator action
(``timeout``, ``deliver``, ``crash``, ``restart``, ``partition``, ``heal``,
``client_request``), so the run is recorded in ``sim.actions`` and replays
exactly.

Most scripts move messages by hand with :func:`deliver_all` (like etcd-io/raft's
``stabilize``): every message in flight is delivered at once, the clock does not
move, and so no random timer fires in the middle of a scripted story.

* :func:`split_vote` -- section 5.2, two candidates split the votes.
* :func:`partitioned_leader` -- sections 5.2 and 5.4, a leader cut off in a minority.
* :func:`figure8` -- section 5.4.2 and Figure 8, why a leader may not commit an
  entry of an earlier term by counting replicas.
* :func:`leader_election_experiment` -- section 9.3 and Figure 16, how long
  it takes to elect a new leader after the leader crashes.
* :func:`direct_switch` -- section 6, why switching straight from C_old to C_new can
  elect two leaders in one term (and joint consensus in the same moves).
* :func:`single_server_change_bug` -- dissertation 4.1 and its errata, the 2015
  bug in single-server membership changes.
"""
from __future__ import annotations

import random
from typing import Any, Optional

from .config import Config
from .errors import OperatorError, SafetyViolation
from .node import Node
from .sim import Simulation

__all__ = ["deliver_all", "split_vote", "partitioned_leader", "figure8", "FIGURE8_STAGES",
           "leader_election_experiment", "direct_switch", "single_server_change_bug"]


def deliver_all(sim: Simulation, *kinds: str) -> int:
    """Deliver every message in flight now, and every message that causes, until
    none is left (only messages of the given ``kinds``, e.g. ``"RequestVote"``, if
    any are given).  Messages to a crashed node or across a partition are lost.
    Returns how many messages were delivered or lost."""
    count = 0
    while True:
        ready = [env for env in sim.in_flight() if not kinds or env.kind in kinds]
        if not ready:
            return count
        sim.deliver(ready[0].id)
        count += 1


def _elect(sim: Simulation, name: str) -> None:
    """``name``'s election timer fires and the votes are exchanged (nothing else is delivered)."""
    sim.timeout(name)
    deliver_all(sim, "RequestVote", "RequestVoteReply")


# --- Section 5.2: a split vote ------------------------------------------------------------

def split_vote(seed: int = 0) -> Simulation:
    """Two of four followers time out at the same moment and split the votes (section 5.2).

    "If many followers become candidates at the same time, votes could be split
    so that no candidate obtains a majority.  When this happens, each candidate
    will time out and start a new election by incrementing its term."

    n1 and n2 both start an election for term 1.  Each votes for itself; n1's
    request reaches n3 first and n2's reaches n4 first, so each candidate ends
    with 2 of the 4 votes, one short of a majority.  The function returns at that
    moment (term 1, no leader).  Run it on (``sim.run_until_leader()``): the
    randomized election timeouts make one node try again first, in term 2, and
    that one wins.
    """
    sim = Simulation(nodes=4, seed=seed)
    sim.timeout("n1")
    sim.timeout("n2")
    first = {("n1", "n3"), ("n2", "n4")}
    for env in sim.in_flight():
        if (env.src, env.dst) in first:
            sim.deliver(env.id)
    deliver_all(sim)
    return sim


# --- Sections 5.2 and 5.4: a leader in a minority --------------------------------------------

def partitioned_leader(seed: int = 0, nodes: int = 5, request: Optional[str] = "put x 1") -> Simulation:
    """A leader is cut off with a minority; the majority elects a new leader (sections 5.2, 5.4).

    The cluster elects a leader and commits its no-op.  Then the network splits
    so that the leader is on the small side (with 5 nodes: it and one follower).
    A client sends ``request`` to the old leader: it appends the entry but can
    never commit it, because it cannot reach a majority.  Meanwhile the majority
    side times out and elects a new leader in a higher term.  The function
    returns once the new leader exists: there are now two nodes that believe they
    lead, in different terms (Election Safety allows that: at most one leader
    *per term*).

    Heal the network and run on to see the old leader step down and its
    uncommitted entry overwritten.
    """
    sim = Simulation(nodes=nodes, seed=seed)
    old = _require(sim.run_until_leader(within=5_000), "no first leader")
    _require(sim.run_until(lambda s: all(n.commit_index >= 1 for n in s.nodes.values()), within=1_000),
             "the first leader's no-op did not commit")
    others = [name for name in sim.names if name != old.id]
    minority = [old.id] + others[:(nodes - 1) // 2 - 1]     # the largest minority
    sim.partition(minority)
    if request is not None:
        sim.client_request(request, node=old.id)
    _require(sim.run_until(lambda s: (lead := s.leader()) is not None and lead.id not in minority,
                           within=10_000),
             "the majority elected no leader")
    return sim


def _require(value: Any, what: str) -> Any:
    if not value:
        raise OperatorError(f"scenario could not proceed: {what} (try another seed)")
    return value


# --- Section 5.4.2, Figure 8 -------------------------------------------------------------------

#: What each stage of :func:`figure8` shows, in the paper's words.
FIGURE8_STAGES = {
    "a": "S1 is leader (term 2) and partially replicates the entry at index 2",
    "b": "S1 crashes; S5 is elected leader for term 3 and accepts a different entry at index 2",
    "c": "S5 crashes; S1 restarts, is elected (term 4) and continues replication: the term-2 "
         "entry is on a majority, but it is not committed",
    "d": "S1 crashes; S5 is elected (term 5) and overwrites the term-2 entry with its own from term 3",
    "e": "instead of (d): S1 replicates an entry of its own term 4 on a majority before crashing, "
         "so it is committed (and so are the entries before it)",
}


def figure8(stage: str = "d", impl: Any = None, seed: int = 0) -> Simulation:
    """The paper's Figure 8 (section 5.4.2), scripted on 5 nodes: n1..n5 are S1..S5.

    "A leader cannot immediately conclude that an entry from a previous term is
    committed once it is stored on a majority of servers.  Figure 8 illustrates a
    situation where an old log entry is stored on a majority of servers, yet can
    still be overwritten by a future leader."

    ``stage`` is ``"a"``..``"e"`` (see :data:`FIGURE8_STAGES`); the script runs up
    to the end of that stage (``"e"`` is the alternative to ``"d"``, from ``"c"``).
    ``impl`` swaps in rules (e.g. ``{"advance_commit_index": my_rule}``).  With the
    reference rules, stage d overwrites the term-2 entries safely: they were
    never committed.  With a commit rule that counts replicas of an old-term entry,
    n1 commits them in stage c, and stage d ends in a
    :class:`~raftlab.SafetyViolation` (Leader Completeness: n5 is elected without
    them).

    How the paper's indexes map onto raftlab's: a new leader first appends a
    no-op entry of its own term (section 8), and the clients' commands follow it::

        paper index 1 (term 1)   raftlab 1: the no-op of term 1 (n2 leads term 1)
        paper index 2 (term 2)   raftlab 2: no-op of term 2,  3: "put x 2"   (n1)
        paper index 2 (term 3)   raftlab 2: no-op of term 3,  3: "put x 3"   (n5)
        paper index 3 (term 4)   raftlab 4: no-op of term 4 (and, in e, 5: "put x 4")  (n1)
        stage d                  raftlab 4: no-op of term 5 on n5

    Two differences from the picture, both forced by that no-op: in (c), n2 also
    holds the term-4 no-op (n2 can only tell n1 that it holds the term-2 entries in
    a reply to the AppendEntries that carries it), so in (d) n2 refuses to vote for
    n5 and n5 wins with n3 and n4 alone, still a majority.  And a restarted node
    comes back in the term it crashed in, so n1 (in c) and n5 (in d) first lose an
    election in a term whose votes are already cast, then win in the next one.

    Every AppendEntries carries at most 2 entries (``max_entries=2``), so the
    message that brings n3 the two entries of term 2 does not also bring the
    term-4 no-op.
    """
    if stage not in FIGURE8_STAGES:
        raise OperatorError(f"Figure 8 has stages {', '.join(FIGURE8_STAGES)}; got {stage!r}")
    sim = Simulation(Config(nodes=5, seed=seed, max_entries=2), impl=impl)
    # before (a): n2 leads term 1 and every node stores its no-op at index 1
    _elect(sim, "n2")
    deliver_all(sim)
    # (a) n1 leads term 2; its entries reach only n2
    _elect(sim, "n1")
    sim.partition(["n1", "n2"], ["n3", "n4", "n5"])
    sim.client_request("put x 2", node="n1")
    deliver_all(sim)
    if stage == "a":
        return sim
    # (b) n1 crashes; n5 wins term 3 with the votes of n3 and n4; its entries reach nobody
    sim.crash("n1")
    sim.heal()
    _elect(sim, "n5")
    sim.isolate("n5")
    sim.client_request("put x 3", node="n5")
    deliver_all(sim)
    if stage == "b":
        return sim
    # (c) n5 crashes; n1 restarts and wins term 4 (after losing term 3); n4 hears nothing
    sim.crash("n5")
    sim.restart("n1")
    sim.isolate("n4")
    _elect(sim, "n1")                 # term 3: n3 already voted for n5 in term 3
    _elect(sim, "n1")                 # term 4: n2 and n3 vote for n1
    deliver_all(sim)                  # n3 gets the term-2 entries; n2 gets the term-4 no-op
    if stage == "c":
        return sim
    if stage == "e":
        # (e) n1 replicates an entry of term 4 on a majority (n1, n2, n3): it commits
        sim.client_request("put x 4", node="n1")
        deliver_all(sim)
        return sim
    # (d) n1 crashes; n5 restarts and wins term 5 (after losing term 4) with n3 and n4
    sim.crash("n1")
    sim.restart("n5")
    sim.heal()
    _elect(sim, "n5")                 # term 4: n2 and n3 already voted for n1 in term 4
    _elect(sim, "n5")                 # term 5: n3 and n4 vote for n5; n2's log is more up-to-date
    deliver_all(sim)                  # n5 overwrites indexes 2-3 on n2, n3 and n4
    return sim


# --- Section 9.3, Figure 16: how long does an election take? -----------------------------------

def leader_election_experiment(timeout_range: tuple[int, int] = (150, 300), trials: int = 100,
                               seed: int = 0, nodes: int = 5, limit: int = 10_000) -> list[Optional[int]]:
    """The paper's section 9.3 experiment (Figure 16): crash the leader of a 5-node
    cluster again and again, and measure how long the others take to elect a new one.

    "The leader was crashed uniformly randomly within its heartbeat interval, which
    was half of the minimum election timeout for all tests.  Thus, the smallest
    possible downtime was about half of the minimum election timeout."

    Each trial: wait a random time within one heartbeat interval, crash the
    leader, run until a new leader exists, note how long that took (ms), restart
    the old leader and let it catch up.  Returns one time per trial, or ``None``
    for a trial with no leader after ``limit`` ms (the experiment then forces the
    timeout of the node with the most up-to-date log and delivers its votes at
    once, to carry on).

    Unlike the paper's cluster, the logs are all alike (every candidate is
    eligible), the network delay is 5-15 ms each way, and clocks have no jitter:
    with no randomness at all (150-150 ms) candidates whose timers fire less than
    one network delay apart split the vote again and again, for ever, so expect
    many ``None`` there.
    """
    lo, hi = timeout_range
    config = Config.preset("paper-9.3", nodes=nodes, seed=seed, election_timeout=(lo, hi),
                           heartbeat=max(1, lo // 2), check_safety=False, history=0)
    sim = Simulation(config)
    crash_at = random.Random(f"{seed}:experiment").randrange
    _force_leader(sim)
    times: list[Optional[int]] = []
    for _ in range(trials):
        sim.advance(crash_at(config.heartbeat))
        old = sim.leader() or _force_leader(sim)       # short timeouts can depose a leader by themselves
        sim.crash(old.id)
        crashed_at = sim.now
        if sim.run_until_leader(within=limit) is not None:
            times.append(sim.now - crashed_at)
        else:
            times.append(None)
            _force_leader(sim)
        sim.restart(old.id)
        sim.advance(2 * hi)           # the old leader rejoins as a follower
    return times


def _force_leader(sim: Simulation) -> Node:
    """Fire the election timer of the live node with the most up-to-date log and
    exchange the votes at once, before any other timer can fire (again, if some
    voter had already voted in that term).  Returns the new leader."""
    name = max((n for n in sim.nodes.values() if not n.crashed),
               key=lambda n: (n.log.last_term, n.log.last_index)).id
    for _ in range(3):
        _elect(sim, name)
        leader = sim.leader()
        if leader is not None:
            return leader
    raise OperatorError(f"scenario could not proceed: {name} could not win an election")


# --- Membership changes -------------------------------------------------------------------------------

def direct_switch(membership: str = "unsafe-direct", impl: Any = None) -> Simulation:
    """Section 6: {n1,n2,n3} grows to {n1..n5} in one change, which reaches only n4 and n5; then n2 wins
    term 2 with n3 (2 of the old 3) and n4 stands in term 2 with n1 and n5 (3 of the new 5).

    With ``membership="unsafe-direct"`` both win: two leaders in term 2 (Election Safety breaks, kept in
    ``sim.violation``).  With ``"joint"`` the same moves elect only n2, because n4 also needs a majority
    of C_old.  A stage that the rules keep from happening is not forced."""
    sim = Simulation(nodes=3, seed=3, election_timeout=(300, 600), heartbeat=250, membership=membership,
                     impl=impl)
    sim.timeout("n1")
    sim.run_until(lambda s: (lead := s.leader()) is not None and lead.commit_index >= 1, within=1000)
    sim.add_server("n4", "n5")
    sim.cut("n1", "n4")
    sim.cut("n1", "n5")
    sim.run_until(lambda s: all(s.node(n).commit_index >= 2 for n in ("n1", "n2", "n3")), within=1000)
    sim.cut("n1", "n2")
    sim.cut("n1", "n3")
    sim.reconnect("n4")
    sim.reconnect("n5")
    for a in ("n2", "n3"):
        for b in ("n4", "n5"):
            sim.cut(a, b)
    sim.run_until(lambda s: s.node("n4").log.last_index >= 3 and s.node("n5").log.last_index >= 3, within=1000)
    for env in sim.in_flight():                    # n1 never learns that n4 and n5 stored it
        if env.dst == "n1":
            sim.drop(env.id)
    try:
        sim.timeout("n2")
        sim.run_until(lambda s: s.node("n2").is_leader and s.node("n1").current_term == 2, within=200)
        for env in sim.in_flight():
            if env.src == "n2" and env.dst == "n1":
                sim.drop(env.id)
        sim.cut("n2", "n1")
        sim.timeout("n4")
        sim.run_until(lambda s: s.node("n4").is_leader, within=200)
    except SafetyViolation:
        pass                                        # kept in sim.violation
    return sim


# --- Membership changes: the 2015 single-server bug ---------------------------------------------------

def single_server_change_bug(impl: Any = None) -> tuple[Simulation, Optional[OperatorError]]:
    """The bug in single-server membership changes found in 2015 (dissertation 4.1, errata; raft-dev
    "bug in single-server membership changes"), on 4 servers, with ``impl``'s rules.

    n1 (term 1) adds n5; the change promoting n5 reaches only n5.  n2 wins term 2 with n3 and n4 and at
    once removes n4: without the fix that change commits on n2 and n3 (2 of {n1,n2,n3}, the configuration
    n2 uses).  n1 then wins term 3 with n4 and n5 (3 of {n1..n5}, the configuration n1 uses), without
    that committed entry: Leader Completeness breaks.  With the fix ("a leader may not append a new
    configuration entry until it has committed an entry from its current term") n2's change is refused.

    Returns the simulation (its ``violation`` says what broke, if anything) and the refusal of n2's
    change, if it was refused.  A stage that the rules keep from happening is not forced: the story goes
    on, and what it ends in is for the caller to judge."""
    sim = Simulation(nodes=4, seed=3, election_timeout=(300, 600), impl=impl)
    sim.timeout("n1")
    sim.run_until(lambda s: (lead := s.leader()) is not None and lead.commit_index >= 1, within=1000)
    sim.add_server("n5")
    sim.cut("n1", "n5")                             # n5 cannot catch up yet
    sim.run_until(lambda s: all(s.node(n).commit_index >= 2 for n in ("n1", "n2", "n3", "n4")), within=1000)
    for n in ("n2", "n3", "n4"):
        sim.cut("n1", n)
    sim.reconnect("n5")                             # n5 catches up and is promoted: {n1..n5} reaches only n5
    sim.run_until(lambda s: s.node("n5").log.last_index >= 3, within=1000)
    sim.timeout("n2")
    sim.run_until(lambda s: s.node("n2").is_leader, within=200)
    for env in sim.in_flight():                     # n2's no-op reaches n3 only
        if env.src == "n2" and env.dst in ("n1", "n4", "n5"):
            sim.drop(env.id)
    for n in ("n1", "n4", "n5"):
        sim.cut("n2", n)
    refused = None
    try:
        sim.remove_server("n4", via="n2")
        sim.run_until(lambda s: s.node("n2").commit_index >= 4, within=1000)
    except OperatorError as exc:
        refused = exc
    sim.reconnect("n1")
    for n in ("n2", "n3"):
        sim.cut("n1", n)
    try:
        sim.timeout("n1")
        sim.run_until(lambda s: s.node("n1").is_leader, within=500)
    except SafetyViolation:
        pass                                        # kept in sim.violation
    return sim, refused
