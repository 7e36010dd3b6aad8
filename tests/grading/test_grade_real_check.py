"""`raftlab grade` with the real `raftlab check`, the real graded tests (hidden ones included) and the
real checkpoint notebooks: the reference written out as a student's files gets full marks, and a
syntax error in exercise 3 costs exercise 3 and its checkpoint notebook, nothing else."""
from __future__ import annotations

import ast
import inspect
import subprocess
import sys

import pytest

from raftlab import rules

from .classroom import REPO, box_processes, needs_root, read_csv, uid_base

TESTS = REPO / "tests" / "exercises"
CHECKPOINTS = REPO / "exercises" / "checkpoints"
EXERCISES = REPO / "exercises"

pytestmark = [needs_root, pytest.mark.skipif(
    not list(TESTS.glob("test_*.py")) or not list(CHECKPOINTS.glob("*.ipynb")),
    reason="needs the graded tests (tests/exercises) and the checkpoint notebooks")]

HEADER = ("from raftlab.membership import Configuration\n"
          "from raftlab.messages import (AppendEntries, AppendEntriesReply, ClientReply, ClientRequest,\n"
          "                              Entry, RequestVote, RequestVoteReply)\n"
          "from raftlab.node import Node, Role\n\n")


def write_reference_copy(folder, broken=None):
    """A student's exercises/ in the handout's layout, each rule the reference's source."""
    ex = folder / "exercises"
    ex.mkdir(parents=True)
    (ex / "__init__.py").write_text((EXERCISES / "__init__.py").read_text())
    for path in sorted(EXERCISES.glob("ex*.py")):
        names = [n.name for n in ast.parse(path.read_text()).body
                 if isinstance(n, ast.FunctionDef) and n.name in rules.ALL_RULES]
        text = HEADER + "\n\n".join(inspect.getsource(getattr(rules, n)) for n in names)
        if path.name == broken:
            text += "\ndef unfinished(node:\n"
        (ex / path.name).write_text(text)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    work = tmp_path_factory.mktemp("real")
    write_reference_copy(work / "subs" / "ada")
    write_reference_copy(work / "subs" / "bob", broken="ex3_append_entries.py")
    done = subprocess.run([sys.executable, "-m", "raftlab", "grade", str(work / "subs"), "--quiet",
                           "--out", str(work / "grades.csv"), "--feedback", str(work / "feedback"),
                           "--cache", str(work / "cache"), "--jobs", "2", "--sandbox-uid", str(uid_base()),
                           "--memory", "1024", "--nproc", "128"],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return read_csv(work / "grades.csv")


def test_the_reference_written_out_by_a_student_gets_full_marks(graded):
    ada = graded["ada"]
    assert ada["status"] == "ok" and ada["reason"] == ""
    assert float(ada["total"]) == float(ada["max"]) > 0


def test_a_syntax_error_in_exercise_3_costs_exercise_3_and_its_checkpoint(graded):
    ada, bob = graded["ada"], graded["bob"]
    lost = {column for column in ada if column not in ("student", "total", "max", "status", "similarity", "reason")
            and float(bob[column]) < float(ada[column])}
    assert lost == {"ex3", "ex3_append_entries"}
    assert float(bob["ex3"]) == 0
    assert "exercises/ex3_append_entries.py could not be imported (SyntaxError" in bob["reason"]
    assert box_processes() == []
