"""Membership-change campaign (issue 12): 1,000 seeded runs of random faults (crashes, partitions, client
load) plus random membership changes (add a server, remove one), the safety checks on, the clients' history
checked for linearizability at the end of each run.  Half the runs use single-server changes, half joint
consensus.  Prints the number of violations (0 expected), how many changes the cluster took, and the time.

Run with `.venv/bin/python bench/membership.py` (RUNS=N, JOBS=N to change the 1,000 runs and the processes).
Wall-clock figures on this machine; nothing is asserted.
"""
from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from raftlab import Config  # noqa: E402
from raftlab.campaign import run_campaign  # noqa: E402

RUNS = int(os.environ.get("RUNS", "1000"))
JOBS = int(os.environ.get("JOBS", str(os.cpu_count() or 1)))
DURATION = 5000


def main() -> None:
    print(f"membership-change campaign: {RUNS:,} runs of {DURATION / 1000:g} s simulated, 5 servers, "
          f"random faults and membership changes, {JOBS} process(es)")
    total_bad, total_runs, start = 0, 0, time.perf_counter()
    for membership, seeds in (("single", range(0, RUNS // 2)), ("joint", range(RUNS // 2, RUNS))):
        t = time.perf_counter()
        results = run_campaign(seeds, Config(request_interval=100, membership=membership),
                               duration=DURATION, jobs=JOBS, changes=True)
        bad = [r for r in results if not r.ok]
        total_bad += len(bad)
        total_runs += len(results)
        events = sum(r.steps for r in results)
        print(f"  {membership:>6}: {len(results):,} runs, {len(bad)} violation(s), {events:,} events, "
              f"{time.perf_counter() - t:.1f} s")
        for r in bad[:5]:
            print(f"    {r}")
    print(f"  total: {total_runs:,} runs, {total_bad} violation(s) in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
