"""``raftlab grade`` as an instructor runs it: arguments, the calibration, the progress bar,
re-runs that grade only what changed, and Ctrl-C or a crash that lose no grade."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from .classroom import (EXERCISE_TESTS, REPO, box_processes, grade_command, needs_root, read_csv,
                        reference_source, remove_stash, run_grade, stash, write_submission)

pytestmark = needs_root




@pytest.fixture(scope="module")
def calibrated(tmp_path_factory, no_notebooks):
    """One run on an empty class: it writes the CSV header and the calibration, which the other
    tests start from (same tests and limits, so the same grader digest)."""
    work = tmp_path_factory.mktemp("calibration")
    (work / "submissions").mkdir()
    result = run_grade(work / "submissions", work, no_notebooks)
    assert result.code == 0, result.stderr
    return work / "cache" / "calibration.json", result


def seeded(tmp_path, calibrated):
    (tmp_path / "cache").mkdir()
    shutil.copy(calibrated[0], tmp_path / "cache" / "calibration.json")
    return tmp_path


def test_an_empty_class_gets_a_header_and_the_reference_proves_the_boxes(calibrated):
    path, result = calibrated
    assert (result.out.read_text() == "student,total,max,status,ex1,ex2,ex3,similarity,reason\n")
    cal = json.loads(path.read_text())["calibration"]
    assert [(e["number"], e["title"], e["max"]) for e in cal["exercises"]] == [
        (1, "Elections", 3.0), (2, "RequestVote", 3.0), (3, "AppendEntries", 3.0)]
    assert "0 submissions" in result.stderr


def test_a_rerun_grades_only_what_changed(tmp_path, calibrated, no_notebooks):
    work = seeded(tmp_path, calibrated)
    subs = work / "submissions"
    write_submission(subs / "alice")
    write_submission(subs / "bob", {"ex2_request_vote.py": None})
    first = run_grade(subs, work, no_notebooks)
    assert first.code == 0 and "2 graded now, 0 unchanged" in first.stderr
    again = run_grade(subs, work, no_notebooks)
    assert again.code == 0 and "0 graded now, 2 unchanged" in again.stderr
    assert again.out.read_text() == first.out.read_text()
    (subs / "bob" / "exercises" / "ex2_request_vote.py").write_text(reference_source("ex2_request_vote.py"))
    changed = run_grade(subs, work, no_notebooks)
    assert "1 graded now, 1 unchanged" in changed.stderr
    assert float(read_csv(changed.out)["bob"]["total"]) == 9
    forced = run_grade(subs, work, no_notebooks, "--force")
    assert "2 graded now, 0 unchanged" in forced.stderr


def test_changing_the_instructors_tests_regrades_everyone(tmp_path, calibrated, no_notebooks):
    work = seeded(tmp_path, calibrated)
    subs = work / "submissions"
    write_submission(subs / "alice")
    tests = work / "instructor_tests"
    shutil.copytree(EXERCISE_TESTS, tests)
    cmd = [*grade_command(subs, work, no_notebooks)]
    cmd[cmd.index("--tests") + 1] = str(tests)
    assert "1 graded now" in subprocess.run(cmd, cwd=REPO, capture_output=True, text=True).stderr
    assert "0 graded now, 1 unchanged" in subprocess.run(cmd, cwd=REPO, capture_output=True, text=True).stderr
    with open(tests / "test_ex1_elections.py", "a") as f:
        f.write("\n\ndef test_one_more():\n    pass\n")
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0 and "1 graded now, 0 unchanged" in done.stderr
    assert float(read_csv(work / "grades.csv")["alice"]["max"]) == 10


def test_the_progress_bar_shows_an_eta(tmp_path, calibrated, no_notebooks):
    work = seeded(tmp_path, calibrated)
    write_submission(work / "submissions" / "alice")
    cmd = [a for a in grade_command(work / "submissions", work, no_notebooks) if a != "--quiet"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0
    assert re.search(r"grading: 100%\|.*\| 1/1 \[\d\d:\d\d<\d\d:\d\d", done.stderr)


def _wait_for(predicate, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _results(work):
    folder = work / "cache" / "results"
    return sorted(folder.glob("*.json")) if folder.exists() else []


@pytest.mark.parametrize("how", ["ctrl-c", "kill -9"])
def test_an_interrupted_or_crashed_run_loses_no_grade(tmp_path, calibrated, no_notebooks, how):
    work = seeded(tmp_path, calibrated)
    subs = work / "submissions"
    for name in ("a1", "a2", "a3", "a4"):
        write_submission(subs / name)
    grader = subprocess.Popen(grade_command(subs, work, no_notebooks, jobs=1), cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert _wait_for(lambda: len(_results(work)) >= 1)
        grader.send_signal(signal.SIGINT if how == "ctrl-c" else signal.SIGKILL)
        _, stderr = grader.communicate(timeout=60)
    finally:
        if grader.poll() is None:
            grader.kill()
    done = {p.stem for p in _results(work)}
    assert 1 <= len(done) < 4
    for path in _results(work):                          # every file whole, none half-written
        assert json.loads(path.read_text())["total"] == 9
    if how == "ctrl-c":
        assert grader.returncode == 130
        assert "interrupted" in stderr and "Grades already written are kept" in stderr
        assert set(read_csv(work / "grades.csv")) == done
        assert box_processes() == []
    rerun = run_grade(subs, work, no_notebooks, jobs=1)
    assert rerun.code == 0, rerun.stderr
    assert f"{4 - len(done)} graded now, {len(done)} unchanged" in rerun.stderr, (sorted(done), rerun.stderr)
    if how == "kill -9":
        assert "cleaned up after an earlier run that did not finish" in rerun.stderr
    assert sorted(read_csv(rerun.out)) == ["a1", "a2", "a3", "a4"]
    assert box_processes() == []


def test_bad_arguments_exit_with_2(tmp_path, no_notebooks):
    (tmp_path / "subs").mkdir()
    cases = [
        (["grade", str(tmp_path / "nowhere")], "no submissions folder at"),
        (["grade", str(tmp_path / "subs"), "--tests", str(tmp_path / "nowhere")], "no exercise tests at"),
        (["grade", str(tmp_path / "subs"), "--jobs", "0"], "must be positive"),
        (["grade", str(tmp_path / "subs"), "--timeout", "soon"], "is not a number"),
    ]
    for args, message in cases:
        done = subprocess.run([os.sys.executable, "-m", "raftlab", *args], cwd=tmp_path,
                              capture_output=True, text=True)
        assert done.returncode == 2, args
        assert message in done.stderr


def test_nobody_is_graded_when_the_reference_fails_the_tests(tmp_path, no_notebooks):
    tests = tmp_path / "instructor_tests"
    shutil.copytree(EXERCISE_TESTS, tests)
    with open(tests / "test_ex2_request_vote.py", "a") as f:
        f.write("\n\n@pytest.mark.points(1)\ndef test_impossible(rules):\n    assert False, 'never'\n")
    write_submission(tmp_path / "subs" / "alice")
    cmd = grade_command(tmp_path / "subs", tmp_path, no_notebooks)
    cmd[cmd.index("--tests") + 1] = str(tests)
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 1
    assert "the reference rules did not score full marks" in done.stderr
    assert "exercise 2: test_impossible" in done.stderr
    assert not (tmp_path / "grades.csv").exists()


def test_as_the_same_user_children_are_still_killed(tmp_path, calibrated, no_notebooks):
    work = seeded(tmp_path, calibrated)
    write_submission(work / "submissions" / "kids", {
        "ex1_elections.py": "import os\nos.system('setsid sleep 787 &')\n" + reference_source("ex1_elections.py")})
    token = f"same-user-{os.getpid()}"
    write_submission(work / "submissions" / "stash", stash(token))
    try:
        result = run_grade(work / "submissions", work, no_notebooks, "--same-user")
    finally:
        remove_stash(token)
    assert result.code == 0
    rows = read_csv(result.out)
    assert float(rows["kids"]["total"]) == 9
    assert "the grader killed them" in rows["kids"]["reason"]
    sleepers = subprocess.run(["pgrep", "-f", "sleep 787"], capture_output=True, text=True).stdout.split()
    assert sleepers == []
    # The route a box of its own closes (test_grade_hostile_files.py), open as the grader's own user:
    # the reference of exercise 3 stashed in /tmp by the run of exercise 1 reaches the run of exercise 3.
    assert float(rows["stash"]["ex3"]) == 3
