"""Forgetting to step down on a higher term: the term is adopted, the role kept.

A deposed leader keeps acting as leader in the new term: two leaders in one term.
"""
from raftlab.rules import handle_request_vote  # noqa: F401 - correct

EXERCISE = 2


def update_term(node, term):
    if term > node.current_term:
        node.current_term = term
        node.voted_for = None
        # BUG: missing node.become_follower()
