"""The leader forgets to count itself among the replicas.

It needs a majority of followers, so with a minority down it never commits.
"""
from raftlab import Role

EXERCISE = 5


def advance_commit_index(node):
    if node.role is not Role.LEADER:
        return
    matched = sorted([node.match_index[p] for p in node.peers], reverse=True)   # BUG: the leader counts too
    n = matched[node.majority - 1]
    if n > node.commit_index and node.log.term_at(n) == node.current_term:
        node.commit_index = n
