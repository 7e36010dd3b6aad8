"""Keeping votedFor when the term changes.

A server that voted in an old term believes it has voted in the new one too, and
refuses everyone else: elections stall.
"""
from raftlab.rules import handle_request_vote  # noqa: F401 - correct

EXERCISE = 2


def update_term(node, term):
    if term > node.current_term:
        node.current_term = term
        # BUG: missing node.voted_for = None
        node.become_follower()
