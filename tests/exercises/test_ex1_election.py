"""Exercise 1: leader election (section 5.2): reset_election_timer, start_election,
handle_request_vote_reply."""
import pytest

from raftlab import RequestVote, RequestVoteReply, Role
from raftlab.grading.check.harness import cluster, describe, expect, fault_campaign, make_node, take_sent

pytestmark = pytest.mark.exercise(1)


# --- unit tests: one node, fed by hand ------------------------------------------------------------

@pytest.mark.points(2)
def test_reset_election_timer_draws_a_fresh_timeout(rules):
    node = make_node(rules, now=1000)
    for now in (1000, 1400):
        node.now = now
        draw, count = node.draws.next, node.draws.count
        rules.reset_election_timer(node)
        expect(node.election_deadline == now + draw,
               f"reset_election_timer at t={now} set n1's election_deadline to {node.election_deadline}; "
               f"expected {now + draw}: now + a fresh node.random_election_timeout() (which returned {draw}). "
               f"Section 5.2: timeouts are chosen randomly, anew each time")
        expect(node.draws.count == count + 1,
               f"reset_election_timer drew {node.draws.count - count} timeouts from "
               f"node.random_election_timeout(); draw exactly one per reset")


@pytest.mark.points(2)
def test_start_election_becomes_candidate_of_the_next_term(rules):
    node = make_node(rules, term=3, voted_for="n2", log=[1, 1, 2])
    node.election_deadline = None          # the engine clears the timer that fired
    draw = node.draws.next
    rules.start_election(node)
    expect(node.current_term == 4, f"after start_election n1 is in term {node.current_term}; it was in term 3: "
                                   f"a candidate increments currentTerm (Figure 2, Candidates)")
    expect(node.role is Role.CANDIDATE, f"after start_election n1 is a {node.role}, not a candidate")
    expect(node.voted_for == "n1", f"after start_election n1 has voted for {node.voted_for}: a candidate "
                                   f"votes for itself")
    expect(node.votes_granted == {"n1"}, f"after start_election n1's votes_granted is "
                                         f"{sorted(node.votes_granted)}; a new election starts with "
                                         f"exactly its own vote")
    expect(node.election_deadline == node.now + draw,
           f"after start_election at t={node.now}, n1's election_deadline is {node.election_deadline}; "
           f"a candidate resets its election timer (expected {node.now + draw}), or a split vote would "
           f"never be retried")


@pytest.mark.points(2)
def test_start_election_asks_every_peer_for_its_vote(rules):
    node = make_node(rules, term=3, log=[1, 1, 2])
    rules.start_election(node)
    votes = take_sent(node, RequestVote)
    expect(sorted(m.dst for m in votes) == ["n2", "n3", "n4", "n5"],
           f"start_election sent RequestVote to {sorted(m.dst for m in votes)}; expected one to each of "
           f"n2, n3, n4, n5")
    for m in votes:
        expect(m.term == 4 and m.candidate_id == "n1" and not m.pre_vote,
               f"start_election sent {m}: expected term 4 (the new term) and candidate n1")
        expect((m.last_log_index, m.last_log_term) == (3, 2),
               f"start_election sent {m}: its last log entry must be n1's, index 3 of term 2, so "
               f"voters can compare logs (section 5.4.1)")


@pytest.mark.points(1)
def test_a_cluster_of_one_elects_itself(rules):
    node = make_node(rules, nodes=1)
    rules.start_election(node)
    expect(node.role is Role.LEADER and node.current_term == 1,
           f"a single server started an election and is now {describe(node)}: its own vote is a majority "
           f"of one, so it becomes leader of term 1 at once")


@pytest.mark.points(2)
def test_a_majority_of_votes_makes_a_leader(rules):
    node = make_node(rules, role=Role.CANDIDATE, term=4, log=[1, 2])
    node.step(RequestVoteReply("n2", "n1", 4, True), node.now)
    expect(node.role is Role.CANDIDATE,
           f"n1 became {node.role} of term 4 with the votes of n1 and n2 only: 2 of 5 is not a majority")
    node.step(RequestVoteReply("n3", "n1", 4, True), node.now)
    expect(node.role is Role.LEADER,
           f"n1 has the votes of n1, n2 and n3 in term 4, 3 of 5, yet is still {node.role}: "
           f"a majority makes a candidate leader")


@pytest.mark.points(2)
def test_a_duplicated_vote_counts_once(rules):
    node = make_node(rules, role=Role.CANDIDATE, term=4)
    for _ in range(2):
        node.step(RequestVoteReply("n2", "n1", 4, True), node.now)
    expect(node.role is Role.CANDIDATE,
           "n1 became leader of term 4 counting n2's vote twice (the network duplicated the reply): "
           "only n1 and n2 voted, 2 of 5 servers; count voters, not replies")


@pytest.mark.points(1)
def test_rejections_are_not_votes(rules):
    node = make_node(rules, role=Role.CANDIDATE, term=4)
    for peer in ("n2", "n3", "n4"):
        node.step(RequestVoteReply(peer, "n1", 4, False), node.now)
    expect(node.role is Role.CANDIDATE and node.votes_granted == {"n1"},
           f"n2, n3 and n4 rejected n1 in term 4, yet n1 is {node.role} with votes from "
           f"{sorted(node.votes_granted)}")


@pytest.mark.points(1)
def test_votes_from_an_earlier_election_do_not_count(rules):
    node = make_node(rules, role=Role.CANDIDATE, term=4)
    for peer in ("n2", "n3"):
        node.step(RequestVoteReply(peer, "n1", 3, True), node.now)
    expect(node.role is Role.CANDIDATE and node.votes_granted == {"n1"},
           f"n1, a candidate in term 4, counted votes cast in term 3 (late replies to an earlier "
           f"election) and is now {node.role} with votes from {sorted(node.votes_granted)}")


@pytest.mark.points(1)
def test_only_a_candidate_counts_votes(rules):
    # n1 ran in term 4, then heard from n5, the leader of term 4, and became its follower
    node = make_node(rules, term=4, voted_for="n1", leader_id="n5")
    for peer in ("n2", "n3", "n4"):
        node.step(RequestVoteReply(peer, "n1", 4, True), node.now)
    expect(node.role is Role.FOLLOWER,
           f"n1 is a follower of n5 in term 4, but late votes for its own election made it {node.role}: "
           f"two leaders in term 4 (only a candidate counts votes)")


# --- scenarios: whole clusters --------------------------------------------------------------------

@pytest.mark.points(2)
@pytest.mark.parametrize("nodes", [3, 5])
def test_a_leader_is_elected_and_stays(impl, nodes):
    for seed in range(1, 6):
        sim = cluster(impl, nodes=nodes, seed=seed)
        leader = sim.run_until_leader(within=3000)
        expect(leader is not None, f"{nodes} servers, seed {seed}: no leader after 3000 ms without any "
                                   f"failure:\n{sim.summary()}")
        term = leader.current_term
        sim.advance(2000)
        expect(sim.leader() is leader and all(n.current_term == term for n in sim.nodes.values()),
               f"{nodes} servers, seed {seed}: {leader.id} was elected in term {term}, but 2000 ms later, "
               f"with nothing failing, the terms changed:\n{sim.summary()}")


@pytest.mark.points(2)
@pytest.mark.parametrize("nodes, down", [(3, ["n1"]), (5, ["n1", "n2"])])
def test_a_majority_elects_a_leader_while_a_minority_is_down(impl, nodes, down):
    for seed in range(1, 4):
        sim = cluster(impl, nodes=nodes, seed=seed)
        for name in down:
            sim.crash(name)
        leader = sim.run_until_leader(within=4000)
        expect(leader is not None,
               f"{nodes} servers with {', '.join(down)} crashed, seed {seed}: no leader after 4000 ms, but "
               f"the {nodes - len(down)} others are a majority (does a candidate vote for itself?):\n"
               f"{sim.summary()}")


@pytest.mark.points(1)
def test_a_split_vote_is_resolved(impl):
    for seed in range(1, 4):
        sim = cluster(impl, nodes=4, seed=seed)
        sim.timeout("n1")
        sim.timeout("n2")                   # two candidates in term 1 at the same moment
        leader = sim.run_until_leader(within=3000)
        expect(leader is not None,
               f"seed {seed}: n1 and n2 ran for term 1 at the same moment; 3000 ms later there is still "
               f"no leader:\n{sim.summary()}")


@pytest.mark.points(3)
def test_election_safety_under_faults(impl):
    fault_campaign(impl, range(1, 9), duplicate=0.2)
