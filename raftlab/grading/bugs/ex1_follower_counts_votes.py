"""Counting votes without being a candidate: no check of the role.

A candidate that already stepped down (another server won the term) still
counts late votes and becomes a second leader of that term.
"""
from raftlab.rules import reset_election_timer, start_election  # noqa: F401 - correct

EXERCISE = 1


def handle_request_vote_reply(node, m):
    if m.term != node.current_term:          # BUG: and node.role is Role.CANDIDATE is missing
        return
    if m.vote_granted:
        node.votes_granted.add(m.src)
        if len(node.votes_granted) >= node.majority:
            node.become_leader()
