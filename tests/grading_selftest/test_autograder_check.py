"""`raftlab check` is honest: full marks for correct code, nothing for stubs, each exercise on
its own, and a crash, an endless loop or a syntax error costs only what it breaks."""
import json

import pytest

import raftlab
from raftlab import SafetyViolation
from raftlab.grading import EXERCISES
from raftlab.grading.bugs import catalogue
from raftlab.grading.check import replay_failure, run_check

from .helpers import ALTERNATIVE, ROOT, STUBS, assert_schema, run_cli, submission

BUGS = {bug.name: bug.path for bug in catalogue()}


def test_the_reference_scores_full_marks():
    result = run_check(impl="reference")
    assert not result.errors
    assert [e.number for e in result.exercises] == [1, 2, 3, 4, 5, 6, 7]
    for ex in result.exercises:
        failed = [(t.name, t.explanation) for t in ex.tests if not t.passed]
        assert not failed, f"exercise {ex.number}: the reference fails {failed}"
        assert len(ex.tests) >= 8 and ex.points == ex.max > 0
    assert result.total == result.max and result.passed
    assert_schema(json.loads(json.dumps(result.to_dict())))


def test_another_correct_solution_scores_full_marks():
    result = run_check(impl=str(ALTERNATIVE))
    failed = [(t.name, t.explanation) for e in result.exercises for t in e.tests if not t.passed]
    assert not failed and result.total == result.max


def test_the_stubs_score_zero():
    result = run_check(impl=str(STUBS))
    assert result.max > 0 and result.total == 0 and not result.passed
    for ex in result.exercises:
        for t in ex.tests:
            assert not t.passed and t.points == 0
            assert t.explanation.startswith(f"Exercise {ex.number}: ") and "is not written yet" in t.explanation


def test_each_exercise_is_graded_on_its_own(tmp_path):
    pkg = submission(tmp_path, {1: "stub"})          # exercise 1 unwritten, the rest correct
    result = run_check([1, 3], impl=str(pkg))
    one, three = result.exercises
    assert one.points == 0 and one.max > 0
    assert three.points == three.max > 0, [t.explanation for t in three.tests if not t.passed]


def test_a_deleted_function_scores_as_unwritten(tmp_path):
    empty = tmp_path / "empty.py"
    empty.write_text('"""I deleted my stubs."""\n')
    result = run_check([5], impl=str(empty))
    assert result.total == 0
    assert all("Exercise 5: advance_commit_index is missing from" in t.explanation
               for t in result.exercises[0].tests)


def test_a_module_that_kills_python_costs_only_the_tests_that_did_not_finish(tmp_path):
    module = tmp_path / "crash.py"
    module.write_text(ALTERNATIVE.read_text() + "\n\ndef handle_client_request(node, m):\n    import os\n"
                      "    os._exit(3)\n")
    result = run_check([5, 6], impl=str(module))
    five, six = result.exercises
    assert five.points == five.max > 0
    assert six.points == 0 and all("never finished" in t.explanation for t in six.tests)
    assert any("exit code 3" in e for e in result.errors)


def test_an_endless_loop_costs_only_its_test(tmp_path):
    module = tmp_path / "loops.py"
    module.write_text(ALTERNATIVE.read_text() + "\n\n_correct = advance_commit_index\n\n\n"
                      "def advance_commit_index(node):\n"
                      "    while node.cluster_size == 4:\n"
                      "        pass\n"
                      "    _correct(node)\n")
    loop_line = module.read_text().splitlines().index("    while node.cluster_size == 4:") + 1
    result = run_check([5], impl=str(module), timeout=2, keyword="majority")    # three quick unit tests
    assert len(result.exercises[0].tests) == 3
    failed = [t for t in result.exercises[0].tests if not t.passed]
    assert [t.name for t in failed] == ["test_a_majority_of_four_is_three"]
    assert "did not finish within 2 s" in failed[0].explanation
    assert f"(in loops.py line {loop_line}, advance_commit_index)" in failed[0].explanation


def test_a_syntax_error_in_one_exercise_spares_the_others(tmp_path):
    pkg = submission(tmp_path, {2: "stub", 3: "stub"})
    (pkg / "ex2_request_vote.py").write_text("def update_term(node, term)\n    pass\n")
    (pkg / "ex3_append_entries.py").write_text(ALTERNATIVE.read_text())
    result = run_check([2, 3], impl=str(pkg))
    two, three = result.exercises
    assert two.points == 0 and all("SyntaxError" in t.explanation for t in two.tests)
    assert three.points == three.max > 0
    assert any("exercise 3 was loaded from" in e and "ex3_append_entries.py alone" in e for e in result.errors)


def test_hidden_tests_are_graded_and_unmarked_tests_reported(tmp_path):
    import shutil
    tests = tmp_path / "tests"
    shutil.copytree(ROOT / "tests" / "exercises", tests)
    (tests / "hidden" / "test_hidden_extra.py").write_text(
        "import pytest\n\n\n@pytest.mark.exercise(4)\n@pytest.mark.points(5)\ndef test_hidden_extra(impl):\n"
        "    assert impl.spec == 'reference'\n\n\ndef test_without_an_exercise():\n    pass\n")
    result = run_check([4], impl="reference", tests=tests)
    names = {t.name: t for t in result.exercises[0].tests}
    assert names["test_hidden_extra"].passed and names["test_hidden_extra"].max == 5
    assert any("test_without_an_exercise has no @pytest.mark.exercise" in e for e in result.errors)
    default = run_check([3], impl="reference")
    assert any(t.name.startswith("test_hidden_") for t in default.exercises[0].tests)


def test_replay_failure_stops_just_before_the_bad_step(failures_dir):
    bug = BUGS["ex2_skip_up_to_date_check"]
    result = run_check([2], impl=str(bug), keyword="stale_log")
    (test,) = result.exercises[0].tests
    assert not test.passed and test.seed == 1
    assert test.replay == "raftlab.replay_failure('ex2/test_a_candidate_with_a_stale_log_cannot_win')  # seed 1"
    assert "Leader Completeness violated" in test.explanation
    shown = replay_failure(test.id)
    sim = getattr(shown, "sim", shown)
    assert sim.violation is None
    with pytest.raises(SafetyViolation, match="Leader Completeness"):
        sim.step()
    with pytest.raises(LookupError, match="run `raftlab check` first"):
        replay_failure("ex2/test_that_does_not_exist")
    run_check([2], impl="reference", keyword="stale_log")           # it passes now: the record goes
    assert not list(failures_dir.glob("ex2__*.json"))


def test_a_unit_test_failure_replays_as_a_check_command():
    result = run_check([3], impl=str(BUGS["ex3_truncate_always"]), keyword="stale_append_entries")
    (test,) = result.exercises[0].tests
    assert test.replay == "raftlab check 3 -k test_a_stale_append_entries_deletes_nothing"
    assert "a reordered message must delete nothing" in test.explanation


def test_the_command_line_scores_and_writes_json(tmp_path):
    out = tmp_path / "score.json"
    good = run_cli("check", "5", "--impl", "reference", "--json", str(out))
    assert good.returncode == 0, good.stderr
    assert "Exercise 5: The commit rule" in good.stdout and "Total" in good.stdout
    data = json.loads(out.read_text())
    assert_schema(data)
    assert data["impl"] == "reference" and data["total"] == data["max"] > 0
    bad = run_cli("check", "5", "--impl", str(BUGS["ex5_commit_old_term"]), "--json", "-")
    assert bad.returncode == 1
    data = json.loads(bad.stdout)                    # --json -: JSON on stdout, the table on stderr
    assert_schema(data)
    assert data["total"] < data["max"] and "FAIL" in bad.stderr
    failed = [t for t in data["exercises"][0]["tests"] if not t["passed"]]
    assert any("Figure 8" in t["explanation"] for t in failed)


@pytest.mark.parametrize("args, message", [
    (["check", "8"], "there is no exercise '8'"),
    (["check", "--timeout", "0"], "is not a positive number of seconds"),
    (["check", "--impl", "no/such/module.py"], "no implementation at 'no/such/module.py'"),
    (["check", "--tests", "/no/such/folder"], "no tests folder at /no/such/folder"),
])
def test_the_command_line_rejects_bad_arguments(args, message):
    proc = run_cli(*args)
    assert proc.returncode == 2 and message in proc.stderr, (proc.returncode, proc.stderr)


def test_check_in_a_notebook_prints_the_table(capsys):
    result = raftlab.check(5, impl="reference")
    printed = capsys.readouterr().out
    assert "Exercise 5: The commit rule" in printed and "ok" in printed
    assert result.passed and repr(result) == f"<raftlab check of reference: {result.total:g} / {result.max:g} points>"
    with pytest.raises(ValueError, match="there is no exercise 0"):
        raftlab.check(0)
    assert set(EXERCISES) == {1, 2, 3, 4, 5, 6, 7}
