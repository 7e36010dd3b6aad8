"""Not advancing the commit index after a successful reply.

Entries commit only when the next client request arrives, so the last request
of a burst is never answered.
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
        return                                         # BUG: missing advance_commit_index
    if m.conflict_term is not None:
        last = node.log.last_index_of_term(m.conflict_term)
        next_index = last + 1 if last is not None else m.conflict_index
    else:
        next_index = m.conflict_index
    next_index = min(next_index, node.next_index[peer] - 1)
    node.next_index[peer] = max(next_index, node.match_index[peer] + 1, 1)
    node.rules.send_append_entries(node, peer)
