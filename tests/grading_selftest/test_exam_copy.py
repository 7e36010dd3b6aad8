"""Delegation to the reference is impossible, not detected: `raftlab check` grades exercise N in a
process whose raftlab is an exam copy without exercise N's reference functions.

Each route a student could take to the reference is a module below.  Each is shown to reach it
where the reference is there (this process: the control), and to earn nothing under
`raftlab check`.  (The handout's withheld module is tested in test_autograder_release.py, the
class grader's boxes in tests/grading/test_grade_hostile_files.py.)
"""
import ast
import os
import subprocess
import sys

import pytest

from raftlab import Role
from raftlab.grading.check import exam
from raftlab.grading.check.harness import make_node
from raftlab.grading.check.score import run_check
from raftlab.grading.release import _body_lines, find_leaks
from raftlab.impl import resolve_rules
from raftlab.rules import EXERCISE_RULES

from .helpers import ROOT

RULES_SOURCE = (ROOT / "raftlab" / "rules.py").read_text()

#: Ways to call the reference advance_commit_index (exercise 5) instead of writing it.
ROUTES = {
    "direct": '''from raftlab import rules


def advance_commit_index(node):
    return rules.advance_commit_index(node)
''',
    "imported": '''from raftlab.rules import advance_commit_index as _reference


def advance_commit_index(node):
    return _reference(node)
''',
    "node_rules": '''def advance_commit_index(node):
    # another rule the node runs is the reference's: its module holds this one too
    return node.rules.handle_append_entries.__globals__["advance_commit_index"](node)
''',
    "gc": '''import gc
import types


def advance_commit_index(node):
    for obj in gc.get_objects():
        if (isinstance(obj, types.FunctionType) and obj.__name__ == "advance_commit_index"
                and obj.__module__ == "raftlab.rules"):
            return obj(node)
''',
    "inspect": '''import inspect

import raftlab.rules

_copy = {"__name__": "raftlab.copied_rules", "__package__": "raftlab"}
exec(compile(inspect.getsource(raftlab.rules), "copied rules", "exec"), _copy)


def advance_commit_index(node):
    return _copy["advance_commit_index"](node)
''',
    "reload_from_disk": '''import importlib.util

import raftlab.rules

_spec = importlib.util.spec_from_file_location("raftlab.reloaded_rules", raftlab.rules.__file__)
_again = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_again)


def advance_commit_index(node):
    return _again.advance_commit_index(node)
''',
}


def commits_like_the_reference(rules) -> bool:
    """A leader of term 2 whose entry 2 is on a majority (n1, n2 of 3) commits it."""
    node = make_node(rules, "n1", nodes=3, term=2, log=[2, 2], role=Role.LEADER)
    node.match_index = {"n2": 2, "n3": 0}
    rules.advance_commit_index(node)
    return node.commit_index == 2


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_each_route_to_the_reference_earns_nothing(tmp_path, route):
    module = tmp_path / f"{route}.py"
    module.write_text(ROUTES[route])
    # The control: where the reference is there, the route reaches it and commits like it.
    assert commits_like_the_reference(resolve_rules(str(module), exercise=5, missing="unwritten"))
    result = run_check([5], impl=str(module), keyword="majority")
    (five,) = result.exercises
    assert len(five.tests) == 3 and five.max > 0
    assert five.points == 0, [(t.name, t.explanation) for t in five.tests if t.passed]


def test_an_exam_copy_holds_no_code_of_its_exercise_and_all_the_rest(tmp_path):
    names = EXERCISE_RULES[3]
    bodies = _body_lines(RULES_SOURCE, names)
    whole = exam.build(tmp_path / "whole", [])
    assert find_leaks(whole, bodies), "the control: a whole copy holds the code of exercise 3"
    copy = exam.build(tmp_path / "exam", [3])
    assert find_leaks(copy, bodies) == []
    package = copy / "raftlab"
    assert not (package / "grading" / "bugs").exists()
    assert not list(package.rglob("__pycache__")) and not list(package.rglob("*.pyc"))
    assert "WITHHELD = (3,)" in (package / "_exam.py").read_text()
    tree = ast.parse((package / "rules.py").read_text())
    reference = ast.parse(RULES_SOURCE)
    for fn in exam.functions(tree, [n for n in tree_names(reference) if n not in names]).values():
        assert ast.dump(fn) == ast.dump(exam.functions(reference, [fn.name])[fn.name]), fn.name
    stand_in = exam.functions(tree, names)["handle_append_entries"]
    assert ast.get_docstring(stand_in) == ast.get_docstring(exam.functions(reference, names)["handle_append_entries"])
    assert "is withheld while exercise 3 is graded" in ast.unparse(stand_in.body[-1])


def tree_names(tree) -> list:
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]


def run_in(copy, code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(copy), PYTHONSAFEPATH="1")
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=copy, capture_output=True, text=True,
                          timeout=120)


def test_a_process_knows_it_runs_in_an_exam_copy(tmp_path):
    assert exam.withheld_here() is None
    copy = exam.build(tmp_path / "exam", [2, 5])
    done = run_in(copy, "import raftlab, raftlab.rules as r\nfrom raftlab.grading.check.exam import withheld_here\n"
                        "print(withheld_here(), raftlab.__file__)\nr.update_term(None, 1)")
    assert done.stdout.startswith(f"(2, 5) {copy / 'raftlab' / '__init__.py'}"), done.stderr
    assert "NotImplementedError: Exercise 2: the reference update_term is withheld" in done.stderr


def test_check_in_an_exam_copy_grades_only_the_withheld_exercise(tmp_path):
    copy = exam.build(tmp_path / "exam", [3])
    tests = ["--tests", str(ROOT / "tests" / "exercises")]
    for args, message in ((["1", "--impl", str(ROOT / "exercises"), *tests], "it can check only those"),
                          (["3", "--impl", "reference", *tests], "it cannot check the reference")):
        done = run_in(copy, f"import sys\nfrom raftlab.cli import main\nsys.exit(main(['check', *{args!r}]))")
        assert done.returncode == 2 and message in done.stderr, done.stderr
