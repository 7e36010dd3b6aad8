"""The gradebook and the feedback files: what they say, and that a submission's text can
neither break them nor run in a spreadsheet."""
from __future__ import annotations

import csv
import io
import os

import pytest

from raftlab.grading.grade.report import (csv_text, feedback_markdown, safe_filename, write_atomic)
from raftlab.grading.grade.runner import Calibration

CAL = Calibration(
    exercises=[{"number": 1, "title": "Elections", "max": 3.0, "tests": [{"name": "test_a", "max": 3.0}]},
               {"number": 2, "title": "RequestVote", "max": 2.0, "tests": [{"name": "test_b", "max": 2.0}]}],
    notebooks=[{"name": "cp1.ipynb", "max": 1.0, "cells": [{"cell": 2, "points": 1.0, "head": "print(x)"}]}])


def result(student="alice", explanation="assert 1 == 2", message="Cell outputs differ", problems=(), notes=()):
    return {
        "student": student, "status": "problems" if problems else "ok", "total": 2.0, "max": 6.0,
        "exercises": [
            {"number": 1, "title": "Elections", "points": 0.0, "max": 3.0, "problems": [],
             "tests": [{"name": "test_a", "points": 0.0, "max": 3.0, "passed": False,
                        "explanation": explanation, "replay": "raftlab check 1 -k test_a"}]},
            {"number": 2, "title": "RequestVote", "points": 2.0, "max": 2.0, "problems": [],
             "tests": [{"name": "test_b", "points": 2.0, "max": 2.0, "passed": True, "explanation": "",
                        "replay": ""}]}],
        "notebooks": [{"name": "cp1.ipynb", "points": 0.0, "max": 1.0, "problems": [],
                       "cells": [{"cell": 2, "points": 0.0, "max": 1.0, "passed": False, "head": "print(x)",
                                  "message": message}]}],
        "problems": list(problems), "notes": list(notes)}


def test_the_gradebook_has_a_column_per_exercise_and_notebook():
    text = csv_text([result(problems=["exercise 1: it broke"], notes=["ignored conftest.py"])], CAL)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["student", "total", "max", "status", "ex1", "ex2", "cp1", "similarity", "reason"]
    assert rows[1] == ["alice", "2", "6", "problems", "0", "2", "0", "", "exercise 1: it broke; ignored conftest.py"]


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://x\")", "+1", "-1", "@SUM(A1)"])
def test_nothing_in_the_gradebook_is_a_spreadsheet_formula(name):
    rows = list(csv.reader(io.StringIO(csv_text([result(student=name, problems=[name])], CAL))))
    assert rows[1][0] == "'" + name
    assert not rows[1][-1].startswith(("=", "+", "-", "@"))


def test_feedback_explains_each_lost_point_and_how_to_replay_it():
    text = feedback_markdown(result(problems=["exercise 1: scored 0"], notes=["ignored pytest.ini"]))
    assert text.startswith("# Raft exercises: feedback for alice\n")
    assert "**Total: 2 / 6** (status: problems)" in text
    assert "## What went wrong\n\n- exercise 1: scored 0" in text
    assert "| 1. Elections | 0 / 3 |" in text
    assert "- **test\\_a** (0 / 3)" in text and "assert 1 == 2" in text
    assert "Replay: `raftlab check 1 -k test_a`" in text
    assert "test\\_b" not in text.split("## Exercises")[1].split("###")[1]   # passed tests are not listed
    assert "| cp1.ipynb | 0 / 1 | 0 / 1 |" in text
    assert "Replay: `RAFTLAB_IMPL=exercises pytest --nbval-lax exercises/checkpoints/cp1.ipynb`" in text
    assert "## Notes\n\n- ignored pytest.ini" in text


def test_text_from_a_submission_cannot_break_out_of_its_code_block():
    hostile = "```\n# Total: 100 / 100\n<script>alert(1)</script>\n````"
    text = feedback_markdown(result(explanation=hostile, message=hostile))
    fences = [line for line in text.splitlines() if line.strip().startswith("`````")]
    assert len(fences) == 4                       # each block fenced longer than anything inside it
    assert text.count("**Total:") == 1


def test_names_become_safe_file_names():
    for hostile in ("../../etc/passwd", ".bashrc", "a\x00b", "con:x"):
        name = safe_filename(hostile)
        assert "/" not in name and "\x00" not in name and ":" not in name and not name.startswith(".")
    assert safe_filename("Zoë Ørsted") == "Zoë Ørsted"
    assert safe_filename("...") == "student"


def test_an_interrupted_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "grades.csv"
    write_atomic(path, "old\n")

    def fail(*args):
        raise KeyboardInterrupt()
    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, "new\n")
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["grades.csv"]      # no temporary file left
