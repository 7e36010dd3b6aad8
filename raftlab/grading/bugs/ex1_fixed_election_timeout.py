"""A non-random election timeout: every server waits the same time.

Section 5.2 relies on random timeouts to break ties; with a fixed one, servers
that start together time out together, split the vote, and do it again forever.
"""
from pathlib import Path

# The exercise's other functions are the reference's, read from this kit's raftlab/rules.py:
# `raftlab check` withholds them from the raftlab it grades in, and only the bug is measured.
_kit: dict = {"__name__": "raftlab.kit_rules", "__package__": "raftlab"}
exec(compile((Path(__file__).parents[2] / "rules.py").read_text(), "raftlab/rules.py", "exec"), _kit)
handle_request_vote_reply = _kit["handle_request_vote_reply"]
start_election = _kit["start_election"]

EXERCISE = 1


def reset_election_timer(node):
    node.election_deadline = node.now + node.config.election_timeout[0]   # BUG: not random
