"""matchIndex moving backwards: it is set from every success reply, late ones included.

A late reply to an older AppendEntries lowers what the leader believes the
follower holds.
"""
from raftlab import Role

EXERCISE = 4


def handle_append_entries_reply(node, m):
    if node.role is not Role.LEADER or m.term != node.current_term:
        return
    peer = m.src
    node.recent_active.add(peer)
    if m.success:
        node.match_index[peer] = m.match_index          # BUG: never move it back (max)
        node.next_index[peer] = max(node.next_index[peer], node.match_index[peer] + 1)
        node.rules.advance_commit_index(node)
        return
    if m.conflict_term is not None:
        last = node.log.last_index_of_term(m.conflict_term)
        next_index = last + 1 if last is not None else m.conflict_index
    else:
        next_index = m.conflict_index
    next_index = min(next_index, node.next_index[peer] - 1)
    node.next_index[peer] = max(next_index, node.match_index[peer] + 1, 1)
    node.rules.send_append_entries(node, peer)
