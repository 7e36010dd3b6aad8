"""No leader hint: a follower neither forwards the request nor says who leads.

The client can only try servers at random until it finds the leader.
"""
from raftlab import ClientReply, Entry, Role

EXERCISE = 6


def handle_client_request(node, m):
    if node.role is Role.LEADER:
        done, result = node.state_machine.cached_result(m.client_id, m.seq)
        if done:
            node.send(ClientReply(node.id, m.client_id, m.client_id, m.seq, True, result))
            return
        for i in range(node.log.last_index, node.commit_index, -1):
            e = node.log.entry(i)
            if e.client_id == m.client_id and e.seq == m.seq:
                return
        node.log.append(Entry(node.current_term, m.command, m.client_id, m.seq))
        node.rules.advance_commit_index(node)
        node.rules.broadcast_append_entries(node)
    else:
        node.send(ClientReply(node.id, m.client_id, m.client_id, m.seq, False, None, None))  # BUG: no hint
