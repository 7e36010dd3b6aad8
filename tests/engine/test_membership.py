"""Cluster membership changes (issue 12, the engine): section 6 of the paper, chapter 4 of the dissertation.

Quorum arithmetic, adding and removing servers (the leader too), joint consensus, one change at a time,
the 2015 single-server bug (a rule without the current-term check, caught as Leader Completeness) and the
unsafe direct switch (two leaders in one term, caught as Election Safety), snapshots, crashes, replay,
the CLI, bad input, disruptive removed servers, and a small random campaign with changes."""
from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

import pytest

from raftlab import Config, Simulation, rules
from raftlab.campaign import run_campaign
from raftlab.errors import OperatorError, SafetyViolation
from raftlab.membership import Configuration
from raftlab.rules import may_change_configuration
from raftlab.scenarios import direct_switch, single_server_change_bug

# --- quorum arithmetic -------------------------------------------------------------------------------


def quorum(conf, ids) -> bool:
    """The reference rule ``has_quorum`` (exercise 7) on a server that uses ``conf``."""
    return rules.has_quorum(SimpleNamespace(configuration=conf), set(ids))


def test_plain_quorum_is_a_majority_of_the_voters_and_learners_count_for_nothing():
    c = Configuration(("n1", "n2", "n3"), learners=("n4",))
    assert quorum(c, {"n1", "n2"}) and not quorum(c, {"n1", "n4"})
    assert not quorum(c, {"n1", "n4", "n9"})
    assert c.majority == 2 and c.members == ("n1", "n2", "n3", "n4") and str(c) == "{n1,n2,n3}+learner n4"
    assert not quorum(Configuration(()), {"n1"})


def test_joint_quorum_needs_majorities_of_both_old_and_new():
    c = Configuration(("n1", "n2", "n4"), old_voters=("n1", "n2", "n3"))
    assert str(c) == "{n1,n2,n3} -> {n1,n2,n4}" and c.is_joint
    assert quorum(c, {"n1", "n2"})                           # a majority of each
    assert not quorum(c, {"n1", "n3"})                       # old only
    assert not quorum(c, {"n2", "n4"})                       # new only
    assert c.leave_joint() == Configuration(("n4", "n2", "n1"))       # order does not matter


def test_a_leader_outside_its_configuration_does_not_count_itself():
    assert not quorum(Configuration(("n2", "n3", "n4")), {"n1", "n2"})


def test_the_engine_holds_no_quorum_arithmetic_of_its_own():
    """Exercise 7's ``has_quorum`` is the only place that counts a quorum, so a student's has_quorum
    cannot hand the question back to the engine: commitment (exercise 5's reference) and the
    simulator's "which leader can clients reach" ask the rule too.  Here a rule that wants every
    voter: with one of three servers down, 2 of 3 is no longer enough for either."""
    assert not hasattr(Configuration, "has_quorum") and not hasattr(Configuration, "quorum_index")

    def unanimous(node, ids):
        return set(node.configuration.voters) <= set(ids)

    for rule, commits in ((None, True), (unanimous, False)):
        sim = Simulation(nodes=3, seed=1, impl={"has_quorum": rule} if rule else None)
        leader = sim.run_until_leader()
        sim.advance(300)
        sim.crash(next(name for name in sim.names if name != leader.id))
        before = leader.commit_index
        sim.client_request("put x 1", node=leader.id)
        sim.advance(500)
        assert (leader.commit_index > before) is commits
        assert (sim.leader() is leader) is commits
        assert sim.leader(reachable=False) is leader


# --- helpers ----------------------------------------------------------------------------------------


def started(nodes=3, seed=1, **config) -> Simulation:
    """A cluster with a leader that has committed its no-op (so a change may start)."""
    sim = Simulation(nodes=nodes, seed=seed, **config)
    assert sim.run_until(lambda s: s.leader() is not None and s.leader().commit_index >= 1, within=3000)
    return sim


def configs(node) -> list[str]:
    return [str(node.log.entry(i).config) for i in node.log.config_indexes]


# --- adding and removing ------------------------------------------------------------------------------


def test_an_added_server_joins_as_a_learner_then_is_promoted_and_its_vote_counts():
    sim = started()
    leader = sim.leader()
    sim.add_server("n4")
    assert str(leader.configuration) == "{n1,n2,n3}+learner n4"
    assert sim.run_until(lambda s: s.leader() is not None and s.leader().configuration.voters == ("n1", "n2", "n3", "n4"), within=2000)
    assert configs(leader) == ["{n1,n2,n3}+learner n4", "{n1,n2,n3,n4}"]
    assert sim.run_until(lambda s: s.node("n4").configuration == leader.configuration, within=1000)
    # 4 voters: a leader needs 3 votes.  With the leader crashed, no new one without n4's vote.
    sim.crash(leader.id)
    assert sim.run_until(lambda s: s.leader() is not None, within=5000)
    new = sim.leader()
    assert new.id == "n4" or sim.node("n4").voted_for == new.id
    assert sim.violation is None


def test_remove_a_follower_then_the_rest_commit_without_it():
    sim = started()
    leader = sim.leader()
    gone = next(n for n in ("n1", "n2", "n3") if n != leader.id)
    sim.remove_server(gone)
    assert sim.run_until(lambda s: s.leader() is not None and s.leader().commit_index >= s.leader().log.configuration_index, within=1000)
    assert gone not in leader.configuration.members and gone not in leader.peers
    sim.crash(gone)
    op = sim.wait_for(sim.client_request("put x 1", node=leader.id), within=2000)
    assert op.result == "ok"                       # 2 of the 2 remaining voters


def test_a_removed_leader_keeps_leading_until_the_change_commits_then_steps_down():
    sim = started()
    old = sim.leader()
    sim.remove_server(old.id)
    index = old.log.configuration_index
    assert old.is_leader and old.id not in old.configuration.members
    assert sim.run_until(lambda s: not old.is_leader, within=2000)
    stepped_down = sim.steps
    assert old.commit_index >= index                # it stepped down only once C_new was committed
    assert any("stepped down: it is not in the configuration" in str(e) for e in sim.events())
    term = old.current_term
    assert sim.run_until(lambda s: s.leader() is not None and s.leader() is not old, within=3000)
    sim.advance(3000)
    assert old.current_term == term or old.current_term == sim.leader().current_term
    assert not any(f"{old.id} became candidate" in str(e)                 # it never campaigns again
                   for e in sim.events() if e.step > stepped_down)
    assert sim.violation is None


def test_joint_consensus_goes_through_c_old_new_then_c_new():
    sim = started(membership="joint")
    leader = sim.leader()
    sim.add_server("n4", "n5")
    assert sim.run_until(lambda s: s.leader() is not None and len(s.leader().configuration.voters) == 5
                         and not s.leader().configuration.is_joint
                         and s.leader().commit_index >= s.leader().log.configuration_index, within=3000)
    assert configs(leader) == ["{n1,n2,n3}+learners n4,n5", "{n1,n2,n3} -> {n1,n2,n3,n4,n5}",
                               "{n1,n2,n3,n4,n5}"]
    sim.remove_server("n1", "n2")
    assert sim.run_until(lambda s: s.leader() is not None and s.leader().configuration.voters == ("n3", "n4", "n5")
                         and s.leader().commit_index >= s.leader().log.configuration_index, within=5000)
    assert "{n1,n2,n3,n4,n5} -> {n3,n4,n5}" in configs(sim.leader())
    assert sim.violation is None


def test_a_change_is_refused_while_another_is_uncommitted():
    sim = started()
    leader = sim.leader()
    sim.partition([leader.id])                      # nothing the leader appends can commit now
    sim.add_server("n4", via=leader.id)
    with pytest.raises(OperatorError, match=r"a configuration change is already in progress: "
                                            r"\{n1,n2,n3\}\+learner n4 at index 2 is not committed yet"):
        sim.remove_server("n3" if leader.id != "n3" else "n2", via=leader.id)


def test_a_new_leader_may_not_change_before_committing_an_entry_of_its_term():
    sim = Simulation(nodes=3, seed=1)
    sim.run_until(lambda s: s.leader() is not None, within=3000)
    leader = sim.leader()
    assert leader.commit_index == 0
    with pytest.raises(OperatorError, match=f"the new leader {leader.id} has not yet committed an entry "
                                            f"of its term {leader.current_term}"):
        sim.add_server("n4")
    other = next(n for n in ("n1", "n2", "n3") if n != leader.id)
    with pytest.raises(OperatorError, match=f"{other} is not the leader \\({leader.id} is\\)"):
        sim.add_server("n4", via=other)


# --- the 2015 single-server bug ----------------------------------------------------------------------------


def without_current_term_check(node):
    """The rule as first published: one change at a time, but no "committed an entry of its term"."""
    if not node.is_leader:
        return f"{node.id} is not the leader"
    if node.log.configuration_index > node.commit_index:
        return "a configuration change is already in progress"
    return None


def test_the_2015_bug_without_the_current_term_check_loses_a_committed_change():
    sim, refused = single_server_change_bug({"may_change_configuration": without_current_term_check})
    assert refused is None
    v = sim.violation
    assert v is not None and v.property == "Leader Completeness"
    assert "n1 became leader of term 3 but lacks committed entry 4/2 (config {n1,n2,n3}+learner n5)" in v.detail


def test_the_reference_refuses_that_change_and_nothing_is_lost():
    sim, refused = single_server_change_bug(None)
    assert refused is not None and "the new leader n2 has not yet committed an entry of its term 2" in str(refused)
    assert sim.violation is None and sim.node("n1").is_leader


# --- the unsafe direct switch, and joint consensus in the same moves -----------------------------------------


def test_switching_directly_elects_two_leaders_in_one_term():
    sim = direct_switch("unsafe-direct")
    assert str(sim.node("n4").configuration) == "{n1,n2,n3,n4,n5}"
    v = sim.violation
    assert v is not None and v.property == "Election Safety" and "n2 and n4 are both leaders in term 2" in v.detail


def test_joint_consensus_in_the_same_moves_elects_one():
    sim = direct_switch("joint")
    assert str(sim.node("n4").configuration) == "{n1,n2,n3} -> {n1,n2,n3,n4,n5}"
    assert sim.violation is None and not sim.node("n4").is_leader and sim.node("n2").is_leader


# --- one change at a time, as a checked property ---------------------------------------------------------


def test_starting_a_second_change_early_breaks_one_change_at_a_time():
    def too_early(node):
        return None if node.is_leader else f"{node.id} is not the leader"
    sim = started(impl={"may_change_configuration": too_early})
    leader = sim.leader()
    sim.partition([leader.id])
    sim.add_server("n4", via=leader.id)
    with pytest.raises(SafetyViolation) as caught:
        sim.remove_server("n4", via=leader.id)
    assert caught.value.property == "One change at a time"
    assert "while {n1,n2,n3}+learner n4 at index 2 was not committed" in caught.value.detail


# --- snapshots, crashes, replay -------------------------------------------------------------------------------


def test_snapshots_carry_the_configuration_and_a_new_server_gets_it_by_install_snapshot():
    sim = started(snapshot_every=5)
    leader = sim.leader()
    sim.remove_server(next(n for n in ("n1", "n2", "n3") if n != leader.id))
    for i in range(8):
        sim.wait_for(sim.client_request(f"put x {i}", node=leader.id))
    assert leader.snapshot is not None and leader.snapshot.config == leader.configuration
    assert leader.log.config_indexes == []          # the change is in the snapshot now
    sim.add_server("n4")
    assert sim.run_until(lambda s: s.leader() is not None and "n4" in s.leader().configuration.voters, within=3000)
    n4 = sim.node("n4")
    assert any("n4 installed a snapshot" in str(e) for e in sim.events())
    sim.advance(200)
    assert n4.configuration == leader.configuration and n4.snapshot.config is not None


def test_crash_and_restart_keep_the_configuration():
    sim = started()
    sim.add_server("n4")
    assert sim.run_until(lambda s: len(s.leader().configuration.voters) == 4, within=2000)
    sim.advance(100)
    want = sim.leader().configuration
    for name in ("n1", "n2", "n3", "n4"):
        sim.crash(name)
    for name in ("n1", "n2", "n3", "n4"):
        sim.restart(name)
        assert sim.node(name).configuration == want
    assert sim.run_until(lambda s: s.leader() is not None, within=3000) and sim.violation is None


def test_changes_are_recorded_replayed_and_rewound():
    sim = started(request_interval=40)
    sim.add_server("n4")
    sim.advance(500)
    sim.remove_server(sim.leader().id)
    sim.advance(1500)
    saved = json.loads(json.dumps(sim.to_json()))
    assert [a[2] for a in saved["actions"] if a[2].endswith("_server")] == ["add_server", "remove_server"]
    again = Simulation.from_json(saved)
    assert again.summary() == sim.summary() and again.trace_text() == sim.trace_text()
    step = sim.actions[0].step
    n1 = sim.node("n1")
    sim.rewind(step)                                # before n4 existed
    assert "n4" not in sim.nodes and sim.node("n1") is n1
    sim.add_server("n4")                            # and the run can go on differently
    sim.advance(500)
    assert "n4" in sim.leader().configuration.voters and sim.violation is None


# --- removed servers that keep timing out (dissertation 4.2.3) ---------------------------------------------------


def removed_follower_run(**config):
    sim = started(seed=2, **config)
    leader = sim.leader()
    gone = next(n for n in ("n1", "n2", "n3") if n != leader.id)
    sim.remove_server(gone)
    assert sim.run_until(lambda s: s.leader() is not None and s.leader().commit_index >= s.leader().log.configuration_index, within=1000)
    assert sim.node(gone).is_voter                   # it never heard of its removal
    terms = {n: sim.node(n).current_term for n in sim.nodes}
    sim.advance(3000)
    rest = [n for n in sim.nodes if n != gone]
    return sim, gone, terms, rest


def test_a_removed_server_disrupts_the_cluster_without_pre_vote_or_check_quorum():
    sim, gone, terms, rest = removed_follower_run()
    assert all(sim.node(n).current_term >= terms[n] + 3 for n in rest)       # terms go up, again and again


def test_pre_vote_stops_a_removed_server_from_disrupting():
    sim, gone, terms, rest = removed_follower_run(pre_vote=True)
    assert all(sim.node(n).current_term == terms[n] for n in sim.nodes)
    assert sim.leader() is not None and sim.violation is None


def test_check_quorum_leases_stop_a_removed_server_from_disrupting():
    sim, gone, terms, rest = removed_follower_run(check_quorum=True)
    assert sim.node(gone).current_term > terms[gone]                 # it keeps trying...
    assert all(sim.node(n).current_term == terms[n] for n in rest)   # ...and the others ignore it
    assert sim.leader() is not None and sim.violation is None


# --- bad input -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("move, message", [
    (lambda s: s.add_server("n2"), r"n2 is already in the configuration \{n1,n2,n3\} \(as a voter\)"),
    (lambda s: s.add_server("x4"), r"a server is named like 'n4'"),
    (lambda s: s.add_server(), r"add_server needs at least one server"),
    (lambda s: s.add_server("n4", "n5"), r"single-server changes .* one server at a time"),
    (lambda s: s.remove_server("n7"), r"there is no node 'n7'"),
    (lambda s: s.remove_server("n1", "n1"), r"n1 named twice"),
])
def test_bad_changes_are_refused_in_raft_terms(move, message):
    sim = started()
    before = len(sim.actions)
    with pytest.raises(OperatorError, match=message):
        move(sim)
    assert len(sim.actions) == before


def test_removing_the_last_voter_is_refused():
    sim = Simulation(nodes=1, seed=1)
    assert sim.run_until(lambda s: s.leader() is not None and s.leader().commit_index >= 1, within=1000)
    with pytest.raises(OperatorError, match=r"would leave the configuration \{n1\} with no voters"):
        sim.remove_server("n1")


def test_the_membership_setting_is_checked():
    with pytest.raises(Exception, match="membership must be one of single, joint, unsafe-direct"):
        Config(membership="fast")


def test_the_reference_rule_names_the_leader():
    sim = started()
    follower = next(n for n in sim.nodes.values() if not n.is_leader)
    assert may_change_configuration(follower) == f"{follower.id} is not the leader ({sim.leader().id} is)"
    assert may_change_configuration(sim.leader()) is None


# --- the command line ----------------------------------------------------------------------------------------


def test_simulate_with_a_change_schedule():
    out = subprocess.run([sys.executable, "-m", "raftlab", "simulate", "--preset", "teaching", "--nodes", "3",
                          "--duration", "3000", "--change", "500:add:n4", "--change", "1500:remove:n1"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "operator asks" in out.stdout and "to add n4" in out.stdout and "to remove n1" in out.stdout
    assert "configuration {n2,n3,n4}" in out.stdout


@pytest.mark.parametrize("spec, message", [
    ("500:add:n2", "n2 is already in the cluster"),
    ("500:remove:n9", "n9 is not in the cluster"),
    ("500:drop:n2", "add or remove"),
    ("soon:add:n4", "TIME:add:SERVER"),
])
def test_simulate_refuses_a_bad_change_schedule(spec, message):
    out = subprocess.run([sys.executable, "-m", "raftlab", "simulate", "--nodes", "3", "--duration", "100",
                          "--change", spec], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and message in out.stderr, out.stderr


def test_simulate_refuses_removing_every_voter():
    out = subprocess.run([sys.executable, "-m", "raftlab", "simulate", "--nodes", "1", "--duration", "100",
                          "--change", "50:remove:n1"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "no voters" in out.stderr, out.stderr


# --- a small campaign: random faults and changes -------------------------------------------------------------


@pytest.mark.parametrize("membership", ["single", "joint"])
def test_random_faults_with_membership_changes_break_no_property(membership):
    results = run_campaign(range(20), Config(request_interval=100, membership=membership),
                           duration=4000, changes=True)
    bad = [str(r) for r in results if not r.ok]
    assert bad == []



def test_a_fork_that_adds_a_server_leaves_the_original_alone():
    """Simulation.fork (the exhaustive search's copy) must not share what a membership change alters."""
    sim = Simulation(nodes=3, seed=1)
    sim.run_until(lambda s: s.leader() is not None)
    sim.advance(200)                       # the new leader commits an entry of its term
    fork = sim.fork()
    fork.add_server("n4")
    fork.advance(2_000)
    assert "n4" in fork.names and "n4" in fork.nodes
    assert sim.names == ["n1", "n2", "n3"] and "n4" not in sim.nodes
    leader = sim.leader()
    assert "n4" not in leader.peers and "n4" not in leader.next_index
    assert "n4" in fork.leader().configuration.members
