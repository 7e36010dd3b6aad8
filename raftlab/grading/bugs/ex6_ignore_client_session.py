"""Ignoring the client's session: a retry of an applied request is appended again.

The retry is applied a second time (an append doubles the value) unless the
state machine catches it, and the client never gets its first answer back.
"""
from raftlab import ClientReply, ClientRequest, Entry, Role

EXERCISE = 6


def handle_client_request(node, m):
    if node.role is Role.LEADER:
        # BUG: missing the answer from the session (node.state_machine.cached_result)
        for i in range(node.log.last_index, node.commit_index, -1):
            e = node.log.entry(i)
            if e.client_id == m.client_id and e.seq == m.seq:
                return
        node.log.append(Entry(node.current_term, m.command, m.client_id, m.seq))
        node.rules.advance_commit_index(node)
        node.rules.broadcast_append_entries(node)
    elif node.leader_id is not None and node.leader_id != node.id and m.src == m.client_id:
        node.send(ClientRequest(node.id, node.leader_id, m.client_id, m.seq, m.command))
    else:
        node.send(ClientReply(node.id, m.client_id, m.client_id, m.seq, False, None, node.leader_id))
