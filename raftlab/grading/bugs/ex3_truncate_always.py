"""Truncating the log on every AppendEntries, not only on a conflict.

A stale or reordered AppendEntries then deletes entries that came later, even
committed ones (Figure 2, AppendEntries rule 3 deletes only on a conflict).
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
    node.last_heard_from_leader = node.now
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
    log.truncate_from(prev + 1)                 # BUG: truncates whether or not anything conflicts
    for entry in entries:
        log.append(entry)
    last_new = prev + len(entries)
    if m.leader_commit > node.commit_index:
        node.commit_index = max(node.commit_index, min(m.leader_commit, last_new))
    node.send(AppendEntriesReply(node.id, m.src, node.current_term, True, last_new))
