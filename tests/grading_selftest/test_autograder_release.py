"""`raftlab release` writes a handout without the solutions, hidden tests, bug catalogue or class
grader, in which the engine, the public tests and the lessons still run -- and in which the
withheld reference is no route around `raftlab check`."""
import ast
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from raftlab.grading import EXERCISES
from raftlab.grading.release import KIT_ROOT, ReleaseError, _kit_files, release
from raftlab.rules import EXERCISE_RULES

from .helpers import run_cli


@pytest.fixture(scope="module")
def handout(tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "handout"
    report = release(out, notebooks=["00_welcome.ipynb"], progress=lambda _: None)
    return out, report


def test_the_handout_leaves_out_what_students_must_not_see(handout):
    out, report = handout
    for gone in ("raftlab/grading/bugs", "tests/grading_selftest", "tests/exercises/hidden", "tests/engine",
                 "tests/grading"):
        assert not (out / gone).exists() and gone in report.left_out
    assert (out / "tests" / "exercises" / "test_ex3_append_entries.py").is_file()
    assert (out / "exercises" / "checkpoints" / "ex1_election.ipynb").is_file()
    assert "## For instructors" not in (out / "README.md").read_text()
    assert not list(out.rglob("__pycache__"))


def test_the_handout_leaves_out_the_class_grader(handout):
    out, report = handout
    for gone in ("raftlab/grading/grade", "raftlab/grading/sandbox", "raftlab/grading/release.py",
                 "docs/grading-threat-model.md", "bench/grade.py"):
        assert not (out / gone).exists() and gone in report.left_out, gone
    assert (out / "raftlab" / "grading" / "check" / "exam.py").is_file()
    assert "no class grader, sandbox, release command or bug catalogue" in report.checks
    commands = in_handout(out, "-m", "raftlab", "--help").stdout
    assert re.search(r"^ +check ", commands, re.M) and not re.search(r"^ +(grade|release) ", commands, re.M), commands


def in_handout(out, *args, cwd=None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "RAFTLAB_IMPL")}
    env["PYTHONPATH"] = str(out)
    return subprocess.run([sys.executable, *args], cwd=cwd or out, env=env, capture_output=True, text=True,
                          timeout=600)


#: Two ways to the reference advance_commit_index through the handout's withheld module.
WITHHELD_ROUTES = {
    "withheld_module": "from raftlab import _withheld\n\n\n"
                       "def advance_commit_index(node):\n    return _withheld.advance_commit_index(node)\n",
    "decompressed": "import base64, zlib\nfrom raftlab import _withheld\n\n"
                    "_code = {'__name__': 'raftlab.unpacked', '__package__': 'raftlab'}\n"
                    "exec(zlib.decompress(base64.b85decode(_withheld._CODE)).decode(), _code)\n\n\n"
                    "def advance_commit_index(node):\n    return _code['advance_commit_index'](node)\n",
}
CONTROL = """import sys
from raftlab import Role
from raftlab.grading.check.harness import make_node
from raftlab.impl import resolve_rules
rules = resolve_rules(sys.argv[1], exercise=5, missing="unwritten")
node = make_node(rules, "n1", nodes=3, term=2, log=[2, 2], role=Role.LEADER)
node.match_index = {"n2": 2, "n3": 0}
rules.advance_commit_index(node)
print(node.commit_index)
"""


@pytest.mark.parametrize("route", sorted(WITHHELD_ROUTES))
def test_the_withheld_module_is_no_route_to_the_reference(handout, tmp_path, route):
    out, _ = handout
    module = tmp_path / f"{route}.py"
    module.write_text(WITHHELD_ROUTES[route])
    control = in_handout(out, "-c", CONTROL, str(module))      # where the reference is there, it reaches it
    assert control.stdout.strip() == "2", control.stderr
    score = tmp_path / "score.json"
    done = in_handout(out, "-m", "raftlab", "check", "5", "--impl", str(module), "-k", "majority",
                      "--json", str(score), cwd=tmp_path)
    data = json.loads(score.read_text())
    assert done.returncode == 1 and data["max"] > 0 and data["total"] == 0, done.stdout


def test_the_exercised_rules_are_withheld_but_still_run(handout):
    out, report = handout
    tree = ast.parse((out / "raftlab" / "rules.py").read_text())
    withheld = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)
                and n.name in {r for rules in EXERCISE_RULES.values() for r in rules}}
    assert sorted(withheld) == sorted(report.withheld) and len(withheld) == 12
    for fn in withheld.values():
        assert ast.get_docstring(fn), f"{fn.name} lost its docstring"
        (call,) = fn.body[1:]
        assert "_withheld." + fn.name in ast.unparse(call)
    scores = {c.split(":")[0]: c.split(": ")[1].removesuffix(" points").split(" / ")
              for c in report.checks if c.startswith("raftlab check")}
    got, most = scores["raftlab check --impl reference"]       # the withheld reference, in the handout
    assert got == most and float(most) > 0
    assert scores["raftlab check --impl exercises"][0] == "0"
    assert "1 lesson notebook(s) pass nbval" in report.checks


def test_the_stubs_are_the_kits(handout):
    out, _ = handout
    for ex in EXERCISES.values():
        assert (out / ex.path).read_text() == (KIT_ROOT / ex.path).read_text()


def kit_copy(tmp_path):
    """A copy of the kit, without git, to spoil."""
    root = tmp_path / "kit"
    for rel in _kit_files(KIT_ROOT):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(KIT_ROOT / rel, root / rel)
    return root


def test_release_refuses_to_hand_out_a_solution_or_a_leak(tmp_path):
    root = kit_copy(tmp_path)
    solved = root / "exercises" / "ex5_commit.py"
    original = solved.read_text()
    solved.write_text(original.replace("    raise NotImplementedError(", "    return None\n    raise NotImplementedError(", 1))
    with pytest.raises(ReleaseError, match="ex5_commit.py: advance_commit_index is not a stub"):
        release(tmp_path / "out1", root=root, verify=False)
    solved.write_text(original)
    rules = (KIT_ROOT / "raftlab" / "rules.py").read_text()
    start = rules.index("def handle_append_entries(")
    (root / "notebooks" / "peek.py").write_text(rules[start:rules.index("\ndef ", start + 10)])
    with pytest.raises(ReleaseError, match="notebooks/peek.py holds the code of handle_append_entries"):
        release(tmp_path / "out2", root=root, verify=False)


def test_the_command_line_refuses_a_folder_in_use(tmp_path):
    (tmp_path / "something").write_text("")
    proc = run_cli("release", str(tmp_path))
    assert proc.returncode == 2 and "already exists and is not an empty folder" in proc.stderr
