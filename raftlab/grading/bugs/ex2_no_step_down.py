"""Forgetting to step down on a higher term: the term is adopted, the role kept.

A deposed leader keeps acting as leader in the new term: two leaders in one term.
"""
from pathlib import Path

# The exercise's other functions are the reference's, read from this kit's raftlab/rules.py:
# `raftlab check` withholds them from the raftlab it grades in, and only the bug is measured.
_kit: dict = {"__name__": "raftlab.kit_rules", "__package__": "raftlab"}
exec(compile((Path(__file__).parents[2] / "rules.py").read_text(), "raftlab/rules.py", "exec"), _kit)
handle_request_vote = _kit["handle_request_vote"]

EXERCISE = 2


def update_term(node, term):
    if term > node.current_term:
        node.current_term = term
        node.voted_for = None
        # BUG: missing node.become_follower()
