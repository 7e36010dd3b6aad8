"""A retried request found in the leader's log is answered "done" at once, committed or not.

Section 8: the leader responds to a client "once the entry has been committed".
A retry means the client is still waiting; finding the command in the log
only says it was appended, not that a majority stores it.  If this leader is
then deposed, the new leader's log may not hold the entry and it is
overwritten: the client was told a write succeeded that no server keeps
(acknowledged writes durable).  Only a client retrying while the first copy is
uncommitted meets it, so tests without client retries under faults miss it.
Exposed by the client-durability tests of exercise 6.
"""
from raftlab import ClientReply, ClientRequest, Entry, Role

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
                node.send(ClientReply(node.id, m.client_id, m.client_id, m.seq, True, "ok"))  # BUG: not committed
                return
        node.log.append(Entry(node.current_term, m.command, m.client_id, m.seq))
        node.rules.advance_commit_index(node)
        node.rules.broadcast_append_entries(node)
    elif node.leader_id is not None and node.leader_id != node.id and m.src == m.client_id:
        node.send(ClientRequest(node.id, node.leader_id, m.client_id, m.seq, m.command))
    else:
        node.send(ClientReply(node.id, m.client_id, m.client_id, m.seq, False, None, node.leader_id))
