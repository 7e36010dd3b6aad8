"""The checkpoint notebooks (exercises/checkpoints/) grade with nbval: the reference and another
correct solution pass every check cell, the stubs fail every one, and a bug fails the check cells
of its own exercise only."""
import nbformat
import pytest

from raftlab.grading import EXERCISES
from raftlab.grading.bugs import catalogue
from raftlab.grading.check.checkpoint import notebook

from .helpers import ALTERNATIVE, ROOT, STUBS, nbval, submission

FOLDER = ROOT / "exercises" / "checkpoints"
NOTEBOOKS = [FOLDER / f"{EXERCISES[n].module}.ipynb" for n in sorted(EXERCISES)]
BUGS = {bug.name: bug for bug in catalogue()}


def check_cells(path):
    """nbval's numbers ("Cell N", counting code cells) of the cells marked # NBVAL_CHECK_OUTPUT."""
    code = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    return {i for i, c in enumerate(code) if c.source.startswith("# NBVAL_CHECK_OUTPUT")}


def test_the_notebooks_are_built_from_their_source_with_reference_outputs():
    assert [p.name for p in sorted(FOLDER.glob("*.ipynb"))] == sorted(p.name for p in NOTEBOOKS)
    for number, path in zip(sorted(EXERCISES), NOTEBOOKS):
        saved = nbformat.read(path, as_version=4)
        assert [c.source for c in saved.cells] == [c.source for c in notebook(number).cells], \
            f"{path.name} differs from raftlab/grading/check/checkpoint.py: run python -m raftlab.grading.check.checkpoint"
        assert len(check_cells(path)) >= 3
        for cell in saved.cells:
            if cell.cell_type == "code" and cell.source.startswith("# NBVAL_CHECK_OUTPUT"):
                text = "".join(o.get("text", "") for o in cell.outputs)
                assert text.strip() and "Error" not in text and "not written yet" not in text, text


def test_the_reference_and_another_correct_solution_pass_every_cell(tmp_path):
    for impl in ("reference", ALTERNATIVE):
        results = nbval(NOTEBOOKS, impl, tmp_path / "junit.xml")
        assert sorted(results) == sorted(p.name for p in NOTEBOOKS)
        failed = {nb: [c for c, ok in cells.items() if not ok] for nb, cells in results.items()}
        assert not any(failed.values()), f"with {impl}: {failed}"


def test_the_stubs_fail_every_check_cell(tmp_path):
    results = nbval(NOTEBOOKS, STUBS, tmp_path / "junit.xml")
    for path in NOTEBOOKS:
        cells = results[path.name]
        assert {c for c, ok in cells.items() if not ok} == check_cells(path), path.name


@pytest.mark.parametrize("name", ["ex1_fixed_election_timeout", "ex3_truncate_always", "ex5_commit_old_term",
                                  "ex7_switch_on_commit"])
def test_a_bug_fails_check_cells_of_its_exercise_only(tmp_path, name):
    bug = BUGS[name]
    pkg = submission(tmp_path, {bug.exercise: bug.path})     # the reference, with this one bug
    other = bug.exercise % len(EXERCISES) + 1
    own, neighbour = NOTEBOOKS[bug.exercise - 1], NOTEBOOKS[other - 1]
    results = nbval([own, neighbour], pkg, tmp_path / "junit.xml")
    assert not all(results[own.name].values()), f"{name}: every check cell of {own.name} passed"
    assert all(results[neighbour.name].values()), f"{name}: exercise {other} failed: {results[neighbour.name]}"
