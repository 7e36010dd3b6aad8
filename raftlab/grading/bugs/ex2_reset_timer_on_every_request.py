"""Resetting the election timer on every RequestVote, granted or not.

A server with a stale log that keeps asking keeps everyone's timer from firing,
so the servers that could win never run.
"""
from raftlab import RequestVoteReply
from raftlab.rules import update_term  # noqa: F401 - correct

EXERCISE = 2


def handle_request_vote(node, m):
    granted = (m.term == node.current_term
               and node.voted_for in (None, m.candidate_id)
               and node.log.is_up_to_date(m.last_log_index, m.last_log_term))
    if granted:
        node.voted_for = m.candidate_id
    node.rules.reset_election_timer(node)       # BUG: only when granting
    node.send(RequestVoteReply(node.id, m.src, node.current_term, granted))
