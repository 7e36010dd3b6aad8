"""Exhaustive-search benchmark (issue 10, section 2): states per second, and how deep the search gets on the
reference rules, 3 servers, in 60 s; then how long each of two catalogued bugs takes to be found.

Run with `.venv/bin/python bench/explore.py` (BUDGET=seconds to change the 60 s).  Wall-clock figures on this
machine; nothing is asserted.
"""
from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from raftlab.explore import explore  # noqa: E402
from raftlab.grading.bugs import ex2_vote_twice, ex6_reply_before_commit  # noqa: E402

BUDGET = float(os.environ.get("BUDGET", "60"))


def deepest_within(seconds: float) -> None:
    """Search depth 1, 2, 3... of the reference (every choice) until one takes the rest of the budget."""
    start, depth = time.perf_counter(), 0
    while True:
        depth += 1
        t = time.perf_counter()
        result = explore(depth=depth, max_states=10_000_000)
        spent = time.perf_counter() - t
        print(f"  depth {depth:2}: {result.states:>9,} states in {spent:6.1f} s "
              f"({result.states_per_second:,.0f} states/s)  {result}")
        left = seconds - (time.perf_counter() - start)
        if result.violation is not None or spent * 6 > left:     # the next depth costs ~5-6x this one
            print(f"  searched the reference exhaustively to depth {depth} in "
                  f"{time.perf_counter() - start:.0f} s (budget {seconds:.0f} s)")
            return


def bugs() -> None:
    cases = [("ex2_vote_twice", {"handle_request_vote": ex2_vote_twice.handle_request_vote}),
             ("ex6_reply_before_commit",
              {"handle_client_request": ex6_reply_before_commit.handle_client_request})]
    for name, impl in cases:
        t = time.perf_counter()
        result = explore(impl=impl, depth=10, max_states=2_000_000)
        kind = getattr(result.violation, "property", "nothing")
        print(f"  {name:26} {kind} after {result.depth} choices; {result.states:,} states, "
              f"{time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    print(f"raftlab explore: reference rules, 3 servers, every choice, 1 request, 1 crash, {BUDGET:.0f} s")
    deepest_within(BUDGET)
    print("catalogued bugs, every choice:")
    bugs()
