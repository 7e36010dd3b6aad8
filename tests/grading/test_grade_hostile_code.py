"""Hostile and broken submissions whose code misbehaves while it runs, graded as a class with
the checkpoint notebooks.  Each is graded correctly -- zero for what it breaks, full credit for
what it still does right -- says why in the CSV and the feedback, and never stops, stalls or
fools the run.  The class is graded once (``raftlab grade`` in a subprocess, tight limits);
each test reads one student's row.

Points here: exercises 1-3 are worth 3 each; cp1_elections 3 (2 + 1), cp2_replication 1.
"""
from __future__ import annotations

import pytest

from .classroom import (HEADER, box_processes, buggy, load_result, read_csv, reference_source,
                        run_grade, squash, write_submission, needs_root)

pytestmark = needs_root

ENDLESS_APPEND = buggy("ex3_append_entries.py", "    if m.term < node.current_term:",
                       "    while True:\n        pass\n    if m.term < node.current_term:")

# At import: use the reference rules whatever implementation a simulation asks for.
TAMPER_ENGINE = '''import raftlab.impl
_resolve_rules = raftlab.impl.resolve_rules
raftlab.impl.resolve_rules = lambda spec=None, exercise=None, missing="reference": _resolve_rules(None)
'''
STUB3 = HEADER.format(title="ex3") + (
    "def handle_append_entries(node, m):\n    raise NotImplementedError('Exercise 3: not written yet')\n")

LEAVES_CHILDREN = '''import os, subprocess
subprocess.Popen(["sleep", "600"])
os.system("setsid sleep 601 &")
'''

SUBMISSIONS = {
    "alice": {},
    "endless_rule": {"ex3_append_entries.py": ENDLESS_APPEND},
    "tamper_engine": {"ex3_append_entries.py": TAMPER_ENGINE + STUB3},
    "children": {"ex1_elections.py": LEAVES_CHILDREN + reference_source("ex1_elections.py")},
    "syntax": {"ex3_append_entries.py": reference_source("ex3_append_entries.py") + "\ndef broken(:\n"},
    "os_exit": {"ex1_elections.py": "import os\nos._exit(0)\n" + reference_source("ex1_elections.py")},
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory, checkpoints):
    work = tmp_path_factory.mktemp("hostile_code")
    subs = work / "submissions"
    for name, changes in SUBMISSIONS.items():
        write_submission(subs / name, changes)
    result = run_grade(subs, work, checkpoints, jobs=2)
    assert result.code == 0, result.stderr
    return result, read_csv(result.out)


def scores(row: dict) -> dict:
    return {k: float(row[k]) for k in ("ex1", "ex2", "ex3", "cp1_elections", "cp2_replication", "total")}


def test_a_correct_submission_gets_full_marks(graded):
    result, rows = graded
    assert scores(rows["alice"]) == {"ex1": 3, "ex2": 3, "ex3": 3, "cp1_elections": 3,
                                     "cp2_replication": 1, "total": 13}
    assert (rows["alice"]["status"], rows["alice"]["reason"]) == ("ok", ""), result.feedback_of("alice")
    assert "**Total: 13 / 13**" in result.feedback_of("alice")


def test_an_endless_loop_in_a_rule_costs_that_exercise_only(graded):
    result, rows = graded
    s = scores(rows["endless_rule"])
    assert (s["ex1"], s["ex2"], s["ex3"]) == (3, 3, 0)
    assert s["cp2_replication"] == 0          # replication never finishes
    assert s["cp1_elections"] == 2            # the first leader is elected before any AppendEntries
    reason = rows["endless_rule"]["reason"]
    assert "exercise 3: 2 test(s) ran out of time (5 s each): an endless loop?" in reason
    assert "check cell(s) ran out of time" in reason
    feedback = squash(result.feedback_of("endless_rule"))
    assert "did not finish" in feedback or "Timeout" in feedback


def test_replacing_the_engine_at_import_earns_nothing(graded):
    result, rows = graded
    s = scores(rows["tamper_engine"])
    # Exercise 3 is a stub: with raftlab.impl.resolve_rules replaced it would run the reference.
    assert (s["ex1"], s["ex2"], s["ex3"]) == (3, 3, 0)
    # The notebooks load every file, the patched one too: the kernel's guard makes them mismatch.
    assert s["cp1_elections"] == 0 and s["cp2_replication"] == 0
    assert rows["tamper_engine"]["status"] == "problems"
    assert "raftlab.impl.resolve_rules was replaced" in rows["tamper_engine"]["reason"]
    result_json = load_result(result.cache, "tamper_engine")
    cell = result_json["notebooks"][0]["cells"][0]
    assert "the engine was changed while the notebook ran" in cell["message"]


def test_child_processes_left_running_are_killed(graded):
    result, rows = graded
    assert scores(rows["children"])["total"] == 13          # the rules themselves are right
    assert rows["children"]["status"] == "ok"
    assert "the grader killed them" in rows["children"]["reason"]
    assert box_processes() == []                             # not one `sleep` survived


def test_a_syntax_error_costs_the_exercises_of_that_file(graded):
    result, rows = graded
    s = scores(rows["syntax"])
    assert (s["ex1"], s["ex2"], s["ex3"]) == (3, 3, 0)
    assert s["cp1_elections"] == 2 and s["cp2_replication"] == 0
    assert rows["syntax"]["status"] == "problems"
    assert "exercises/ex3_append_entries.py could not be imported (SyntaxError at line" in rows["syntax"]["reason"]
    assert "SyntaxError" in result.feedback_of("syntax")


def test_os_exit_at_import_costs_that_file_only(graded):
    result, rows = graded
    s = scores(rows["os_exit"])
    assert (s["ex1"], s["ex2"], s["ex3"]) == (0, 3, 3)
    assert "ex1_elections.py could not be imported (importing it ended the Python process" in \
        rows["os_exit"]["reason"]
