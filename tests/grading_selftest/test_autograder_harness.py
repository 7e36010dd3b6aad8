"""The pieces the graded tests and checkpoint notebooks stand on: finding the code under test,
the rules a graded exercise runs, unit nodes, and the notebooks' error printing."""
import pytest

from raftlab import ImplementationError, Role, Simulation
from raftlab.grading import EXERCISES, exercise_of
from raftlab.grading.check.checkpoint import my_rules, report, shows_errors
from raftlab.grading.check.harness import forget_modules, load_problems, make_node, rules_for, select, selected_impl
from raftlab.impl import locate

from .helpers import ROOT, STUBS


def test_locate_names_the_code_under_test(tmp_path, monkeypatch):
    assert locate(None) == locate("reference") == "reference"
    monkeypatch.chdir(ROOT / "notebooks")
    assert locate("exercises") == str(STUBS)              # found from a subfolder, upwards
    bug = ROOT / "raftlab" / "grading" / "bugs" / "ex2_vote_twice.py"
    assert locate("raftlab.grading.bugs.ex2_vote_twice") == str(bug)       # a module: its file, from anywhere
    with pytest.raises(ImplementationError, match="no implementation at 'missing.py'"):
        locate("missing.py")
    with pytest.raises(ImplementationError, match="not a file, a folder or an importable module"):
        locate("no_such_module_anywhere")
    (tmp_path / "loose").mkdir()
    with pytest.raises(ImplementationError, match="a folder without __init__.py"):
        locate(str(tmp_path / "loose"))


def test_rules_for_takes_one_exercise_only():
    forget_modules()
    stubs = rules_for(3, str(STUBS))
    with pytest.raises(NotImplementedError, match="Exercise 3: handle_append_entries is not written yet"):
        stubs.handle_append_entries(None, None)
    assert stubs.handle_request_vote.__module__ == "raftlab.rules"       # other exercises: the reference
    assert rules_for(3, str(STUBS)) is stubs                              # loaded once per process
    assert rules_for(3, "reference").spec == "reference"
    with pytest.raises(ValueError, match="there is no exercise 8"):
        rules_for(8)
    assert exercise_of("handle_request_vote") == 2 and EXERCISES[2].path == "exercises/ex2_request_vote.py"


def test_code_that_does_not_load_fails_each_rule_of_its_exercise_with_the_reason(tmp_path):
    forget_modules()
    broken = tmp_path / "broken.py"
    broken.write_text("def advance_commit_index(node)\n")
    rules = rules_for(5, str(broken))
    with pytest.raises(ImplementationError, match="could not load .*broken.py: SyntaxError"):
        rules.advance_commit_index(None)
    assert rules.handle_append_entries.__module__ == "raftlab.rules"
    assert any("SyntaxError" in p for p in load_problems())


def test_the_plugin_selects_the_code_under_test_and_plain_pytest_the_reference():
    try:
        assert selected_impl() == "reference"
        select(str(STUBS))
        assert selected_impl() == str(STUBS)
        with pytest.raises(NotImplementedError, match="Exercise 5"):
            rules_for(5).advance_commit_index(None)
    finally:
        select(None)
    assert selected_impl() == "reference" and rules_for(5).spec == "reference"


def test_make_node_builds_the_state_a_test_asks_for():
    rules = rules_for(1, "reference")
    leader = make_node(rules, "n2", nodes=3, term=4, log=[1, 4, 4], role=Role.LEADER)
    assert leader.role is Role.LEADER and leader.next_index == {"n1": 4, "n3": 4}
    assert [leader.log.term_at(i) for i in (1, 2, 3)] == [1, 4, 4] and leader.match_index == {"n1": 0, "n3": 0}
    assert leader.draws.next == leader.random_election_timeout() and leader.draws.count == 1
    with pytest.raises(ValueError, match="n9 is not in a cluster of 3"):
        make_node(rules, "n9", nodes=3)


def test_checkpoint_cells_print_problems_instead_of_raising(monkeypatch, capsys):
    monkeypatch.setenv("RAFTLAB_IMPL", str(STUBS))
    with shows_errors():
        Simulation(nodes=3, impl=my_rules(1))
    assert capsys.readouterr().out == ("Exercise 1: reset_election_timer is not written yet - "
                                       "see exercises/ex1_election.py\n")
    monkeypatch.setenv("RAFTLAB_IMPL", "no/such/place.py")
    with shows_errors():
        Simulation(nodes=3, impl=my_rules(1))
    assert "ImplementationError: no implementation at 'no/such/place.py'" in capsys.readouterr().out
    with shows_errors():
        raise KeyError("n7")
    assert capsys.readouterr().out == "ERROR: KeyError: 'n7'\n"
    sim = Simulation(nodes=3, seed=1)
    sim.run_until_leader()
    report(sim)
    assert capsys.readouterr().out.startswith(f"t={sim.now} ms: leader {sim.leader().id} in term 1\n")


def test_the_checkpoints_read_your_code_afresh_and_default_to_your_exercises(tmp_path, monkeypatch):
    mine = tmp_path / "mine.py"
    mine.write_text("def advance_commit_index(node):\n    return 'first'\n")
    monkeypatch.setenv("RAFTLAB_IMPL", str(mine))
    assert my_rules(5).advance_commit_index(None) == "first"
    mine.write_text("def advance_commit_index(node):\n    return 'edited'\n")
    assert my_rules(5).advance_commit_index(None) == "edited"
    monkeypatch.delenv("RAFTLAB_IMPL")
    monkeypatch.chdir(ROOT / "notebooks")
    with pytest.raises(NotImplementedError, match="Exercise 5: advance_commit_index is not written yet"):
        my_rules(5).advance_commit_index(None)
