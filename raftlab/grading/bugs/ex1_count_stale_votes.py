"""Counting votes from an earlier election: no check of the reply's term.

A late "granted" from a previous term is counted in the current one, so a
candidate can win without a majority voting for it in this term.
"""
from raftlab import Role
from raftlab.rules import reset_election_timer, start_election  # noqa: F401 - correct

EXERCISE = 1


def handle_request_vote_reply(node, m):
    if node.role is not Role.CANDIDATE:       # BUG: and m.term == node.current_term is missing
        return
    if m.vote_granted:
        node.votes_granted.add(m.src)
        if len(node.votes_granted) >= node.majority:
            node.become_leader()
