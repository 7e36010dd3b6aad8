"""Half the votes taken for a majority (cluster_size // 2 instead of cluster_size // 2 + 1).

With 2 votes of 5 a candidate wins, and two candidates can win the same term.
"""
from raftlab import Role
from raftlab.rules import reset_election_timer, start_election  # noqa: F401 - correct

EXERCISE = 1


def handle_request_vote_reply(node, m):
    if node.role is not Role.CANDIDATE or m.term != node.current_term:
        return
    if m.vote_granted:
        node.votes_granted.add(m.src)
        if len(node.votes_granted) >= node.cluster_size // 2:      # BUG: should be node.majority
            node.become_leader()
