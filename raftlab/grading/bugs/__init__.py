"""A catalogue of classic Raft bugs, one module each, to prove the graded tests honest.

Each module is what a student might hand in for one exercise: every function
of that exercise, all correct but one, which carries one documented bug, marked
``# BUG``.  The correct ones are the reference's own, read from this kit's
``raftlab/rules.py`` by path: ``raftlab check`` withholds the reference of the
exercise it grades from ``raftlab.rules``, and only the bug is to be measured.  The module says which
exercise (``EXERCISE = N``) and, in its docstring's first line, the bug.

The self-tests (``tests/grading_selftest/``) run ``raftlab check N --impl
<module>`` on every bug and require each to lose points on at least one test
of its exercise; they print the kill table (bug, exercise, points lost, tests
that caught it) and write it to ``test-artifacts/kill_table.txt``.

This folder is for instructors: ``raftlab release`` leaves it out of the
student handout (it holds near-copies of the reference solutions).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Bug", "catalogue"]

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Bug:
    name: str          # the module name, e.g. "ex2_vote_twice"
    exercise: int
    summary: str       # the docstring's first line
    path: Path


def catalogue() -> list[Bug]:
    """Every bug module in this folder, by exercise then name (read without importing them)."""
    bugs = []
    for path in sorted(HERE.glob("ex*.py")):
        tree = ast.parse(path.read_text())
        doc = ast.get_docstring(tree) or ""
        exercise = next((node.value.value for node in tree.body
                         if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                         and any(getattr(t, "id", "") == "EXERCISE" for t in node.targets)), None)
        if not isinstance(exercise, int) or not doc:
            raise ValueError(f"{path.name}: a bug module needs a docstring and EXERCISE = N")
        bugs.append(Bug(path.stem, exercise, doc.splitlines()[0].rstrip("."), path))
    return sorted(bugs, key=lambda b: (b.exercise, b.name))
