"""Exhaustive-search benchmark (issue 10, section 2).

Prints, for 3 servers:
1. states per second on one fixed command (``explore(depth=6)``, the reference rules), wall-clock and CPU;
2. how deep the reference rules are searched exhaustively in BUDGET seconds (default 60), breadth-first with
   every choice but drop, 1 client request, 1 crash, symmetry reduction on;
3. for each bug of the catalogue (raftlab/grading/bugs/), how its counterexample was found: the time, the
   number of choices and the method, tried in this order within BUG_BUDGET seconds each (default 60):
   a. breadth-first search (a shortest run), every choice but drop;
   b. breadth-first with pre-vote and check-quorum on (for bugs in those paths);
   b'. breadth-first with every message sent twice (``duplicate=1.0``: a copy stays in flight after the first
      is delivered, so a message can arrive twice; the search has no separate "duplicate" choice), on 3
      servers; then elections only (2 timeouts) on 5 servers, once with every message sent twice (some
      election bugs need 5: on 3 servers one granted vote already makes a majority, so counting votes
      wrongly by one, or a duplicated vote, changes nothing);
   c. goal by goal through the stages of Figure 8 (logs diverge, a leader holds an uncommitted entry of an
      earlier term, a committed entry is at risk), one entry per AppendEntries (``max_entries=1``);
   d. random walks of 30 choices, then shortened.
   A bug none of them breaks is listed as not breaking safety within the budget, with the reason when known.

A bug no method breaks is printed with ``NOT_SAFETY``'s reason when there is one: my reading of the bug
(it slows or stops progress, or only changes what clients see), not a proof; the search only says that no
run within its bounds breaks a property.

Run with ``.venv/bin/python bench/explore.py`` (BUDGET=seconds, BUG_BUDGET=seconds, BUGS=name,name to pick
bugs).  Wall-clock figures on this machine, which may be shared; nothing is asserted.
"""
from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from raftlab.explore import explore  # noqa: E402
from raftlab.grading.bugs import catalogue  # noqa: E402

BUDGET = float(os.environ.get("BUDGET", "60"))
BUG_BUDGET = float(os.environ.get("BUG_BUDGET", "60"))
FIGURE8 = ["logs-diverge", "old-uncommitted", "entry-at-risk"]

#: Why a bug may not break safety at all (an analysis, not a proof): printed for a bug no method broke.
NOT_SAFETY = {
    "ex1_fixed_election_timeout": "liveness: every server times out together, so split votes repeat; "
                                  "votes are still one per term",
    "ex1_no_timer_reset_on_candidacy": "liveness: a candidate's election may be cut short by its old timer",
    "ex1_timeout_not_from_now": "liveness: timers fire at the wrong time, never two votes in one term",
    "ex1_no_self_vote": "liveness: a candidate needs one more vote than it should (may never win on 3 servers)",
    "ex2_no_timer_reset_on_vote": "liveness: a voter may start an election right after voting",
    "ex2_reset_timer_on_every_request": "liveness: disruptive candidates keep resetting timers",
    "ex2_reply_with_candidate_term": "liveness: the reply's term is wrong, votes are still counted per term",
    "ex3_no_timer_reset_on_heartbeat": "liveness: followers start elections under a live leader",
    "ex3_candidate_ignores_leader": "liveness: a candidate does not step down to the new leader of its term",
    "ex4_no_retry_on_reject": "liveness: a follower that rejected is never caught up",
    "ex4_ignore_reply_term": "liveness: a deposed leader keeps sending; followers reject its term",
    "ex4_next_index_below_match": "liveness: entries are resent, the consistency check keeps logs right",
    "ex5_leader_not_counted": "liveness: commits need one more replica than necessary (stricter, still safe)",
    "ex6_no_leader_hint": "liveness: clients search for the leader",
    "ex6_forward_forever": "liveness: a request bounces between servers",
    "ex6_append_retry_twice": "exactly-once: a retried write is applied twice, all servers alike "
                              "(the linearizability checker's business, not a log property)",
    "ex6_ignore_client_session": "exactly-once: duplicates applied, all servers alike (linearizability)",
    "ex6_entry_without_client_id": "exactly-once: sessions cannot deduplicate (linearizability)",
}


def rate() -> None:
    """States per second on one fixed command."""
    c0, w0 = time.process_time(), time.perf_counter()
    result = explore(depth=6, max_states=10_000_000)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    print(f"  explore(depth=6), reference: {result.states:,} states in {wall:.2f} s wall, {cpu:.2f} s CPU: "
          f"{result.states / wall:,.0f} states/s wall, {result.states / cpu:,.0f} states/s CPU")


def deepest_within(seconds: float) -> None:
    """Search depth 1, 2, 3... of the reference (every choice but drop) until the next would not fit."""
    start, depth = time.perf_counter(), 0
    while True:
        depth += 1
        t = time.perf_counter()
        result = explore(depth=depth, max_states=50_000_000)
        spent = time.perf_counter() - t
        print(f"  depth {depth:2}: {result.states:>9,} states in {spent:6.1f} s "
              f"({result.states_per_second:,.0f} states/s)  {result}")
        left = seconds - (time.perf_counter() - start)
        if result.violation is not None or spent * 5 > left:     # the next depth costs ~4-5x this one
            print(f"  searched the reference exhaustively to depth {depth} in "
                  f"{time.perf_counter() - start:.0f} s (budget {seconds:.0f} s)")
            return


def find(path: str, budget: float) -> tuple:
    """(result, method, seconds) for one bug: the first method that breaks safety within ``budget``."""
    t0 = time.perf_counter()
    methods = [
        ("breadth-first", dict(depth=30)),
        ("breadth-first, pre-vote + check-quorum", dict(depth=30, pre_vote=True, check_quorum=True)),
        ("breadth-first, every message sent twice", dict(depth=30, duplicate=1.0)),
        ("breadth-first, 5 servers, 2 timeouts", dict(depth=30, nodes=5, timeouts=2, choices=("deliver", "timeout"))),
        ("breadth-first, 5 servers, every message sent twice, 2 timeouts",
         dict(depth=30, nodes=5, duplicate=1.0, timeouts=2, choices=("deliver", "timeout"))),
        ("goal by goal (Figure 8), max_entries=1", dict(depth=12, goal=FIGURE8, max_entries=1,
                                                        choices=("deliver", "timeout"), requests=0, crashes=0)),
        ("random walks", dict(depth=30, order="random")),
    ]
    result = None
    for i, (method, options) in enumerate(methods):
        left = budget - (time.perf_counter() - t0)
        if left <= 0.5:
            break
        share = left / (len(methods) - i) if i < len(methods) - 1 else left
        result = explore(impl=path, max_states=50_000_000, seconds=share, **options)
        if result.found:
            return result, method, time.perf_counter() - t0
    return result, None, time.perf_counter() - t0


def bugs(budget: float) -> None:
    wanted = set(filter(None, os.environ.get("BUGS", "").split(",")))
    for bug in catalogue():
        if wanted and bug.name not in wanted:
            continue
        result, method, spent = find(str(bug.path), budget)
        if method is not None:
            kind = getattr(result.violation, "property", type(result.violation).__name__)
            print(f"  {bug.name:34} {kind:28} {result.depth:3} choices {spent:6.1f} s  {method}"
                  f"{'' if result.shortest else ' (not proven shortest)'}")
        else:
            why = "no violation within the budget"
            if bug.name in NOT_SAFETY:
                why += f"; likely {NOT_SAFETY[bug.name]}"
            print(f"  {bug.name:34} {'-':28}   -         {spent:6.1f} s  {why}")
        sys.stdout.flush()


if __name__ == "__main__":
    print(f"raftlab explore, 3 servers (machine load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print("states per second:")
    rate()
    print(f"the reference, every choice but drop, 1 request, 1 crash, {BUDGET:.0f} s:")
    deepest_within(BUDGET)
    print(f"catalogued bugs ({BUG_BUDGET:.0f} s each at most): property, choices, time, method")
    bugs(BUG_BUDGET)
