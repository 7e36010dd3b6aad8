"""Before/after: the engine's two headline figures for another git revision and for this tree, in one run.

    .venv/bin/python bench/compare.py a049663          # or: make bench-compare REV=a049663

The revision is checked out into a temporary git worktree; both trees are measured by the same interpreter,
alternating, five times each, and the medians are printed (this machine's load moves single figures by 10%).
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MEASURE = r"""
import time
from raftlab import Config, Simulation
def best(config, per, repeats=3):
    out = 0.0
    for _ in range(repeats):
        sim = Simulation(config)
        t = time.process_time()
        sim.advance(60_000)
        out = max(out, per(sim, time.process_time() - t))
    return out
target = Config(seed=1, nodes=5, heartbeat=50, election_timeout=(100, 200), delay=(10, 15), request_interval=100)
off = Config(seed=1, request_interval=20, drop=0.1, duplicate=0.02, delay=(5, 15), check_safety=False)
print(best(target, lambda s, dt: 60 / dt), best(off, lambda s, dt: s.steps / dt))
"""


def measure(tree: str) -> tuple[float, float]:
    env = {**os.environ, "PYTHONPATH": tree}
    out = subprocess.run([sys.executable, "-c", MEASURE], cwd=tree, env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    return float(out[0]), float(out[1])


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: bench/compare.py GIT-REVISION", file=sys.stderr)
        return 2
    rev = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        before = os.path.join(tmp, "before")
        subprocess.run(["git", "worktree", "add", "--detach", before, rev], cwd=ROOT, check=True,
                       capture_output=True)
        try:
            runs: dict[str, list[tuple[float, float]]] = {"before": [], "after": []}
            for _ in range(5):
                runs["before"].append(measure(before))
                runs["after"].append(measure(ROOT))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", before], cwd=ROOT, check=True)
    for name, label in (("before", rev), ("after", "this tree")):
        rate = statistics.median(r[0] for r in runs[name])
        eps = statistics.median(r[1] for r in runs[name])
        print(f"{name:<6} ({label}): {rate:,.0f} simulated s per CPU s (checks and recording on; target >= 300), "
              f"{eps:,.0f} events/s with checks off (target >= 150,000)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
