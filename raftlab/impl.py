"""Which implementation of the rules a simulation runs: the reference, or a student's.

A *rules object* is a plain namespace holding one function per rule of
:mod:`raftlab.rules`.  :func:`load_rules` builds one from the reference and
overrides the functions a student's module defines; the node only ever calls
``node.rules.<rule>(node, ...)``, so the student's code runs inside the same
engine, widgets and safety checks as the reference, for that simulation only.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Iterable, Optional, Union

from . import rules as reference_rules
from .errors import ImplementationError

__all__ = ["load_rules", "REFERENCE", "resolve_impl_module"]

REFERENCE = "reference"


class Rules(SimpleNamespace):
    """The rule functions one simulation runs, and where they came from."""

    def __repr__(self) -> str:
        return f"<Rules from {self.source}>"


def _reference_namespace() -> dict:
    return {name: getattr(reference_rules, name) for name in reference_rules.ALL_RULES}


def resolve_impl_module(impl: str) -> ModuleType:
    """Import ``impl``: a dotted module name (``exercises``) or a path to a ``.py``
    file or a package folder."""
    path = Path(impl)
    if impl.endswith(".py") or path.exists():
        if path.is_dir():
            path = path / "__init__.py"
        if not path.exists():
            raise ImplementationError(f"no implementation at {impl!r}: the file does not exist")
        digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
        name = f"raftlab_impl_{digest}"
        spec = importlib.util.spec_from_file_location(name, path,
                                                      submodule_search_locations=[str(path.parent)]
                                                      if path.name == "__init__.py" else None)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            sys.modules.pop(name, None)
            raise ImplementationError(f"could not load {impl}: {type(exc).__name__}: {exc}") from exc
        return module
    if "/" not in impl and "." not in impl:
        # a folder like "exercises" next to the notebook or in a folder above it
        for folder in (Path.cwd(), *Path.cwd().parents):
            candidate = folder / impl / "__init__.py"
            if candidate.exists():
                return resolve_impl_module(str(candidate.parent))
    try:
        return importlib.import_module(impl)
    except Exception as exc:
        raise ImplementationError(f"could not import {impl!r}: {type(exc).__name__}: {exc}") from exc


def load_rules(impl: Union[None, str, ModuleType, dict] = None,
               only: Optional[Iterable[str]] = None) -> Rules:
    """The rules for a simulation.

    ``impl`` is ``None``/``"reference"`` (the engine's own rules), a module, a
    module name or path, or a dict of functions.  Every function it defines
    whose name is a rule replaces the reference one (restricted to ``only``, if
    given).  A stub that raises ``NotImplementedError`` is still swapped in:
    running it tells the student which exercise to write.
    """
    table = _reference_namespace()
    source = REFERENCE
    if impl is not None and impl != REFERENCE:
        if isinstance(impl, str):
            source = impl
            impl = resolve_impl_module(impl)
        else:
            source = getattr(impl, "__name__", "custom rules")
        provided = impl if isinstance(impl, dict) else vars(impl)
        wanted = set(only) if only is not None else set(table)
        for name in reference_rules.ALL_RULES:
            fn = provided.get(name)
            if name in wanted and callable(fn):
                table[name] = fn
    return Rules(source=source, **table)
