"""The graded exercise tests: fixtures and markers.

Each test module declares its exercise (``pytestmark = pytest.mark.exercise(N)``)
and each test its points (``@pytest.mark.points(P)``, default 1).  The fixtures
give a test the code under test, for that exercise only:

* ``rules``: the rules a node runs -- the exercise's functions from the code under
  test, every other rule the reference -- for ``harness.make_node(rules, ...)``;
* ``impl``:  the same rules, to pass as ``Simulation(..., impl=impl)``.

Which code: ``raftlab check`` names it (its pytest plugin's ``--raftlab-impl``,
see raftlab/grading/check/score.py) and runs each exercise in an exam copy of
raftlab without that exercise's reference.  Plain ``pytest`` (and so ``make
test``) runs these tests against the reference rules, which must pass them all.

Tests that students do not see go in ``tests/exercises/hidden/`` (same markers);
``raftlab release`` leaves that folder out of the handout.
"""
import pytest

from raftlab.grading.check import harness

MARKERS = ("exercise(n): the exercise (1-7) a graded test belongs to",
           "points(p): how many points a graded test is worth (default 1)")


def pytest_configure(config):
    for line in MARKERS:
        config.addinivalue_line("markers", line)


def _exercise(request) -> int:
    marker = request.node.get_closest_marker("exercise")
    if marker is None or not marker.args:
        pytest.fail(f"{request.node.nodeid} needs @pytest.mark.exercise(N)", pytrace=False)
    return marker.args[0]


@pytest.fixture
def rules(request):
    """The rules under test for this test's exercise: its functions from the code under test,
    every other rule the reference."""
    harness.forget_tracked()
    return harness.rules_for(_exercise(request))


@pytest.fixture
def impl(rules):
    """The same rules, for ``Simulation(..., impl=impl)`` and ``harness.cluster(impl, ...)``."""
    return rules
