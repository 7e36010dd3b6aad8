"""Elections, rule by rule, on single nodes fed messages by hand.

Reference: Figure 2 (RequestVote RPC, Rules for Servers), section 5.1 (the term
rule), section 5.2 (leader election: one vote per term, randomized timeouts),
section 5.4.1 (the up-to-date check), section 8 (the new leader's no-op) and
Ongaro's thesis sections 9.6 (pre-vote) and 6.2 / 4.2.3 (check-quorum, ignoring
disruptive candidates).  Each table row is one case of one sentence of the paper.
"""
import pytest

from raftlab import AppendEntries, AppendEntriesReply, RequestVote, RequestVoteReply, Role
from raftlab.messages import ElectionTimeout

from .helpers import TIMEOUT, make_leader, make_node, take, terms


def vote(src="n2", dst="n1", term=1, last_index=0, last_term=0, pre_vote=False):
    return RequestVote(src, dst, term, src, last_index, last_term, pre_vote)


# --- RequestVote, receiver side (Figure 2; sections 5.1, 5.2, 5.4.1) ----------------------------

@pytest.mark.parametrize(
    "node_term, voted_for, log, req_term, cand, last, want_granted, want_term, want_vote", [
        # 1. "Reply false if term < currentTerm (5.1)"
        (3, None, (), 2, "n2", (0, 0), False, 3, None),
        # a higher term: adopt it (5.1) and vote, since no vote was cast in the new term
        (1, "n3", (), 2, "n2", (0, 0), True, 2, "n2"),
        # 2. one vote per term: already voted for someone else in this term
        (2, "n3", (), 2, "n2", (0, 0), False, 2, "n3"),
        # ... but the same candidate asking again (a retransmission) gets the vote again
        (2, "n2", (), 2, "n2", (0, 0), True, 2, "n2"),
        (2, None, (), 2, "n2", (0, 0), True, 2, "n2"),
        # 5.4.1: "If the logs have last entries with different terms, then the log with the
        # later term is more up-to-date.  If the logs end with the same term, then whichever
        # log is longer is more up-to-date."
        (3, None, (1, 1, 2), 3, "n2", (3, 2), True, 3, "n2"),    # same last entry
        (3, None, (1, 1, 2), 3, "n2", (4, 2), True, 3, "n2"),    # same term, longer
        (3, None, (1, 1, 2), 3, "n2", (2, 2), False, 3, None),   # same term, shorter
        (3, None, (1, 1, 2), 3, "n2", (9, 1), False, 3, None),   # longer, but an older last term
        (3, None, (1, 1, 2), 3, "n2", (1, 3), True, 3, "n2"),    # shorter, but a later last term
        (3, None, (1, 1, 2), 3, "n2", (0, 0), False, 3, None),   # empty log against a non-empty one
        (0, None, (), 1, "n2", (0, 0), True, 1, "n2"),           # two empty logs
        # a higher term with a stale log: adopt the term, but refuse the vote
        (1, "n1", (1, 1), 2, "n2", (1, 1), False, 2, None),
    ])
def test_request_vote(node_term, voted_for, log, req_term, cand, last, want_granted, want_term,
                      want_vote):
    node = make_node("n1", term=node_term, log=log, voted_for=voted_for)
    node.step(vote(cand, "n1", req_term, *last), now=1050)
    [reply] = take(node)
    assert isinstance(reply, RequestVoteReply) and reply.dst == cand
    assert reply.vote_granted is want_granted
    assert reply.term == want_term == node.current_term
    assert node.voted_for == want_vote


def test_granting_a_vote_resets_the_election_timer_and_refusing_does_not():
    """Figure 2, Followers: the timer restarts on "granting vote to candidate"."""
    node = make_node("n1", term=1, now=1000)            # deadline 1000 + TIMEOUT
    node.step(vote("n2", "n1", 1), now=1100)
    assert node.election_deadline == 1100 + TIMEOUT
    node.step(vote("n3", "n1", 1), now=1150)            # already voted in term 1
    assert take(node)[-1].vote_granted is False
    assert node.election_deadline == 1100 + TIMEOUT


def test_a_leader_that_sees_a_higher_term_steps_down_even_if_it_refuses_the_vote():
    leader = make_leader("n1", term=2, log=(1, 2))
    leader.step(vote("n2", "n1", 5, last_index=1, last_term=1), now=1100)
    assert leader.role is Role.FOLLOWER
    assert leader.current_term == 5 and leader.voted_for is None
    assert take(leader)[-1].vote_granted is False


# --- Candidates (Figure 2; section 5.2) ---------------------------------------------------------

def test_an_election_timeout_starts_an_election():
    """"On conversion to candidate: increment currentTerm, vote for self, reset election
    timer, send RequestVote RPCs to all other servers.\""""
    node = make_node("n1", nodes=5, term=3, log=(1, 3), now=1000)
    node.step(ElectionTimeout("n1", "n1"), now=1234)
    assert node.role is Role.CANDIDATE
    assert node.current_term == 4 and node.voted_for == "n1"
    assert node.votes_granted == {"n1"}
    assert node.election_deadline == 1234 + TIMEOUT
    sent = take(node)
    assert [m.dst for m in sent] == ["n2", "n3", "n4", "n5"]
    assert all(isinstance(m, RequestVote) and not m.pre_vote for m in sent)
    assert {(m.term, m.last_log_index, m.last_log_term) for m in sent} == {(4, 2, 3)}


@pytest.mark.parametrize("nodes, grants, leader", [
    (3, ["n2"], True),                 # 2 of 3
    (5, ["n2"], False),                # 2 of 5
    (5, ["n2", "n2"], False),          # the same voter twice counts once
    (5, ["n2", "n3"], True),           # 3 of 5
    (4, ["n2"], False),                # 2 of 4 is not a majority
    (4, ["n2", "n3"], True),
])
def test_votes_from_a_majority_make_a_leader(nodes, grants, leader):
    node = make_node("n1", nodes=nodes)
    node.step(ElectionTimeout("n1", "n1"), now=1000)
    take(node)
    for src in grants:
        node.step(RequestVoteReply(src, "n1", 1, True), now=1010)
    assert (node.role is Role.LEADER) is leader


@pytest.mark.parametrize("reply", [
    RequestVoteReply("n2", "n1", 1, True),        # a late vote from the election of term 1
    RequestVoteReply("n2", "n1", 2, False),       # a refusal
])
def test_only_current_term_grants_count(reply):
    node = make_node("n1", nodes=3, term=1)
    node.step(ElectionTimeout("n1", "n1"), now=1000)            # candidate in term 2
    node.step(reply, now=1010)
    assert node.role is Role.CANDIDATE and node.votes_granted == {"n1"}


def test_a_reply_with_a_higher_term_turns_a_candidate_into_a_follower():
    node = make_node("n1", nodes=3)
    node.step(ElectionTimeout("n1", "n1"), now=1000)
    node.step(RequestVoteReply("n2", "n1", 7, False), now=1010)
    assert node.role is Role.FOLLOWER and node.current_term == 7 and node.voted_for is None


def test_a_candidate_steps_down_for_a_leader_of_its_own_term():
    """Section 5.2: "If the leader's term ... is at least as large as the candidate's
    current term, then the candidate recognizes the leader as legitimate.\""""
    node = make_node("n1", nodes=3)
    node.step(ElectionTimeout("n1", "n1"), now=1000)
    node.step(AppendEntries("n2", "n1", 1, "n2", 0, 0), now=1010)
    assert node.role is Role.FOLLOWER and node.leader_id == "n2" and node.current_term == 1


def test_a_cluster_of_one_elects_itself_at_once():
    node = make_node("n1", nodes=1)
    node.step(ElectionTimeout("n1", "n1"), now=1000)
    assert node.role is Role.LEADER and node.commit_index == 1


# --- Section 8: a new leader appends a no-op ---------------------------------------------------

def test_a_new_leader_appends_a_no_op_and_replicates_it_to_everyone():
    """Section 5.3: nextIndex starts just after the leader's last entry, matchIndex at 0;
    section 8: "each leader commit a blank no-op entry into the log at the start of its term\""""
    node = make_node("n1", nodes=3, term=2, log=(1, 2), now=1000)
    node.step(ElectionTimeout("n1", "n1"), now=1000)
    take(node)
    node.step(RequestVoteReply("n2", "n1", 3, True), now=1010)
    assert node.role is Role.LEADER
    assert terms(node) == [1, 2, 3]
    noop = node.log.entry(3)
    assert noop.command is None and noop.client_id is None
    assert node.next_index == {"n2": 3, "n3": 3} and node.match_index == {"n2": 0, "n3": 0}
    sent = take(node)
    assert [(m.dst, m.prev_log_index, m.prev_log_term, len(m.entries)) for m in sent] == \
        [("n2", 2, 2, 1), ("n3", 2, 2, 1)]
    assert node.heartbeat_deadline == 1010 + node.config.heartbeat
    assert node.election_deadline is None          # a leader has no election timer (no check-quorum)


# --- Pre-vote (thesis 9.6) ---------------------------------------------------------------------

def test_with_pre_vote_a_timeout_asks_first_and_changes_no_term():
    node = make_node("n1", nodes=3, term=4, log=(1, 4), pre_vote=True)
    node.step(ElectionTimeout("n1", "n1"), now=1000)
    assert node.role is Role.PRE_CANDIDATE
    assert node.current_term == 4 and node.voted_for is None
    sent = take(node)
    assert all(m.pre_vote and m.term == 5 and (m.last_log_index, m.last_log_term) == (2, 4) for m in sent)


@pytest.mark.parametrize("req_term, last, heard_ago, granted", [
    (3, (2, 2), None, True),        # next term ahead of ours, log as good, no leader heard
    (2, (2, 2), None, False),       # not ahead of our term
    (3, (1, 2), None, False),       # log behind ours
    (3, (2, 2), 50, False),         # we heard from a leader less than the minimum timeout ago
    (3, (2, 2), 150, True),         # ... but not that recently
])
def test_pre_vote_receiver(req_term, last, heard_ago, granted):
    node = make_node("n1", term=2, log=(1, 2), voted_for="n3", pre_vote=True,
                     election_timeout=(150, 300))
    if heard_ago is not None:
        node.last_heard_from_leader = 1000 - heard_ago
    node.step(vote("n2", "n1", req_term, *last, pre_vote=True), now=1000)
    [reply] = take(node)
    assert reply.pre_vote and reply.vote_granted is granted
    # nobody changes term or vote because of a PreVote
    assert (node.current_term, node.voted_for, node.role) == (2, "n3", Role.FOLLOWER)


def test_pre_votes_from_a_majority_start_the_real_election():
    node = make_node("n1", nodes=5, term=4, pre_vote=True)
    node.step(ElectionTimeout("n1", "n1"), now=1000)
    take(node)
    node.step(RequestVoteReply("n2", "n1", 5, True, pre_vote=True), now=1010)
    # a granted probe's term is not adopted
    assert node.role is Role.PRE_CANDIDATE and node.current_term == 4
    node.step(RequestVoteReply("n3", "n1", 5, True, pre_vote=True), now=1011)
    assert node.role is Role.CANDIDATE and node.current_term == 5 and node.voted_for == "n1"
    assert all(not m.pre_vote and m.term == 5 for m in take(node))


def test_a_refused_pre_vote_carrying_a_higher_term_is_a_real_term():
    node = make_node("n1", nodes=3, term=4, pre_vote=True)
    node.step(ElectionTimeout("n1", "n1"), now=1000)
    node.step(RequestVoteReply("n2", "n1", 9, False, pre_vote=True), now=1010)
    assert node.current_term == 9 and node.role is Role.FOLLOWER


# --- Check-quorum (thesis 6.2) and ignoring disruptive candidates (4.2.3) ------------------------

@pytest.mark.parametrize("nodes, heard_from, steps_down", [
    (5, [], True),
    (5, ["n2"], True),                 # itself + 1 of 5
    (5, ["n2", "n3"], False),          # itself + 2 of 5 is a majority
    (3, ["n3"], False),
])
def test_check_quorum_leader_steps_down_without_a_majority(nodes, heard_from, steps_down):
    leader = make_leader("n1", nodes=nodes, term=3, check_quorum=True)
    assert leader.election_deadline is not None       # a leader's timer is its check-quorum timer
    for src in heard_from:
        leader.step(AppendEntriesReply(src, "n1", 3, True, 1), now=1050)
    leader.step(ElectionTimeout("n1", "n1"), now=1000 + TIMEOUT)
    assert (leader.role is Role.FOLLOWER) is steps_down
    assert leader.current_term == 3
    if not steps_down:
        assert leader.recent_active == set()           # a new round of listening
        assert leader.election_deadline == 1000 + 2 * TIMEOUT


def test_without_check_quorum_a_lonely_leader_stays_leader():
    leader = make_leader("n1", nodes=5, term=3)
    leader.step(ElectionTimeout("n1", "n1"), now=5000)
    assert leader.role is Role.LEADER


@pytest.mark.parametrize("check_quorum, heard_ago, disrupted", [
    (True, 50, False),      # within the minimum timeout of hearing the leader: ignore the candidate
    (True, 200, True),      # the leader has been silent for long enough
    (False, 50, True),      # without check-quorum the term rule applies as usual
])
def test_a_follower_in_a_lease_ignores_disruptive_candidates(check_quorum, heard_ago, disrupted):
    node = make_node("n1", term=2, log=(1, 2), check_quorum=check_quorum, election_timeout=(150, 300))
    node.step(AppendEntries("n3", "n1", 2, "n3", 2, 2), now=1000 - heard_ago)
    take(node)
    node.step(vote("n2", "n1", 3, 2, 2), now=1000)
    assert (node.current_term == 3) is disrupted
    assert (node.voted_for == "n2") is disrupted
    assert bool(take(node)) is disrupted                # an ignored request gets no reply
