"""The exhaustive search (raftlab.explore): it branches, it finds the shortest bad run, and that run replays."""
from __future__ import annotations

import json

import pytest

from raftlab import SafetyViolation, Simulation
from raftlab.explore import explore
from raftlab.grading.bugs import ex2_vote_twice, ex6_reply_before_commit
from raftlab.run import Run

VOTE_TWICE = {"handle_request_vote": ex2_vote_twice.handle_request_vote}
REPLY_EARLY = {"handle_client_request": ex6_reply_before_commit.handle_client_request}
ELECTIONS = ("deliver", "timeout")


@pytest.fixture(scope="module")
def vote_twice():
    return explore(impl=VOTE_TWICE, depth=8, choices=ELECTIONS)


def test_reference_has_no_violation_within_a_small_depth():
    result = explore(depth=4)
    assert result.violation is None and result.run is None and result.complete
    assert result.states > 500                       # the search really branches
    assert str(result).startswith(f"none within depth 4: {result.states:,} states searched")


def test_state_budget_stops_the_search():
    result = explore(depth=20, max_states=300)
    assert result.states == 300 and not result.complete and result.violation is None
    assert "state budget" in str(result)


def test_vote_twice_breaks_election_safety_in_six_choices(vote_twice):
    v = vote_twice.violation
    assert isinstance(v, SafetyViolation) and v.property == "Election Safety"
    assert vote_twice.depth == 6                     # two candidates, one vote request and reply each
    names = [a[2] for a in vote_twice.run["actions"]]
    assert names == ["timeout", "deliver", "deliver", "timeout", "deliver", "deliver"]


def test_the_bad_run_replays_to_the_same_violation(vote_twice, tmp_path):
    with pytest.raises(SafetyViolation) as caught:
        Simulation.from_json(vote_twice.run, impl=VOTE_TWICE)
    assert caught.value.property == "Election Safety"
    assert str(caught.value).split(" (at step")[0] == str(vote_twice.violation).split(" (at step")[0]
    before = Run.from_json(vote_twice.run, impl=VOTE_TWICE).replay(until=vote_twice.run["steps"] - 1)
    assert before.violation is None                  # the replay stops at the bad step
    path = vote_twice.save(tmp_path / "bad.json")
    assert json.loads(path.read_text())["actions"] == vote_twice.run["actions"]
    with pytest.raises(SafetyViolation):
        Simulation.load(path, impl=VOTE_TWICE)


def test_breadth_first_is_shortest(vote_twice):
    deeper = explore(impl=VOTE_TWICE, depth=7, choices=ELECTIONS, order="dfs")
    assert deeper.violation is not None and deeper.violation.property == "Election Safety"
    assert vote_twice.depth <= deeper.depth
    assert len(vote_twice.run["actions"]) <= len(deeper.run["actions"])


def test_client_visible_bug_is_found():
    result = explore(impl=REPLY_EARLY, depth=6, choices=("deliver", "timeout", "request"))
    assert result.violation.property == "Acknowledged writes durable"
    assert result.depth == 6


def test_same_arguments_same_result(vote_twice):
    again = explore(impl=VOTE_TWICE, depth=8, choices=ELECTIONS)
    assert again.run == vote_twice.run and again.states == vote_twice.states
    a, b = explore(depth=3), explore(depth=3)
    assert (a.states, a.depth) == (b.states, b.depth)


def test_bad_arguments():
    with pytest.raises(ValueError):
        explore(choices=("teleport",))
    with pytest.raises(ValueError):
        explore(order="random")
