"""Exercise 2 with pre-vote and check-quorum on, and an exhaustive search.

With pre-vote, a PreVote never changes anyone's term or vote (the engine's
``handle_pre_vote``), but a *rejected* PreVote reply carries the voter's term,
and the term rule (your ``update_term``) applies to it like to any message.
"""
import pytest

from raftlab import RequestVoteReply, Role
from raftlab.grading.check.harness import describe, expect, fault_campaign, make_node, no_bad_schedule, with_settings
from raftlab.messages import ElectionTimeout

pytestmark = pytest.mark.exercise(2)


@pytest.mark.points(2)
def test_a_pre_candidate_that_learns_a_newer_term_follows(rules):
    node = with_settings(make_node(rules, term=3, log=[1, 2, 3]), pre_vote=True)
    node.step(ElectionTimeout("n1", "n1"), node.now)
    expect(node.role is Role.PRE_CANDIDATE, f"n1's election timer fired with pre-vote on; n1 is {describe(node)}, "
                                            f"not a pre-candidate (the engine's start_pre_vote)")
    node.step(RequestVoteReply("n2", "n1", 5, False, pre_vote=True), node.now)
    expect(node.current_term == 5 and node.voted_for is None and node.role is Role.FOLLOWER,
           f"n1, a pre-candidate in term 3, got n2's refusal carrying term 5; n1 is now {describe(node)}.  "
           f"Figure 2, All Servers: a higher term in any RPC request or response sets currentTerm and converts "
           f"the server to follower, whatever it was, a pre-candidate too (expected a follower of term 5 "
           f"that has voted for nobody)")


@pytest.mark.points(3)
def test_one_vote_per_term_under_faults_with_pre_vote_and_check_quorum(impl):
    fault_campaign(impl, range(1, 7), pre_vote=True, check_quorum=True)


@pytest.mark.points(2)
@pytest.mark.parametrize("pre_vote", [False, True], ids=["plain", "pre_vote"])
def test_no_short_schedule_breaks_election_safety(impl, pre_vote):
    no_bad_schedule(impl, f"every schedule of at most 6 message deliveries and election timeouts on 3 servers"
                          f"{' with pre-vote on' if pre_vote else ''}",
                    nodes=3, depth=6, choices=("deliver", "timeout"), requests=0, crashes=0, pre_vote=pre_vote)
