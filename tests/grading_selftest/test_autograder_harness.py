"""The pieces the graded tests and checkpoint notebooks stand on: finding the code under test,
unit nodes, and the notebooks' error printing."""
import pytest

from raftlab import ImplementationError, Role, Simulation
from raftlab.grading import EXERCISES, exercise_of
from raftlab.grading.checkpoint import my_rules, report, shows_errors
from raftlab.grading.harness import exercise_functions, forget_modules, make_node, resolve_impl, rules_for

from .helpers import ROOT, STUBS


def test_resolve_impl_names_the_code_under_test(tmp_path, monkeypatch):
    assert resolve_impl(None) == resolve_impl("reference") == "reference"
    monkeypatch.chdir(ROOT / "notebooks")
    assert resolve_impl("exercises") == str(STUBS)              # found from a subfolder, upwards
    assert resolve_impl("raftlab.grading.bugs.ex2_vote_twice") == "raftlab.grading.bugs.ex2_vote_twice"
    with pytest.raises(ImplementationError, match="no implementation at 'missing.py'"):
        resolve_impl("missing.py")
    with pytest.raises(ImplementationError, match="not a file, a folder or an importable module"):
        resolve_impl("no_such_module_anywhere")
    (tmp_path / "loose").mkdir()
    with pytest.raises(ImplementationError, match="a folder without __init__.py"):
        resolve_impl(str(tmp_path / "loose"))


def test_exercise_functions_take_one_exercise_only(tmp_path):
    forget_modules()
    stubs = exercise_functions(3, str(STUBS))
    assert list(stubs) == ["handle_append_entries"]
    with pytest.raises(NotImplementedError, match="Exercise 3: handle_append_entries is not written yet"):
        stubs["handle_append_entries"](None, None)
    assert exercise_functions(3, "reference") == {}
    rules = rules_for(2, str(STUBS))
    assert rules.handle_append_entries.__module__ == "raftlab.rules"     # other exercises: the reference
    with pytest.raises(ValueError, match="there is no exercise 7"):
        exercise_functions(7)
    assert exercise_of("handle_request_vote") == 2 and EXERCISES[2].path == "exercises/ex2_request_vote.py"


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
    forget_modules()
    with shows_errors():
        Simulation(nodes=3, impl=my_rules(1))
    assert capsys.readouterr().out == ("Exercise 1: reset_election_timer is not written yet - "
                                       "see exercises/ex1_election.py\n")
    monkeypatch.setenv("RAFTLAB_IMPL", "no/such/place.py")
    with shows_errors():
        Simulation(nodes=3, impl=my_rules(1))
    assert capsys.readouterr().out.startswith("ERROR: ImplementationError: no implementation at")
    with shows_errors():
        raise KeyError("n7")
    assert capsys.readouterr().out == "ERROR: KeyError: 'n7'\n"
    sim = Simulation(nodes=3, seed=1)
    sim.run_until_leader()
    report(sim)
    assert capsys.readouterr().out.startswith(f"t={sim.now} ms: leader {sim.leader().id} in term 1\n")
