"""Exercise 1 with pre-vote and check-quorum on (thesis sections 9.6 and 6.2), and an exhaustive search.

With pre-vote, the engine's own rules run the PreVote round and then call your
``start_election``; your ``handle_request_vote_reply`` must not mix PreVotes with
real votes.  With check-quorum, a leader's election timer (your
``reset_election_timer``) is its quorum check.
"""
import pytest

from raftlab import RequestVote, RequestVoteReply, Role
from raftlab.grading.check.harness import (
    cluster,
    describe,
    expect,
    make_node,
    no_bad_schedule,
    take_sent,
    with_settings,
)
from raftlab.messages import ElectionTimeout

pytestmark = pytest.mark.exercise(1)


def pre_candidate(rules, term=3):
    """n1 of 5, a follower in ``term`` whose election timer fired with pre-vote on: a pre-candidate
    that has asked for PreVotes for term + 1."""
    node = with_settings(make_node(rules, term=term, log=[1, 2, 3]), pre_vote=True)
    node.step(ElectionTimeout("n1", "n1"), node.now)
    expect(node.role is Role.PRE_CANDIDATE, f"n1's election timer fired with pre-vote on; n1 is {describe(node)}, "
                                            f"not a pre-candidate (the engine's start_pre_vote)")
    take_sent(node)
    return node


@pytest.mark.points(2)
def test_a_real_election_after_pre_vote_starts_with_one_vote(rules):
    node = pre_candidate(rules)
    for peer in ("n2", "n3"):
        node.step(RequestVoteReply(peer, "n1", 4, True, pre_vote=True), node.now)
    expect(node.role is Role.CANDIDATE and node.current_term == 4,
           f"n1 won PreVotes from n1, n2 and n3 for term 4 (a majority of 5), so it starts a real election "
           f"(start_election); it is {describe(node)}, not a candidate of term 4")
    expect(node.votes_granted == {"n1"},
           f"n1 started its real election for term 4 with votes_granted {sorted(node.votes_granted)}: a new "
           f"election starts with exactly its own vote.  PreVotes are not votes (thesis 9.6: nobody changed "
           f"term or vote for them); counting them makes n1 leader of term 4 without one real vote, while "
           f"another server can win term 4 with real ones")
    votes = take_sent(node, RequestVote)
    expect(sorted(m.dst for m in votes) == ["n2", "n3", "n4", "n5"] and not any(m.pre_vote for m in votes),
           f"n1 started its real election for term 4 and sent {'; '.join(map(str, votes)) or 'nothing'}; "
           f"expected a real RequestVote (not a PreVote) to each of n2, n3, n4, n5")


@pytest.mark.points(2)
def test_a_pre_candidate_does_not_count_real_votes(rules):
    node = pre_candidate(rules, term=4)
    node.step(RequestVoteReply("n2", "n1", 5, True, pre_vote=True), node.now)
    node.step(RequestVoteReply("n3", "n1", 4, True), node.now)     # a late real vote from n1's term-4 election
    expect(node.role is not Role.LEADER,
           f"n1, a pre-candidate in term 4 holding n2's PreVote for term 5, got a late real vote from n3 for "
           f"term 4 and became {describe(node)}: only a candidate counts votes, and a PreVote is not a vote; "
           f"another server may already lead term 4")


@pytest.mark.points(2)
@pytest.mark.parametrize("nodes", [3, 5])
def test_a_leader_is_elected_and_stays_with_pre_vote(impl, nodes):
    for seed in range(1, 4):
        sim = cluster(impl, nodes=nodes, seed=seed, pre_vote=True)
        leader = sim.run_until_leader(within=3000)
        expect(leader is not None, f"{nodes} servers with pre-vote on, seed {seed}: no leader after 3000 ms "
                                   f"without any failure:\n{sim.summary()}")
        term = leader.current_term
        sim.advance(2000)
        expect(sim.leader() is leader and all(n.current_term == term for n in sim.nodes.values()),
               f"{nodes} servers with pre-vote on, seed {seed}: {leader.id} was elected in term {term}, but "
               f"2000 ms later, with nothing failing, the terms changed:\n{sim.summary()}")


@pytest.mark.points(2)
def test_a_cut_off_leader_steps_down_with_check_quorum(impl):
    for seed in range(1, 4):
        sim = cluster(impl, nodes=5, seed=seed, check_quorum=True)
        leader = sim.run_until_leader(within=3000)
        expect(leader is not None, f"seed {seed}: no leader after 3000 ms with check-quorum on:\n{sim.summary()}")
        sim.isolate(leader.id)
        sim.advance(1000)
        expect(leader.role is not Role.LEADER,
               f"seed {seed}: with check-quorum on, {leader.id} was cut off from every other server for 1000 ms "
               f"(over three election timeouts) and is still {describe(leader)}.  Thesis 6.2: a leader steps "
               f"down when an election timeout passes without hearing from a majority; its election timer is "
               f"that check, so reset_election_timer must set it for a leader too")


@pytest.mark.points(2)
@pytest.mark.parametrize("pre_vote", [False, True], ids=["plain", "pre_vote"])
def test_no_short_schedule_breaks_election_safety(impl, pre_vote):
    no_bad_schedule(impl, f"every schedule of at most 6 message deliveries and election timeouts on 3 servers"
                          f"{' with pre-vote on' if pre_vote else ''}",
                    nodes=3, depth=6, choices=("deliver", "timeout"), requests=0, crashes=0, pre_vote=pre_vote)
