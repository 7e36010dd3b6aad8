"""Half the cluster taken for a majority (cluster_size // 2 replicas instead of cluster_size // 2 + 1).

In a cluster of 4, two replicas commit; in a cluster of 3, the leader alone does.
"""
from raftlab import Role

EXERCISE = 5


def advance_commit_index(node):
    if node.role is not Role.LEADER:
        return
    matched = sorted([node.log.last_index] + [node.match_index[p] for p in node.peers], reverse=True)
    n = matched[node.cluster_size // 2 - 1]            # BUG: node.majority - 1
    if n > node.commit_index and node.log.term_at(n) == node.current_term:
        node.commit_index = n
