"""Exercises and the autograder.

A student writes the rules of Figure 2 in ``exercises/`` (one module per
exercise, in lesson order) and checks them with ``raftlab check`` in a terminal
or ``raftlab.check(3)`` in a notebook.  The checks are the pytest tests in
``tests/exercises/``, each worth points; they run in a separate process against
the implementation being graded, with only that exercise's functions swapped in
(the other exercises run the reference), so exercises are graded independently.

* :mod:`raftlab.grading.check`    -- ``raftlab check``: run the tests, print the score table, write JSON;
  ``replay_failure`` opens a failing run in the Explorer.
* :mod:`raftlab.grading.harness`  -- what the graded tests use: the implementation under test, unit nodes,
  clusters, fault campaigns, explanations in Raft terms.
* :mod:`raftlab.grading.plugin`   -- the pytest plugin ``raftlab check`` loads: points, timeouts, results.
* :mod:`raftlab.grading.checkpoint` -- helpers for the checkpoint notebooks in ``exercises/checkpoints/``.
* :mod:`raftlab.grading.release`  -- ``raftlab release``: the student handout.
* :mod:`raftlab.grading.bugs`     -- known-buggy variants that prove the tests catch classic Raft bugs
  (instructors only; not in the handout).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..rules import EXERCISE_RULES

__all__ = ["Exercise", "EXERCISES", "EXERCISE_RULES", "exercise_of"]


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
}


def exercise_of(rule: str) -> int:
    """The number of the exercise a rule belongs to (``"handle_request_vote"`` -> 2)."""
    for number, names in EXERCISE_RULES.items():
        if rule in names:
            return number
    raise KeyError(f"{rule!r} is not an exercise rule; exercise rules: "
                   + ", ".join(n for names in EXERCISE_RULES.values() for n in names))

