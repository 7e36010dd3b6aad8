"""The exam copy of raftlab: the package without the reference functions of the exercise being graded.

``raftlab check`` grades exercise N in a Python process of its own whose first
``sys.path`` entry holds an exam copy of raftlab made for N (:func:`build`);
``raftlab grade`` does the same inside its boxes.  In the copy:

* ``raftlab/rules.py`` -- each function of exercise N keeps its signature and
  docstring, and its body only raises ``NotImplementedError`` saying that the
  reference is withheld while exercise N is graded;
* ``raftlab/_withheld.py`` (a handout's reference bodies, compressed) -- rewritten
  without exercise N's functions;
* ``raftlab/grading/bugs/`` (near-copies of the solutions) and every ``__pycache__``
  -- left out;
* ``raftlab/_exam.py`` -- ``WITHHELD = (N,)``: how that process knows
  (:func:`withheld_here`).

So that process never holds exercise N's reference in any form -- no function
object, no source, no bytecode, compressed or not.  A student's rule that
delegates to it (``rules.handle_append_entries(node, m)``, or the same reached
through ``node.rules``, ``gc``, ``inspect`` or the withheld module) finds only the
stand-in, and earns nothing.

What is not in that process can still be elsewhere: the kit's own files on disk,
and the memory of the process that started it (:func:`set_dumpable` hides it from
processes of the same user).  docs/grading-threat-model.md says what is closed and
what is not.

The same ``ast`` surgery writes the handout (:mod:`raftlab.grading.release`):
:func:`replace_bodies`, :func:`withheld_module` and :func:`withheld_code`.
"""
from __future__ import annotations

import ast
import base64
import ctypes
import shutil
import zlib
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

from ...rules import EXERCISE_RULES
from .. import parse_python

__all__ = ["build", "withheld_here", "strip_rules", "replace_bodies", "functions", "withheld_module",
           "withheld_code", "drop_functions", "set_dumpable", "PACKAGE", "WITHHELD_MODULE", "EXAM_MODULE"]

#: The running raftlab package (an exam copy is made from it).
PACKAGE = Path(__file__).resolve().parents[2]
WITHHELD_MODULE = "_withheld"
EXAM_MODULE = "_exam"
#: Never copied into an exam copy (relative to the package).
_LEFT_OUT = ("grading/bugs",)
_PR_SET_DUMPABLE = 4


def withheld_here() -> Optional[tuple]:
    """The exercises whose reference functions this process's raftlab does not hold, if it is
    an exam copy (``()``: a whole copy); None if it is not an exam copy."""
    try:
        from ... import _exam
    except ImportError:
        return None
    return tuple(_exam.WITHHELD)


def set_dumpable(flag: bool) -> bool:
    """``prctl(PR_SET_DUMPABLE)``: a process that is not dumpable cannot have its memory or
    file descriptors read through ``/proc`` by other processes of its own user (its
    children included).  Returns whether it worked (Linux only)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_DUMPABLE, 1 if flag else 0, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


# --- the ast surgery ---------------------------------------------------------------------------

def functions(tree: ast.Module, names: Iterable[str]) -> dict:
    """The top-level functions of ``tree`` named ``names``, by name."""
    wanted = set(names)
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in wanted}


def _has_docstring(fn: ast.FunctionDef) -> bool:
    first = fn.body[0]
    return isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)


def replace_bodies(source: str, names: Sequence[str], body: Callable[[ast.FunctionDef], str]) -> str:
    """``source`` with the body of each function in ``names`` (after its docstring) replaced by
    the one line ``body(fn)`` returns (without indentation).  Raises KeyError for a missing name."""
    tree = parse_python(source)
    found = functions(tree, names)
    missing = [n for n in names if n not in found]
    if missing:
        raise KeyError(", ".join(missing))
    lines = source.splitlines(keepends=True)
    for fn in sorted(found.values(), key=lambda f: f.lineno, reverse=True):    # bottom up: line numbers hold
        doc = _has_docstring(fn)
        first = fn.body[1] if doc and len(fn.body) > 1 else fn.body[0]
        call = " " * first.col_offset + body(fn) + "\n"
        if doc and len(fn.body) == 1:
            lines[fn.end_lineno - 1] += call
        else:
            lines[first.lineno - 1:fn.end_lineno] = [call]
    return "".join(lines)


def drop_functions(source: str, names: Iterable[str]) -> str:
    """``source`` without its top-level functions named ``names`` (decorators included)."""
    tree = parse_python(source)
    lines = source.splitlines(keepends=True)
    for fn in sorted(functions(tree, names).values(), key=lambda f: f.lineno, reverse=True):
        start = fn.decorator_list[0].lineno if fn.decorator_list else fn.lineno
        del lines[start - 1:fn.end_lineno]
    return "".join(lines)


def withheld_module(code: str) -> str:
    """The source of ``_withheld.py``: ``code`` compressed, run when the module is imported."""
    blob = base64.b85encode(zlib.compress(code.encode(), 9)).decode()
    wrapped = "\n".join(f'    "{blob[i:i + 96]}"' for i in range(0, len(blob), 96))
    return (f'"""The reference solutions of the exercises, withheld from the student handout.\n\n'
            f"Compressed so that reading raftlab/rules.py does not give the answers away.  This\n"
            f"deters; it does not prevent: the instructor's copy of raftlab has the plain source.\n"
            f'"""\nimport base64 as _b\nimport zlib as _z\n\n_CODE = (\n{wrapped}\n)\n'
            f'exec(compile(_z.decompress(_b.b85decode(_CODE)).decode(), "<raftlab: withheld reference rules>",'
            f' "exec"), globals())\n')


def withheld_code(module_source: str) -> str:
    """The code a ``_withheld.py`` written by :func:`withheld_module` holds, decompressed."""
    for node in ast.parse(module_source).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "_CODE" for t in node.targets):
            return zlib.decompress(base64.b85decode(ast.literal_eval(node.value))).decode()
    raise ValueError(f"{WITHHELD_MODULE}.py holds no _CODE")


# --- the exam copy ---------------------------------------------------------------------------

def _stand_in(number: int) -> Callable[[ast.FunctionDef], str]:
    def body(fn: ast.FunctionDef) -> str:
        message = (f"Exercise {number}: the reference {fn.name} is withheld while exercise {number} is graded, "
                   f"so calling raftlab.rules.{fn.name} earns nothing: the grader runs your own")
        return f"raise NotImplementedError({message!r})"
    return body


def strip_rules(rules_source: str, numbers: Iterable[int]) -> str:
    """``rules.py`` with the bodies of the functions of exercises ``numbers`` replaced by stand-ins."""
    for number in sorted(set(numbers)):
        rules_source = replace_bodies(rules_source, EXERCISE_RULES[number], _stand_in(number))
    return rules_source


def _copy_package(source: Path, target: Path) -> None:
    def ignore(folder: str, names: list) -> set:
        rel = Path(folder).relative_to(source).as_posix()
        out = {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".pyo"))}
        out |= {n for n in names if (n if rel == "." else f"{rel}/{n}") in _LEFT_OUT}
        return out | ({f"{EXAM_MODULE}.py"} if rel == "." else set())
    shutil.copytree(source, target, ignore=ignore)


def _withheld_in(package: Path) -> tuple:
    """The exercises an exam copy at ``package`` already withholds (``()`` for a whole raftlab)."""
    marker = package / f"{EXAM_MODULE}.py"
    if not marker.is_file():
        return ()
    for node in ast.parse(marker.read_text()).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "WITHHELD" for t in node.targets):
            return tuple(ast.literal_eval(node.value))
    return ()


def build(dest: Path, numbers: Iterable[int], source: Optional[Path] = None) -> Path:
    """Write an exam copy of raftlab without the reference functions of exercises ``numbers``
    (none: a whole copy, for the reference's own runs) into ``dest/raftlab`` (``dest`` must not
    exist, or be empty); returns ``dest``, the folder to put first on the grading process's
    ``sys.path``."""
    numbers = sorted(set(numbers))
    unknown = [n for n in numbers if n not in EXERCISE_RULES]
    if unknown:
        raise ValueError(f"an exam copy withholds exercises among {sorted(EXERCISE_RULES)}, not {unknown}")
    source = Path(source or PACKAGE)
    numbers = sorted(set(numbers) | set(_withheld_in(source)))
    dest = Path(dest)
    target = dest / "raftlab"
    _copy_package(source, target)
    rules = target / "rules.py"
    rules.write_text(strip_rules(rules.read_text(), numbers))
    withheld = target / f"{WITHHELD_MODULE}.py"
    if withheld.is_file() and numbers:
        names = [name for n in numbers for name in EXERCISE_RULES[n]]
        withheld.write_text(withheld_module(drop_functions(withheld_code(withheld.read_text()), names)))
    (target / f"{EXAM_MODULE}.py").write_text(
        f'"""This raftlab is an exam copy: the reference functions of these exercises are not in it."""\n'
        f"WITHHELD = {tuple(numbers)!r}\n")
    return dest
