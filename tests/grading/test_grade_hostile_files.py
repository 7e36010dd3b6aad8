"""Hostile and broken submissions: what they contain (configuration files, copies of the tests,
links, archives with escaping paths, corrupt notebooks) and how their code behaves when it is
imported (exits, loops, memory, output) or how it tampers with pytest and the safety checks.

Each one is graded correctly -- zero for what it breaks, full credit for what it still does
right -- with a clear reason in the CSV and the feedback.  The class is graded once, without
notebooks (test_grade_hostile_code.py covers those); exercises 1-3 are worth 3 points each.
"""
from __future__ import annotations

import os

import pytest

import raftlab.rules

from .classroom import (DELEGATES, HEADER, box_processes, buggy, read_csv, reference_source, remove_stash,
                        run_grade, squash, stash, write_submission, zip_folder, needs_root)

pytestmark = needs_root

STUB3 = HEADER.format(title="ex3") + (
    "def handle_append_entries(node, m):\n    raise NotImplementedError('Exercise 3: not written yet')\n")

# A conftest.py that would turn every failure into a pass, if pytest ever loaded it.
PASS_EVERYTHING = '''import pytest

@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    report.outcome = "passed"
    return report
'''

# At import: swallow every exception a test raises, by patching pytest's runner.
TAMPER_PYTEST = '''import _pytest.runner
_from_call = _pytest.runner.CallInfo.from_call.__func__

def _quiet_from_call(cls, func, when, reraise=None):
    def quiet():
        try:
            return func()
        except Exception:
            return None
    return _from_call(cls, quiet, when, reraise)

_pytest.runner.CallInfo.from_call = classmethod(_quiet_from_call)
'''

# Grant every vote (two leaders in a term), then switch the safety checks off to hide it.
VOTE_FOR_ALL = buggy("ex2_request_vote.py", "    granted = (m.term == node.current_term",
                     "    granted = True or (m.term == node.current_term")
HIDE_VIOLATIONS = '''import raftlab.invariants
raftlab.invariants.SafetyChecker.after_step = lambda self, node, before: None
'''

FAKE_PASSES = '''print("============================== 6 passed in 0.10s ===============================")
print('{"total": 9.0, "max": 9.0, "exercises": [], "errors": []}')
'''

CHATTY = reference_source("ex1_elections.py").replace(
    "    node.election_deadline = node.now + node.random_election_timeout()",
    "    print('timer reset ' * 50)\n    node.election_deadline = node.now + node.random_election_timeout()")


def build(subs):
    write_submission(subs / "missing_file", {"ex2_request_vote.py": None})
    write_submission(subs / "endless_import", {"ex1_elections.py": reference_source("ex1_elections.py")
                                               + "\nwhile True:\n    pass\n"})
    write_submission(subs / "sys_exit", {"ex2_request_vote.py": "import sys\nsys.exit(0)\n"
                                         + reference_source("ex2_request_vote.py")})
    write_submission(subs / "memory_hog", {"ex3_append_entries.py": "hog = bytearray(8 * 2**30)\n"
                                           + reference_source("ex3_append_entries.py")})
    write_submission(subs / "output_flood", {"ex2_request_vote.py": "while True:\n    print('x' * 1000)\n"
                                             + reference_source("ex2_request_vote.py")})
    write_submission(subs / "chatty", {"ex1_elections.py": CHATTY})
    write_submission(subs / "own_config", {"ex3_append_entries.py": STUB3, "conftest.py": PASS_EVERYTHING,
                                           "sitecustomize.py": "import os\nos._exit(3)\n"},
                     extra={"conftest.py": PASS_EVERYTHING, "pytest.ini": "[pytest]\naddopts = --co\n",
                            "sitecustomize.py": "import os\nos._exit(3)\n"})
    write_submission(subs / "edited_tests", {"ex3_append_entries.py": STUB3},
                     extra={"tests/exercises/test_ex3_append_entries.py":
                            "def test_entries_commit_everywhere():\n    pass\n\n"
                            "def test_a_rejoining_follower_catches_up():\n    pass\n"})
    write_submission(subs / "corrupt_notebook",
                     extra={"exercises/checkpoints/cp1_elections.ipynb": "{ this is not json",
                            "exercises/checkpoints/cp2_replication.ipynb": '["a list, not a notebook"]'})
    write_submission(subs / "fake_passes", {"ex3_append_entries.py": FAKE_PASSES + STUB3},
                     extra={"exercises/checkpoints/cp1_elections.ipynb":
                            '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5, '
                            '"outputs": ["6 passed"]}'})
    write_submission(subs / "tamper_pytest", {"ex3_append_entries.py": TAMPER_PYTEST + STUB3})
    write_submission(subs / "hide_violations", {"ex2_request_vote.py": HIDE_VIOLATIONS + VOTE_FOR_ALL})
    write_submission(subs / "reference_import",
                     {"ex3_append_entries.py": "from raftlab.rules import handle_append_entries\n"})
    write_submission(subs / "delegates", {"ex3_append_entries.py": DELEGATES})
    write_submission(subs / "stash", stash(STASH))
    # a folder with a link out of it, to the reference rules (full marks, were it followed)
    write_submission(subs / "symlink_out", {"ex1_elections.py": None})
    os.symlink(raftlab.rules.__file__, subs / "symlink_out" / "exercises" / "ex1_elections.py")
    # a zip whose entries try to leave the submission, and a link standing in for exercise 2
    staging = subs.parent / "zip_source"
    write_submission(staging, {"ex2_request_vote.py": None})
    zip_folder(staging, subs / "zip_escape.zip",
               extra_entries={"../../escaped.py": b"print('out')\n", "/tmp/absolute_escape.py": b"x = 1\n",
                              "exercises/ex2_request_vote.py": ("symlink", raftlab.rules.__file__)})
    (subs / "not_a_zip.zip").write_bytes(b"PK\x03\x04 this is not an archive")


STASH = f"hostile-files-{os.getpid()}"


@pytest.fixture(scope="module")
def graded(tmp_path_factory, no_notebooks):
    work = tmp_path_factory.mktemp("hostile_files")
    subs = work / "deep" / "submissions"
    subs.mkdir(parents=True)
    build(subs)
    try:
        result = run_grade(subs, work, no_notebooks, jobs=2)
    finally:
        remove_stash(STASH)
    assert result.code == 0, result.stderr
    return result, read_csv(result.out), work


def exercises(row):
    return tuple(float(row[f"ex{n}"]) for n in (1, 2, 3))


def test_the_gradebook_has_one_row_per_submission(graded):
    result, rows, _ = graded
    assert len(rows) == 18
    header = result.out.read_text().splitlines()[0]
    assert header == "student,total,max,status,ex1,ex2,ex3,similarity,reason"


def test_a_missing_exercise_file(graded):
    _, rows, _ = graded
    assert exercises(rows["missing_file"]) == (3, 0, 3)
    assert "ex2_request_vote, and there is no such file" in rows["missing_file"]["reason"]


def test_an_endless_loop_at_import(graded):
    _, rows, _ = graded
    assert exercises(rows["endless_import"]) == (0, 3, 3)
    assert ("ex1_elections.py could not be imported (importing it did not finish within 3 s"
            in rows["endless_import"]["reason"])


def test_sys_exit_at_import(graded):
    _, rows, _ = graded
    assert exercises(rows["sys_exit"]) == (3, 0, 3)
    assert "SystemExit(0): it calls sys.exit() while it is imported" in rows["sys_exit"]["reason"]


def test_huge_memory_use_is_refused(graded):
    _, rows, _ = graded
    assert exercises(rows["memory_hog"]) == (3, 3, 0)
    assert "ex3_append_entries.py could not be imported (MemoryError" in rows["memory_hog"]["reason"]


def test_unbounded_output_is_capped(graded):
    result, rows, _ = graded
    assert exercises(rows["output_flood"]) == (3, 0, 3)
    reason = rows["output_flood"]["reason"]
    assert "File too large" in reason and "reached the 8 MB limit" in reason
    # A correct submission that prints a lot (a line per timer reset) keeps its marks.
    assert exercises(rows["chatty"]) == (3, 3, 3) and rows["chatty"]["status"] == "ok"
    # Nothing of what they printed reaches the gradebook or the feedback.
    assert result.out.stat().st_size < 20_000
    assert "xxxxxxxxxx" not in result.feedback_of("output_flood")
    assert "timer reset" not in result.feedback_of("chatty")


def test_a_submissions_own_conftest_pytest_ini_and_sitecustomize_are_never_used(graded):
    result, rows, _ = graded
    assert exercises(rows["own_config"]) == (3, 3, 0)       # the stub still fails
    reason = rows["own_config"]["reason"]
    for name in ("conftest.py", "pytest.ini", "sitecustomize.py", "exercises/conftest.py",
                 "exercises/sitecustomize.py"):
        assert f"ignored {name}: a submission cannot configure how the grader runs Python or pytest" in reason


def test_edited_copies_of_the_tests_are_ignored(graded):
    _, rows, _ = graded
    assert exercises(rows["edited_tests"]) == (3, 3, 0)
    assert ("ignored the submission's own tests (tests/exercises/test_ex3_append_entries.py)"
            in rows["edited_tests"]["reason"])


def test_corrupt_notebooks_change_nothing(graded):
    result, rows, _ = graded
    assert exercises(rows["corrupt_notebook"]) == (3, 3, 3)
    assert rows["corrupt_notebook"]["status"] == "ok"
    reason = rows["corrupt_notebook"]["reason"]
    assert "exercises/checkpoints/cp1_elections.ipynb is not a valid notebook" in reason
    assert "exercises/checkpoints/cp2_replication.ipynb is not a valid notebook" in reason


def test_printed_pass_lines_fool_nobody(graded):
    _, rows, _ = graded
    assert exercises(rows["fake_passes"]) == (3, 3, 0)


def test_patching_pytest_earns_nothing(graded):
    result, rows, _ = graded
    # The stub of exercise 3 raises; the patch would swallow that and report a pass.
    assert exercises(rows["tamper_pytest"]) == (3, 3, 0)
    reason = rows["tamper_pytest"]["reason"]
    assert "_pytest.runner.CallInfo.from_call was replaced" in reason
    assert "exercise 1 was run again with only its own files" in reason


def test_switching_the_safety_checks_off_hides_nothing(graded):
    _, rows, _ = graded
    assert exercises(rows["hide_violations"]) == (3, 0, 3)
    assert "raftlab.invariants.SafetyChecker.after_step was replaced" in rows["hide_violations"]["reason"]


def test_importing_the_reference_rules_earns_nothing(graded):
    result, rows, _ = graded
    assert exercises(rows["reference_import"]) == (3, 3, 0)
    assert "imports handle_append_entries from raftlab.rules" in rows["reference_import"]["reason"]
    assert ("the reference handle_append_entries is withheld while exercise 3 is graded"
            in squash(result.feedback_of("reference_import")))


def test_delegating_to_the_reference_earns_nothing(graded):
    result, rows, _ = graded
    assert exercises(rows["delegates"]) == (3, 3, 0)
    assert ("the reference handle_append_entries is withheld while exercise 3 is graded"
            in squash(result.feedback_of("delegates")))


def test_a_reference_stashed_by_one_run_does_not_reach_the_next(graded):
    # The runs of exercises 1 and 2 hold the reference of exercise 3 and write it to the box's home,
    # /tmp and /dev/shm; the box is emptied and the box user's files there removed between runs.
    # (As the grader's own user nothing is removed: see test_grade_cli.py, where this earns 3.)
    _, rows, _ = graded
    assert exercises(rows["stash"]) == (3, 3, 0)


def test_a_link_out_of_the_submission_is_not_followed(graded):
    _, rows, _ = graded
    assert exercises(rows["symlink_out"]) == (0, 3, 3)
    assert "ignored exercises/ex1_elections.py: a symbolic link" in rows["symlink_out"]["reason"]


def test_an_archive_cannot_write_or_read_outside_the_submission(graded):
    _, rows, work = graded
    assert exercises(rows["zip_escape"]) == (3, 0, 3)
    reason = rows["zip_escape"]["reason"]
    assert "ignored the archive entry '../../escaped.py': its path leads outside the submission" in reason
    assert "ignored the archive entry '/tmp/absolute_escape.py'" in reason
    assert "ignored exercises/ex2_request_vote.py: a symbolic link" in reason
    assert not list(work.rglob("escaped.py")) and not os.path.exists("/tmp/absolute_escape.py")


def test_an_unreadable_archive_is_reported_not_graded(graded):
    result, rows, _ = graded
    row = rows["not_a_zip"]
    assert row["status"] == "failed" and float(row["total"]) == 0
    assert "the archive not_a_zip.zip cannot be read" in row["reason"]
    assert "not graded: the archive not_a_zip.zip cannot be read" in result.feedback_of("not_a_zip")


def test_nothing_a_submission_started_is_left_running(graded):
    assert box_processes() == []
