"""Every bug in the catalogue (raftlab/grading/bugs/) loses points on a test of its exercise.

The kill table (bug, exercise, points lost, tests that caught it) is written to
test-artifacts/kill_table.txt; `make test` prints it at the end of its summary.
"""
import ast
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from raftlab.grading import EXERCISES
from raftlab.grading.bugs import catalogue
from raftlab.grading.check import run_check
from raftlab.impl import defined_rules

from .helpers import ROOT

BUGS = catalogue()
#: The first test to use kill_results pays for ``raftlab check`` on every bug (60-odd processes, 4 at a time):
#: about 4 minutes on a quiet 2-core machine, more than the suite's 300 s per test when the cores are shared.
pytestmark = pytest.mark.timeout(1200)
KILL_TABLE = ROOT / "test-artifacts" / "kill_table.txt"
#: A bug that loops forever costs its tests this many seconds each; the reference needs well under one.
TIMEOUT = 5


def kill_table(results) -> str:
    killed = sum(1 for _, r in results if r.total < r.max)
    lines = [f"{len(results)} bugs, {killed} caught (each must lose points on a test of its exercise)", "",
             f"{'bug':<36} {'ex':>2} {'lost':>9}  tests that caught it"]
    for bug, result in results:
        ex = result.exercises[0]
        caught = [t.name.removeprefix("test_") for t in ex.tests if not t.passed]
        lost = f"{ex.max - ex.points:g}/{ex.max:g}"
        lines.append(f"{bug.name:<36} {bug.exercise:>2} {lost:>9}  {', '.join(caught) or 'NOTHING'}")
        lines.append(f"{'':<36}    {'':>9}  ({bug.summary})")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def kill_results():
    """``raftlab check N --impl BUG`` for every bug, two at a time (each check is its own process)."""
    def check(bug):
        return bug, run_check([bug.exercise], impl=str(bug.path), timeout=TIMEOUT, save_failures=False)

    with ThreadPoolExecutor(max_workers=max(2, min(4, os.cpu_count() or 2))) as pool:
        results = list(pool.map(check, BUGS))
    KILL_TABLE.parent.mkdir(exist_ok=True)
    KILL_TABLE.write_text(kill_table(results))
    return {bug.name: result for bug, result in results}


def test_the_catalogue_has_classic_bugs_in_every_exercise():
    assert len(BUGS) >= 25
    for number in EXERCISES:
        assert len([b for b in BUGS if b.exercise == number]) >= 3, f"exercise {number} has fewer than 3 bugs"


@pytest.mark.parametrize("bug", BUGS, ids=[b.name for b in BUGS])
def test_each_bug_module_is_one_documented_bug_in_a_whole_exercise(bug):
    source = bug.path.read_text()
    tree = ast.parse(source)
    assert set(EXERCISES[bug.exercise].rules) <= defined_rules(tree), "it must provide every function of its exercise"
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "raftlab.rules"], \
        "an import of raftlab.rules earns nothing under raftlab check: the bug would not be what is measured"
    assert source.count("# BUG") == 1, "one bug, marked # BUG"


@pytest.mark.parametrize("bug", BUGS, ids=[b.name for b in BUGS])
def test_each_bug_loses_points(kill_results, bug):
    result = kill_results[bug.name]
    (ex,) = result.exercises
    assert ex.number == bug.exercise and ex.max > 0
    assert ex.points < ex.max, f"{bug.name} ({bug.summary}) passes every test of exercise {bug.exercise}"
    failed = [t for t in ex.tests if not t.passed]
    assert all(t.explanation and "never finished" not in t.explanation for t in failed), \
        [t.explanation for t in failed]
