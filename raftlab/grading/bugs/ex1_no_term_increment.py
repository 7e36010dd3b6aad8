"""A candidate runs in its current term instead of the next one.

The voters have (or had) a leader in that term: two leaders in one term, or no
election ever succeeds.
"""
from raftlab import RequestVote
from raftlab.rules import handle_request_vote_reply, reset_election_timer  # noqa: F401 - correct

EXERCISE = 1


def start_election(node):
    # BUG: missing node.current_term += 1
    node.become_candidate()
    node.voted_for = node.id
    node.votes_granted = {node.id}
    node.rules.reset_election_timer(node)
    for peer in node.peers:
        node.send(RequestVote(node.id, peer, node.current_term, node.id,
                              node.log.last_index, node.log.last_term))
    if len(node.votes_granted) >= node.majority:
        node.become_leader()
