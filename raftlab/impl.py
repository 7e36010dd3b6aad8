"""The one rule loader: which rules a simulation, ``raftlab check``, the checkpoint
notebooks and ``raftlab grade`` run.

A :class:`Rules` object holds one function per rule of :mod:`raftlab.rules`
(``ALL_RULES``).  A node only ever calls ``node.rules.<rule>(node, ...)``, so a
student's functions run inside the same engine, widgets and safety checks as the
reference.  :func:`resolve_rules` builds one::

    resolve_rules(None)                  the reference (so does "reference")
    resolve_rules("exercises")           your exercises/ folder (found from the current folder upwards)
    resolve_rules("path/to/mine.py")     a .py file or a package folder, read afresh on every call
    resolve_rules("some.module")         an importable module
    resolve_rules(module)                a module object, or a dict {"advance_commit_index": f}
    resolve_rules(rules)                 a Rules: returned as it is, so a rewind never re-imports
    resolve_rules(spec, exercise=3)      exercise 3's functions from spec, every other rule the reference

**Which rules come from the spec.**  With ``exercise=None``, every rule the spec
defines replaces the reference one (the engine's own rules too, which is how a
lesson changes one rule); with ``exercise=N``, only exercise N's.

**A rule the spec does not define** (``missing``) -- one rule everywhere: by default
it is the reference (``"reference"``: ``impl={"advance_commit_index": f}`` changes
one rule and keeps the rest).  The graders pass ``"unwritten"``: a stand-in that
raises ``NotImplementedError("Exercise 3: handle_append_entries is missing from
...")``, so deleting a stub earns nothing.  ``"error"`` raises
:class:`~raftlab.ImplementationError` at once.  Only exercise rules can be missing.

**Delegation.**  A student's rule that calls the reference rule of its own
exercise (``return rules.handle_append_entries(node, m)``) runs the reference in a
simulation: nothing is graded there.  When exercise N is graded -- by ``raftlab
check`` and so by ``raftlab grade`` -- its tests run in a process whose raftlab is
an *exam copy* (:mod:`raftlab.grading.check.exam`) in which exercise N's reference
functions do not exist, so delegating earns nothing under both.

**The environment variable.**  ``RAFTLAB_IMPL`` (:data:`IMPL_ENV`) names the code
under test for ``raftlab check`` (the default of ``--impl``) and the checkpoint
notebooks; unset, it is your ``exercises/`` folder (:func:`impl_from_env`).
"""
from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.util
import os
import sys
import zlib
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any, Callable, Optional

from . import rules as reference_rules
from .errors import ImplementationError

__all__ = ["Rules", "resolve_rules", "REFERENCE", "IMPL_ENV", "MISSING", "impl_from_env",
           "find_exercises", "locate", "import_spec", "import_file", "defined_rules"]

REFERENCE = "reference"
#: The one environment variable: the code under test (``raftlab check``, the checkpoint notebooks).
IMPL_ENV = "RAFTLAB_IMPL"
#: What a rule the spec does not define becomes (see the module docstring).
MISSING = ("reference", "unwritten", "error")
_EXERCISE_OF = {name: n for n, names in reference_rules.EXERCISE_RULES.items() for name in names}


class Rules(SimpleNamespace):
    """The rule functions one simulation runs; ``source`` says where they came from (for
    people), ``spec`` names them in a saved run, ``problems`` says what loading them met."""

    def __repr__(self) -> str:
        return f"<Rules from {self.source}>"


def impl_from_env() -> str:
    """The code under test: ``$RAFTLAB_IMPL``, else ``"exercises"`` (your exercises/ folder)."""
    return os.environ.get(IMPL_ENV) or "exercises"


# --- finding the code -------------------------------------------------------------------------

def find_exercises(start: Optional[Path] = None) -> Optional[Path]:
    """The student's ``exercises/`` folder: in ``start`` (default: the current folder) or
    one of its parents, else beside the raftlab package."""
    start = Path.cwd() if start is None else Path(start)
    for folder in (start, *start.resolve().parents):
        candidate = folder / "exercises"
        if (candidate / "__init__.py").is_file():
            return candidate.resolve()
    beside = Path(__file__).resolve().parents[1] / "exercises"
    return beside if (beside / "__init__.py").is_file() else None


def _is_reference(spec: Any) -> bool:
    return spec is None or (isinstance(spec, str) and spec in ("", REFERENCE))


def _path_of(spec: str, start: Optional[Path] = None) -> Optional[Path]:
    """The file or folder ``spec`` names, if it names one (else it is a module name)."""
    if spec == "exercises":
        found = find_exercises(start)
        if found is None:
            raise ImplementationError("there is no exercises/ folder here or in a parent folder; "
                                      "run from the raftlab folder or name the code's path")
        return found
    path = Path(spec).expanduser()
    if not path.is_absolute() and start is not None:
        path = Path(start) / path
    if path.exists():
        if path.is_dir() and not (path / "__init__.py").is_file():
            raise ImplementationError(f"{spec} is a folder without __init__.py: name a module (.py file) "
                                      f"or a package such as exercises/")
        return path.resolve()
    if spec.endswith(".py") or os.sep in spec:
        raise ImplementationError(f"no implementation at {spec!r}: the file does not exist")
    return None


def locate(spec: Any, start: Optional[Path] = None) -> str:
    """``spec`` as another process can load it, from any folder: ``"reference"`` or an
    absolute path (a module name becomes its file's).  Raises
    :class:`~raftlab.ImplementationError` when there is no such code."""
    if _is_reference(spec):
        return REFERENCE
    path = _path_of(str(spec), start)
    if path is not None:
        return str(path)
    try:
        found = importlib.util.find_spec(str(spec))
    except (ImportError, ValueError):
        found = None
    if found is None:
        raise ImplementationError(f"no implementation {spec!r}: not a file, a folder or an importable module")
    if found.origin and Path(found.origin).is_file():      # its file: found from any folder, by any process
        origin = Path(found.origin)
        return str(origin.parent if found.submodule_search_locations else origin)
    return str(spec)


# --- importing it -------------------------------------------------------------------------------

def _forget(name: str) -> None:
    for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
        del sys.modules[key]


def _execute(name: str, spec, what: str) -> ModuleType:
    if spec is None or spec.loader is None:     # e.g. a .json file: Python cannot import it
        raise ImplementationError(f"cannot load rules from {what}: name a Python file (.py) or a package "
                                  f"folder such as exercises/")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:            # SystemExit and friends, from a student's module
        _forget(name)
        raise ImplementationError(f"could not load {what}: {type(exc).__name__}: {exc}") from exc
    return module


def _import_path(path: Path, what: str) -> ModuleType:
    """Import a ``.py`` file or a package folder afresh (its submodules too)."""
    if path.is_dir():
        path = path / "__init__.py"
    name = "raftlab_impl_" + hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
    package = [str(path.parent)] if path.name == "__init__.py" else None
    _forget(name)
    return _execute(name, importlib.util.spec_from_file_location(name, path, submodule_search_locations=package),
                    what)


def import_spec(spec: str) -> ModuleType:
    """The module ``spec`` names (``exercises``, a path, or a module name); files are read
    afresh on every call.  Raises :class:`~raftlab.ImplementationError`."""
    path = _path_of(spec)
    if path is not None:
        return _import_path(path, spec)
    try:
        return importlib.import_module(spec)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        raise ImplementationError(f"could not import {spec!r}: {type(exc).__name__}: {exc}") from exc


def _stand_in_package(folder: str) -> ModuleType:
    """An empty package whose ``__path__`` is ``folder`` (its ``__init__.py`` is not run),
    so that one file imports with its relative imports working."""
    name = f"raftlab_submission_{zlib.crc32(str(folder).encode()):08x}"
    if name not in sys.modules:
        package = ModuleType(name)
        package.__path__ = [str(folder)]
        sys.modules[name] = package
    return sys.modules[name]


def import_file(folder: str, filename: str) -> ModuleType:
    """Import ``folder/filename`` (a top-level ``.py``) on its own, afresh, as a module of a
    stand-in package; raises the module's own exception."""
    name = f"{_stand_in_package(folder).__name__}.{Path(filename).stem}"
    _forget(name)
    return importlib.import_module(name)


def defined_rules(tree: ast.Module) -> set:
    """The rule names a module defines at top level (``def`` or assignment), read from its syntax."""
    found = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found.update(t.id for t in targets if isinstance(t, ast.Name))
    return found & set(reference_rules.ALL_RULES)


def _files_of(folder: Path, exercise: int) -> list:
    """The top-level files of ``folder`` that hold exercise ``exercise``: its own file
    (``ex3_append_entries.py``, whatever is in it) and every file that defines one of its rules."""
    from .grading import EXERCISES
    own = f"{EXERCISES[exercise].module}.py"
    wanted, found = set(reference_rules.EXERCISE_RULES[exercise]), []
    for path in sorted(folder.glob("*.py")):
        try:
            defines = defined_rules(ast.parse(path.read_bytes()))
        except (SyntaxError, ValueError, OSError):
            defines = set()
        if path.name == own or (path.name != "__init__.py" and wanted & defines):
            found.append(path.name)
    return found


def _load(spec: str, exercise: Optional[int]) -> tuple:
    """(namespace, problems) of ``spec``.  A package that does not import (a syntax error in
    another exercise) still gives exercise N from its own files, each imported alone."""
    try:
        return vars(import_spec(spec)), []
    except ImplementationError as exc:
        path = _path_of(spec) if exercise is not None else None
        files = _files_of(path, exercise) if exercise is not None and path and path.is_dir() else []
        if not files:
            raise
        namespace: dict = {}
        for filename in files:
            try:
                namespace.update(vars(import_file(str(path), filename)))
            except KeyboardInterrupt:
                raise
            except BaseException as alone:
                raise ImplementationError(f"could not load {filename}: {type(alone).__name__}: {alone}") from alone
        return namespace, [f"{exc}; exercise {exercise} was loaded from {', '.join(files)} alone"]


# --- the rules ------------------------------------------------------------------------------------

def _unwritten(name: str, where: str) -> Callable:
    from .grading import EXERCISES
    number = _EXERCISE_OF[name]
    message = f"Exercise {number}: {name} is missing from {where} - see {EXERCISES[number].path}"

    def rule(*_args: Any, **_kwargs: Any) -> None:
        raise NotImplementedError(message)
    rule.__name__ = rule.__qualname__ = name
    rule.__doc__ = f"Stand-in for a rule that is not there: {message}."
    return rule


def _name_of(spec: Any) -> tuple:
    """(source, spec) naming ``spec``: for people, and for a saved run."""
    if isinstance(spec, (str, Path)):
        return str(spec), str(spec)
    if isinstance(spec, Rules):
        return spec.source, spec.spec
    if isinstance(spec, dict):
        text = "rules given as a dict: " + ", ".join(sorted(spec))
        return "custom rules", {"custom": text}
    name = getattr(spec, "__name__", type(spec).__name__)
    return name, {"custom": f"rules from module {name}"}


def _namespace(spec: Any, exercise: Optional[int]) -> tuple:
    if isinstance(spec, (str, Path)):
        return _load(str(spec), exercise)
    if isinstance(spec, dict):
        return spec, []
    return vars(spec), list(getattr(spec, "problems", []))


def _check(exercise: Optional[int], missing: str) -> None:
    if exercise is not None and exercise not in reference_rules.EXERCISE_RULES:
        raise ValueError(f"there is no exercise {exercise!r}; exercises are {sorted(reference_rules.EXERCISE_RULES)}")
    if missing not in MISSING:
        raise ValueError(f"missing must be one of {', '.join(MISSING)}, not {missing!r}")


def resolve_rules(spec: Any = None, exercise: Optional[int] = None, missing: str = "reference") -> Rules:
    """The rules ``spec`` names (see the module docstring for every kind of spec).

    ``exercise``: only that exercise's functions come from ``spec``.  ``missing``: what an
    exercise rule ``spec`` does not define becomes -- ``"reference"`` (the default),
    ``"unwritten"`` (a stand-in raising ``NotImplementedError`` naming the exercise) or
    ``"error"`` (:class:`~raftlab.ImplementationError` now).  Raises
    :class:`~raftlab.ImplementationError` when the code cannot be loaded."""
    if isinstance(spec, Rules) and exercise is None:
        return spec
    _check(exercise, missing)
    table = {name: getattr(reference_rules, name) for name in reference_rules.ALL_RULES}
    if _is_reference(spec):
        return Rules(source=REFERENCE, spec=REFERENCE, problems=[], **table)
    source, name = _name_of(spec)
    namespace, problems = _namespace(spec, exercise)
    wanted = reference_rules.EXERCISE_RULES[exercise] if exercise is not None else reference_rules.ALL_RULES
    absent = []
    for rule in wanted:
        fn = namespace.get(rule)
        if callable(fn):
            table[rule] = fn
        elif rule in _EXERCISE_OF and missing != "reference":
            absent.append(rule)
            table[rule] = _unwritten(rule, source)
    if absent and missing == "error":
        raise ImplementationError(f"{source} does not define {', '.join(absent)}")
    if exercise is not None:
        source = f"exercise {exercise} from {source}"
        name = {"custom": f"{source}, the other rules the reference"}
    return Rules(source=source, spec=name, problems=problems, **table)
