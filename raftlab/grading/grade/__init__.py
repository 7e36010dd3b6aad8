"""What an instructor runs for a class: ``raftlab grade SUBMISSIONS --out grades.csv --feedback feedback/``.

* :mod:`~raftlab.grading.grade.classroom` -- the command: calibration, every submission (in parallel,
  cached by content), the gradebook and the feedback files.
* :mod:`~raftlab.grading.grade.stage`     -- take a submission in (a folder or a zip): what is copied, what
  is left behind, and what parsing its files tells.
* :mod:`~raftlab.grading.grade.runner`    -- grade one submission in its boxes: import probe, one
  ``raftlab check`` run per exercise, the checkpoint notebooks, each in an exam copy of raftlab.
* :mod:`~raftlab.grading.grade.results`   -- reading what a box wrote, warily; the result records.
* :mod:`~raftlab.grading.grade.report`    -- the gradebook (CSV) and each student's feedback (Markdown).
"""
from .classroom import GradeOptions, grade_class, main, register

__all__ = ["register", "grade_class", "GradeOptions", "main"]
