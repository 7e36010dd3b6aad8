"""The graded exercise tests: fixtures and markers.

Each test module declares its exercise (``pytestmark = pytest.mark.exercise(N)``)
and each test its points (``@pytest.mark.points(P)``, default 1).  The fixtures
give a test the code under test, for that exercise only:

* ``impl``:  the exercise's functions, by rule name, to pass as
  ``Simulation(..., impl=impl)`` (``{}`` for the reference);
* ``rules``: the whole rule namespace a unit node runs (the reference, with the
  exercise's functions swapped in), for ``harness.make_node(rules, ...)``.

Which code: ``raftlab check`` sets ``RAFTLAB_CHECK_IMPL`` (see
raftlab/grading/check.py).  Plain ``pytest`` (and so ``make test``) leaves it
unset and runs these tests against the reference rules, which must pass them
all; ``RAFTLAB_CHECK_IMPL=exercises pytest tests/exercises`` runs them on your code.

Tests that students do not see go in ``tests/exercises/hidden/`` (same markers);
``raftlab release`` leaves that folder out of the handout.
"""
import pytest

from raftlab.grading import harness
from raftlab.impl import load_rules

MARKERS = ("exercise(n): the exercise (1-6) a graded test belongs to",
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
def impl(request):
    """The functions of this test's exercise from the code under test."""
    harness.forget_tracked()
    return harness.exercise_functions(_exercise(request))


@pytest.fixture
def rules(impl):
    """The rule namespace for unit nodes: the reference with this exercise's functions swapped in."""
    return load_rules(impl)
