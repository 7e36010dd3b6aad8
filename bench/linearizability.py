"""Linearizability checker benchmark (issue 10): operations checked per second on a 10-minute history
under churn.

Run with `.venv/bin/python bench/linearizability.py` (and from `make bench` once it is listed there).
The history: 5 servers, 10 clients with a request every 20 ms, 10% of messages lost, crashes,
restarts and partitions about every 300 ms (raftlab.campaign.fault_schedule), healed at the end.
The figures are CPU times on this machine, the best of three runs.  The issue's yardstick is
Porcupine's: a key-value history checked per key in milliseconds.  Nothing is asserted.
"""
from __future__ import annotations

import os
import sys
import time
from collections import Counter
from dataclasses import replace

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from raftlab import actions as act  # noqa: E402
from raftlab.campaign import apply_fault, fault_schedule  # noqa: E402
from raftlab.linearizability import check  # noqa: E402
from raftlab.sim import Simulation  # noqa: E402

MINUTES = 10
SEED = 1


def churn_history(seed: int = SEED, duration: int = MINUTES * 60_000) -> tuple[list, float]:
    sim = Simulation(nodes=5, seed=seed, request_interval=20, clients=10, drop=0.1)
    t = time.perf_counter()
    for fault in fault_schedule(seed, 5, duration, every=300):
        if fault.time > sim.now:
            sim.advance(fault.time - sim.now)
        apply_fault(sim, fault)
    sim.advance(duration - sim.now)
    sim.do(act.Heal())
    return sim.operations, time.perf_counter() - t


def best_of(fn, repeats: int = 3):
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.process_time()
        out = fn()
        best = min(best, time.process_time() - t)
    return best, out


def stale_read(ops: list) -> list:
    """The same history with one late get answering the value of a put that a newer, acknowledged put
    had replaced (a stale read no correct store gives)."""
    done = [op for op in ops if op.completed is not None]
    for victim in reversed(done):
        if victim.command[0] != "get" or victim.result is None:
            continue
        key = victim.command[1]
        puts = [op for op in done if op.command[0] == "put" and op.command[1] == key]
        newer = [p for p in puts if p.completed < victim.invoked]
        if len(newer) >= 2 and newer[-1].invoked > newer[-2].completed:
            old = newer[-2]
            if old.command[2] != victim.result:
                return [replace(op, result=old.command[2]) if op is victim else op for op in ops]
    raise SystemExit("no get to corrupt")


def main() -> None:
    ops, sim_seconds = churn_history()
    keys = Counter(op.command[1] for op in ops)
    pending = sum(op.completed is None for op in ops)
    verbs = Counter(op.command[0] for op in ops)
    print(f"history: {MINUTES} simulated minutes under churn (5 servers, 10 clients, a request every 20 ms, "
          f"10% loss, faults every ~300 ms), simulated in {sim_seconds:.1f} s")
    print(f"  {len(ops):,} operations ({verbs['put']:,} put, {verbs['append']:,} append, {verbs['get']:,} get; "
          f"{pending} never answered) on {len(keys)} keys; the busiest key has {max(keys.values()):,}")
    print(f"  slowest answer: {max((op.completed or 0) - op.invoked for op in ops):,} ms; "
          f"operations retried: {sum(op.attempts > 1 for op in ops):,}")

    cpu, verdict = best_of(lambda: check(ops))
    print(f"check(history): {verdict.status}, {cpu * 1000:.0f} ms CPU -> {len(ops) / cpu:,.0f} operations/s "
          f"({verdict.states:,} search states)")
    for key in sorted(keys):
        part = [op for op in ops if op.command[1] == key]
        cpu_key, _ = best_of(lambda part=part: check(part))
        print(f"  key {key!r}: {len(part):>6,} operations in {cpu_key * 1000:6.1f} ms CPU")

    bad = stale_read(ops)
    cpu, verdict = best_of(lambda: check(bad), repeats=1)
    print(f"the same history with one stale read: {verdict.status} in {cpu * 1000:.0f} ms CPU, search, first "
          f"failing point and minimal explanation included ({len(verdict.operations)} operations, "
          f"replay at t={verdict.replay_time})")

    every = 30_000
    t = time.process_time()
    checks = 0
    for until in range(every, MINUTES * 60_000 + 1, every):
        assert check(ops, until=until).ok
        checks += 1
    cpu = time.process_time() - t
    print(f"checked while running, every {every // 1000} simulated s ({checks} checks of the history so far): "
          f"{cpu:.2f} s CPU in all")


if __name__ == "__main__":
    main()
