"""The Raft paper's leader-election experiment (section 9.3, Figure 16), at full size.

For each election-timeout range, crash the leader of a 5-server cluster again and again (1,000 trials per
range, as in the paper) and measure how long the cluster is without a leader; print a table and draw the
cumulative distributions like the paper's Figure 16. Lesson 2 runs a smaller version of the same thing.

    python tools/election_experiment.py                   # the top graph: 150-150 ... 150-300 ms
    python tools/election_experiment.py --bottom          # the bottom graph: 12-24 ... 150-300 ms
    python tools/election_experiment.py --trials 200 --seed 3 --jobs 2 --out build/experiment

`make experiment` runs the first form. Each range runs in its own process (``--jobs``, default: every
core). The figure and a CSV of every trial go to ``--out`` (default ``build/experiment``). A trial with no
leader after 10 simulated seconds counts as "> 10 s" (the paper's 150-150 line also runs off its graph).
"""
from __future__ import annotations

import argparse
import csv
import multiprocessing
import os
import sys
import time
from pathlib import Path

TOP = [(150, 150), (150, 151), (150, 155), (150, 175), (150, 200), (150, 300)]
BOTTOM = [(12, 24), (25, 50), (50, 100), (100, 200), (150, 300)]
LIMIT = 10_000   # ms without a leader before a trial counts as "> 10 s"

# What the paper reports for these ranges (section 9.3), to print beside ours.
PAPER = {
    (150, 150): "elections consistently took longer than 10 s",
    (150, 155): "median 287 ms",
    (150, 200): "worst case 513 ms over 1,000 trials",
    (12, 24): "35 ms on average, longest 152 ms",
}


def run_range(args: tuple) -> tuple:
    timeout_range, trials, seed = args
    from raftlab.scenarios import leader_election_experiment
    start = time.perf_counter()
    times = leader_election_experiment(timeout_range, trials=trials, seed=seed, limit=LIMIT)
    return timeout_range, times, time.perf_counter() - start


def describe(times: list) -> str:
    ordered = sorted(times, key=lambda t: (t is None, t or 0))

    def at(q: float) -> str:
        t = ordered[min(int(q * len(ordered)), len(ordered) - 1)]
        return "> 10 s" if t is None else f"{t} ms"
    return (f"fastest {at(0):>7}  median {at(0.5):>7}  99% {at(0.99):>7}  worst {at(1.0):>7}  "
            f"no leader: {times.count(None)}")


def plot(results: dict, path: Path, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7.5, 4))
    for (lo, hi), times in results.items():
        done = sorted(t for t in times if t is not None)
        fraction = [(i + 1) / len(times) for i in range(len(done))]
        ax.step([0] + done + [LIMIT], [0] + fraction + (fraction[-1:] or [0]), where="post",
                label=f"{lo}-{hi} ms")
    ax.set_xscale("log")
    ax.set_xlim(10, LIMIT)
    ax.set_xlabel("time without a leader (ms, log scale)")
    ax.set_ylabel("fraction of trials")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(title="election timeout", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=1000, help="trials per range (default 1000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bottom", action="store_true", help="the bottom graph's ranges instead of the top's")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes (default: cores)")
    parser.add_argument("--out", type=Path, default=Path("build/experiment"), help="folder for the figure/CSV")
    args = parser.parse_args(argv)
    if args.trials < 1 or args.jobs < 1:
        parser.error("--trials and --jobs must be at least 1")
    ranges = BOTTOM if args.bottom else TOP
    name = "figure16-bottom" if args.bottom else "figure16-top"
    print(f"Section 9.3: {args.trials} trials per range, seed {args.seed}, 5 servers, "
          f"network delay 5-15 ms, heartbeat half the minimum timeout", flush=True)
    tasks = [(r, args.trials, args.seed) for r in ranges]
    results: dict = {}
    start = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(min(args.jobs, len(tasks))) as pool:
        for timeout_range, times, seconds in pool.imap(run_range, tasks):
            results[timeout_range] = times
            lo, hi = timeout_range
            paper = PAPER.get(timeout_range)
            print(f"{lo:>3}-{hi:<3} ms: {describe(times)}   ({seconds:.1f} s)"
                  + (f"\n            paper: {paper}" if paper else ""), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / f"{name}.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["timeout_min_ms", "timeout_max_ms", "trial", "ms_without_leader"])
        for (lo, hi), times in results.items():
            for i, t in enumerate(times):
                writer.writerow([lo, hi, i, "" if t is None else t])
    plot(results, args.out / f"{name}.png",
         f"Time to elect a new leader, {args.trials} trials per range (cf. the paper's Figure 16)")
    print(f"wrote {args.out / (name + '.png')} and {args.out / (name + '.csv')} "
          f"in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
