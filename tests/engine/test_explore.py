"""The exhaustive search (raftlab.explore): it branches, it finds the shortest bad run, and that run replays;
symmetry reduction keeps the results; search from a start state, goal by goal, and by random walks."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from raftlab import Config, SafetyViolation, Simulation, explore
from raftlab.explore import CHOICES, search_config
from raftlab.grading.bugs import ex2_vote_twice, ex5_commit_old_term, ex6_reply_before_commit
from raftlab.run import Run

VOTE_TWICE = {"handle_request_vote": ex2_vote_twice.handle_request_vote}
REPLY_EARLY = {"handle_client_request": ex6_reply_before_commit.handle_client_request}
COMMIT_OLD_TERM = {"advance_commit_index": ex5_commit_old_term.advance_commit_index}
ELECTIONS = ("deliver", "timeout")


@pytest.fixture(scope="module")
def vote_twice():
    return explore(impl=VOTE_TWICE, depth=8, choices=ELECTIONS)


def deliver(sim: Simulation, kind: str, src: str, dst: str) -> None:
    """Deliver the newest message of ``kind`` from ``src`` to ``dst`` in flight."""
    sim.deliver(max(e.id for e in sim.in_flight() if (e.message.kind, e.src, e.dst) == (kind, src, dst)))


def test_reference_has_no_violation_within_a_small_depth():
    result = explore(depth=4)
    assert result.violation is None and result.run is None and result.complete
    assert result.states > explore(depth=3).states > 40          # the search really branches
    assert str(result).startswith(f"none within depth 4: {result.states:,} states searched")


def test_state_budget_stops_the_search():
    result = explore(depth=20, max_states=300)
    assert result.states == 300 and not result.complete and result.violation is None
    assert "stopped by the budget" in str(result)


def test_vote_twice_breaks_election_safety_in_six_choices(vote_twice):
    v = vote_twice.violation
    assert isinstance(v, SafetyViolation) and v.property == "Election Safety"
    assert vote_twice.depth == 6 and vote_twice.shortest   # two candidates, one vote request and reply each
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
    assert vote_twice.depth <= deeper.depth and not deeper.shortest
    assert len(vote_twice.run["actions"]) <= len(deeper.run["actions"])


def test_client_visible_bug_is_found():
    result = explore(impl=REPLY_EARLY, depth=6, choices=("deliver", "timeout", "request"))
    assert result.violation.property == "Acknowledged writes durable"
    assert result.depth == 6


# --- symmetry reduction and the cuts that keep the shortest run ------------------------------------------------

def test_symmetry_reduction_keeps_the_shortest_depth_with_fewer_states(vote_twice):
    plain = explore(impl=VOTE_TWICE, depth=8, choices=ELECTIONS, symmetry=False)
    assert plain.violation.property == vote_twice.violation.property
    assert plain.depth == vote_twice.depth == 6
    assert vote_twice.states * 2 < plain.states     # about 6-fold fewer on 3 servers
    a, b = explore(depth=4, symmetry=False), explore(depth=4)
    assert a.violation is None and b.violation is None and b.states * 3 < a.states


def test_states_that_differ_only_by_names_count_once():
    def after_timeout(node):
        sim = Simulation(search_config())
        sim.timeout(node)
        return explore(start=sim, depth=4)
    n1, n3 = after_timeout("n1"), after_timeout("n3")
    assert n1.states == n3.states and n1.violation is None and n3.violation is None
    plain = [explore(start=Simulation(search_config()).fork(), depth=3, symmetry=s).states for s in (False, True)]
    assert plain[1] < plain[0]


def test_dropping_a_message_never_shortens_a_bad_run(vote_twice):
    with_drops = explore(impl=VOTE_TWICE, depth=8, choices=ELECTIONS + ("drop",))
    assert with_drops.depth == vote_twice.depth and with_drops.states > vote_twice.states


# --- deeper: a start state, goals, random walks -----------------------------------------------------------------

@pytest.fixture(scope="module")
def figure8():
    """The Figure 8 bug on 3 servers (one entry per AppendEntries), goal by goal from a fresh cluster."""
    return explore(impl=COMMIT_OLD_TERM, max_entries=1, depth=10, choices=ELECTIONS, requests=0, crashes=0,
                   goal=["logs-diverge", "old-uncommitted", "entry-at-risk"])


def test_goal_by_goal_reaches_the_figure8_bug_from_a_fresh_cluster(figure8):
    assert figure8.violation.property == "Leader Completeness"
    assert figure8.legs == (6, 4, 4, 4) and figure8.depth == 18 and not figure8.shortest
    assert "goal by goal" in str(figure8)
    with pytest.raises(SafetyViolation):
        Simulation.from_json(figure8.run, impl=COMMIT_OLD_TERM)


def test_figure8_bug_is_found_from_a_start_state(figure8):
    # start where n1 (leader of term 3) has just counted its term-1 no-op committed on n1 and n2,
    # while n3 holds a term-2 entry at that index
    start = Run.from_json(figure8.run, impl=COMMIT_OLD_TERM).replay(until=14)
    assert start.violation is None and len(start.actions) == 14
    result = explore(start=start, depth=6, choices=ELECTIONS, requests=0, crashes=0)
    assert result.violation.property == "Leader Completeness" and result.shortest and result.depth == 4
    assert len(result.run["actions"]) == 18 and result.run["actions"][:14] == figure8.run["actions"][:14]
    assert len(start.actions) == 14                # the start itself is left as it was
    with pytest.raises(SafetyViolation):
        Simulation.from_json(result.run, impl=COMMIT_OLD_TERM)


def test_figure8_start_state_with_the_reference_rules_is_safe(figure8):
    # the same first 10 choices with the reference rules: n1 leads term 3 with an old-term entry,
    # and no schedule of 8 more choices loses a committed entry
    reference = Run.from_json(figure8.run, impl="reference").replay(until=10)
    assert reference.node("n1").role.value == "leader" and reference.node("n1").current_term == 3
    result = explore(start=reference, depth=8, choices=ELECTIONS, requests=0, crashes=0, goal="entry-at-risk",
                     max_states=3000)
    assert result.violation is None and result.state is None


def test_a_goal_hands_back_the_state_to_search_on_from():
    first = explore(depth=8, choices=ELECTIONS, goal="logs-diverge")
    assert first.violation is None and first.state is not None and first.depth == 6
    assert str(first).startswith("goal reached after 6 choices")
    terms = {n.log.term_at(1) for n in first.state.nodes.values()} - {None}
    assert len(terms) == 2


def test_random_walks_find_a_bug_and_shorten_the_run():
    result = explore(impl=VOTE_TWICE, depth=12, choices=ELECTIONS, order="random", seed=3)
    assert result.violation.property == "Election Safety" and not result.shortest
    assert 6 <= result.depth <= result.found_at and "random walks" in str(result)
    with pytest.raises(SafetyViolation):
        Simulation.from_json(result.run, impl=VOTE_TWICE)
    again = explore(impl=VOTE_TWICE, depth=12, choices=ELECTIONS, order="random", seed=3)
    assert again.run == result.run and again.states == result.states


# --- determinism, the engine's fork, bad arguments ----------------------------------------------------------------

def test_same_arguments_same_result(vote_twice):
    again = explore(impl=VOTE_TWICE, depth=8, choices=ELECTIONS)
    assert again.run == vote_twice.run and again.states == vote_twice.states
    a, b = explore(depth=3), explore(depth=3)
    assert (a.states, a.depth) == (b.states, b.depth)


def test_same_result_whatever_the_hash_seed():
    code = ("from raftlab import explore; from raftlab.grading.bugs import ex2_vote_twice as b; "
            "r = explore(impl={'handle_request_vote': b.handle_request_vote}, depth=8, "
            "choices=('deliver', 'timeout')); "
            "print(r.states, r.run['actions'], explore(depth=4).states)")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(outs) == 1


def test_fork_goes_on_exactly_like_the_original():
    sim = Simulation(Config(nodes=3, seed=5, drop=0.2, duplicate=0.2, request_interval=30))
    sim.advance(600)
    copy = sim.fork()
    for s in (sim, copy):
        s.crash("n1")
        s.advance(2000)
    assert copy.trace_text() == sim.trace_text() and copy.summary() == sim.summary()
    assert copy.nodes["n2"] is not sim.nodes["n2"] and copy.nodes["n2"].log is not sim.nodes["n2"].log


def test_next_due_changes_nothing():
    sim = Simulation(search_config())
    sim.timeout("n1")
    deliver(sim, "RequestVote", "n1", "n2")
    deliver(sim, "RequestVoteReply", "n2", "n1")
    queue = list(sim._queue)
    due = sim.next_due()
    assert (due.kind, due.subject, due.time) == ("heartbeat", "n1", 1)
    assert sim._queue == queue


@pytest.mark.parametrize("kwargs, words", [
    ({"choices": ("teleport",)}, "unknown choice(s) ['teleport']"),
    ({"choices": ()}, "choices is empty"),
    ({"order": "sideways"}, "unknown order 'sideways'"),
    ({"depth": 0}, "depth must be a whole number, at least 1"),
    ({"timeouts": -1}, "timeouts must be None"),
    ({"goal": "nowhere"}, "unknown goal 'nowhere'"),
    ({"seconds": 0}, "seconds must be a positive number"),
    ({"start": "run.json"}, "start must be a raftlab Simulation or Run"),
    ({"start": Simulation(nodes=3)}, "must run the search's timers"),
    ({"start": Simulation(search_config()), "impl": VOTE_TWICE}, "start= already has its rules"),
])
def test_bad_arguments_say_what_is_wrong(kwargs, words):
    with pytest.raises(ValueError) as caught:
        explore(**kwargs)
    assert words in str(caught.value)


def test_every_choice_kind_is_known():
    assert set(CHOICES) == {"deliver", "drop", "timeout", "heartbeat", "crash", "restart", "request"}
