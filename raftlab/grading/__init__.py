"""The exercises, and everything that scores them.

A student writes the rules of Figure 2 in ``exercises/`` (one module per exercise,
in lesson order) and checks them with ``raftlab check``; an instructor grades a
class with ``raftlab grade`` and hands out the kit with ``raftlab release``.  Each
exercise is graded on its own: only its functions come from the student's code,
every other rule is the reference -- and its own reference is not there to call.

* :mod:`raftlab.grading.check`   -- what a student runs: ``raftlab check`` and ``raftlab.check(3)``,
  ``replay_failure``, the harness and pytest plugin of the graded tests, the checkpoint notebooks, and
  the exam copy of raftlab each exercise is graded in.
* :mod:`raftlab.grading.grade`   -- what an instructor runs for a class: ``raftlab grade`` (take each
  submission in, grade it in boxes, write the gradebook and the feedback).
* :mod:`raftlab.grading.sandbox` -- the box a submission's code runs in, and what runs inside it (import
  probe, integrity guard, kernel, pytest plugins).
* :mod:`raftlab.grading.release` -- ``raftlab release``: the student handout (without ``grade``,
  ``sandbox``, ``release`` and ``bugs``).
* :mod:`raftlab.grading.bugs`    -- the bug catalogue: classic Raft bugs the graded tests must catch
  (instructors only).

This module itself holds the list of exercises (:data:`EXERCISES`).
"""
from __future__ import annotations

import ast
import threading
from dataclasses import dataclass
from typing import Union

from ..rules import EXERCISE_RULES

__all__ = ["Exercise", "EXERCISES", "EXERCISE_RULES", "exercise_of", "parse_python"]

_PARSING = threading.Lock()


def parse_python(source: Union[str, bytes], filename: str = "<unknown>") -> ast.Module:
    """``ast.parse``, one thread at a time.  CPython 3.11 keeps the AST builder's recursion count per
    interpreter, not per thread, so two threads parsing at once can fail with "SystemError: AST
    constructor recursion depth mismatch" (seen on a Dask worker, where a submission's tests and its
    notebooks are prepared side by side).  Every parse the grader does goes through here."""
    with _PARSING:
        return ast.parse(source, filename=filename)


@dataclass(frozen=True)
class Exercise:
    """One exercise: its number, title, the module a student edits and the rules it holds."""
    number: int
    title: str
    module: str
    rules: tuple

    @property
    def path(self) -> str:
        return f"exercises/{self.module}.py"


EXERCISES: dict[int, Exercise] = {
    1: Exercise(1, "Leader election", "ex1_election", EXERCISE_RULES[1]),
    2: Exercise(2, "The term rule and RequestVote", "ex2_request_vote", EXERCISE_RULES[2]),
    3: Exercise(3, "AppendEntries on the follower", "ex3_append_entries", EXERCISE_RULES[3]),
    4: Exercise(4, "The leader handles AppendEntries replies", "ex4_replication", EXERCISE_RULES[4]),
    5: Exercise(5, "The commit rule", "ex5_commit", EXERCISE_RULES[5]),
    6: Exercise(6, "Clients", "ex6_clients", EXERCISE_RULES[6]),
    7: Exercise(7, "Membership changes", "ex7_membership", EXERCISE_RULES[7]),
}


def exercise_of(rule: str) -> int:
    """The number of the exercise a rule belongs to (``"handle_request_vote"`` -> 2)."""
    for number, names in EXERCISE_RULES.items():
        if rule in names:
            return number
    raise KeyError(f"{rule!r} is not an exercise rule; exercise rules: "
                   + ", ".join(n for names in EXERCISE_RULES.values() for n in names))

