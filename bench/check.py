"""Autograder benchmark (issue 5): how long `raftlab check` takes, as a student runs it.

Run with `make bench` (or `.venv/bin/python bench/check.py`).  Each figure is the
wall-clock time of the whole command (a fresh Python, pytest in a subprocess,
every test), the best of three runs on this machine: against the reference rules
(one pytest process), and against a correct student solution, whose exercises run
one pytest process each, each in an exam copy of raftlab without its reference.
Targets: every exercise under 60 s, one exercise under 15 s.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from raftlab.rules import EXERCISE_RULES  # noqa: E402


def timed(args: list[str], repeats: int = 3, exit_code: int = 0) -> float:
    best = float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, RAFTLAB_FAILURES_DIR=tmp)
        for _ in range(repeats):
            t = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "raftlab", *args], cwd=ROOT, env=env,
                                  capture_output=True, text=True)
            elapsed = time.perf_counter() - t
            if proc.returncode != exit_code:
                sys.exit(f"raftlab {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")
            best = min(best, elapsed)
    return best


def main() -> None:
    print("raftlab check against the reference (wall clock, best of 3):")
    every = timed(["check", "--impl", "reference"])
    print(f"  every exercise (1-{max(EXERCISE_RULES)}): {every:6.2f} s   (target < 60 s)")
    for number in (1, 3, 5):
        one = timed(["check", str(number), "--impl", "reference"])
        print(f"  exercise {number} alone:     {one:6.2f} s   (target < 15 s)")
    solution = str(ROOT / "tests" / "grading_selftest" / "alternative_solution.py")
    if Path(solution).is_file():                     # not in a student's handout
        student = timed(["check", "--impl", solution])
        print(f"  every exercise, a correct student solution (6 exam copies): {student:6.2f} s   (target < 60 s)")
    stubs = timed(["check", "--impl", "exercises"], exit_code=1)
    print(f"  every exercise, against the stubs (all fail): {stubs:6.2f} s")
    load = os.getloadavg()[0]
    print(f"  (load average while measuring: {load:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
