"""The leader answers a read (get) from its state machine at once, without checking it still leads.

Section 8: "a leader must check whether it has been deposed before processing
a read-only request (its information may be stale if a more recent leader has
been elected)".  A leader cut off from the majority still believes it leads;
a newer leader commits a put on the other side, and the old one answers a get
with the old value.  Every log invariant holds; the clients' history is not
linearizable.  (The reference sends reads through the log, so a leader answers
one only after a majority has accepted an entry of its term.)  Exposed by the
linearizability tests of exercise 6.
"""
from raftlab import ClientReply, ClientRequest, Entry, Role

EXERCISE = 6


def handle_client_request(node, m):
    if node.role is Role.LEADER:
        done, result = node.state_machine.cached_result(m.client_id, m.seq)
        if done:
            node.send(ClientReply(node.id, m.client_id, m.client_id, m.seq, True, result))
            return
        if m.command[0] == "get":                 # BUG: this leader may have been deposed already
            value = node.state_machine.data.get(m.command[1])
            node.send(ClientReply(node.id, m.client_id, m.client_id, m.seq, True, value))
            return
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
