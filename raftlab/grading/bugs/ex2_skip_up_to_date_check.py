"""Skipping the up-to-date check: a vote for any candidate, whatever its log.

A server that missed committed entries can be elected and overwrite them
(Leader Completeness, section 5.4.1).
"""
from raftlab import RequestVoteReply
from raftlab.rules import update_term  # noqa: F401 - correct

EXERCISE = 2


def handle_request_vote(node, m):
    granted = (m.term == node.current_term
               and node.voted_for in (None, m.candidate_id))     # BUG: the log comparison is missing
    if granted:
        node.voted_for = m.candidate_id
        node.rules.reset_election_timer(node)
    node.send(RequestVoteReply(node.id, m.src, node.current_term, granted))
