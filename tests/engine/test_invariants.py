"""The safety checker can fail: each property of Figure 3 is broken on purpose.

Reference: Figure 3 (Election Safety, Leader Append-Only, Log Matching, Leader
Completeness, State Machine Safety), section 5.4 (their proofs), plus the checker's
own two properties (committed entries are never lost; 0 <= last_applied <=
commit_index <= last log index).

Each test breaks one property, either with a deliberately buggy rule passed as
``impl={...}`` (the kind of mistake a student makes) or by tampering with a node's
state between steps, and asserts that the resulting ``SafetyViolation`` names that
property, the nodes involved and the index.  A checker that never fires would fail
every one of these tests.
"""
import dataclasses

import pytest

from raftlab import ClientReply, Entry, RequestVoteReply, Role, SafetyViolation, Simulation
from raftlab import rules as reference
from raftlab.invariants import PROPERTIES
from raftlab.scenarios import deliver_all, figure8

from .helpers import deliver_all_but


def two_candidates(sim):
    """n1 and n2 stand in term 1 at once; every request is answered before any reply arrives
    (deliver the replies next, before anything else)."""
    sim.timeout("n1")
    sim.timeout("n2")
    deliver_all(sim, "RequestVote")


def elect_n1(sim):
    sim.timeout("n1")
    deliver_all(sim)
    assert sim.leader().id == "n1"


# --- the buggy rules ------------------------------------------------------------------------------

def votes_for_everyone(node, m):
    """Forgets "votedFor is null or candidateId": a vote for every up-to-date candidate."""
    granted = m.term == node.current_term and node.log.is_up_to_date(m.last_log_index, m.last_log_term)
    if granted:
        node.voted_for = m.candidate_id
    node.send(RequestVoteReply(node.id, m.src, node.current_term, granted))


def replaces_uncommitted_entry(node, m):
    """A leader that replaces its last uncommitted entry by the newest request."""
    if node.role is Role.LEADER and node.log.last_index > node.commit_index:
        node.log.truncate_from(node.log.last_index)
    reference.handle_client_request(node, m)


def commits_before_checking(node, m):
    """Trusts leaderCommit before the consistency check (rule 5 before rule 2)."""
    if m.term >= node.current_term and m.leader_commit > node.commit_index:
        node.commit_index = min(m.leader_commit, node.log.last_index)
    reference.handle_append_entries(node, m)


def truncates_after_prev(node, m):
    """Misreads rule 3: deletes everything after prevLogIndex, conflict or not."""
    if m.term >= node.current_term and node.log.term_at(m.prev_log_index) == m.prev_log_term:
        node.log.truncate_from(m.prev_log_index + 1)
    reference.handle_append_entries(node, m)


def commit_from_any_message(node, m):
    """Sets commitIndex = min(leaderCommit, index of last new entry) even when that is lower."""
    reference.handle_append_entries(node, m)
    if m.term == node.current_term and node.log.term_at(m.prev_log_index) == m.prev_log_term:
        node.commit_index = min(m.leader_commit, m.prev_log_index + len(m.entries))


def counting_old_terms(node):
    """Forgets "log[N].term == currentTerm" (Figure 8)."""
    if node.role is not Role.LEADER:
        return
    matched = sorted([node.log.last_index] + [node.match_index[p] for p in node.peers], reverse=True)
    if matched[node.majority - 1] > node.commit_index:
        node.commit_index = matched[node.majority - 1]


def reordered(sim, target="n2"):
    """n1 leads; the AppendEntries carrying index 2 to ``target`` arrives after those carrying
    indexes 2-4 (and a commit index of 3).  Returns the late message's id."""
    elect_n1(sim)
    sim.client_request("put x 1", node="n1")
    deliver_all(sim, "ClientRequest")
    [old] = [e.id for e in sim.in_flight() if e.kind == "AppendEntries" and e.dst == target]
    for v in (2, 3):
        sim.client_request(f"put x {v}", node="n1")
        deliver_all_but(sim, [old])
    assert sim.node(target).commit_index == 3
    return old


# --- one test per property ----------------------------------------------------------------------

def test_election_safety():
    sim = Simulation(nodes=3, impl={"handle_request_vote": votes_for_everyone})
    two_candidates(sim)
    with pytest.raises(SafetyViolation) as caught:
        deliver_all(sim, "RequestVoteReply")
    v = caught.value
    assert v.property == "Election Safety"
    assert sorted(v.nodes) == ["n1", "n2"]
    assert "both leaders in term 1" in v.detail


def test_leader_append_only():
    sim = Simulation(nodes=3, impl={"handle_client_request": replaces_uncommitted_entry})
    elect_n1(sim)
    sim.client_request("put x 1", node="n1")
    deliver_all(sim, "ClientRequest")                   # index 2 is appended, not yet replicated
    sim.client_request("put x 2", node="n1")
    with pytest.raises(SafetyViolation) as caught:
        deliver_all(sim, "ClientRequest")
    v = caught.value
    assert (v.property, v.nodes, v.index) == ("Leader Append-Only", ("n1",), 2)
    assert "leader n1 of term 1 deleted its entries from index 2" in v.detail


def test_log_matching_by_tampering():
    sim = Simulation(nodes=3)
    elect_n1(sim)
    # n3 gets an entry of term 1 at index 2 that the leader of term 1 never made
    sim.node("n3").log.append(Entry(1, ("put", "x", "evil"), "c9", 1))
    sim.client_request("put x 1", node="n1")
    with pytest.raises(SafetyViolation) as caught:
        deliver_all(sim)
    v = caught.value
    assert (v.property, v.nodes, v.index) == ("Log Matching", ("n3", "n1"), 2)
    assert "different commands: put x=evil and put x=1" in v.detail


def test_log_matching_with_a_handler_that_skips_the_consistency_check():
    def ignores_prev_term(node, m):
        """Rule 2 checks only that the log reaches prevLogIndex, not the term there."""
        if m.term >= node.current_term and m.prev_log_index <= node.log.last_index:
            m = dataclasses.replace(m, prev_log_term=node.log.term_at(m.prev_log_index))
        reference.handle_append_entries(node, m)
    with pytest.raises(SafetyViolation) as caught:
        figure8("d", impl={"handle_append_entries": ignores_prev_term})
    v = caught.value
    assert v.property == "Log Matching" and v.index == 4
    # n5's term-5 no-op lands at index 4 of a follower, after its term-2 entry at index 3
    follower = v.nodes[0]
    assert v.nodes == (follower, "n5") and follower in ("n2", "n3")
    assert f"at index 3 {follower} has term 2 and n5 has term 3" in v.detail


def test_leader_completeness():
    with pytest.raises(SafetyViolation) as caught:
        figure8("d", impl={"advance_commit_index": counting_old_terms})
    v = caught.value
    assert (v.property, v.nodes, v.index) == ("Leader Completeness", ("n5", "n1"), 3)


def test_state_machine_safety():
    sim = Simulation(nodes=3, impl={"handle_append_entries": commits_before_checking})
    elect_n1(sim)                                       # everyone holds term 1's no-op
    sim.isolate("n1")
    sim.client_request("put x stale", node="n1")        # index 2, on n1 alone
    deliver_all(sim)
    sim.timeout("n2")
    deliver_all(sim)                                    # n2 leads term 2: its no-op is index 2
    sim.client_request("put x good", node="n2")
    deliver_all(sim)
    sim.timeout("n3")
    deliver_all(sim)                                    # n3 leads term 3 and commits index 4
    assert sim.node("n3").commit_index == 4
    sim.heal()
    sim.client_request("put x more", node="n3")
    with pytest.raises(SafetyViolation) as caught:
        deliver_all(sim)                                # n1 rejects, but has already "committed" 2
    v = caught.value
    assert (v.property, v.index) == ("State Machine Safety", 2)
    assert v.nodes[0] == "n1" and v.nodes[1] in ("n2", "n3")
    assert "n1 applied 2/1 (put x=stale) at index 2" in v.detail


def test_committed_entries_never_lost_by_truncation():
    sim = Simulation(nodes=3, impl={"handle_append_entries": truncates_after_prev})
    with pytest.raises(SafetyViolation) as caught:
        # an AppendEntries sent before the follower's last reply arrived overlaps what it has
        old = reordered(sim)
        sim.deliver(old)
    v = caught.value
    assert (v.property, v.index) == ("Committed entries never lost", 2)
    assert len(v.nodes) == 1 and v.nodes[0] in ("n2", "n3")
    assert f"{v.nodes[0]} deleted committed entry 2/1 (put x=1)" in v.detail


def test_committed_entries_never_lost_by_a_commit_index_going_back():
    sim = Simulation(nodes=3, impl={"handle_append_entries": commit_from_any_message})
    old = reordered(sim)
    with pytest.raises(SafetyViolation) as caught:
        sim.deliver(old)
    v = caught.value
    assert (v.property, v.nodes) == ("Committed entries never lost", ("n2",))
    assert "n2's commit index went back from 3 to 1" in v.detail


def test_committed_entries_never_lost_by_tampering():
    sim = Simulation(nodes=3, seed=1)
    sim.run_until_leader(within=2000)
    for v in "ab":
        sim.client_request(f"put x {v}", node=sim.leader().id)
        sim.advance(200)
    follower = next(n for n in sim.nodes.values() if n.role is Role.FOLLOWER)
    assert follower.commit_index == 3
    follower.log.truncate_from(2)                       # lose two committed entries
    with pytest.raises(SafetyViolation) as caught:
        sim.advance(200)
    v = caught.value
    assert (v.property, v.nodes, v.index) == ("Committed entries never lost", (follower.id,), 2)


def test_index_order_by_tampering():
    sim = Simulation(nodes=3, seed=2)
    sim.run_until_leader(within=2000)
    sim.advance(100)
    follower = next(n for n in sim.nodes.values() if n.role is Role.FOLLOWER)
    follower.commit_index = follower.last_applied = follower.log.last_index + 2
    with pytest.raises(SafetyViolation) as caught:
        sim.advance(200)
    v = caught.value
    assert (v.property, v.nodes) == ("Index order", (follower.id,))
    assert "commit_index=3, last log index=1" in v.detail


def answers_before_commit(node, m):
    """Bug: the leader tells the client "done" as soon as it has appended the entry (section 8: it
    must answer only once the entry is committed)."""
    reference.handle_client_request(node, m)
    if node.role is Role.LEADER and m.command[0] != "get":
        node.send(ClientReply(node.id, m.client_id, m.client_id, m.seq, True, "ok"))


def test_acknowledged_writes_durable():
    sim = Simulation(nodes=3, seed=1, impl={"handle_client_request": answers_before_commit})
    leader = sim.run_until_leader()
    sim.partition([leader.id])                         # it can never commit: the answer is a lie
    sim.client_request("put x 1", node=leader.id, client="c1")
    with pytest.raises(SafetyViolation) as caught:
        sim.advance(200)
    v = caught.value
    assert (v.property, v.nodes) == ("Acknowledged writes durable", (leader.id,))
    assert f"{leader.id} told c1 that its put x=1 (#1) succeeded, but no server has committed" in v.detail


def answers_reads_locally(node, m):
    """Bug: any server answers a read from its own state machine, without asking the leader."""
    if m.command[0] == "get":
        node.send(ClientReply(node.id, m.client_id, m.client_id, m.seq, True,
                              node.state_machine.data.get(m.command[1])))
        return
    reference.handle_client_request(node, m)


def test_linearizability():
    sim = Simulation(nodes=3, seed=1, impl={"handle_client_request": answers_reads_locally})
    leader = sim.run_until_leader()
    follower = next(n for n in sim.names if n != leader.id)
    assert sim.wait_for(sim.client_request("put x 1", node=leader.id)).result == "ok"
    sim.advance(200)                                   # the follower applies x=1
    sim.isolate(follower)                              # ...and hears nothing more
    assert sim.wait_for(sim.client_request("put x 2", node=leader.id)).result == "ok"
    sim.advance(1)                                     # the read starts after the write was answered
    read = sim.wait_for(sim.client_request("get x", node=follower, client="c5"))
    assert read.result == "1"                          # a stale read: every log invariant still holds
    assert sim.violation is None
    verdict = sim.check_history()
    assert verdict.failed and verdict.key == "x" and ("c5", 1) in verdict.ids
    assert sim.violation.property == "Linearizability" and "stale read" in sim.violation.detail
    reference_sim = Simulation(nodes=3, seed=1)        # the reference, same moves: linearizable
    reference_sim.run_until_leader()
    reference_sim.wait_for(reference_sim.client_request("get x", node=follower, client="c5"))
    assert reference_sim.check_history().ok and reference_sim.violation is None


def test_every_property_has_a_test_here():
    tested = {"Election Safety", "Leader Append-Only", "Log Matching", "Leader Completeness",
              "State Machine Safety", "Committed entries never lost", "Index order",
              "Acknowledged writes durable", "Linearizability",
              "One change at a time"}                    # broken in test_membership.py
    assert set(PROPERTIES) == tested


# --- what a violation carries, and what happens after it ---------------------------------------

def test_a_violation_halts_the_run_and_says_how_to_replay_it():
    sim = Simulation(nodes=3, seed=5, impl={"handle_request_vote": votes_for_everyone})
    two_candidates(sim)
    with pytest.raises(SafetyViolation) as caught:
        deliver_all(sim, "RequestVoteReply")
    v = caught.value
    assert sim.violation is v
    assert v.step == sim.steps and v.time == sim.now
    assert v.recent and "became leader at term 1" in v.recent[-1]
    assert "seed=5" in v.replay
    assert str(v).startswith("Election Safety violated: ")
    assert sim.trace[-1].text.startswith("SAFETY VIOLATION: Election Safety")
    # the run is halted: every further action raises the same violation
    for action in (sim.step, lambda: sim.advance(10), lambda: sim.crash("n3"), sim.heal):
        with pytest.raises(SafetyViolation) as again:
            action()
        assert again.value is v
    # and the saved run replays to the same violation, at the same step
    with pytest.raises(SafetyViolation) as replayed:
        Simulation.from_json(v.run, impl={"handle_request_vote": votes_for_everyone})
    assert (replayed.value.property, replayed.value.step) == (v.property, v.step)


def test_check_safety_off_lets_the_bug_through():
    """The same buggy run, unchecked: two leaders in one term, and no error."""
    sim = Simulation(nodes=3, check_safety=False, impl={"handle_request_vote": votes_for_everyone})
    two_candidates(sim)
    deliver_all(sim, "RequestVoteReply")
    assert sorted(n.id for n in sim.nodes.values() if n.role is Role.LEADER) == ["n1", "n2"]
    assert sim.violation is None
