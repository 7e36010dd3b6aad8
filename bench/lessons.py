"""Lesson benchmarks (issue 4): how long nbval takes on each lesson, and its slowest cell.

Run with `make bench` (or `.venv/bin/python bench/lessons.py [NN ...]`).  Each lesson is checked exactly
as `make test` checks it (`pytest --nbval --nbval-current-env --nbval-sanitize-with ...`), one lesson at a
time, in its own pytest process; the figures are wall-clock seconds on this machine:

* "nbval": the whole pytest run for that notebook (pytest start, kernel start, every cell, comparison);
* "cells": the sum of the cells' own durations, as pytest reports them;
* "slowest cell": the cell that took longest, with its first line.

The budgets the lessons are held to: under 3 minutes of nbval for all lessons together, and no cell over
20 s.  A lesson that fails nbval is reported as failing (its time is still shown).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
PYTHON = sys.executable
NBVAL = ["--nbval", "--nbval-current-env", "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg")]
TOTAL_BUDGET_S, CELL_BUDGET_S = 180.0, 20.0

# pytest --durations lines: "3.21s call     notebooks/02_leader_election.ipynb::Cell 7"
_DURATION = re.compile(r"^\s*([\d.]+)s (setup|call|teardown)\s+\S+::Cell (\d+)")


def code_cells(path: Path) -> list[str]:
    """The first line of each code cell, in nbval's numbering (code cells only, from 0)."""
    nb = json.loads(path.read_text())
    return [("".join(c["source"]).splitlines() or [""])[0] for c in nb["cells"] if c["cell_type"] == "code"]


def measure(path: Path) -> dict:
    cmd = [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:randomly",
           *NBVAL, "--durations=0", "--durations-min=0", str(path.relative_to(ROOT))]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONWARNINGS": os.environ.get("PYTHONWARNINGS", "")})
    wall = time.perf_counter() - start
    cells: dict[int, float] = {}
    for line in proc.stdout.splitlines():
        m = _DURATION.match(line)
        if m and m.group(2) == "call":
            cells[int(m.group(3))] = float(m.group(1))
    summary = (proc.stdout.strip().splitlines() or [""])[-1]
    return {"wall": wall, "cells": cells, "ok": proc.returncode == 0, "summary": summary}


def main(argv: list[str]) -> int:
    lessons = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if argv:
        lessons = [p for p in lessons if any(p.name.startswith(a) for a in argv)]
    print(f"nbval on each lesson (one pytest process per lesson, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f})")
    print(f"{'lesson':<34} {'nbval':>7} {'cells':>7}  slowest cell")
    total = 0.0
    worst_cell = (0.0, "", "")
    failed = []
    for path in lessons:
        r = measure(path)
        total += r["wall"]
        firsts = code_cells(path)
        if r["cells"]:
            index, seconds = max(r["cells"].items(), key=lambda kv: kv[1])
            first = firsts[index] if index < len(firsts) else "?"
            slowest = f"{seconds:5.1f} s  cell {index}: {first[:48]}"
            if seconds > worst_cell[0]:
                worst_cell = (seconds, path.name, first[:48])
        else:
            slowest = "(no cell timings)"
        status = "" if r["ok"] else f"   FAILED: {r['summary']}"
        print(f"{path.name:<34} {r['wall']:6.1f}s {sum(r['cells'].values()):6.1f}s  {slowest}{status}", flush=True)
        if not r["ok"]:
            failed.append(path.name)
    print(f"{'total':<34} {total:6.1f}s          (budget {TOTAL_BUDGET_S:.0f} s)")
    print(f"slowest cell of all: {worst_cell[0]:.1f} s in {worst_cell[1]} ({worst_cell[2]}) "
          f"(budget {CELL_BUDGET_S:.0f} s)")
    print(f"notebooks/ on disk: {sum(f.stat().st_size for f in NOTEBOOKS.rglob('*') if f.is_file()) / 1e6:.2f} MB")
    if failed:
        print("nbval failed on: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
