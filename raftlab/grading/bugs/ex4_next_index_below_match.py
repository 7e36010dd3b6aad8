"""nextIndex moved back without a floor: below matchIndex, even to 0.

A late duplicate rejection pushes nextIndex below what the follower is known to
hold, and eventually to index 0, which does not exist.
"""
from raftlab import Role

EXERCISE = 4


def handle_append_entries_reply(node, m):
    if node.role is not Role.LEADER or m.term != node.current_term:
        return
    peer = m.src
    node.recent_active.add(peer)
    if m.success:
        node.match_index[peer] = max(node.match_index[peer], m.match_index)
        node.next_index[peer] = max(node.next_index[peer], node.match_index[peer] + 1)
        node.rules.advance_commit_index(node)
        return
    if m.conflict_term is not None:
        last = node.log.last_index_of_term(m.conflict_term)
        next_index = last + 1 if last is not None else m.conflict_index
    else:
        next_index = m.conflict_index
    next_index = min(next_index, node.next_index[peer] - 1)
    node.next_index[peer] = next_index                 # BUG: keep it above matchIndex and >= 1
    node.rules.send_append_entries(node, peer)
