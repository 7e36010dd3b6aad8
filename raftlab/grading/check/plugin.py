"""The pytest plugin behind ``raftlab check`` (loaded with ``-p raftlab.grading.check.plugin``).

It names the code under test (``--raftlab-impl SPEC``: ``reference``, a path or a
module name; see :func:`raftlab.grading.check.harness.select`), reads each test's
exercise and points from its markers::

    pytestmark = pytest.mark.exercise(2)          # every test of the module

    @pytest.mark.points(3)
    def test_rejects_candidate_with_stale_log(rules): ...

keeps only the exercises asked for (``--raftlab-exercises 1,3``), and writes one
JSON line per test to ``--raftlab-results FILE`` as soon as the test ends: passed
or not, and for a failure an explanation in Raft terms and, when the test ran a
simulation, the run to replay.  Lines are flushed one by one, so if a student's
module kills the interpreter the tests that finished still count.  The first
line lists every selected test, so ``raftlab check`` can tell which ones never
finished.  Per-test time limits come from pytest-timeout (``--timeout``).
"""
from __future__ import annotations

import json
import traceback
from pathlib import Path
from typing import Any, Optional

import pytest

from ...errors import ImplementationError, NodeError, SafetyViolation
from ...rules import EXERCISE_RULES
from . import harness

MARKERS = ("exercise(n): the exercise (1-7) a graded test belongs to",
           "points(p): how many points a graded test is worth (default 1)")

_RESULTS_KEY = pytest.StashKey[dict]()


def pytest_addoption(parser) -> None:
    group = parser.getgroup("raftlab", "raftlab check")
    group.addoption("--raftlab-results", metavar="FILE", default=None,
                    help="write one JSON line per graded test to FILE")
    group.addoption("--raftlab-exercises", metavar="N,M", default="",
                    help="run only the tests of these exercises (default: all)")
    group.addoption("--raftlab-impl", metavar="SPEC", default=None,
                    help="the code under test: reference (the default), a path or a module name")


def pytest_configure(config) -> None:
    harness.select(config.getoption("--raftlab-impl"))
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    path = config.getoption("--raftlab-results")
    config.stash[_RESULTS_KEY] = {"file": open(path, "a", encoding="utf-8") if path else None,
                                  "tests": {}, "outcomes": {}}


def pytest_unconfigure(config) -> None:
    state = config.stash.get(_RESULTS_KEY, None)
    if state and state["file"] is not None:
        _write(state, {"problems": harness.load_problems()})
        state["file"].close()
        state["file"] = None


def _write(state: dict, data: dict) -> None:
    out = state["file"]
    if out is not None:
        out.write(json.dumps(data, default=str) + "\n")
        out.flush()


def exercise_number(item) -> Optional[int]:
    marker = item.get_closest_marker("exercise")
    if marker is None or not marker.args or marker.args[0] not in EXERCISE_RULES:
        return None
    return marker.args[0]


def points(item) -> float:
    marker = item.get_closest_marker("points")
    return float(marker.args[0]) if marker is not None and marker.args else 1.0


@pytest.hookimpl(trylast=True)          # after -k and -m have deselected what they deselect
def pytest_collection_modifyitems(config, items) -> None:
    state = config.stash[_RESULTS_KEY]
    wanted = {int(x) for x in config.getoption("--raftlab-exercises").split(",") if x.strip()}
    keep, drop, problems = [], [], []
    names: dict[tuple[Optional[int], str], int] = {}
    for item in items:
        number = exercise_number(item)
        if number is None:
            problems.append(f"{item.nodeid} has no @pytest.mark.exercise(N) with N in 1-{len(EXERCISE_RULES)}; "
                            "it was not run")
            drop.append(item)
        elif wanted and number not in wanted:
            drop.append(item)
        else:
            keep.append(item)
            names[(number, item.name)] = names.get((number, item.name), 0) + 1
    # by exercise, its hidden tests last (a stable sort keeps the rest in order)
    keep.sort(key=lambda item: (exercise_number(item), _hidden(item)))
    for item in keep:
        number = exercise_number(item)
        name = item.name if names[(number, item.name)] == 1 else f"{Path(item.path).stem}::{item.name}"
        state["tests"][item.nodeid] = {"id": item.nodeid, "exercise": number, "name": name,
                                       "max": points(item)}
    if drop:
        config.hook.pytest_deselected(items=drop)
    items[:] = keep
    _write(state, {"collected": list(state["tests"].values()), "problems": problems})


def _hidden(item) -> bool:
    path = Path(item.path)
    return "hidden" in path.parts or path.name.startswith("hidden_")


def pytest_runtest_setup(item) -> None:
    harness.forget_tracked()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    state = item.config.stash[_RESULTS_KEY]
    if item.nodeid not in state["tests"]:
        return
    seen = state["outcomes"].setdefault(item.nodeid, {"passed": True, "explanation": "", "record": None})
    if report.passed or not seen["passed"]:
        return
    seen["passed"] = False
    if report.skipped:
        seen["explanation"] = f"the test was skipped ({_skip_reason(report)}): it earns no points"
        return
    excinfo = call.excinfo
    timeout = item.config.getoption("timeout", None)
    seen["explanation"] = explain(excinfo, timeout, harness.selected_impl())
    seen["unwritten"] = _unwritten(excinfo)
    if report.when == "teardown":
        seen["explanation"] = "after the test: " + seen["explanation"]
    seen["record"] = failure_record(excinfo)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    yield
    state = item.config.stash[_RESULTS_KEY]
    test = state["tests"].get(item.nodeid)
    if test is None:
        return
    seen = state["outcomes"].get(item.nodeid, {"passed": False, "explanation": "the test did not run",
                                               "record": None})
    _write(state, {"result": item.nodeid, "passed": seen["passed"], "explanation": seen["explanation"],
                   "unwritten": seen.get("unwritten", False), "record": seen["record"]})
    harness.forget_tracked()


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


# --- explanations ------------------------------------------------------------------------------

def _where(excinfo, impl: str) -> str:
    """`` (in ex3_append_entries.py line 42, handle_append_entries)``: the innermost
    frame of the traceback in the implementation's own files."""
    root = Path(impl)
    if impl in ("", "reference") or not root.exists():
        return ""
    root = root.resolve()
    exc = excinfo.value if excinfo is not None else None
    tb = exc.__cause__.__traceback__ if isinstance(exc, NodeError) and exc.__cause__ else \
        (excinfo.tb if excinfo is not None else None)
    found = ""
    for frame, lineno in traceback.walk_tb(tb):
        path = Path(frame.f_code.co_filename).resolve()
        if path == root or (root.is_dir() and root in path.parents):
            found = f" (in {path.relative_to(root.parent)} line {lineno}, {frame.f_code.co_name})"
    return found


def explain(excinfo, timeout: Optional[float] = None, impl: str = "") -> str:
    """What went wrong, in Raft terms, from the exception that failed a test."""
    if excinfo is None:
        return "the test failed"
    exc = excinfo.value
    if isinstance(exc, harness.RaftCheckFailed):
        return str(exc)
    if isinstance(exc, SafetyViolation):
        text = f"{exc.property} violated: {exc.detail}"
        if exc.step is not None:
            text += f" (at step {exc.step}, t={exc.time} ms)"
        if exc.recent:
            text += "\nlast events:\n" + "\n".join(f"  {e}" for e in exc.recent[-6:])
        return text
    if isinstance(exc, NodeError):
        cause = exc.__cause__
        if isinstance(cause, NotImplementedError):
            return str(cause)
        return str(exc) + _where(excinfo, impl)
    if isinstance(exc, (NotImplementedError, ImplementationError)):
        return str(exc)
    if excinfo.typename == "Failed" and "Timeout" in str(exc):
        limit = f"{timeout:g} s" if timeout else "its time limit"
        return f"the test did not finish within {limit}: an endless loop in your code?" + _where(excinfo, impl)
    if isinstance(exc, AssertionError):
        first = str(exc).split("\n")[0].strip() or "an assertion failed"
        return first + _where(excinfo, impl)
    return f"{type(exc).__name__}: {exc}" + _where(excinfo, impl)


def _unwritten(excinfo) -> bool:
    """Did the test fail because the exercise is still a stub (NotImplementedError)?"""
    exc = excinfo.value if excinfo is not None else None
    if isinstance(exc, NodeError):
        exc = exc.__cause__
    return isinstance(exc, NotImplementedError)


def failure_record(excinfo) -> Optional[dict[str, Any]]:
    """The simulation run a failed test left, to replay in the Explorer: the saved
    run (seed, config, operator actions) and the step to stop at (just before
    the step that broke, or where the run ended)."""
    exc = excinfo.value if excinfo is not None else None
    sims = harness.tracked()
    if isinstance(exc, SafetyViolation):
        mine = [s for s in sims if s.violation is exc]
        run = mine[0].to_json() if mine else getattr(exc, "run", None)
        if run is not None and exc.step is not None:
            return {"run": run, "stop_step": max(exc.step - 1, 0), "seed": run["config"]["seed"],
                    "why": f"the next step breaks {exc.property}"}
    for sim in reversed(sims):
        if sim.error is not None:
            return {"run": sim.to_json(), "stop_step": max(sim.steps - 1, 0), "seed": sim.config.seed,
                    "why": "the next step raises an exception in your code"}
    if sims:
        sim = sims[-1]
        return {"run": sim.to_json(), "stop_step": sim.steps, "seed": sim.config.seed,
                "why": "where the run ended when the check failed"}
    return None
