"""Exercise 4, edge cases that mutation testing (make mutants, docs/mutants.md) showed the other tests missed:
how far nextIndex moves on a success and on a rejection (Figure 2, Leaders, section 5.3), and that a reply counts
its sender for check-quorum (section 6.2 of Ongaro's thesis)."""
import pytest

from raftlab import AppendEntries, AppendEntriesReply, Role
from raftlab.grading.check.harness import cluster, expect, make_node, take_sent

pytestmark = pytest.mark.exercise(4)


def leader(rules):
    """n1, leader of term 3 in a cluster of 5, log [1/1 2/1 3/3 4/3 5/3]: nextIndex 6, matchIndex 0."""
    return make_node(rules, role=Role.LEADER, term=3, log=[1, 1, 3, 3, 3])


def reply(node, src, success, match=0, conflict_term=None, conflict_index=0):
    node.step(AppendEntriesReply(src, node.id, 3, success, match, conflict_term, conflict_index), node.now)


def indexes(node, peer):
    return f"nextIndex[{peer}]={node.next_index[peer]}, matchIndex[{peer}]={node.match_index[peer]}"


@pytest.mark.points(1)
def test_a_success_moves_next_index_past_what_the_follower_holds(rules):
    node = leader(rules)
    node.next_index["n2"] = 3                   # n1 had backed off to 3 and sent entries 3-5
    reply(node, "n2", True, 5)
    expect(node.match_index["n2"] == 5 and node.next_index["n2"] == 6,
           f"nextIndex[n2] was 3; n2 then confirmed it holds n1's whole log (match=5); n1 now has "
           f"{indexes(node, 'n2')}; expected matchIndex 5 and nextIndex 6 (Figure 2, Leaders: if successful, "
           f"update nextIndex and matchIndex), or n1 sends n2 entries it already holds")


@pytest.mark.points(1)
def test_a_rejection_goes_back_to_the_followers_last_index_plus_one(rules):
    node = leader(rules)
    reply(node, "n2", False, conflict_index=5)  # n2's log ends at index 4, every entry matching
    expect(node.next_index["n2"] == 5,
           f"n2 rejected AppendEntries(prev=5/3) because its log ends at index 4 (conflict_index=5); n1 now "
           f"has {indexes(node, 'n2')}; expected nextIndex 5: one back, as Figure 2 says, which is also where "
           f"the follower's hint points")
    retry = [m for m in take_sent(node, AppendEntries) if m.dst == "n2"]
    expect(len(retry) == 1 and retry[0].prev_log_index == 4,
           f"after n2's rejection n1 sent it {'; '.join(map(str, retry)) or 'nothing'}; expected one "
           f"AppendEntries with prev=4")


@pytest.mark.points(1)
def test_a_late_rejection_never_moves_next_index_forward(rules):
    node = leader(rules)
    node.next_index["n2"] = 3                   # n1 has already backed off to 3 ...
    reply(node, "n2", False, conflict_index=5)  # ... when a late rejection of an older AppendEntries arrives
    expect(node.next_index["n2"] <= 3,
           f"nextIndex[n2] was 3 when a late rejection (conflict_index=5) arrived; n1 now has "
           f"{indexes(node, 'n2')}: a rejection moves nextIndex back (Figure 2), never forward")


@pytest.mark.points(1)
def test_check_quorum_keeps_a_healthy_leader(impl):
    for seed in range(1, 4):
        sim = cluster(impl, nodes=5, seed=seed, check_quorum=True)
        leader_ = sim.run_until_leader(within=3000)
        expect(leader_ is not None, f"seed {seed}: no leader after 3000 ms with check-quorum on:\n{sim.summary()}")
        term = leader_.current_term
        sim.advance(2000)
        expect(sim.leader() is leader_ and leader_.current_term == term,
               f"seed {seed}: with check-quorum on and nothing failing, {leader_.id}, leader of term {term}, did "
               f"not stay leader for 2000 ms: every follower answers its AppendEntries, so each reply must count "
               f"its sender (node.recent_active.add(m.src)), or the leader thinks it lost its majority and steps "
               f"down (thesis section 6.2):\n{sim.summary()}")
