"""Exercise 2: the term rule and voting (sections 5.1, 5.2, 5.4.1): update_term,
handle_request_vote."""
import pytest

from raftlab import RequestVote, RequestVoteReply, Role
from raftlab.grading.check.harness import cluster, describe, expect, fault_campaign, make_node, take_sent

pytestmark = pytest.mark.exercise(2)


def ask(node, candidate, term, last_index, last_term):
    """``candidate`` asks ``node`` for its vote; returns the reply ``node`` sent."""
    node.step(RequestVote(candidate, node.id, term, candidate, last_index, last_term), node.now)
    replies = take_sent(node, RequestVoteReply)
    expect(len(replies) == 1 and replies[0].dst == candidate,
           f"{node.id} answered a RequestVote from {candidate} with {len(replies)} replies "
           f"({'; '.join(map(str, replies)) or 'none'}); expected exactly one RequestVoteReply to {candidate}")
    return replies[0]


# --- update_term ----------------------------------------------------------------------------------

@pytest.mark.points(2)
@pytest.mark.parametrize("role", [Role.LEADER, Role.CANDIDATE])
def test_a_higher_term_makes_leaders_and_candidates_step_down(rules, role):
    node = make_node(rules, role=role, term=3, log=[1, 3])
    rules.update_term(node, 5)
    expect(node.current_term == 5, f"a {role} of term 3 saw term 5 and is now in term {node.current_term}: "
                                   f"Figure 2 says set currentTerm = T")
    expect(node.role is Role.FOLLOWER, f"a {role} of term 3 saw term 5 and is still a {node.role}: "
                                       f"a higher term makes it a follower (section 5.1)")


@pytest.mark.points(1)
def test_a_new_term_starts_without_a_vote(rules):
    node = make_node(rules, term=3, voted_for="n2")
    rules.update_term(node, 4)
    expect(node.voted_for is None,
           f"n1 voted for n2 in term 3, moved to term 4, and still has voted_for={node.voted_for!r}: "
           f"nobody has its vote in term 4 yet, so it could never vote for anyone else")


# --- handle_request_vote --------------------------------------------------------------------------

@pytest.mark.points(2)
def test_grants_a_vote_to_an_up_to_date_candidate(rules):
    node = make_node(rules, term=4, log=[1, 2])
    reply = ask(node, "n3", 4, 2, 2)
    expect(reply.vote_granted, f"n1 ({describe(node)}) rejected n3, a candidate of term 4 whose log ends at "
                               f"2/2 like its own; it has not voted in term 4, so it should grant")
    expect(node.voted_for == "n3", f"n1 granted its vote to n3 but recorded voted_for={node.voted_for!r}")
    expect(reply.term == 4, f"n1's reply {reply} carries term {reply.term}; it must carry n1's term, 4")


@pytest.mark.points(1)
def test_granting_a_vote_restarts_the_election_timer(rules):
    node = make_node(rules, term=4, log=[1, 2])
    node.election_deadline = node.now + 3       # about to time out
    draw = node.draws.next
    ask(node, "n3", 4, 2, 2)
    expect(node.election_deadline == node.now + draw,
           f"n1 granted its vote at t={node.now} but its election timer still fires at "
           f"t={node.election_deadline}: a follower that grants a vote restarts its timer (Figure 2, "
           f"Followers), so it does not start a rival election")


@pytest.mark.points(1)
def test_rejecting_a_vote_leaves_the_timer_alone(rules):
    node = make_node(rules, term=4, log=[1, 3])
    deadline = node.election_deadline
    reply = ask(node, "n3", 4, 5, 2)
    expect(not reply.vote_granted and node.election_deadline == deadline,
           f"n1 rejected n3 (its log is behind) but moved its election timer from t={deadline} to "
           f"t={node.election_deadline}: only a granted vote restarts it, or a server with a stale "
           f"log could keep everyone from electing a leader")


@pytest.mark.points(2)
def test_votes_once_per_term(rules):
    node = make_node(rules, term=4, log=[1, 2])
    ask(node, "n3", 4, 2, 2)
    reply = ask(node, "n2", 4, 2, 2)
    expect(not reply.vote_granted,
           "n1 voted for n3 in term 4, then also granted its vote to n2 in term 4: one vote per term, "
           "or two leaders can be elected in one term (Election Safety)")
    again = ask(node, "n3", 4, 2, 2)
    expect(again.vote_granted, "n3 asked n1 again in term 4 (its request was retried); n1 already voted "
                               "for n3, so it grants again (votedFor is candidateId)")


@pytest.mark.points(2)
def test_rejects_a_candidate_whose_last_term_is_older(rules):
    node = make_node(rules, "n2", term=4, log=[1, 1, 3])
    reply = ask(node, "n3", 4, 5, 2)
    expect(not reply.vote_granted,
           "n2 granted a vote to n3 in term 4 although n3's log is behind: last term 2 < 3 (n3's log "
           "is longer, 5 entries against 3, but the later last term wins, section 5.4.1)")


@pytest.mark.points(1)
def test_rejects_a_shorter_log_with_the_same_last_term(rules):
    node = make_node(rules, "n2", term=4, log=[1, 2, 2])
    reply = ask(node, "n3", 4, 2, 2)
    expect(not reply.vote_granted,
           "n2 granted a vote to n3 in term 4 although n3's log is behind: both end in term 2, but "
           "n3's has 2 entries and n2's has 3 (section 5.4.1: then the longer log is more up-to-date)")


@pytest.mark.points(1)
def test_grants_a_newer_last_term_even_if_shorter(rules):
    node = make_node(rules, "n2", term=4, log=[1, 1, 1, 1])
    reply = ask(node, "n3", 4, 2, 3)
    expect(reply.vote_granted,
           "n2 rejected n3 in term 4, but n3's log is more up-to-date: its last term is 3, n2's is 1 "
           "(the length only matters when the last terms are equal, section 5.4.1)")


@pytest.mark.points(2)
def test_rejects_a_candidate_of_an_older_term(rules):
    node = make_node(rules, term=5, log=[1, 2])
    reply = ask(node, "n3", 4, 2, 2)
    expect(not reply.vote_granted, "n1, in term 5, granted a vote to n3 for term 4: reply false if "
                                   "term < currentTerm (Figure 2, RequestVote rule 1)")
    expect(node.voted_for is None, f"n1, in term 5, recorded voted_for={node.voted_for!r} after a request "
                                   f"from term 4; a stale request must change nothing")
    expect(reply.term == 5, f"n1 (term 5) replied {reply}: the reply carries n1's term, 5, so the stale "
                            f"candidate learns it is out of date")


# --- scenarios ----------------------------------------------------------------------------------------

@pytest.mark.points(2)
def test_a_deposed_leader_steps_down(impl):
    for seed in range(1, 5):
        sim = cluster(impl, nodes=5, seed=seed)
        old = sim.run_until_leader(within=3000)
        expect(old is not None, f"seed {seed}: no leader after 3000 ms:\n{sim.summary()}")
        sim.isolate(old.id)
        new = sim.run_until(lambda s: any(n.is_leader and n.current_term > old.current_term
                                          for n in s.nodes.values()), within=3000)
        expect(new, f"seed {seed}: {old.id} was cut off, and the other four elected no new leader within "
                    f"3000 ms:\n{sim.summary()}")
        sim.heal()
        sim.advance(1000)
        leader = sim.leader()
        expect(leader is not None and old.role is not Role.LEADER and old.current_term == leader.current_term,
               f"seed {seed}: the old leader {old.id} rejoined the cluster and 1000 ms later is "
               f"{describe(old)}; the cluster's leader is {leader.id if leader else 'none'}: a leader that "
               f"sees a higher term becomes a follower (section 5.1)")


@pytest.mark.points(3)
def test_a_candidate_with_a_stale_log_cannot_win(impl):
    for seed in range(1, 5):
        sim = cluster(impl, nodes=5, seed=seed)
        leader = sim.run_until_leader(within=3000)
        expect(leader is not None, f"seed {seed}: no leader after 3000 ms:\n{sim.summary()}")
        stale = next(n for n in reversed(list(sim.nodes.values())) if n is not leader)
        sim.isolate(stale.id)
        for i in range(3):
            sim.client_request(f"put x {i}", node=leader.id)
        sim.run_until(lambda s: not any(op.completed is None for op in s.operations), within=3000)
        sim.advance(800)                       # the cut-off server keeps starting elections
        sim.crash(leader.id)
        sim.heal()
        sim.timeout(stale.id)                  # it asks the others at once, with its high term
        sim.advance(3000)
        new = sim.leader()
        expect(new is not None and new is not stale,
               f"seed {seed}: after {leader.id} crashed, {stale.id} (which missed 3 committed entries) "
               f"should lose; the leader is {new.id if new else 'none'}:\n{sim.summary()}")


@pytest.mark.points(3)
def test_one_vote_per_term_under_faults(impl):
    fault_campaign(impl, range(1, 9), duplicate=0.2)
