"""The one rule loader, ``raftlab.impl.resolve_rules``: every kind of spec, one exercise at a time,
what a missing function becomes, files read afresh, and a Rules object passed through untouched."""
import pytest

from raftlab import ImplementationError, Simulation
from raftlab import rules as reference
from raftlab.impl import IMPL_ENV, Rules, impl_from_env, resolve_rules

from . import alternative_solution as module
from .helpers import ALTERNATIVE, ROOT, STUBS

ALL = reference.ALL_RULES


def mine(node):
    """A stand-in rule, to tell apart from the reference."""


def test_every_kind_of_spec_gives_one_function_per_rule(monkeypatch):
    monkeypatch.chdir(ROOT / "notebooks")
    for spec in (None, "reference", "exercises", str(STUBS), str(ALTERNATIVE), "raftlab.grading.bugs.ex2_vote_twice",
                 module, {"advance_commit_index": mine}):
        rules = resolve_rules(spec)
        assert isinstance(rules, Rules) and all(callable(getattr(rules, name)) for name in ALL), spec
    assert resolve_rules({"advance_commit_index": mine}).advance_commit_index is mine


def test_the_spec_names_the_rules_for_a_saved_run():
    assert resolve_rules(None).spec == resolve_rules("reference").spec == "reference"
    assert resolve_rules(str(ALTERNATIVE)).spec == str(ALTERNATIVE)
    assert resolve_rules("exercises").spec == "exercises"
    assert resolve_rules({"advance_commit_index": mine}).spec == {
        "custom": "rules given as a dict: advance_commit_index"}
    assert resolve_rules(module).spec == {"custom": f"rules from module {module.__name__}"}
    assert resolve_rules(str(ALTERNATIVE), exercise=3).spec == {
        "custom": f"exercise 3 from {ALTERNATIVE}, the other rules the reference"}
    assert repr(resolve_rules(None)) == "<Rules from reference>"


def test_a_rules_object_is_returned_as_it_is_and_nothing_is_imported_again(tmp_path):
    counter = tmp_path / "imports.txt"
    module = tmp_path / "counting.py"
    module.write_text(f"import pathlib\np = pathlib.Path({str(counter)!r})\n"
                      f"p.write_text(str(int(p.read_text() or 0) + 1) if p.exists() else '1')\n\n"
                      "def advance_commit_index(node):\n    pass\n")
    rules = resolve_rules(str(module))
    assert counter.read_text() == "1"
    assert resolve_rules(rules) is rules
    sim = Simulation(nodes=3, seed=1, impl=rules)
    assert sim.rules is rules and all(n.rules is rules for n in sim.nodes.values())
    assert counter.read_text() == "1"
    resolve_rules(str(module))                       # a path is read afresh on every call
    assert counter.read_text() == "2"


def test_exercise_n_takes_only_its_own_functions():
    stubs = resolve_rules(str(STUBS), exercise=3)
    with pytest.raises(NotImplementedError, match="Exercise 3: handle_append_entries is not written yet"):
        stubs.handle_append_entries(None, None)
    others = [n for n in ALL if n != "handle_append_entries"]
    assert all(getattr(stubs, n) is getattr(reference, n) for n in others)
    # with no exercise, every rule the spec defines counts, the engine's own too
    engine = resolve_rules({"on_heartbeat_timeout": mine})
    assert engine.on_heartbeat_timeout is mine
    assert resolve_rules({"on_heartbeat_timeout": mine}, exercise=1).on_heartbeat_timeout is reference.on_heartbeat_timeout


def test_what_a_missing_function_becomes(tmp_path):
    empty = tmp_path / "empty.py"
    empty.write_text('"""I deleted my functions."""\n')
    assert resolve_rules(str(empty)).advance_commit_index is reference.advance_commit_index     # the default
    unwritten = resolve_rules(str(empty), exercise=5, missing="unwritten")
    with pytest.raises(NotImplementedError, match=f"Exercise 5: advance_commit_index is missing from "
                                                  f"{empty} - see exercises/ex5_commit.py"):
        unwritten.advance_commit_index(None)
    assert resolve_rules(str(empty), missing="unwritten").on_election_timeout is reference.on_election_timeout
    with pytest.raises(ImplementationError, match="does not define advance_commit_index"):
        resolve_rules(str(empty), exercise=5, missing="error")
    with pytest.raises(ValueError, match="missing must be one of reference, unwritten, error"):
        resolve_rules(str(empty), missing="ignore")
    with pytest.raises(ValueError, match="there is no exercise 9"):
        resolve_rules(str(empty), exercise=9)


def test_files_are_read_afresh_and_a_package_with_them(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from .five import advance_commit_index\n")
    (pkg / "five.py").write_text("def advance_commit_index(node):\n    return 1\n")
    assert resolve_rules(str(pkg)).advance_commit_index(None) == 1
    (pkg / "five.py").write_text("def advance_commit_index(node):\n    return 2\n")
    assert resolve_rules(str(pkg)).advance_commit_index(None) == 2


def test_code_that_does_not_load_is_an_implementation_error(tmp_path):
    exits = tmp_path / "exits.py"
    exits.write_text("import sys\nsys.exit(0)\n")
    with pytest.raises(ImplementationError, match="could not load .*exits.py: SystemExit: 0") as caught:
        resolve_rules(str(exits))
    assert isinstance(caught.value.__cause__, SystemExit)
    with pytest.raises(ImplementationError, match="no implementation at 'no/such/file.py'"):
        resolve_rules("no/such/file.py")


def test_a_broken_package_still_gives_an_exercise_from_its_own_files(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from .ex2_request_vote import *\nfrom .ex5_commit import *\n")
    (pkg / "ex2_request_vote.py").write_text("def update_term(node, term)\n")
    (pkg / "ex5_commit.py").write_text("from .helpers import answer\n\n\ndef advance_commit_index(node):\n"
                                       "    return answer\n")
    (pkg / "helpers.py").write_text("answer = 42\n")
    with pytest.raises(ImplementationError, match="SyntaxError"):
        resolve_rules(str(pkg))
    rules = resolve_rules(str(pkg), exercise=5, missing="unwritten")
    assert rules.advance_commit_index(None) == 42
    assert rules.problems and rules.problems[0].endswith("exercise 5 was loaded from ex5_commit.py alone")
    with pytest.raises(ImplementationError, match="SyntaxError"):
        resolve_rules(str(pkg), exercise=2, missing="unwritten")


def test_one_environment_variable_names_the_code_under_test(monkeypatch):
    monkeypatch.delenv(IMPL_ENV, raising=False)
    assert IMPL_ENV == "RAFTLAB_IMPL" and impl_from_env() == "exercises"
    monkeypatch.setenv(IMPL_ENV, "reference")
    assert impl_from_env() == "reference"
