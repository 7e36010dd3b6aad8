"""Benchmark: `raftlab grade` on a class of 100 generated submissions, with --jobs 2.

The class is a fixed mix (the same every run):
  60 correct  -- the reference rules written out as exercise modules (their source, not an import);
  25 buggy    -- a correct submission with one function replaced by one of the catalogue's
                 known bugs (raftlab/grading/bugs), a different bug each;
  15 broken   -- a syntax error, a missing file, an endless loop at import or in a rule,
                 sys.exit() at import, processes left running, output without end.

It grades with the instructor's real setup (tests/exercises, hidden tests included, and the
checkpoint notebooks in exercises/checkpoints), prints the wall time and submissions per
minute (target: 100 in under 10 minutes), then re-runs with nothing changed (all cached).
Then the same class, in the same run, through a Dask LocalCluster of --jobs worker processes
(one thread each) with `raftlab grade --scheduler`: its wall time, and the distributed path's
overhead over the local pool (target: within 15%).  --no-cluster skips that part.

The two paths take turns, so that a machine that gets busier or quieter during the bench
(other work, a CI neighbour) weighs on both alike: the class is graded in --chunks parts,
each part by both paths, in the order A B B A A B ... (A the local pool, B the cluster); each
`raftlab grade` run sees the submissions of the parts so far, and grades only the new ones
(the others are cached).  A path's time is the sum of its runs.

    python bench/grade.py [--count 100] [--jobs 2] [--chunks 5] [--keep DIR] [--no-cluster]
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import csv
import inspect
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from raftlab import rules  # noqa: E402

HEADER = '''"""{name}: a generated submission (raftlab bench)."""
from raftlab.membership import Configuration
from raftlab.messages import (AppendEntries, AppendEntriesReply, ClientReply, ClientRequest, Entry,
                              RequestVote, RequestVoteReply)
from raftlab.node import Node, Role

'''


def layout(exercises: Path) -> dict:
    """The instructor's exercises/ folder: file -> the rules it holds (read, not imported)."""
    out = {}
    for path in sorted(exercises.glob("*.py")):
        if path.name == "__init__.py":
            continue
        names = [n.name for n in ast.parse(path.read_text()).body
                 if isinstance(n, ast.FunctionDef) and n.name in rules.ALL_RULES]
        if names:
            out[path.name] = names
    return out


def correct(files: dict) -> dict:
    return {name: HEADER.format(name=name) + "\n\n".join(inspect.getsource(getattr(rules, r)) for r in funcs)
            for name, funcs in files.items()}


def with_bug(files: dict, bug) -> dict:
    """A correct submission with the bug module's own functions defined after the correct ones
    (so they win), with its imports from raftlab; how it reads the other, correct functions of
    its exercise from the kit is left out (the submission has them)."""
    sub = correct(files)
    target = next(name for name, funcs in files.items() if set(funcs) & set(_defined(bug.path)))
    text = bug.path.read_text()
    kept = [ast.get_source_segment(text, node) for node in ast.parse(text).body
            if isinstance(node, ast.FunctionDef) or (isinstance(node, ast.ImportFrom) and node.module == "raftlab")]
    sub[target] += f"\n\n# --- {bug.name} ---\n" + "\n\n\n".join(kept) + "\n"
    return sub


def _defined(path: Path) -> list:
    return [n.name for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef)]


def broken(files: dict, kind: str, rng: random.Random) -> dict:
    sub = correct(files)
    names = sorted(files)
    victim = rng.choice(names)
    if kind == "syntax error":
        sub[victim] += "\ndef unfinished(node:\n"
    elif kind == "missing file":
        sub[victim] = None
    elif kind == "endless loop at import":
        sub[victim] = "while True:\n    pass\n" + sub[victim]
    elif kind == "endless loop in a rule":
        victim = next(n for n in names if "handle_append_entries" in files[n])
        signature = "def handle_append_entries(node: Node, m: AppendEntries) -> None:\n"
        assert signature in sub[victim]
        sub[victim] = sub[victim].replace(signature, signature + "    while m.term >= 0:\n        pass\n", 1)
    elif kind == "sys.exit at import":
        sub[victim] = "import sys\nsys.exit(0)\n" + sub[victim]
    elif kind == "processes left running":
        sub[victim] = "import os\nos.system('setsid sleep 120 &')\n" + sub[victim]
    elif kind == "output without end":
        sub[victim] = "while True:\n    print('spam ' * 100)\n" + sub[victim]
    return sub


BROKEN = (["syntax error"] * 4 + ["missing file"] * 3 + ["endless loop at import"] * 2
          + ["endless loop in a rule"] * 2 + ["sys.exit at import"] * 2 + ["processes left running"]
          + ["output without end"])


def generate(folder: Path, count: int, exercises: Path) -> dict:
    from raftlab.grading.bugs import catalogue
    files = layout(exercises)
    init = (exercises / "__init__.py").read_text()
    rng = random.Random(1)
    bugs = catalogue()
    n_broken = round(count * 0.15)
    n_buggy = round(count * 0.25)
    kinds = {}
    for i in range(count):
        if i < n_broken:
            kind = BROKEN[i % len(BROKEN)]
            sub = broken(files, kind, rng)
        elif i < n_broken + n_buggy:
            bug = bugs[(i - n_broken) * len(bugs) // max(n_buggy, 1) % len(bugs)]
            kind = f"bug {bug.name}"
            sub = with_bug(files, bug)
        else:
            kind = "correct"
            sub = correct(files)
        student = f"student{i:03d}"
        ex = folder / student / "exercises"
        ex.mkdir(parents=True)
        (ex / "__init__.py").write_text(init)
        for name, text in sub.items():
            if text is not None:
                (ex / name).write_text(text)
        kinds[student] = kind
    return kinds


def grade(submissions: Path, work: Path, jobs: int, *extra: str) -> tuple:
    cmd = [sys.executable, "-m", "raftlab", "grade", str(submissions), "--jobs", str(jobs), "--quiet",
           "--out", str(work / "grades.csv"), "--feedback", str(work / "feedback"),
           "--cache", str(work / "cache"), *extra]
    started = time.monotonic()
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        sys.exit(f"raftlab grade failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return elapsed, done.stderr.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--chunks", type=int, default=5, help="parts the two paths take turns on")
    parser.add_argument("--keep", help="keep the generated class and the results in this folder")
    parser.add_argument("--no-cluster", action="store_true", help="skip the Dask LocalCluster part")
    args = parser.parse_args()
    tests = REPO / "tests" / "exercises"
    if not list(tests.glob("test_*.py")):
        sys.exit("bench/grade.py: no exercise tests in tests/exercises")
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="raftlab-bench-grade-"))
    if work.exists() and args.keep:
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    try:
        kinds = generate(work / "generated", args.count, REPO / "exercises")
        (work / "empty").mkdir()
        counts = {k: sum(1 for v in kinds.values() if v.startswith(k)) for k in ("correct", "bug", "")}
        print(f"grade bench: {args.count} submissions ({counts['correct']} correct, {counts['bug']} with a "
              f"known bug, {args.count - counts['correct'] - counts['bug']} broken), --jobs {args.jobs}, "
              f"{'as root: each box its own user' if os.geteuid() == 0 else 'not root: boxes run as you'}, "
              f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start")
        with _paths(work, args) as paths:
            for name, path in paths.items():
                seconds, _ = grade(work / "empty", path["work"], args.jobs, *path["extra"])
                print(f"  calibration through {name} (the reference rules through the boxes, once): {seconds:.1f} s")
            _take_turns(work, kinds, paths, args)
            local = paths["the local pool"]
            seconds = local["seconds"]
            rate = args.count / seconds * 60
            verdict = "met" if seconds < 600 * args.count / 100 else "NOT met"
            print(f"  grading through the local pool: {seconds:.1f} s wall in all, {rate:.1f} submissions/minute "
                  f"(target: {args.count} in under {10 * args.count / 100:g} min: {verdict})")
            again, _ = grade(work / "submissions", local["work"], args.jobs)
            print(f"  re-run with nothing changed: {again:.1f} s (every submission cached)")
            with open(local["work"] / "grades.csv", newline="") as f:
                rows = {row["student"]: row for row in csv.DictReader(f)}
            _report(rows, kinds, local["work"])
            print(f"  {local['summary']}")
            cluster = paths.get("a Dask LocalCluster")
            if cluster is not None:
                _cluster_report(cluster, local, args, work)
        print(f"  load average at the end: {os.getloadavg()[0]:.1f}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


@contextlib.contextmanager
def _paths(work: Path, args):
    """{name: {"work": its folder, "extra": its grade arguments}}: the local pool, and unless
    --no-cluster (or without Dask) a LocalCluster of --jobs worker processes, one thread each."""
    paths = {"the local pool": {"work": work / "local", "extra": []}}
    with contextlib.ExitStack() as stack:
        if not args.no_cluster:
            try:
                from distributed import LocalCluster
            except ImportError:
                print("  cluster: skipped (no Dask distributed: pip install raftlab[grade])")
            else:
                cluster = stack.enter_context(LocalCluster(n_workers=args.jobs, threads_per_worker=1,
                                                           processes=True, dashboard_address=None,
                                                           silence_logs=40))
                paths["a Dask LocalCluster"] = {"work": work / "cluster",
                                                "extra": ["--scheduler", cluster.scheduler_address]}
        for path in paths.values():
            path["work"].mkdir()
            path.update(seconds=0.0, runs=[], summary="")
        yield paths


def _take_turns(work: Path, kinds: dict, paths: dict, args) -> None:
    """Grade the class part by part, each part by every path, in the order A B B A A B ..."""
    students = sorted(kinds)
    names = list(paths)
    chunks = max(1, min(args.chunks, len(students)))
    (work / "submissions").mkdir()
    for part in range(chunks):
        for student in students[part * len(students) // chunks:(part + 1) * len(students) // chunks]:
            shutil.copytree(work / "generated" / student, work / "submissions" / student)
        for name in (names if part % 2 == 0 else names[::-1]):
            path = paths[name]
            seconds, summary = grade(work / "submissions", path["work"], args.jobs, *path["extra"])
            path["seconds"] += seconds
            path["runs"].append(seconds)
            path["summary"] = summary


def _cluster_report(cluster: dict, local: dict, args, work: Path) -> None:
    again, _ = grade(work / "submissions", cluster["work"], args.jobs, *cluster["extra"])
    seconds, local_seconds = cluster["seconds"], local["seconds"]
    same = (cluster["work"] / "grades.csv").read_text() == (local["work"] / "grades.csv").read_text()
    overhead = (seconds - local_seconds) / local_seconds * 100
    print(f"  through a Dask LocalCluster ({args.jobs} worker processes, 1 thread each): {seconds:.1f} s wall "
          f"in all, {args.count / seconds * 60:.1f} submissions/minute; re-run {again:.1f} s (cached)")
    print("  the parts, local pool vs cluster (s): " + ", ".join(
        f"{a:.0f}/{b:.0f}" for a, b in zip(local["runs"], cluster["runs"], strict=True)))
    print(f"  distributed overhead over the local pool: {overhead:+.1f}% (target: within 15%: "
          f"{'met' if overhead <= 15 else 'NOT met'}); same gradebook: {'yes' if same else 'NO'}")
    if not same:
        with open(cluster["work"] / "grades.csv", newline="") as f:
            theirs = {row["student"]: row for row in csv.DictReader(f)}
        with open(local["work"] / "grades.csv", newline="") as f:
            ours = {row["student"]: row for row in csv.DictReader(f)}
        for student in sorted(set(ours) | set(theirs)):
            if ours.get(student) != theirs.get(student):
                a, b = ours.get(student, {}), theirs.get(student, {})
                print(f"    {student}: local {a.get('total')} {a.get('status')} / cluster {b.get('total')} "
                      f"{b.get('status')}: {b.get('reason', '')[:300]}")
    print(f"  {cluster['summary']}")


def _report(rows: dict, kinds: dict, work: Path) -> None:
    by_status: dict = {}
    for row in rows.values():
        by_status[row["status"]] = by_status.get(row["status"], 0) + 1
    print("  statuses: " + ", ".join(f"{n} {s}" for s, n in sorted(by_status.items())))
    full = max(float(r["max"]) for r in rows.values())
    correct = [s for s, k in kinds.items() if k == "correct"]
    print(f"  correct submissions at full marks: {sum(float(rows[s]['total']) == full for s in correct)}"
          f" of {len(correct)}")
    buggy = [s for s, k in kinds.items() if k.startswith("bug")]
    print(f"  buggy submissions that lost points: {sum(float(rows[s]['total']) < full for s in buggy)}"
          f" of {len(buggy)}")
    seconds = []
    for path in (work / "cache" / "results").glob("*.json"):
        data = json.loads(path.read_text())
        if data.get("seconds") is not None:
            seconds.append((data["seconds"], data["student"]))
    if seconds:
        seconds.sort()
        median = seconds[len(seconds) // 2][0]
        slow = ", ".join(f"{s} {kinds.get(s, '?')} {t:.0f} s" for t, s in seconds[-3:][::-1])
        print(f"  per submission: median {median:.1f} s; slowest: {slow}")


if __name__ == "__main__":
    main()
