"""A non-random election timeout: every server waits the same time.

Section 5.2 relies on random timeouts to break ties; with a fixed one, servers
that start together time out together, split the vote, and do it again forever.
"""
from raftlab.rules import handle_request_vote_reply, start_election  # noqa: F401 - correct

EXERCISE = 1


def reset_election_timer(node):
    node.election_deadline = node.now + node.config.election_timeout[0]   # BUG: not random
