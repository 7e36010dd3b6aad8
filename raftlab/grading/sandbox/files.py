"""The rules of a submission whose package does not import: chosen files, each on its own.

When a submission's ``exercises/`` package imports, the grader hands ``raftlab check``
and the notebooks the folder itself.  When a file of it is broken, the grader writes a
small module per run (``impl_ex3.py``, ``impl_all.py``) that calls :func:`load_files`
with the files that do import and exports what it returns: the rule functions those
files define, each file imported on its own inside a stand-in package (so ``from .
import helpers`` still works).  A syntax error in exercise 1 then costs exercise 1 and
nothing else.  A rule none of the files defines is simply absent: the rule loader
(``resolve_rules(..., missing="unwritten")``) makes it a stand-in that says so.
"""
from __future__ import annotations

from typing import Iterable

from ...impl import import_file
from ...rules import ALL_RULES

__all__ = ["load_files"]


def load_files(folder: str, files: Iterable[str]) -> dict:
    """The rule functions the top-level ``files`` of ``folder`` define, each file imported
    afresh and on its own (a later file's function wins)."""
    rules: dict = {}
    for filename in files:
        module = import_file(folder, filename)
        rules.update({name: fn for name, fn in vars(module).items() if name in ALL_RULES and callable(fn)})
    return rules
