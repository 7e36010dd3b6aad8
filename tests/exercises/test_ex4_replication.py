"""Exercise 4: the leader handles AppendEntries replies (section 5.3): handle_append_entries_reply."""
import pytest

from raftlab import AppendEntries, AppendEntriesReply, Role
from raftlab.grading.check.harness import (cluster, describe, expect, fault_campaign, make_node, settled, take_sent,
                                           terms)

pytestmark = pytest.mark.exercise(4)


def leader(rules, **changes):
    """n1, leader of term 3 in a cluster of 5, log [1/1 2/1 3/3 4/3 5/3]: nextIndex 6, matchIndex 0."""
    state = dict(role=Role.LEADER, term=3, log=[1, 1, 3, 3, 3])
    state.update(changes)
    return make_node(rules, **state)


def reply(node, src, success, match=0, term=3, conflict_term=None, conflict_index=0):
    node.step(AppendEntriesReply(src, node.id, term, success, match, conflict_term, conflict_index), node.now)


def indexes(node, peer):
    return f"nextIndex[{peer}]={node.next_index[peer]}, matchIndex[{peer}]={node.match_index[peer]}"


@pytest.mark.points(2)
def test_a_success_records_what_the_follower_holds(rules):
    node = leader(rules)
    reply(node, "n2", True, 5)
    expect(node.match_index["n2"] == 5 and node.next_index["n2"] == 6,
           f"n2 confirmed it holds n1's log up to index 5; n1 now has {indexes(node, 'n2')}; expected "
           f"matchIndex 5 and nextIndex 6 (Figure 2, Leaders: if successful, update both)")


@pytest.mark.points(2)
def test_match_index_comes_from_the_reply(rules):
    node = leader(rules)
    reply(node, "n2", True, 3)
    expect(node.match_index["n2"] == 3,
           f"n2 answered a heartbeat: it holds n1's entries up to index 3 (match=3), but n1 set "
           f"matchIndex[n2]={node.match_index['n2']}; the leader's log goes to 5, the follower's may not: "
           f"only what the follower confirmed may count toward a commit")
    expect(4 <= node.next_index["n2"] <= 6, f"after a success with match=3, n1 has {indexes(node, 'n2')}; "
                                            f"nextIndex must stay above matchIndex")


@pytest.mark.points(2)
def test_match_index_never_moves_back(rules):
    node = leader(rules)
    reply(node, "n2", True, 5)
    reply(node, "n2", True, 3)                   # a late reply to an older AppendEntries
    expect(node.match_index["n2"] == 5 and node.next_index["n2"] == 6,
           f"n2 confirmed index 5, then a late reply confirmed index 3; n1 now has {indexes(node, 'n2')}: "
           f"matchIndex never moves back (replies arrive out of order)")


@pytest.mark.points(2)
def test_a_rejection_backs_off_and_retries_at_once(rules):
    node = leader(rules)
    reply(node, "n2", False, conflict_index=3)     # n2's log ends at index 2
    expect(1 <= node.next_index["n2"] < 6,
           f"n2 rejected AppendEntries(prev=5/3) (its log ends at index 2); n1 then has {indexes(node, 'n2')}: "
           f"nextIndex must go back (Figure 2: decrement nextIndex and retry)")
    retry = [m for m in take_sent(node, AppendEntries) if m.dst == "n2"]
    expect(len(retry) == 1 and retry[0].prev_log_index == node.next_index["n2"] - 1,
           f"after n2's rejection n1 sent it {'; '.join(map(str, retry)) or 'nothing'}; expected one "
           f"AppendEntries at once, from the new nextIndex {node.next_index['n2']} "
           f"(node.rules.send_append_entries(node, 'n2'))")


@pytest.mark.points(1)
def test_a_rejection_skips_the_conflicting_term(rules):
    node = leader(rules)
    reply(node, "n2", False, conflict_term=2, conflict_index=3)
    expect(node.next_index["n2"] == 3,
           f"n2 holds term 2 from index 3 on, a term n1's log [1/1 2/1 3/3 4/3 5/3] lacks; n1 set nextIndex[n2]="
           f"{node.next_index['n2']}, expected 3: back off past the whole conflicting term (end of section 5.3)")
    node = leader(rules)
    reply(node, "n2", False, conflict_term=1, conflict_index=1)
    expect(node.next_index["n2"] == 3,
           f"n2 holds term 1 at prevLogIndex 5; n1's last entry of term 1 is index 2, so nextIndex[n2] should "
           f"be 3, not {node.next_index['n2']}")


@pytest.mark.points(1)
def test_next_index_stays_above_match_index_and_zero(rules):
    node = leader(rules)
    reply(node, "n2", True, 2)
    node.next_index["n2"] = 3
    reply(node, "n2", False, conflict_index=1)    # a late duplicate of an old rejection
    expect(node.next_index["n2"] == 3,
           f"n2 confirmed index 2, then a stale rejection arrived; n1 moved to {indexes(node, 'n2')}: "
           f"nextIndex must stay above matchIndex (n2 is known to hold index 2)")
    node = leader(rules)
    node.next_index["n3"] = 1
    for _ in range(2):
        reply(node, "n3", False, conflict_index=1)
    expect(node.next_index["n3"] >= 1,
           f"after two rejections n1 has nextIndex[n3]={node.next_index['n3']}: the first log index is 1")


@pytest.mark.points(2)
def test_ignores_replies_from_another_term(rules):
    node = leader(rules)
    reply(node, "n2", True, 5, term=2)
    reply(node, "n3", False, term=2, conflict_index=1)
    expect(node.match_index["n2"] == 0 and node.next_index["n3"] == 6 and not take_sent(node, AppendEntries),
           f"n1, leader of term 3, acted on replies of term 2 (to a leader of an earlier term): it now has "
           f"{indexes(node, 'n2')}, {indexes(node, 'n3')}; a reply from another term says nothing about "
           f"this term's log")


@pytest.mark.points(1)
def test_only_a_leader_handles_replies(rules):
    node = make_node(rules, term=3, log=[1, 1, 3])
    reply(node, "n2", True, 3)
    expect(node.role is Role.FOLLOWER and node.commit_index == 0 and not take_sent(node),
           f"n1, a follower, acted on an AppendEntries reply (from when it led term 3?): {describe(node)}")


@pytest.mark.points(2)
def test_a_success_can_commit(rules):
    node = leader(rules, log=[1, 3, 3])
    reply(node, "n2", True, 3)
    reply(node, "n3", True, 3)
    expect(node.commit_index == 3,
           f"n2 and n3 confirmed index 3 (term 3): with n1 that is a majority of 5, but n1's commit_index is "
           f"{node.commit_index}: after a success, call node.rules.advance_commit_index(node)")


# --- scenarios ----------------------------------------------------------------------------------------

@pytest.mark.points(2)
def test_requests_commit_on_every_node(impl):
    for seed in range(1, 4):
        sim = cluster(impl, nodes=5, seed=seed)
        leader_ = sim.run_until_leader(within=3000)
        expect(leader_ is not None, f"seed {seed}: no leader after 3000 ms:\n{sim.summary()}")
        for i in range(5):
            sim.client_request(f"append x {i}", client=f"c{i + 1}")
        ok = sim.run_until(settled, within=2000)
        expect(ok, f"seed {seed}: 2000 ms after 5 requests the cluster has not committed them on every "
                   f"node:\n{sim.summary()}")


@pytest.mark.points(2)
def test_a_lagging_follower_catches_up(impl):
    for seed in range(1, 4):
        sim = cluster(impl, nodes=5, seed=seed)
        leader_ = sim.run_until_leader(within=3000)
        expect(leader_ is not None, f"seed {seed}: no leader after 3000 ms:\n{sim.summary()}")
        lagging = next(n for n in reversed(list(sim.nodes.values())) if n is not leader_)
        sim.crash(lagging.id)
        for i in range(20):
            sim.client_request(f"put k{i} {i}", node=leader_.id)
            sim.advance(30)
        sim.restart(lagging.id)
        ok = sim.run_until(settled, within=1500)
        expect(ok, f"seed {seed}: {lagging.id} missed 20 entries while crashed; 1500 ms after it restarted "
                   f"it is {describe(lagging)}, the leader {describe(leader_)}")


@pytest.mark.points(2)
def test_divergent_logs_are_repaired(impl):
    """Backup: an old leader and its follower hold 20 entries the rest of the cluster never saw."""
    for seed in range(1, 4):
        sim = cluster(impl, nodes=5, seed=seed)
        old = sim.run_until_leader(within=3000)
        expect(old is not None, f"seed {seed}: no leader after 3000 ms:\n{sim.summary()}")
        sim.advance(200)
        buddy = next(n for n in sim.nodes.values() if n is not old)
        sim.partition([old.id, buddy.id])
        for i in range(20):
            sim.client_request(f"put a{i} {i}", node=old.id)    # never committed: a minority
        new = sim.run_until(lambda s: any(n.is_leader and n.current_term > old.current_term
                                          for n in s.nodes.values()), within=3000)
        expect(new, f"seed {seed}: the majority side elected no leader within 3000 ms:\n{sim.summary()}")
        new = sim.leader()
        for i in range(20):
            sim.client_request(f"put b{i} {i}", node=new.id)
            sim.advance(20)
        sim.advance(500)
        sim.heal()
        sim.advance(1000)
        leader_ = sim.leader()
        for node in sim.nodes.values():
            expect(terms(node) == terms(leader_),
                   f"seed {seed}: 1000 ms after healing, {describe(node)} still differs from the leader's "
                   f"log {describe(leader_)}: the leader must walk nextIndex back and repair it")


@pytest.mark.points(3)
def test_replication_under_faults(impl):
    fault_campaign(impl, range(1, 9), delay=(5, 60), duplicate=0.2)
