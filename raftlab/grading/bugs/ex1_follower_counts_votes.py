"""Counting votes without being a candidate: no check of the role.

A candidate that already stepped down (another server won the term) still
counts late votes and becomes a second leader of that term.
"""
from pathlib import Path

# The exercise's other functions are the reference's, read from this kit's raftlab/rules.py:
# `raftlab check` withholds them from the raftlab it grades in, and only the bug is measured.
_kit: dict = {"__name__": "raftlab.kit_rules", "__package__": "raftlab"}
exec(compile((Path(__file__).parents[2] / "rules.py").read_text(), "raftlab/rules.py", "exec"), _kit)
reset_election_timer = _kit["reset_election_timer"]
start_election = _kit["start_election"]

EXERCISE = 1


def handle_request_vote_reply(node, m):
    if m.term != node.current_term:          # BUG: and node.role is Role.CANDIDATE is missing
        return
    if m.vote_granted:
        node.votes_granted.add(m.src)
        if len(node.votes_granted) >= node.majority:
            node.become_leader()
