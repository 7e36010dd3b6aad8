"""Committing as soon as any one follower stores an entry.

The highest matchIndex is not a majority: the entry may live on two servers only.
"""
from raftlab import Role

EXERCISE = 5


def advance_commit_index(node):
    if node.role is not Role.LEADER:
        return
    matched = sorted([node.log.last_index] + [node.match_index[p] for p in node.peers], reverse=True)
    n = matched[1]                                     # BUG: the majority-th highest, not the 2nd
    if n > node.commit_index and node.log.term_at(n) == node.current_term:
        node.commit_index = n
