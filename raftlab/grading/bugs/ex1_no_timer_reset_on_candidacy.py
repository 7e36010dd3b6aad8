"""A candidate does not restart its election timer.

The engine cleared the timer that fired; without a new one, a candidate whose
election splits the vote never tries again.
"""
from pathlib import Path

from raftlab import RequestVote

# The exercise's other functions are the reference's, read from this kit's raftlab/rules.py:
# `raftlab check` withholds them from the raftlab it grades in, and only the bug is measured.
_kit: dict = {"__name__": "raftlab.kit_rules", "__package__": "raftlab"}
exec(compile((Path(__file__).parents[2] / "rules.py").read_text(), "raftlab/rules.py", "exec"), _kit)
handle_request_vote_reply = _kit["handle_request_vote_reply"]
reset_election_timer = _kit["reset_election_timer"]

EXERCISE = 1


def start_election(node):
    node.current_term += 1
    node.become_candidate()
    node.voted_for = node.id
    node.votes_granted = {node.id}
    # BUG: missing node.rules.reset_election_timer(node)
    for peer in node.peers:
        node.send(RequestVote(node.id, peer, node.current_term, node.id,
                              node.log.last_index, node.log.last_term))
    if len(node.votes_granted) >= node.majority:
        node.become_leader()
