"""Not recording when the leader was last heard from: last_heard_from_leader is never set.

A valid AppendEntries means a leader is alive.  Pre-vote (thesis 9.6) and
check-quorum's leader lease (thesis 4.2.3) both rest on that: a server that
heard from a leader within the minimum election timeout refuses a PreVote (and,
with check-quorum, ignores a RequestVote of a higher term).  Without the record,
every follower grants the PreVote of a server that was cut off and comes back,
which then starts a real election and deposes a healthy leader -- the very
disruption pre-vote exists to prevent.  Without pre-vote or check-quorum nothing
reads the field.  Exposed by the pre-vote test of exercise 3 (a server cut off from the
leader only) and by the unit test that checks the record.
"""
from raftlab import AppendEntriesReply, Role

EXERCISE = 3


def handle_append_entries(node, m):
    if m.term < node.current_term:
        node.send(AppendEntriesReply(node.id, m.src, node.current_term, False))
        return
    if node.role is not Role.FOLLOWER:
        node.become_follower(m.leader_id)
    node.leader_id = m.leader_id
    # BUG: missing node.last_heard_from_leader = node.now
    node.rules.reset_election_timer(node)
    log = node.log
    prev, entries = m.prev_log_index, m.entries
    if prev < log.snapshot_index:
        skip = min(log.snapshot_index - prev, len(entries))
        prev, entries = prev + skip, entries[skip:]
        if prev < log.snapshot_index:
            node.send(AppendEntriesReply(node.id, m.src, node.current_term, True, log.snapshot_index))
            return
    elif log.term_at(prev) != m.prev_log_term:
        if prev > log.last_index:
            reply = AppendEntriesReply(node.id, m.src, node.current_term, False,
                                       conflict_term=None, conflict_index=log.last_index + 1)
        else:
            conflict_term = log.term_at(prev)
            reply = AppendEntriesReply(node.id, m.src, node.current_term, False,
                                       conflict_term=conflict_term,
                                       conflict_index=log.first_index_of_term(conflict_term, prev))
        node.send(reply)
        return
    index = prev
    for entry in entries:
        index += 1
        existing = log.term_at(index)
        if existing == entry.term:
            continue
        if existing is not None:
            log.truncate_from(index)
        log.append(entry)
    last_new = prev + len(entries)
    if m.leader_commit > node.commit_index:
        node.commit_index = max(node.commit_index, min(m.leader_commit, last_new))
    node.send(AppendEntriesReply(node.id, m.src, node.current_term, True, last_new))
