"""Committing an entry of an earlier term by counting replicas (Figure 8).

An old-term entry stored on a majority can still be overwritten by a later
leader; only current-term entries commit by counting (section 5.4.2).
"""
from raftlab import Role

EXERCISE = 5


def advance_commit_index(node):
    if node.role is not Role.LEADER:
        return
    matched = sorted([node.log.last_index] + [node.match_index[p] for p in node.peers], reverse=True)
    n = matched[node.majority - 1]
    if n > node.commit_index:                          # BUG: and log[N].term == currentTerm
        node.commit_index = n
