"""Counting vote replies instead of voters: a duplicated reply counts twice.

The network may deliver a reply twice; a candidate that counts replies can win
with fewer than a majority of voters, and two candidates can win one term.
"""
from pathlib import Path

from raftlab import RequestVote, Role

# The exercise's other functions are the reference's, read from this kit's raftlab/rules.py:
# `raftlab check` withholds them from the raftlab it grades in, and only the bug is measured.
_kit: dict = {"__name__": "raftlab.kit_rules", "__package__": "raftlab"}
exec(compile((Path(__file__).parents[2] / "rules.py").read_text(), "raftlab/rules.py", "exec"), _kit)
reset_election_timer = _kit["reset_election_timer"]

EXERCISE = 1


def start_election(node):
    node.current_term += 1
    node.become_candidate()
    node.voted_for = node.id
    node.votes_granted = {node.id}
    node.votes = 1                        # the counter the buggy reply handler uses
    node.rules.reset_election_timer(node)
    for peer in node.peers:
        node.send(RequestVote(node.id, peer, node.current_term, node.id,
                              node.log.last_index, node.log.last_term))
    if node.votes >= node.majority:
        node.become_leader()


def handle_request_vote_reply(node, m):
    if node.role is not Role.CANDIDATE or m.term != node.current_term:
        return
    if m.vote_granted:
        node.votes = getattr(node, "votes", len(node.votes_granted)) + 1   # BUG: counts replies, not voters
        if node.votes >= node.majority:
            node.become_leader()
