"""The election deadline forgets the current time: deadline = timeout instead of now + timeout.

The deadline is an absolute time; this one is always in the first 300 ms, so
after that every timer is already overdue.
"""
from raftlab.rules import handle_request_vote_reply, start_election  # noqa: F401 - correct

EXERCISE = 1


def reset_election_timer(node):
    node.election_deadline = node.random_election_timeout()   # BUG: should be node.now + ...
