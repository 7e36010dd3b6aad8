"""The election deadline forgets the current time: deadline = timeout instead of now + timeout.

The deadline is an absolute time; this one is always in the first 300 ms, so
after that every timer is already overdue.
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
    node.election_deadline = node.random_election_timeout()   # BUG: should be node.now + ...
