"""Exercise 7: membership changes (section 6; dissertation chapter 4): current_configuration, has_quorum,
may_change_configuration.

Unit tests of each rule on one server, then whole clusters: a server added as a learner and promoted,
a removed leader, joint consensus, one change at a time, the 2015 single-server bug."""
import pytest

from raftlab import AppendEntries, Entry, RequestVoteReply, Role
from raftlab.errors import OperatorError, SafetyViolation
from raftlab.grading.check.harness import cluster, expect, make_node, track, with_settings
from raftlab.impl import Rules
from raftlab.membership import Configuration
from raftlab.messages import ElectionTimeout
from raftlab.scenarios import direct_switch, single_server_change_bug

pytestmark = pytest.mark.exercise(7)

LEARNER = Configuration(("n1", "n2", "n3"), learners=("n4",))
BIGGER = Configuration(("n1", "n2", "n3", "n4"))


def server(rules, log=(), *, role=Role.FOLLOWER, term=3, commit_index=0, nodes=3, node_id="n1",
           membership="single", alone=False):
    """``node_id`` of an ``nodes``-server cluster whose log holds ``log``: a term (a command) or a
    (term, Configuration) pair (a configuration entry).  ``alone``: the node's configuration is the
    log's latest, as this test says, not as your current_configuration says (to test has_quorum and
    may_change_configuration on their own)."""
    if alone:
        latest = [item[1] for item in log if isinstance(item, tuple)]
        initial = Configuration(tuple(f"n{i}" for i in range(1, nodes + 1)))
        fixed = latest[-1] if latest else initial
        rules = Rules(**{**vars(rules), "current_configuration": lambda node: fixed})
    node = make_node(rules, node_id, nodes=nodes, term=term, role=role)
    for item in log:
        term_, config = item if isinstance(item, tuple) else (item, None)
        node.log.append(Entry(term_, None if config else ("put", "x", "1"), config=config))
    node.log.take_changes()
    node.commit_index = node.last_applied = commit_index
    return with_settings(node, membership=membership)


def text(log):
    return "[" + " ".join(f"{i}/{t if isinstance(t, int) else str(t[0]) + ' config ' + str(t[1])}"
                          for i, t in enumerate(log, 1)) + "]"


# --- current_configuration -------------------------------------------------------------------------------------

@pytest.mark.points(1)
def test_without_a_configuration_entry_the_initial_configuration(rules):
    node = server(rules, [1, 1])
    got = rules.current_configuration(node)
    expect(got == node.initial_configuration,
           f"n1's log [1/1 2/1] holds no configuration entry: it uses the cluster's initial configuration "
           f"{node.initial_configuration}, but current_configuration returned {got}")


@pytest.mark.points(2)
def test_the_latest_configuration_entry_even_uncommitted(rules):
    log = [1, (1, LEARNER), 2, (2, BIGGER), 2]
    node = server(rules, log, commit_index=3)
    got = rules.current_configuration(node)
    expect(got == BIGGER,
           f"n1's log is {text(log)}, committed up to 3: the latest configuration entry is 4 ({BIGGER}); "
           f"\"a server always uses the latest configuration in its log, regardless of whether the entry is "
           f"committed\" (section 6), but current_configuration returned {got}")


@pytest.mark.points(1)
def test_a_truncated_configuration_entry_no_longer_counts(rules):
    log = [1, (1, LEARNER), (2, BIGGER)]
    node = server(rules, log, commit_index=2)
    node.log.truncate_from(3)           # a new leader's AppendEntries conflicted at index 3
    got = rules.current_configuration(node)
    expect(got == LEARNER,
           f"n1's log was {text(log)}; entry 3 (config {BIGGER}) was deleted by a conflicting AppendEntries, "
           f"so its configuration is entry 2's again, {LEARNER}; current_configuration returned {got}")


@pytest.mark.points(1)
def test_the_snapshot_carries_the_configuration(rules):
    node = server(rules, [1, (1, LEARNER), 1, 1], commit_index=4)
    node.log.compact(3)                 # entries 1-3, the configuration entry among them, are in a snapshot now
    got = rules.current_configuration(node)
    expect(got == LEARNER,
           f"n1 compacted entries 1-3 into a snapshot, configuration entry 2 ({LEARNER}) among them; the "
           f"snapshot carries it (node.log.snapshot_config) and it is still n1's configuration, but "
           f"current_configuration returned {got}")
    node.log.append(Entry(3, None, config=BIGGER))
    got = rules.current_configuration(node)
    expect(got == BIGGER, f"after the snapshot, n1 appended configuration entry 5 ({BIGGER}): it uses that one "
                          f"now, but current_configuration returned {got}")


@pytest.mark.points(1)
def test_the_node_uses_your_configuration(rules):
    node = server(rules, [1, (1, LEARNER)])
    expect(node.configuration == LEARNER and node.peers == ["n2", "n3", "n4"],
           f"n1's log holds configuration {LEARNER} (uncommitted); node.configuration is "
           f"{node.configuration} and node.peers {node.peers}: the engine asks current_configuration")


# --- has_quorum --------------------------------------------------------------------------------------------------

def quorum_case(rules, config, ids, node_id="n1"):
    node = server(rules, [1, (1, config)], node_id=node_id, nodes=5, alone=True)
    return rules.has_quorum(node, set(ids))


MAJORITIES = [
    (("n1", "n2", "n3"), {"n1", "n2"}, True),
    (("n1", "n2", "n3"), {"n3"}, False),
    (("n1", "n2", "n3", "n4"), {"n1", "n2"}, False),
    (("n1", "n2", "n3", "n4"), {"n2", "n3", "n4"}, True),
    (("n1", "n2", "n3"), {"n1", "n7", "n8"}, False),
]


@pytest.mark.points(2)
def test_a_quorum_is_a_majority_of_the_voters(rules):
    for voters, ids, want in MAJORITIES:
        got = quorum_case(rules, Configuration(voters), ids)
        expect(got == want, f"in the configuration {Configuration(voters)}, has_quorum({sorted(ids)}) returned "
                            f"{got}: a quorum is more than half of the voters ({len(voters) // 2 + 1} of "
                            f"{len(voters)}), and servers the configuration does not name count for nothing")


@pytest.mark.points(1)
def test_learners_count_for_nothing(rules):
    config = Configuration(("n1", "n2", "n3"), learners=("n4", "n5"))
    got = quorum_case(rules, config, {"n1", "n4", "n5"})
    expect(got is False,
           f"in {config}, has_quorum(['n1', 'n4', 'n5']) returned {got}: learners receive the log but are "
           f"\"not yet counted towards majorities\" (dissertation 4.2.1); n1 alone is 1 of 3 voters")
    got = quorum_case(rules, config, {"n1", "n3"})
    expect(got is True, f"in {config}, has_quorum(['n1', 'n3']) returned {got}: 2 of the 3 voters are a quorum")


JOINT = Configuration(("n1", "n2", "n4"), old_voters=("n1", "n2", "n3"))
REPLACE_ALL = Configuration(("n4", "n5", "n6"), old_voters=("n1", "n2", "n3"))


JOINT_CASES = [
    (JOINT, {"n1", "n2"}, True, "a majority of C_old (n1, n2) and of C_new (n1, n2)"),
    (JOINT, {"n1", "n3"}, False, "a majority of C_old only"),
    (JOINT, {"n2", "n4"}, False, "a majority of C_new only"),
    (JOINT, {"n1", "n3", "n4"}, True, "n1, n3 of C_old and n1, n4 of C_new"),
    (REPLACE_ALL, {"n1", "n4", "n5", "n6"}, False, "4 of the 6 servers, but 1 of the 3 of C_old"),
    (REPLACE_ALL, {"n1", "n2", "n4", "n5"}, True, "2 of C_old and 2 of C_new"),
]


@pytest.mark.points(3)
def test_joint_consensus_needs_separate_majorities(rules):
    for config, ids, want, why in JOINT_CASES:
        got = quorum_case(rules, config, ids)
        expect(got == want, f"in the joint configuration {config}, has_quorum({sorted(ids)}) returned {got} "
                            f"({why}): \"agreement ... requires separate majorities from both the old and new "
                            f"configurations\" (section 6)")


@pytest.mark.points(2)
def test_a_leader_outside_its_configuration_does_not_count_itself(rules):
    config = Configuration(("n2", "n3", "n4"))
    got = quorum_case(rules, config, {"n1", "n2"})
    expect(got is False,
           f"n1 leads the configuration {config}, which it is not part of (it was removed); has_quorum(['n1', "
           f"'n2']) returned {got}: a removed leader \"does not count itself in majorities\" (dissertation "
           f"4.2.2), so that is 1 of 3")


@pytest.mark.points(1)
def test_no_voters_no_quorum(rules):
    node = server(rules, [1, (1, Configuration(()))], alone=True)   # a configuration without voters
    got = rules.has_quorum(node, {"n1", "n2"})
    expect(got is False, f"a configuration with no voters has no quorum, but has_quorum returned {got}")


@pytest.mark.points(1)
def test_a_candidate_does_not_win_with_a_learners_vote(rules):
    node = server(rules, [1, (1, LEARNER)], term=3, commit_index=2, alone=True)
    node.become_candidate()
    node.voted_for, node.votes_granted = "n1", {"n1"}
    node.step(RequestVoteReply("n4", "n1", 3, True), node.now)
    expect(node.role is Role.CANDIDATE,
           f"n1, candidate in term 3 under {LEARNER}, got a vote from learner n4 and became {node.role}: a "
           f"learner's vote counts for nothing (n1 and n4 are 1 of the 3 voters)")
    node.step(RequestVoteReply("n2", "n1", 3, True), node.now)
    expect(node.role is Role.LEADER, f"n1 then got n2's vote (2 of 3 voters), but it is {node.role}, not leader")


@pytest.mark.points(1)
def test_check_quorum_counts_only_voters(rules):
    node = server(rules, [1, (1, LEARNER), 3], role=Role.LEADER, term=3, commit_index=3, alone=True)
    with_settings(node, check_quorum=True)
    node.recent_active = {"n4"}
    node.step(ElectionTimeout("n1", "n1"), node.now)
    expect(node.role is Role.FOLLOWER,
           f"n1, leader of term 3 under {LEARNER} with check-quorum on, heard in a whole election timeout only "
           f"from learner n4, yet it stays {node.role}: n1 and a learner are not a quorum, so it steps down")


# --- may_change_configuration -----------------------------------------------------------------------------------

@pytest.mark.points(1)
@pytest.mark.parametrize("role", [Role.FOLLOWER, Role.CANDIDATE])
def test_only_the_leader_changes_the_configuration(rules, role):
    node = server(rules, [1, 3], role=role, commit_index=2, alone=True)
    if role is Role.CANDIDATE:
        node.become_candidate()
    reason = rules.may_change_configuration(node)
    expect(isinstance(reason, str) and reason,
           f"n1 is a {role} and may_change_configuration returned {reason!r}: only the leader changes the "
           f"configuration (return a sentence saying why not)")


@pytest.mark.points(1)
def test_a_leader_with_its_entry_committed_may_change(rules):
    node = server(rules, [1, 3], role=Role.LEADER, commit_index=2, alone=True)
    reason = rules.may_change_configuration(node)
    expect(reason is None, f"n1, leader of term 3, has committed entry 2 of its term and no change is in progress, "
                           f"but may_change_configuration refused: {reason!r}")


@pytest.mark.points(2)
def test_not_before_the_leader_committed_an_entry_of_its_term(rules):
    node = server(rules, [1, 1, 3], role=Role.LEADER, commit_index=2, alone=True)
    reason = rules.may_change_configuration(node)
    expect(isinstance(reason, str) and reason,
           "n1, new leader of term 3 (log [1/1 2/1 3/3], commit index 2), has not yet committed its no-op, "
           "but may_change_configuration allowed a change: \"a leader may not append a new configuration entry "
           "until it has committed an entry from its current term\" (the 2015 fix to single-server changes)")


@pytest.mark.points(1)
def test_joint_consensus_does_not_wait_for_an_entry_of_the_term(rules):
    node = server(rules, [1, 1, 3], role=Role.LEADER, commit_index=2, membership="joint", alone=True)
    reason = rules.may_change_configuration(node)
    expect(reason is None, f"with joint consensus (node.config.membership == 'joint') the new leader's "
                           f"changes are safe without the current-term rule, but may_change_configuration "
                           f"refused: {reason!r}")


@pytest.mark.points(1)
@pytest.mark.parametrize("membership", ["single", "joint"])
def test_one_change_at_a_time(rules, membership):
    log = [1, 3, (3, LEARNER)]
    node = server(rules, log, role=Role.LEADER, commit_index=2, membership=membership, alone=True)
    reason = rules.may_change_configuration(node)
    expect(isinstance(reason, str) and reason,
           f"n1, leader of term 3, log {text(log)}, commit index 2: configuration entry 3 is not committed yet, "
           f"but may_change_configuration allowed another change: \"the leader will not begin a new "
           f"configuration change until the previous one is committed\" (dissertation 4.1)")
    node.commit_index = 3
    reason = rules.may_change_configuration(node)
    expect(reason is None, f"n1's configuration entry 3 is committed now, but may_change_configuration still "
                           f"refused: {reason!r}")


@pytest.mark.points(1)
def test_not_in_the_joint_phase(rules):
    joint = Configuration(("n1", "n2", "n4"), old_voters=("n1", "n2", "n3"))
    log = [1, 3, (3, joint)]
    node = server(rules, log, role=Role.LEADER, commit_index=3, membership="joint", nodes=4, alone=True)
    reason = rules.may_change_configuration(node)
    expect(isinstance(reason, str) and reason,
           f"n1's log {text(log)} is committed, but its configuration is the joint {joint}: the change ends "
           f"only once C_new is appended (the engine does it), so no new change may start yet")


# --- clusters ------------------------------------------------------------------------------------------------------

def started(impl, nodes=3, seed=1, **config):
    """A cluster whose leader has committed its no-op (a change may start)."""
    sim = cluster(impl, nodes=nodes, seed=seed, **config)
    ok = sim.run_until(lambda s: s.leader() is not None and s.leader().commit_index >= 1, within=3000)
    expect(ok, f"seed {seed}: no leader committed its first entry within 3000 ms:\n{sim.summary()}")
    return sim


def configs(node):
    return [str(node.log.entry(i).config) for i in node.log.config_indexes]


@pytest.mark.points(2)
def test_a_new_server_joins_as_a_learner_and_is_promoted(impl):
    sim = started(impl)
    leader = sim.leader()
    sim.add_server("n4")
    expect(str(leader.configuration) == str(LEARNER),
           f"the operator asked {leader.id} to add n4; its configuration is {leader.configuration}, expected "
           f"{LEARNER} at once (the leader uses a configuration as soon as it appends it)")
    ok = sim.run_until(lambda s: s.leader() is not None and s.leader().configuration == BIGGER
                       and s.leader().commit_index >= s.leader().log.configuration_index, within=2000)
    expect(ok, f"2000 ms after n4 joined as a learner it has not been promoted to voter, committed: "
               f"{leader.id}'s configurations {configs(leader)}\n{sim.summary()}")
    sim.crash(leader.id)                 # 4 voters now: a new leader needs 3 votes, n4's among them
    ok = sim.run_until(lambda s: s.leader() is not None, within=5000)
    new = sim.leader()
    expect(ok and new is not None and (new.id == "n4" or sim.node("n4").voted_for == new.id),
           f"with {leader.id} crashed, 3 of the other voters n2..n4 must elect a leader, with n4's vote: "
           f"{sim.summary()}")


@pytest.mark.points(1)
def test_a_follower_switches_when_it_appends_the_entry(impl):
    sim = started(impl)
    leader = sim.leader()
    follower = next(n for n in sim.nodes.values() if not n.is_leader)
    sim.add_server("n4")
    for env in sim.in_flight():
        if isinstance(env.message, AppendEntries) and env.dst == follower.id and env.message.entries:
            sim.deliver(env.id)
    expect(follower.log.configuration_index > follower.commit_index,
           f"{follower.id} should hold the uncommitted configuration entry:\n{sim.summary()}")
    expect(follower.configuration == LEARNER,
           f"{follower.id} appended {leader.id}'s configuration entry {LEARNER} (not committed yet), but uses "
           f"{follower.configuration}: a server uses the latest configuration in its log, committed or not")
    expect("n4" not in follower.configuration.voters and follower.peers == [p for p in ("n1", "n2", "n3", "n4")
                                                                             if p != follower.id],
           f"{follower.id}'s peers are {follower.peers}")


@pytest.mark.points(2)
def test_a_removed_leader_steps_down_once_the_change_commits(impl):
    sim = started(impl)
    old = sim.leader()
    sim.remove_server(old.id)
    index = old.log.configuration_index
    expect(old.is_leader and old.id not in old.configuration.members,
           f"{old.id} appended its own removal at index {index}: it keeps leading (and replicating) until that "
           f"entry commits, under the new configuration {old.configuration}")
    ok = sim.run_until(lambda s: not old.is_leader, within=2000)
    expect(ok and old.commit_index >= index,
           f"{old.id} removed itself: it steps down once the new configuration is committed (commit "
           f"{old.commit_index}, entry {index}):\n{sim.summary()}")
    ok = sim.run_until(lambda s: s.leader() is not None and s.leader() is not old, within=3000)
    expect(ok, f"the two remaining servers must elect a leader after {old.id} left:\n{sim.summary()}")
    op = sim.wait_for(sim.client_request("put x 1", node=sim.leader().id), within=2000)
    expect(op.result == "ok", f"a request to the new leader did not succeed: {op}")


@pytest.mark.points(1)
def test_a_removed_leader_cut_off_with_one_voter_steps_down(impl):
    """{n1..n4}, n1 leads and removes itself; cut off with n2, it hears from 1 of the 3 voters of its
    configuration {n2,n3,n4}: with check-quorum it steps down."""
    sim = started(impl, nodes=4, seed=2, check_quorum=True)
    old = sim.leader()
    buddy = next(n for n in sim.names if n != old.id)
    rest = [n for n in sim.names if n not in (old.id, buddy)]
    sim.partition([old.id, buddy], rest)
    sim.remove_server(old.id, via=old.id)
    ok = sim.run_until(lambda s: not old.is_leader, within=1500)
    expect(ok, f"{old.id} removed itself, then was cut off with {buddy} only: under its configuration "
               f"{old.configuration} that is 1 of 3 voters, yet it still leads after 1500 ms (check-quorum is on; "
               f"a removed leader does not count itself):\n{sim.summary()}")


@pytest.mark.points(1)
def test_a_configuration_compacted_into_a_snapshot_stays_in_force(impl):
    sim = started(impl, snapshot_every=5)
    leader = sim.leader()
    gone = next(n for n in ("n1", "n2", "n3") if n != leader.id)
    sim.remove_server(gone)
    for i in range(8):
        sim.wait_for(sim.client_request(f"put x {i}", node=leader.id), within=2000)
    expect(leader.snapshot is not None and leader.log.config_indexes == [],
           f"{leader.id} should have compacted its log, the change removing {gone} with it:\n{sim.summary()}")
    expect(gone not in leader.configuration.members and gone not in leader.peers,
           f"{leader.id} removed {gone}, then compacted that change into a snapshot; its configuration is "
           f"{leader.configuration} (peers {leader.peers}): the snapshot carries the configuration in force at "
           f"its last index (section 7), and it stays the server's configuration")


@pytest.mark.points(3)
def test_the_2015_single_server_bug(impl):
    sim, refused = single_server_change_bug(impl)
    track(sim)
    v = sim.violation
    expect(v is None, f"the 2015 bug: n2, new leader of term 2 that had not committed an entry of its term, "
                      f"removed n4; that change committed on n2 and n3 (a majority of the old {{n1,n2,n3}}), and "
                      f"n1 then won term 3 with n4 and n5 (a majority of {{n1..n5}}) without it: "
                      f"{v.property if v else ''}: {v.detail if v else ''}")
    expect(refused is not None and sim.node("n1").is_leader,
           f"n2, leader of term 2, had committed nothing of its term, yet its change was not refused "
           f"(may_change_configuration must refuse it):\n{sim.summary()}")


@pytest.mark.points(3)
def test_joint_consensus_elects_one_leader(impl):
    sim = track(direct_switch("joint", impl))
    v = sim.violation
    n4 = sim.node("n4")
    expect(v is None and not n4.is_leader and sim.node("n2").is_leader,
           f"n4 holds the joint configuration {n4.configuration} and got the votes of n1 and n5: a majority of "
           f"C_new but only 1 of C_old {{n1,n2,n3}}, whose majority (n2, n3) already elected n2 in term 2; n4 "
           f"must not win (separate majorities of both, section 6)"
           + (f": {v.property}: {v.detail}" if v else f":\n{sim.summary()}"))


@pytest.mark.points(2)
def test_joint_consensus_changes_the_whole_cluster(impl):
    sim = started(impl, membership="joint")
    leader = sim.leader()
    sim.add_server("n4", "n5")
    ok = sim.run_until(lambda s: s.leader() is not None and len(s.leader().configuration.voters) == 5
                       and not s.leader().configuration.is_joint
                       and s.leader().commit_index >= s.leader().log.configuration_index, within=3000)
    expect(ok, f"adding n4 and n5 with joint consensus did not end in {{n1..n5}}, committed, within 3000 ms: "
               f"{leader.id}'s configurations {configs(leader)}:\n{sim.summary()}")
    sim.remove_server("n1", "n2")
    ok = sim.run_until(lambda s: s.leader() is not None and s.leader().configuration.voters == ("n3", "n4", "n5")
                       and s.leader().commit_index >= s.leader().log.configuration_index, within=5000)
    expect(ok, f"removing n1 and n2 with joint consensus did not end in {{n3,n4,n5}}, committed, within 5000 ms:"
               f"\n{sim.summary()}")
    op = sim.wait_for(sim.client_request("put x 1", node=sim.leader().id), within=2000)
    expect(op.result == "ok", f"a request to the new leader did not succeed: {op}")


@pytest.mark.points(1)
def test_a_second_change_is_refused_while_one_is_uncommitted(impl):
    sim = started(impl)
    leader = sim.leader()
    sim.partition([leader.id])          # nothing the leader appends can commit now
    sim.add_server("n4", via=leader.id)
    other = "n3" if leader.id != "n3" else "n2"
    try:
        sim.remove_server(other, via=leader.id)
    except OperatorError:
        return
    except SafetyViolation as v:
        expect(False, f"{leader.id}, cut off, appended the change adding n4 (it cannot commit), then was asked to "
                      f"remove {other} and started that change too: {v.property}: {v.detail}")
    expect(False, f"{leader.id}, cut off, appended the change adding n4 (it cannot commit), then started a second "
                  f"change removing {other}: one change at a time, refuse it until the first is committed")


@pytest.mark.points(1)
def test_a_learner_that_catches_up_late_is_promoted_then(impl):
    sim = started(impl, seed=2)
    leader = sim.leader()
    sim.add_server("n4")
    sim.cut(leader.id, "n4")
    sim.advance(600)
    expect("n4" in leader.configuration.learners,
           f"n4 cannot receive anything from {leader.id}, yet it is no longer a learner: "
           f"{leader.configuration}")
    sim.reconnect("n4")
    ok = sim.run_until(lambda s: s.leader() is not None and "n4" in s.leader().configuration.voters, within=3000)
    expect(ok, f"n4 was reconnected and caught up, yet it was not promoted to voter within 3000 ms: "
               f"{configs(leader)}\n{sim.summary()}")
    expect(sim.violation is None, f"{sim.violation}")
