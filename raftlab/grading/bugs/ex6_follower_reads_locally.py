"""A follower answers a read (get) from its own state machine instead of sending it to the leader.

Section 8: "Read-only operations can be handled without writing anything into
the log.  However, with no additional measures, this would run the risk of
returning stale data".  A follower's state machine lags the leader's: a client
that was told its put succeeded can then read the old value from a follower.
Every log invariant holds (the log is untouched); only the clients' history is
wrong: it is not linearizable.  Exposed by the linearizability tests of
exercise 6 (a lagging follower, and churn with clients reading and writing).
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
                return
        node.log.append(Entry(node.current_term, m.command, m.client_id, m.seq))
        node.rules.advance_commit_index(node)
        node.rules.broadcast_append_entries(node)
    elif m.command[0] == "get":                   # BUG: a follower's state machine may be stale
        value = node.state_machine.data.get(m.command[1])
        node.send(ClientReply(node.id, m.client_id, m.client_id, m.seq, True, value))
    elif node.leader_id is not None and node.leader_id != node.id and m.src == m.client_id:
        node.send(ClientRequest(node.id, node.leader_id, m.client_id, m.seq, m.command))
    else:
        node.send(ClientReply(node.id, m.client_id, m.client_id, m.seq, False, None, node.leader_id))
