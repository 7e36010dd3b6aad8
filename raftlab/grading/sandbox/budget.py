"""pytest plugin for grading runs: an exercise whose tests keep running out of time stops early.

An endless loop in a rule makes every test that calls it run until its time limit: 19 tests
of 10 s is three minutes for one submission.  After ``RAFTLAB_GRADER_MAX_TIMEOUTS`` tests of
one exercise have run out of time, its remaining tests are skipped -- a skipped test earns
nothing -- with the reason.  ``raftlab grade --max-timeouts 0`` turns this off (every test
then runs to its own limit).  Only grading loads this plugin (``PYTEST_PLUGINS``); a
student's own ``raftlab check`` runs every test.

A test's exercise is its ``@pytest.mark.exercise(N)`` marker, or the ``N`` of a module named
``test_exN_...``; a test with neither is never skipped.
"""
from __future__ import annotations

import os
import re

import pytest

__all__ = ["LIMIT_ENV"]

LIMIT_ENV = "RAFTLAB_GRADER_MAX_TIMEOUTS"

_timeouts: dict = {}


def _limit() -> int:
    try:
        return int(os.environ.get(LIMIT_ENV, "0"))
    except ValueError:
        return 0


def _exercise(item):
    marker = item.get_closest_marker("exercise")
    if marker is not None and marker.args and isinstance(marker.args[0], int):
        return marker.args[0]
    m = re.match(r"test_ex(\d+)", getattr(item, "path", None) and item.path.name or "")
    return int(m.group(1)) if m else None


def pytest_runtest_setup(item) -> None:
    limit, number = _limit(), _exercise(item)
    if limit > 0 and number is not None and _timeouts.get(number, 0) >= limit:
        pytest.skip(f"not run: {limit} tests of exercise {number} had already run out of time "
                    f"(an endless loop?), so the grader stopped running its tests")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed and "Timeout (>" in report.longreprtext:
        number = _exercise(item)
        if number is not None:
            _timeouts[number] = _timeouts.get(number, 0) + 1
    return report
