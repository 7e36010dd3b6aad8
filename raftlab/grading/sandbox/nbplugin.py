"""pytest plugin: tell the grader how each checkpoint-notebook cell did, on a private pipe.

Loaded with ``-p raftlab.grading.sandbox.nbplugin`` into the pytest process that runs
nbval.  No student code runs in that process: the notebook's cells (and so the
student's rules) run in the kernel, a child process.  This plugin

* makes the pytest process non-dumpable, so the kernel -- same user -- can neither
  read its memory nor reach its file descriptors through ``/proc``;
* takes the write end of the grader's pipe (its number is in ``RAFTLAB_GRADER_FD``),
  keeps it out of every child process, and writes one JSON line per event: the cells
  of each notebook once collected, then each cell's result as soon as it is known.

What the kernel prints is compared by nbval with the reference outputs stored in the
instructor's notebook; whatever text it prints, only nbval's verdict reaches the pipe.
"""
from __future__ import annotations

import json
import os
import re
import sys

import pytest

from ..check.exam import set_dumpable

# nbformat's validator imports jsonschema, which builds an IRI grammar at import: 1-4 s of
# every run, for a format check no notebook needs.  (This plugin is loaded before nbval.)
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

__all__ = ["cell_points"]

_fd = None
_phases: dict = {}
_timeouts: dict = {}      # notebook -> check cells that ran out of time (see pytest_runtest_setup)


def cell_points(cell) -> float:
    """Points a check cell is worth: ``metadata["raftlab"]["points"]``, or a line
    ``# points: N`` in the cell, else 1."""
    meta = cell.get("metadata", {}).get("raftlab", {})
    if isinstance(meta, dict) and isinstance(meta.get("points"), (int, float)):
        return float(meta["points"])
    m = re.search(r"^\s*#\s*points\s*[:=]\s*(\d+(?:\.\d+)?)\s*$", cell.get("source", ""), re.M)
    return float(m.group(1)) if m else 1.0


def _emit(**event) -> None:
    if _fd is not None:
        try:
            os.write(_fd, (json.dumps(event) + "\n").encode())
        except OSError:
            pass


def _is_cell(item) -> bool:
    return (hasattr(item, "cell_num") and hasattr(item, "cell") and hasattr(item, "options")
            and not item.cell.get("metadata", {}).get("raftlab_grader", {}).get("reset"))


def _origin(item) -> tuple:
    """(notebook, cell number) the cell comes from: in the grader's merged notebook, the one
    its metadata names; otherwise its own."""
    tag = item.cell.get("metadata", {}).get("raftlab_grader", {})
    if isinstance(tag.get("notebook"), str) and isinstance(tag.get("cell"), int):
        return tag["notebook"], tag["cell"]
    return item.path.name, item.cell_num


def _head(source: str) -> str:
    lines = [ln for ln in source.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    return lines[0][:100] if lines else ""


def _shorten(text: str, head: int = 2000, tail: int = 1000) -> str:
    """A failure message without terminal colours, its start (what failed) and end kept."""
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)
    if len(text) <= head + tail:
        return text
    return text[:head] + f"\n[... {len(text) - head - tail} characters ...]\n" + text[-tail:]


def _printed(outputs, limit: int = 1500) -> str:
    """What a cell printed this time (its text outputs), for the student to compare."""
    parts = []
    for out in outputs or []:
        if out.get("output_type") == "stream":
            parts.append(str(out.get("text", "")))
        elif "data" in out and "text/plain" in out["data"]:
            parts.append(str(out["data"]["text/plain"]) + "\n")
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", "".join(parts))
    return text if len(text) <= limit else text[:limit] + " [...]"


def pytest_configure(config) -> None:
    global _fd
    set_dumpable(False)
    number = os.environ.pop("RAFTLAB_GRADER_FD", None)
    if number is not None:
        _fd = int(number)
        os.set_inheritable(_fd, False)


def pytest_collectreport(report) -> None:
    if report.failed:
        _emit(event="collect-error", path=os.path.basename(str(report.fspath)),
              message=str(report.longrepr)[-2000:])


def pytest_collection_finish(session) -> None:
    notebooks: dict = {}
    for item in session.items:
        if not _is_cell(item):
            continue
        name, number = _origin(item)
        cells = notebooks.setdefault(name, [])
        check = bool(item.options.get("check")) and not item.options.get("skip")
        cells.append({"cell": number, "check": check,
                      "points": cell_points(item.cell) if check else 0.0,
                      "unrun": item.cell.get("execution_count") is None,
                      "head": _head(item.cell.get("source", ""))})
    for name, cells in notebooks.items():
        _emit(event="notebook", notebook=name, cells=cells)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item) -> None:
    """After ``RAFTLAB_GRADER_MAX_TIMEOUTS`` cells of a notebook ran out of time (an endless
    loop in the student's code), its remaining cells are not run: each would only wait for
    its own time limit.  (The same rule as raftlab.grading.sandbox.budget for the tests.)"""
    try:
        limit = int(os.environ.get("RAFTLAB_GRADER_MAX_TIMEOUTS", "0"))
    except ValueError:
        limit = 0
    if limit > 0 and _is_cell(item):
        name, _ = _origin(item)
        if _timeouts.get(name, 0) >= limit:
            pytest.skip(f"not run: {limit} cells of {name} had already run out of time (an endless "
                        f"loop?), so the grader stopped running its cells")


def _kernel_started(item, phases) -> bool:
    """False when the cell failed because its notebook's Jupyter kernel never started (nbval
    starts it in the notebook's setup, before any cell runs): the grader's failure, not the
    code under test's, which has not run in that kernel yet."""
    setup_failed = any(r.when == "setup" and r.failed for r in phases)
    return not (setup_failed and getattr(item.parent, "kernel", None) is None)


def _text(report) -> str:
    if report.skipped and isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return report.longreprtext


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if _is_cell(item):
        phases = _phases.setdefault(item.nodeid, [])
        phases.append(report)
        if report.when == "call" and report.failed and "Timeout of" in report.longreprtext:
            name, _ = _origin(item)
            _timeouts[name] = _timeouts.get(name, 0) + 1
        if report.when == "teardown":
            _phases.pop(item.nodeid, None)
            passed = all(r.passed for r in phases) and any(r.when == "call" for r in phases)
            failed = [r for r in phases if not r.passed]
            message = ""
            if failed:
                message = _shorten(_text(failed[0])) or "skipped: an earlier cell timed out"
                printed = _printed(getattr(item, "test_outputs", None))
                if printed:
                    message += "\n\nThis run of the cell printed:\n" + printed
            name, number = _origin(item)
            _emit(event="cell", notebook=name, cell=number, passed=passed, message=message,
                  kernel_started=_kernel_started(item, phases))
    return report


def pytest_sessionfinish(session, exitstatus) -> None:
    _emit(event="done")
