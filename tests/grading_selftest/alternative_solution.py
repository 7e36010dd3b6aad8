"""A second correct solution of every exercise, written differently from raftlab/rules.py.

The self-tests use it to show that the graded tests and the checkpoint notebooks
judge behaviour, not code: it must score full marks and print exactly what the
reference printed.  (Instructors only: ``raftlab release`` leaves tests/grading_selftest/ out.)
"""
from raftlab import AppendEntriesReply, ClientReply, ClientRequest, Entry, RequestVote, RequestVoteReply, Role


def reset_election_timer(node):
    timeout = node.random_election_timeout()
    node.election_deadline = timeout + node.now


def start_election(node):
    node.current_term = node.current_term + 1
    node.become_candidate()
    node.voted_for, node.votes_granted = node.id, {node.id}
    node.rules.reset_election_timer(node)
    last_index, last_term = node.log.last_index, node.log.last_term
    for peer in node.peers:
        node.send(RequestVote(src=node.id, dst=peer, term=node.current_term, candidate_id=node.id,
                              last_log_index=last_index, last_log_term=last_term))
    if len(node.votes_granted) * 2 > node.cluster_size:
        node.become_leader()


def handle_request_vote_reply(node, m):
    still_running = node.role == Role.CANDIDATE and node.current_term == m.term
    if still_running and m.vote_granted:
        node.votes_granted |= {m.src}
        if 2 * len(node.votes_granted) > node.cluster_size:
            node.become_leader()


def update_term(node, term):
    if term <= node.current_term:
        return
    node.current_term, node.voted_for = term, None
    node.become_follower()


def _candidate_is_up_to_date(node, last_index, last_term):
    mine = node.log.last_term
    if last_term != mine:
        return last_term > mine
    return last_index >= node.log.last_index


def handle_request_vote(node, m):
    free = node.voted_for is None or node.voted_for == m.candidate_id
    granted = bool(m.term == node.current_term and free
                   and _candidate_is_up_to_date(node, m.last_log_index, m.last_log_term))
    if granted:
        node.voted_for = m.candidate_id
        node.rules.reset_election_timer(node)
    node.send(RequestVoteReply(node.id, m.src, node.current_term, granted))


def _reject(node, m, conflict_term=None, conflict_index=0):
    node.send(AppendEntriesReply(node.id, m.src, node.current_term, False,
                                 conflict_term=conflict_term, conflict_index=conflict_index))


def handle_append_entries(node, m):
    if m.term < node.current_term:
        return _reject(node, m)
    if node.role != Role.FOLLOWER:
        node.become_follower(m.leader_id)
    node.leader_id, node.last_heard_from_leader = m.leader_id, node.now
    node.rules.reset_election_timer(node)
    log, prev, new = node.log, m.prev_log_index, list(m.entries)
    while prev < log.snapshot_index and new:          # entries already in our snapshot
        prev, new = prev + 1, new[1:]
    if prev < log.snapshot_index:
        node.send(AppendEntriesReply(node.id, m.src, node.current_term, True, log.snapshot_index))
        return
    if prev == m.prev_log_index and log.term_at(prev) != m.prev_log_term:
        if log.last_index < prev:
            return _reject(node, m, None, log.last_index + 1)
        term = log.term_at(prev)
        first = prev
        while first - 1 > log.snapshot_index and log.term_at(first - 1) == term:
            first -= 1
        return _reject(node, m, term, first)
    for offset, entry in enumerate(new, start=1):
        index = prev + offset
        if log.term_at(index) is None:
            log.append(entry)
        elif log.term_at(index) != entry.term:
            log.truncate_from(index)
            log.append(entry)
    last_new = prev + len(new)
    node.commit_index = max(node.commit_index, min(m.leader_commit, last_new))
    node.send(AppendEntriesReply(node.id, m.src, node.current_term, True, last_new))


def handle_append_entries_reply(node, m):
    if node.role != Role.LEADER or node.current_term != m.term:
        return
    peer = m.src
    node.recent_active.add(peer)
    if m.success:
        if m.match_index > node.match_index[peer]:
            node.match_index[peer] = m.match_index
        if node.next_index[peer] <= node.match_index[peer]:
            node.next_index[peer] = node.match_index[peer] + 1
        node.rules.advance_commit_index(node)
        return
    target = m.conflict_index
    if m.conflict_term is not None:
        holder = node.log.last_index_of_term(m.conflict_term)
        if holder is not None:
            target = holder + 1
    target = min(target, node.next_index[peer] - 1)
    node.next_index[peer] = max(1, node.match_index[peer] + 1, target)
    node.rules.send_append_entries(node, peer)


def advance_commit_index(node):
    if node.role != Role.LEADER:
        return
    for n in range(node.log.last_index, node.commit_index, -1):
        if node.log.term_at(n) != node.current_term:
            break                          # earlier entries have earlier terms
        holders = 1 + sum(1 for p in node.peers if node.match_index[p] >= n)
        if holders >= node.majority:
            node.commit_index = n
            return


def handle_client_request(node, m):
    if node.role == Role.LEADER:
        applied, result = node.state_machine.cached_result(m.client_id, m.seq)
        if applied:
            return node.send(ClientReply(node.id, m.client_id, m.client_id, m.seq, True, result))
        pending = any(node.log.entry(i).client_id == m.client_id and node.log.entry(i).seq == m.seq
                      for i in range(node.commit_index + 1, node.log.last_index + 1))
        if not pending:
            node.log.append(Entry(node.current_term, m.command, m.client_id, m.seq))
            node.rules.advance_commit_index(node)
            node.rules.broadcast_append_entries(node)
        return
    knows_leader = node.leader_id not in (None, node.id)
    if knows_leader and m.src == m.client_id:
        node.send(ClientRequest(node.id, node.leader_id, m.client_id, m.seq, m.command))
    else:
        node.send(ClientReply(node.id, m.client_id, m.client_id, m.seq, False, None, node.leader_id))


def current_configuration(node):
    log = node.log
    if not log.config_indexes:
        return node.initial_configuration if log.snapshot_config is None else log.snapshot_config
    return log.entry(max(log.config_indexes)).config


def _majority_of(voters, present):
    return len(voters) > 0 and 2 * len(present.intersection(voters)) > len(voters)


def has_quorum(node, ids):
    conf, present = node.configuration, set(ids)
    if conf.is_joint and not _majority_of(conf.old_voters, present):
        return False
    return _majority_of(conf.voters, present)


def may_change_configuration(node):
    if node.role != Role.LEADER:
        return f"only the leader changes the configuration, and {node.id} is a {node.role}"
    pending = [i for i in node.log.config_indexes if i > node.commit_index]
    if pending:
        return f"the configuration entry at index {pending[-1]} is not committed yet"
    if node.configuration.is_joint:
        return "the cluster is still in its joint configuration"
    if node.config.membership == "joint" or node.log.term_at(node.commit_index) == node.current_term:
        return None
    return f"{node.id} has not committed an entry of term {node.current_term} yet"
