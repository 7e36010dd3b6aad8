"""Engine benchmarks (issue 2): events per second, scaling, history cost, memory, a fault campaign.

Run with `make bench` (or `.venv/bin/python bench/engine.py`).  Figures are
wall-clock measurements on this machine; each is the best of a few repeats.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from raftlab import Config, Simulation  # noqa: E402
from raftlab.campaign import run_campaign  # noqa: E402

LOAD = dict(request_interval=20, drop=0.1, duplicate=0.02, delay=(5, 15))


def events_per_second(config: Config, sim_ms: int, repeats: int = 3) -> tuple[float, int]:
    best = 0.0
    for _ in range(repeats):
        sim = Simulation(config)
        t = time.perf_counter()
        sim.advance(sim_ms)
        dt = time.perf_counter() - t
        best = max(best, sim.steps / dt)
    return best, sim.steps


def simulated_seconds_per_cpu_second(repeats: int = 3) -> tuple[float, int]:
    """Issue 9's yardstick: 5 servers, heartbeat 50 ms, election timeout 100-200 ms, latency 10-15 ms, a client
    request every 100 ms, 60 simulated seconds, with the safety checks and the event log on."""
    config = Config(seed=1, nodes=5, heartbeat=50, election_timeout=(100, 200), delay=(10, 15), request_interval=100)
    best, steps = 0.0, 0
    for _ in range(repeats):
        sim = Simulation(config)
        t = time.process_time()
        sim.advance(60_000)
        best = max(best, 60 / (time.process_time() - t))
        steps = sim.steps
    return best, steps


def log_length_scaling() -> list[tuple[int, float]]:
    """Events/s (CPU time) in 2-second windows of one run, starting as the log reaches 100, 1,000
    and 10,000 entries: the cost per event must not grow with the log."""
    sim = Simulation(Config(seed=5, request_interval=2, clients=20, history=1000))
    out = []
    for target in (100, 1000, 10_000):
        sim.run_until(lambda s: s.leader() is not None and s.leader().log.last_index >= target, within=10**7)
        length = sim.leader().log.last_index
        t, s0 = time.process_time(), sim.steps
        sim.advance(2000)
        out.append((length, (sim.steps - s0) / (time.process_time() - t)))
    return out


_PEAK = ("import sys; sys.path.insert(0, %r)\n"
         "def peak_mb():\n"
         "    # VmHWM: this process's own peak resident memory (ru_maxrss would include the parent's)\n"
         "    for line in open('/proc/self/status'):\n"
         "        if line.startswith('VmHWM:'):\n"
         "            return int(line.split()[1]) / 1024\n")


def memory_ten_minutes() -> tuple[int, float, float]:
    """Peak memory of a fresh process that runs 10 simulated minutes under load."""
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    run = (_PEAK % root + "from raftlab import Simulation, Config\n"
           "s = Simulation(Config(seed=1, request_interval=20, drop=0.1, duplicate=0.02, clients=10))\n"
           "s.advance(600_000)\nprint(s.steps, peak_mb())\n")
    base = _PEAK % root + "import raftlab\nprint(0, peak_mb())\n"
    steps, peak = subprocess.run([sys.executable, "-c", run], capture_output=True, text=True,
                                 check=True).stdout.split()
    _, peak0 = subprocess.run([sys.executable, "-c", base], capture_output=True, text=True,
                              check=True).stdout.split()
    return int(steps), float(peak), float(peak0)


def main() -> None:
    print("== engine (5 nodes, a client request every 20 ms, drop 10%, duplicate 2%, delay 5-15 ms) ==")
    base = Config(seed=1, **LOAD)
    off, n = events_per_second(base.replace(check_safety=False), 60_000)
    on, _ = events_per_second(base, 60_000)
    print(f"events/s, safety checks off : {off:>9,.0f}   (target >= 150,000; {n:,} events per run)")
    print(f"events/s, safety checks on  : {on:>9,.0f}   (target >=  25,000)")
    rate, steps = simulated_seconds_per_cpu_second()
    print(f"simulated s per CPU s (5 servers, heartbeat 50 ms, election 100-200 ms, latency 10-15 ms, a request "
          f"every 100 ms, checks and recording on): {rate:,.0f}   (target >= 300; {steps:,} events in 60 s)")
    rec_off, _ = events_per_second(base.replace(history=0), 60_000)
    print(f"events/s, history recording off: {rec_off:,.0f}; on (default, last 10,000 events + actions): "
          f"{on:,.0f}  -> ratio {rec_off / on:.2f}x (target within 2x)")
    print("events/s by cluster size (checks on):")
    for nodes in (3, 5, 9, 15):
        eps, steps = events_per_second(base.replace(nodes=nodes), 30_000, repeats=2)
        print(f"  {nodes:>2} nodes: {eps:>9,.0f}")
    print("events/s (CPU time) as the log grows (checks on, one run, a client request every 2 ms):")
    for length, eps in log_length_scaling():
        print(f"  from log length {length:>6,}: {eps:>9,.0f}")
    steps, rss, rss0 = memory_ten_minutes()
    print(f"memory, 10 simulated minutes of 5 nodes under load ({steps:,} events, checks and history on): "
          f"peak RSS {rss:.0f} MB (the interpreter with raftlab imported: {rss0:.0f} MB; target < 200 MB)")
    jobs = os.cpu_count() or 1
    t = time.perf_counter()
    results = run_campaign(range(1000), Config(request_interval=100), duration=5000, jobs=jobs)
    dt = time.perf_counter() - t
    bad = [r for r in results if not r.ok]
    events = sum(r.steps for r in results)
    print(f"fault campaign: 1,000 runs x 5 simulated s, 5 nodes, default timing, checks on, {jobs} processes: "
          f"{dt:.1f} s wall ({events:,} events; {len(bad)} failing runs; target < 60 s)")


if __name__ == "__main__":
    main()
