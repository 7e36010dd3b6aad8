"""Appending a retried request again while the first copy is still uncommitted.

The log then holds the same request twice: applying a retried request twice
unless something downstream catches it.
"""
from raftlab import ClientReply, ClientRequest, Entry, Role

EXERCISE = 6


def handle_client_request(node, m):
    if node.role is Role.LEADER:
        done, result = node.state_machine.cached_result(m.client_id, m.seq)
        if done:
            node.send(ClientReply(node.id, m.client_id, m.client_id, m.seq, True, result))
            return
        # BUG: missing the search for the same (client_id, seq) among the uncommitted entries
        node.log.append(Entry(node.current_term, m.command, m.client_id, m.seq))
        node.rules.advance_commit_index(node)
        node.rules.broadcast_append_entries(node)
    elif node.leader_id is not None and node.leader_id != node.id and m.src == m.client_id:
        node.send(ClientRequest(node.id, node.leader_id, m.client_id, m.seq, m.command))
    else:
        node.send(ClientReply(node.id, m.client_id, m.client_id, m.seq, False, None, node.leader_id))
