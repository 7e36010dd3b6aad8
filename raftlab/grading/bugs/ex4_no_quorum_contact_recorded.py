"""Not recording which followers answered: recent_active never grows.

With check-quorum on (thesis 6.2), "a leader steps down if an election timeout
elapses without a successful round of heartbeats to a majority of its cluster";
the leader learns a follower is there from its AppendEntries replies
(``node.recent_active``).  Without the record a healthy leader steps down every
election timeout, and the cluster keeps re-electing.  Without check-quorum
nothing reads the field.  Exposed by the check-quorum test of exercise 4.
"""
from raftlab import Role

EXERCISE = 4


def handle_append_entries_reply(node, m):
    if node.role is not Role.LEADER or m.term != node.current_term:
        return
    peer = m.src
    # BUG: missing node.recent_active.add(peer)
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
    node.next_index[peer] = max(next_index, node.match_index[peer] + 1, 1)
    node.rules.send_append_entries(node, peer)
