"""Voting twice in a term: votedFor is not checked.

Two candidates of the same term can both collect a majority: two leaders in one
term (Election Safety).
"""
from raftlab import RequestVoteReply
from raftlab.rules import update_term  # noqa: F401 - correct

EXERCISE = 2


def handle_request_vote(node, m):
    granted = (m.term == node.current_term                # BUG: votedFor is null or candidateId is missing
               and node.log.is_up_to_date(m.last_log_index, m.last_log_term))
    if granted:
        node.voted_for = m.candidate_id
        node.rules.reset_election_timer(node)
    node.send(RequestVoteReply(node.id, m.src, node.current_term, granted))
