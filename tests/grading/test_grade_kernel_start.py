"""A checkpoint notebook whose Jupyter kernel does not start is the grader's failure, never the student's.

On a busy Dask worker a notebook's kernel once died before it answered (``Kernel died before
replying to kernel_info``) and a correct submission scored 0 on that notebook.  No code under
test runs in a kernel that never started, so the grader runs such a notebook again; if the
kernel still does not start, the submission is "not gradable" this time (never a lower grade)
and is not cached, so the next ``raftlab grade`` grades it.  ``kernel_faults.py`` injects the
fault into a real ``raftlab grade`` run.
"""
from __future__ import annotations

import subprocess
import sys

from .classroom import REPO, Graded, grade_command, load_result, points, read_csv, write_submission, needs_root

pytestmark = needs_root

FAULTS = REPO / "tests" / "grading" / "kernel_faults.py"


def grade_with_faults(subs, work, notebooks, fails: int) -> Graded:
    argv = grade_command(subs, work, notebooks, jobs=1)
    assert argv[1:3] == ["-m", "raftlab"]
    done = subprocess.run([sys.executable, str(FAULTS), str(fails), *argv[3:]], cwd=REPO,
                          capture_output=True, text=True, timeout=400)
    return Graded(done.returncode, done.stdout, done.stderr, work / "grades.csv", work / "feedback",
                  work / "cache")


def test_a_kernel_that_did_not_start_once_is_started_again_and_costs_nothing(tmp_path, checkpoints):
    write_submission(tmp_path / "subs" / "alice")
    graded = grade_with_faults(tmp_path / "subs", tmp_path / "work", checkpoints, fails=1)
    assert graded.code == 0, graded.stderr
    row = read_csv(graded.out)["alice"]
    assert row["status"] == "ok", row
    assert points(row, "total") == points(row, "max"), row
    result = load_result(graded.cache, "alice")
    # The first run of the notebooks (both in one run, as they check no exercise of their own) had
    # no kernel; each was then run again on its own.
    retried = sorted(what.split(":")[0] for what, _ in result["timings"] if "Jupyter kernel did not start" in what)
    assert retried == sorted(p.name for p in checkpoints.glob("*.ipynb")), result["timings"]
    assert all("injected fault" in what for what, _ in result["timings"] if "did not start" in what)


def test_a_kernel_that_never_starts_leaves_the_submission_not_graded_and_not_cached(tmp_path, checkpoints):
    write_submission(tmp_path / "subs" / "alice")
    work = tmp_path / "work"
    graded = grade_with_faults(tmp_path / "subs", work, checkpoints, fails=100)
    assert graded.code == 0, graded.stderr
    row = read_csv(graded.out)["alice"]
    assert row["status"] == "failed", row
    assert "did not start" in row["reason"] and "injected fault" in row["reason"], row
    assert "alice.json" not in [p.name for p in (work / "cache" / "results").iterdir()]

    # The machine is well again: the next run grades the submission, at full marks.
    again = grade_with_faults(tmp_path / "subs", work, checkpoints, fails=0)
    assert again.code == 0, again.stderr
    row = read_csv(again.out)["alice"]
    assert row["status"] == "ok" and points(row, "total") == points(row, "max"), row
