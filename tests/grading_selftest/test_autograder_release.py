"""`raftlab release` writes a handout without the solutions, hidden tests or bug catalogue, in
which the engine, the public tests and the lessons still run."""
import ast
import shutil

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
    for gone in ("raftlab/grading/bugs", "tests/grading_selftest", "tests/exercises/hidden", "tests/engine"):
        assert not (out / gone).exists() and gone in report.left_out
    assert (out / "tests" / "exercises" / "test_ex3_append_entries.py").is_file()
    assert (out / "exercises" / "checkpoints" / "ex1_election.ipynb").is_file()
    assert "## For instructors" not in (out / "README.md").read_text()
    assert not list(out.rglob("__pycache__"))


def test_the_exercised_rules_are_withheld_but_still_run(handout):
    out, report = handout
    tree = ast.parse((out / "raftlab" / "rules.py").read_text())
    withheld = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)
                and n.name in {r for rules in EXERCISE_RULES.values() for r in rules}}
    assert sorted(withheld) == sorted(report.withheld) and len(withheld) == 9
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
