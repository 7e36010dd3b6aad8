"""The rules of one submission, as the grader hands them to ``raftlab check`` and the notebooks.

The grader writes a three-line module per run (``impl_all.py``, ``impl_ex3.py``...) that
calls :func:`student_rules` and exports what it returns; ``--impl`` and ``RAFTLAB_IMPL``
point at that module.  It loads the student's code one of two ways:

* **package**: the student's ``exercises/`` exactly as ``Simulation(impl="exercises")``
  loads it (its ``__init__.py`` decides what it exports);
* **files**: chosen files only, each imported on its own inside a stand-in package (so
  ``from . import helpers`` still works) -- used when another file is broken, so a
  syntax error in exercise 3 costs exercise 3 and nothing else.

Every rule of the exercises asked for is exported: the student's function if it is
there, else a stand-in that raises ``NotImplementedError`` saying why.  So a deleted
stub, or the reference imported from ``raftlab.rules``, never quietly runs the
engine's own rule in the student's place.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
import zlib
from pathlib import Path
from types import ModuleType
from typing import Iterable

from .. import rules as reference
from ..impl import resolve_impl_module

__all__ = ["student_rules", "stand_in_package", "import_file", "rule_names"]


def rule_names(numbers: Iterable[int]) -> list:
    return [name for n in numbers for name in reference.EXERCISE_RULES[n]]


def stand_in_package(folder: str) -> ModuleType:
    """An empty package whose ``__path__`` is the student's folder (its ``__init__.py`` is
    not run), so that single files import with their relative imports working."""
    name = f"raftlab_submission_{zlib.crc32(str(folder).encode()):08x}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_loader(name, loader=None, is_package=True)
    package = importlib.util.module_from_spec(spec)
    package.__path__ = [str(folder)]
    sys.modules[name] = package
    return package


def import_file(folder: str, filename: str) -> ModuleType:
    """Import ``folder/filename`` (a top-level ``.py``) as a module of the stand-in package."""
    package = stand_in_package(folder)
    return importlib.import_module(f"{package.__name__}.{Path(filename).stem}")


def _stand_in(name: str, number: int, why: str):
    def rule(*args, **kwargs):
        raise NotImplementedError(f"Exercise {number}: {name} {why}")
    rule.__name__ = rule.__qualname__ = name
    rule.__doc__ = f"Stand-in put there by the grader: {name} {why}."
    return rule


def student_rules(spec: dict) -> dict:
    """The rule functions for ``spec``: ``{"package": folder, "files": None | [names],
    "numbers": [exercise numbers], "reference": bool}``."""
    numbers = list(spec["numbers"])
    if spec.get("reference"):
        namespace = vars(reference)
    elif spec.get("files") is None:
        namespace = vars(resolve_impl_module(spec["package"]))
    else:
        namespace = {}
        prefix = stand_in_package(spec["package"]).__name__ + "."
        for name in [m for m in sys.modules if m.startswith(prefix)]:
            del sys.modules[name]             # load the files afresh, as the package is
        for filename in spec["files"]:
            namespace.update(vars(import_file(spec["package"], filename)))
    out = {}
    for number in numbers:
        for name in reference.EXERCISE_RULES[number]:
            fn = namespace.get(name)
            if not callable(fn):
                fn = _stand_in(name, number, "is not defined in your exercises")
            elif not spec.get("reference") and fn is getattr(reference, name):
                fn = _stand_in(name, number, "is the reference rule imported from raftlab.rules, "
                                             "not your own")
            out[name] = fn
    return out
