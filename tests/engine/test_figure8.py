"""Figure 8 of the paper, scripted stage by stage, then at random.

Reference: section 5.4.2 and Figure 8: "a leader cannot immediately conclude that an
entry from a previous term is committed once it is stored on a majority of servers
... Raft never commits log entries from previous terms by counting replicas.  Only log
entries from the leader's current term are committed by counting replicas."

The scripted tests check that every stage of :func:`raftlab.scenarios.figure8` shows
the paper's picture (with the index mapping its docstring gives), that stage (d)
overwrites the old-term entries safely with the reference rules, and that a commit
rule which counts old-term replicas is caught by the safety checker.  The random test
is the "Figure 8 (unreliable)" test of MIT 6.5840: crash the leader every round,
restart random nodes, and check that no index ever holds two different commands.
"""
import random

import pytest

from raftlab import OperatorError, Role, SafetyViolation, Simulation
from raftlab.scenarios import FIGURE8_STAGES, deliver_all, figure8

from .helpers import live, terms


def counting_old_terms(node):
    """A buggy commit rule: it forgets the paper's "log[N].term == currentTerm"."""
    if node.role is not Role.LEADER:
        return
    matched = sorted([node.log.last_index] + [node.match_index[p] for p in node.peers], reverse=True)
    n = matched[node.majority - 1]
    if n > node.commit_index:
        node.commit_index = n


#: stage -> (the terms of each node's log, which nodes are crashed, the leader)
PICTURES = {
    "a": ({"n1": [1, 2, 2], "n2": [1, 2, 2], "n3": [1], "n4": [1], "n5": [1]}, set(), "n1"),
    "b": ({"n1": [1, 2, 2], "n2": [1, 2, 2], "n3": [1], "n4": [1], "n5": [1, 3, 3]}, {"n1"}, "n5"),
    "c": ({"n1": [1, 2, 2, 4], "n2": [1, 2, 2, 4], "n3": [1, 2, 2], "n4": [1], "n5": [1, 3, 3]},
          {"n5"}, "n1"),
    "d": ({"n1": [1, 2, 2, 4], "n2": [1, 3, 3], "n3": [1, 3, 3], "n4": [1, 3, 3], "n5": [1, 3, 3, 5]},
          {"n1"}, "n5"),
    "e": ({"n1": [1, 2, 2, 4, 4], "n2": [1, 2, 2, 4, 4], "n3": [1, 2, 2, 4, 4], "n4": [1],
           "n5": [1, 3, 3]}, {"n5"}, "n1"),
}


@pytest.mark.parametrize("stage", sorted(FIGURE8_STAGES))
def test_each_stage_shows_the_papers_picture(stage):
    sim = figure8(stage)
    logs, crashed, leader = PICTURES[stage]
    assert {n.id: terms(n) for n in sim.nodes.values()} == logs
    assert {n.id for n in sim.nodes.values() if n.crashed} == crashed
    assert sim.leader(reachable=False).id == leader             # (in a, n1 leads a minority)
    assert sim.leader(reachable=False).current_term == {"a": 2, "b": 3, "c": 4, "d": 5, "e": 4}[stage]
    assert sim.violation is None and sim.now == 0          # scripted by hand: no timer fired


def test_stage_c_the_old_entry_is_on_a_majority_but_not_committed():
    sim = figure8("c")
    holders = [n.id for n in sim.nodes.values() if n.log.term_at(3) == 2]
    assert holders == ["n1", "n2", "n3"]                   # a majority of 5
    assert sim.node("n1").commit_index == 0                # ... and still not committed
    assert sim.node("n1").match_index["n3"] == 3


def test_stage_d_overwrites_the_old_entries_safely():
    sim = figure8("d")
    for name in ("n2", "n3", "n4"):
        assert [e.command for e in sim.node(name).log.entries] == [None, None, ("put", "x", "3")]
    # no client was ever told "put x 2" succeeded
    assert [op.completed for op in sim.operations if op.command == ("put", "x", "2")] == [None]
    # run on: n5 commits its own no-op, and with it the term-3 entries, everywhere
    assert sim.run_until(lambda s: all(n.commit_index == 4 for n in live(s)), within=2000)
    assert all(n.state_machine.data == {"x": "3"} for n in live(sim))
    assert sim.leader().id == "n5"


def test_stage_e_commits_and_then_n5_cannot_win():
    sim = figure8("e")
    assert sim.node("n1").commit_index == 5
    [op] = [op for op in sim.operations if op.command == ("put", "x", "2")]
    assert op.completed is not None and op.result == "ok"     # committed along with term 4's entry
    sim.crash("n1")
    sim.restart("n5")
    sim.heal()
    for _ in range(3):                                     # n5 tries three terms in a row
        sim.timeout("n5")
        deliver_all(sim, "RequestVote", "RequestVoteReply")
        assert sim.node("n5").role is Role.CANDIDATE
    assert sim.node("n5").votes_granted == {"n5", "n4"}    # n2 and n3 hold the committed entry


def test_the_buggy_commit_rule_commits_the_old_entry_in_stage_c():
    sim = figure8("c", impl={"advance_commit_index": counting_old_terms})
    assert sim.node("n1").commit_index == 3
    [op] = [op for op in sim.operations if op.command == ("put", "x", "2")]
    assert op.result == "ok"                               # and tells the client so


def test_the_buggy_commit_rule_ends_in_a_safety_violation():
    with pytest.raises(SafetyViolation) as caught:
        figure8("d", impl={"advance_commit_index": counting_old_terms})
    v = caught.value
    assert v.property == "Leader Completeness"
    assert v.nodes == ("n5", "n1") and v.index == 3
    assert "n5 became leader of term 5" in v.detail and "put x=2" in v.detail
    # the violation carries the run, which replays to the same violation
    with pytest.raises(SafetyViolation, match="Leader Completeness"):
        Simulation.from_json(v.run, impl={"advance_commit_index": counting_old_terms})


@pytest.mark.parametrize("stage", ["a", "b", "e"])
def test_the_buggy_commit_rule_goes_unnoticed_where_it_does_no_harm(stage):
    """The bug needs the whole story: the stages that never overwrite anything run clean."""
    assert figure8(stage, impl={"advance_commit_index": counting_old_terms}).violation is None


def test_figure8_rejects_an_unknown_stage():
    with pytest.raises(OperatorError, match="stages a, b, c, d, e"):
        figure8("f")


# --- Figure 8, at random (MIT 6.5840's TestFigure8Unreliable) ---------------------------------

@pytest.mark.parametrize("seed", [1, 2, 3])
def test_figure8_random(seed):
    sim = Simulation(nodes=5, seed=seed, drop=0.05, delay=(5, 30))
    rng = random.Random(seed)
    for round_ in range(25):
        sim.advance(rng.choice([50, 200, 500]))
        leader = sim.leader()
        if leader is not None:
            sim.client_request(f"put k{round_ % 3} {round_}", node=leader.id)
            sim.advance(rng.choice([0, 10, 30]))         # crash before, during or after replication
        leader = sim.leader()
        if leader is not None:
            sim.crash(leader.id)                           # crash the leader every round
        down = [n.id for n in sim.nodes.values() if n.crashed]
        if len(down) >= 3 or (down and rng.random() < 0.5):
            sim.restart(rng.choice(down))
    for n in sim.nodes.values():
        if n.crashed:
            sim.restart(n.id)
    sim.client_request("put k 999")
    assert sim.run_until(lambda s: s.leader() is not None and
                         any(e.command == ("put", "k", "999") for e in s.committed(s.leader().id)),
                         within=10_000)
    # every client gets its answer in the end (retrying as leaders come and go)
    assert sim.run_until(lambda s: all(op.completed is not None for op in s.operations), within=20_000)
    sim.advance(500)
    # final agreement: every node's committed log is the same (never two commands at one index)
    logs = [[(e.term, e.command) for e in sim.committed(name)] for name in sim.names]
    assert all(log == logs[0] for log in logs), "committed logs differ"
    done = {op.command for op in sim.operations}
    assert len(done) == len(sim.operations) >= 10
    assert done <= {command for _, command in logs[0]}
