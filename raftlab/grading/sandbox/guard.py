"""Notice when a submission changes the engine or the test framework while it is graded.

A student's rules run in the same Python process as the exercise tests (the engine
calls them directly), so a module that replaces, say, ``raftlab.invariants``'s checks,
``raftlab.impl.resolve_rules`` or pytest's report machinery could make broken code look
right.  Before any student code loads, :func:`take_snapshot` records the identity of
every function and class (and of each method and code object) in the protected
modules; :func:`findings` compares the present with it.  The grader trusts a run only
when this guard saw nothing change, after every test and at the end.

This catches a submission that patches what it should not, by accident or on purpose.
It does not stop code written against the grader itself: code in the same process can
also patch this module (see docs/grading-threat-model.md).

Used three ways: :mod:`raftlab.grading.sandbox.run` snapshots before it starts
``raftlab check``; as a pytest plugin (``PYTEST_PLUGINS``, inherited by the pytest
process ``raftlab check`` starts, where the student's code runs) it checks after every
test; :mod:`raftlab.grading.sandbox.kernel` checks after every notebook cell.  Each
process appends its verdict, one JSON line, to the file named by ``RAFTLAB_GRADER_VERDICT``.
"""
from __future__ import annotations

import builtins
import importlib
import json
import os
import sys
import types

# The guard's own references to the builtins it uses, bound when it is imported: a submission
# that replaces a builtin must neither blind nor crash the code that looks for that.
from builtins import dict, getattr, id, isinstance, len, list, str, tuple, type, vars  # noqa: A004
from typing import Iterable, Optional

import pluggy

__all__ = ["ENGINE_MODULES", "KERNEL_MODULES", "TEST_FRAMEWORK_MODULES", "take_snapshot", "findings", "write_verdict"]

#: The engine, and what picks the student's functions and scores them: what the exercise
#: tests and the checkpoint notebooks rely on.
ENGINE_MODULES = ("raftlab", "raftlab.rules", "raftlab.impl", "raftlab.node", "raftlab.log",
                  "raftlab.messages", "raftlab.network", "raftlab.sim", "raftlab.invariants",
                  "raftlab.statemachine", "raftlab.config", "raftlab.errors", "raftlab.scenarios",
                  "raftlab.grading", "raftlab.grading.check.harness", "raftlab.grading.check.plugin",
                  "raftlab.grading.check.checkpoint", "raftlab.grading.check.exam",
                  "raftlab.grading.sandbox.files", "raftlab.grading.sandbox.guard")

#: What the guard watches in a notebook kernel (the pytest plugin has no business there).
KERNEL_MODULES = tuple(m for m in ENGINE_MODULES if m != "raftlab.grading.check.plugin")

#: The environment variable naming the file each guarded process appends its verdict to.
VERDICT_ENV = "RAFTLAB_GRADER_VERDICT"

#: How pytest runs tests and reports them, and how results are written.
TEST_FRAMEWORK_MODULES = ("pytest", "_pytest.runner", "_pytest.reports", "_pytest.python",
                          "_pytest.main", "_pytest.outcomes", "_pytest.nodes", "_pytest.fixtures",
                          "_pytest.skipping", "_pytest.terminal", "_pytest.junitxml",
                          "_pytest.config", "_pytest.unittest", "pluggy", "pluggy._callers",
                          "pluggy._hooks", "pluggy._manager", "pytest_timeout", "json",
                          "json.encoder", "json.decoder", "raftlab.cli", "raftlab.grading.check.score",
                          "raftlab.grading.check.plugin", "raftlab.grading.sandbox.run")

#: name -> snapshot: "engine" (taken before any student code), "framework" (taken when the
#: test session starts, after pytest's plugins have set themselves up -- some of them patch
#: pytest on purpose -- and dropped when it ends, when they undo that).
_snapshots: dict = {}
_seen: list = []          # (finding, when first seen), each once


def _code_id(obj) -> Optional[int]:
    code = getattr(obj, "__code__", None)
    return id(code) if code is not None else None


def _describe(obj) -> tuple:
    """What must not change about one attribute: the object, and for functions its code."""
    if isinstance(obj, (staticmethod, classmethod)):
        inner = obj.__func__
        return (id(obj), id(inner), _code_id(inner))
    if isinstance(obj, property):
        return (id(obj),) + tuple(id(f) for f in (obj.fget, obj.fset, obj.fdel))
    return (id(obj), _code_id(obj))


def _guarded(value) -> bool:
    return isinstance(value, (types.FunctionType, types.BuiltinFunctionType, type,
                              staticmethod, classmethod, property, types.MethodType))


def _module_print(module) -> dict:
    out = {}
    for name, value in list(vars(module).items()):
        if not _guarded(value):
            continue                     # data may legitimately change while tests run
        out[name] = _describe(value)
        if isinstance(value, type) and getattr(value, "__module__", None) == module.__name__:
            for attr, member in list(vars(value).items()):
                if isinstance(member, (types.FunctionType, staticmethod, classmethod, property)):
                    out[f"{name}.{attr}"] = _describe(member)
    return out


def _builtins_print() -> dict:
    # Builtin functions and types only: ipykernel swaps ``input`` while a cell runs.
    return {name: id(value) for name, value in vars(builtins).items()
            if isinstance(value, (types.BuiltinFunctionType, type)) and name != "input"}


def take_snapshot(modules: Iterable[str] = ENGINE_MODULES, with_builtins: bool = True,
                  kind: str = "engine") -> dict:
    """Import the protected modules (those that exist) and record them.  Call it before
    any student code runs; a second call for the same ``kind`` keeps the first snapshot."""
    if kind in _snapshots:
        return _snapshots[kind]
    snap: dict = {"modules": {}, "builtins": _builtins_print() if with_builtins else None}
    for name in modules:
        try:
            module = importlib.import_module(name)
        except Exception:
            continue
        snap["modules"][name] = (id(module), _module_print(module))
    _snapshots[kind] = snap
    return snap


def _compare(snap: dict, limit: int) -> list:
    found = []
    for name, (module_id, before) in snap["modules"].items():
        module = sys.modules.get(name)
        if module is None or id(module) != module_id:
            found.append(f"the module {name} was replaced or removed")
            continue
        now = _module_print(module)
        for attr, fingerprint in before.items():
            if now.get(attr) != fingerprint:
                found.append(f"{name}.{attr} was replaced")
                if len(found) >= limit:
                    return found
    if snap["builtins"] is not None:
        now_b = _builtins_print()
        for attr, ident in snap["builtins"].items():
            if now_b.get(attr) != ident:
                found.append(f"the builtin {attr} was replaced")
    return found[:limit]


def findings(limit: int = 10) -> list:
    """What changed since the snapshots, as sentences (empty: nothing did)."""
    if "engine" not in _snapshots:
        return ["the grader's integrity guard was never started"]
    found = []
    for snap in list(_snapshots.values()):
        found += [f for f in _compare(snap, limit) if f not in found]
    return found[:limit]


def record(where: str) -> list:
    """Check now; remember (once) anything new, saying when it was first seen."""
    for text in findings():
        if not any(text == t for t, _ in _seen):
            _seen.append((text, where))
    return _seen


def write_verdict(where: str, path: Optional[str] = None, **facts) -> None:
    """Append this process's verdict to the grader's file (it trusts only clean ones)."""
    path = path or os.environ.get(VERDICT_ENV)
    if not path:
        return
    record(f"at the end of the {where}")
    data = {"where": where, "clean": not _seen, "findings": [f"{t} ({w})" for t, w in _seen],
            "pid": os.getpid(), **facts}
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (json.dumps(data) + "\n").encode())
    finally:
        os.close(fd)


# --- as a pytest plugin (PYTEST_PLUGINS=raftlab.grading.sandbox.guard) -------------------
# pytest's own hook marker, without importing pytest (the notebook kernel imports this module).
_hookimpl = pluggy.HookimplMarker("pytest")


def pytest_configure(config) -> None:
    take_snapshot()        # no-op when sandbox.run already took it, before any student code


@_hookimpl(trylast=True)
def pytest_sessionstart(session) -> None:
    take_snapshot(TEST_FRAMEWORK_MODULES, with_builtins=False, kind="framework")


def pytest_runtest_logfinish(nodeid, location) -> None:
    # After teardown: fixtures such as ``monkeypatch`` have undone their own changes.
    record(f"after the test {nodeid}")


@_hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus) -> None:
    write_verdict("pytest", tests=session.testscollected)
    _snapshots.pop("framework", None)
