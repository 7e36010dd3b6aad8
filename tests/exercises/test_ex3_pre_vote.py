"""Exercise 3 with pre-vote and check-quorum on, and an exhaustive search.

Pre-vote (thesis 9.6) and check-quorum's leader lease (thesis 4.2.3) both ask
"have I heard from a leader lately?"; your ``handle_append_entries`` is where
a follower learns it (``node.last_heard_from_leader``).
"""
import pytest

from raftlab.grading.check.harness import cluster, expect, fault_campaign, no_bad_schedule

pytestmark = pytest.mark.exercise(3)


@pytest.mark.points(2)
def test_a_server_cut_off_from_the_leader_does_not_disrupt_it_with_pre_vote(impl):
    for seed in range(1, 4):
        sim = cluster(impl, nodes=5, seed=seed, pre_vote=True)
        leader = sim.run_until_leader(within=3000)
        expect(leader is not None, f"seed {seed}: no leader after 3000 ms with pre-vote on:\n{sim.summary()}")
        sim.advance(200)
        term = leader.current_term
        follower = next(n for n in sim.nodes.values() if n is not leader)
        sim.cut(leader.id, follower.id)
        sim.cut(follower.id, leader.id)
        sim.advance(1500)
        expect(sim.leader() is leader and all(n.current_term == term for n in sim.nodes.values()),
               f"seed {seed}: with pre-vote on, the link between the leader {leader.id} and {follower.id} was cut "
               f"for 1500 ms ({follower.id} still reaches the others); the leader of term {term} was disrupted.  "
               f"Servers that hear from a leader must refuse {follower.id}'s PreVote (thesis 9.6), and they know "
               f"they heard from one by node.last_heard_from_leader, which a valid AppendEntries sets:\n"
               f"{sim.summary()}")


@pytest.mark.points(3)
def test_append_entries_under_faults_with_pre_vote_and_check_quorum(impl):
    fault_campaign(impl, range(1, 7), pre_vote=True, check_quorum=True)


@pytest.mark.points(2)
def test_no_short_schedule_breaks_the_logs(impl):
    no_bad_schedule(impl, "every schedule of at most 5 choices (deliver a message, an election timeout, a leader "
                          "heartbeat, one client request) on 3 servers",
                    nodes=3, depth=5, choices=("deliver", "timeout", "heartbeat", "request"), requests=1, crashes=0)
