"""What a student runs: ``raftlab check``, ``raftlab.check(3)`` and ``raftlab.replay_failure``.

* :mod:`~raftlab.grading.check.score`      -- run the graded tests, print the score table, write the JSON
  ``raftlab grade`` reads, replay a failing run in the Explorer; the ``raftlab check`` command.
* :mod:`~raftlab.grading.check.exam`       -- the exam copy of raftlab: the package without the reference
  functions of the exercise being graded, which each exercise's tests run in.
* :mod:`~raftlab.grading.check.harness`    -- what the graded tests use: the rules under test, unit nodes,
  clusters, fault campaigns, explanations in Raft terms.
* :mod:`~raftlab.grading.check.plugin`     -- the pytest plugin ``raftlab check`` loads: the code under test,
  points, timeouts, results.
* :mod:`~raftlab.grading.check.checkpoint` -- the checkpoint notebooks in ``exercises/checkpoints/``: their
  helpers, and how they are built.
"""
from .score import (
                    DEFAULT_TIMEOUT,
                    CheckResult,
                    ExerciseResult,
                    TestResult,
                    check,
                    default_tests_dir,
                    failures_dir,
                    register,
                    replay_failure,
                    run_check,
)

__all__ = ["check", "run_check", "replay_failure", "CheckResult", "ExerciseResult", "TestResult",
           "default_tests_dir", "failures_dir", "register", "DEFAULT_TIMEOUT"]
