"""The rules of Raft, one function per rule of Figure 2 (the reference implementation).

Read this file beside Figure 2 of the paper ("In Search of an Understandable
Consensus Algorithm", Ongaro & Ousterhout, 2014).  Every function takes the
node it acts on (and the message it handles), changes the node's state and
queues messages with ``node.send``.  A rule whose guard is false does nothing.

The functions marked "Exercise N" are the ones students write in
``exercises/``; loading a student's module swaps them in for one simulation
(see :mod:`raftlab.impl`).  The rest are the engine's own.
"""
from __future__ import annotations

from .membership import Configuration
from .messages import (
    AppendEntries,
    AppendEntriesReply,
    ClientReply,
    ClientRequest,
    Entry,
    InstallSnapshot,
    InstallSnapshotReply,
    MembershipChange,
    RequestVote,
    RequestVoteReply,
)
from .node import Node, Role

#: The rules a student's module may replace, by exercise number.
EXERCISE_RULES = {
    1: ("reset_election_timer", "start_election", "handle_request_vote_reply"),
    2: ("update_term", "handle_request_vote"),
    3: ("handle_append_entries",),
    4: ("handle_append_entries_reply",),
    5: ("advance_commit_index",),
    6: ("handle_client_request",),
    7: ("current_configuration", "has_quorum", "may_change_configuration"),
}


# --- Exercise 1: elections -------------------------------------------------------

def reset_election_timer(node: Node) -> None:
    """Exercise 1.  Restart the election timer with a fresh random timeout.

    Section 5.2: "Raft uses randomized election timeouts ... election timeouts
    are chosen randomly from a fixed interval (e.g., 150-300 ms)."
    Set ``node.election_deadline`` to ``node.now`` plus ``node.random_election_timeout()``.
    """
    node.election_deadline = node.now + node.random_election_timeout()


def start_election(node: Node) -> None:
    """Exercise 1.  Figure 2, Candidates: "On conversion to candidate, start election:
    increment currentTerm; vote for self; reset election timer; send RequestVote
    RPCs to all other servers."  A candidate that already has a majority (a cluster
    of one) becomes leader at once.  (Learners get no RequestVote: their votes
    would not count.)"""
    node.current_term += 1
    node.become_candidate()
    node.voted_for = node.id
    node.votes_granted = {node.id}
    node.rules.reset_election_timer(node)
    conf = node.configuration
    for peer in node.peers:
        if conf.is_voter(peer):
            node.send(RequestVote(node.id, peer, node.current_term, node.id,
                                  node.log.last_index, node.log.last_term))
    if node.has_quorum(node.votes_granted):
        node.become_leader()


def handle_request_vote_reply(node: Node, m: RequestVoteReply) -> None:
    """Exercise 1.  Figure 2, Candidates: "If votes received from majority of
    servers: become leader."  Count a vote only if still a candidate in the term
    the vote was cast for (a late reply from an old election counts for nothing)."""
    if node.role is not Role.CANDIDATE or m.term != node.current_term:
        return
    if m.vote_granted:
        node.votes_granted.add(m.src)
        if node.has_quorum(node.votes_granted):
            node.become_leader()


# --- Exercise 2: the term rule and RequestVote ---------------------------------------

def update_term(node: Node, term: int) -> None:
    """Exercise 2.  Figure 2, All Servers: "If RPC request or response contains
    term T > currentTerm: set currentTerm = T, convert to follower (5.1)."
    A new term starts with no vote cast in it."""
    if term > node.current_term:
        node.current_term = term
        node.voted_for = None
        node.become_follower()


def handle_request_vote(node: Node, m: RequestVote) -> None:
    """Exercise 2.  Figure 2, RequestVote RPC, receiver implementation:
    "1. Reply false if term < currentTerm (5.1).  2. If votedFor is null or
    candidateId, and candidate's log is at least as up-to-date as receiver's log,
    grant vote (5.2, 5.4)."  Granting a vote resets the election timer (Figure 2,
    Followers).  The reply carries ``current_term``."""
    granted = (m.term == node.current_term
               and node.voted_for in (None, m.candidate_id)
               and node.log.is_up_to_date(m.last_log_index, m.last_log_term))
    if granted:
        node.voted_for = m.candidate_id
        node.rules.reset_election_timer(node)
    node.send(RequestVoteReply(node.id, m.src, node.current_term, granted))


# --- Exercise 3: AppendEntries on the follower ------------------------------------

def handle_append_entries(node: Node, m: AppendEntries) -> None:
    """Exercise 3.  Figure 2, AppendEntries RPC, receiver implementation:

    1. Reply false if term < currentTerm (5.1).
    2. Reply false if log doesn't contain an entry at prevLogIndex whose term
       matches prevLogTerm (5.3).
    3. If an existing entry conflicts with a new one (same index but different
       terms), delete the existing entry and all that follow it (5.3).
    4. Append any new entries not already in the log.
    5. If leaderCommit > commitIndex, set commitIndex = min(leaderCommit, index
       of last new entry).

    Only a *conflict* deletes entries: a stale or reordered AppendEntries whose
    entries are already in the log changes nothing.  A valid AppendEntries also
    means a leader is alive: follow it and reset the election timer.  A rejection
    names the conflicting term and its first index, so the leader can skip a whole
    term at once; ``match_index`` in a success is prevLogIndex + len(entries).
    """
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
    if prev < log.snapshot_index:                  # the start is already in our snapshot
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
            conflict_term = log.term(prev)
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
            continue                      # already there: never truncate on a stale message
        if existing is not None:
            log.truncate_from(index)      # a real conflict
        log.append(entry)
    last_new = prev + len(entries)
    if m.leader_commit > node.commit_index:
        # max(): a reordered, older AppendEntries must never move commitIndex back
        node.commit_index = max(node.commit_index, min(m.leader_commit, last_new))
    node.send(AppendEntriesReply(node.id, m.src, node.current_term, True, last_new))


# --- Exercise 4: the leader handles AppendEntries replies -----------------------------

def handle_append_entries_reply(node: Node, m: AppendEntriesReply) -> None:
    """Exercise 4.  Figure 2, Leaders: "If successful: update nextIndex and
    matchIndex for follower (5.3).  If AppendEntries fails because of log
    inconsistency: decrement nextIndex and retry (5.3)."

    Replies can arrive late, twice or out of order: ignore a reply from another
    term, never move matchIndex backwards, and never move nextIndex at or below
    matchIndex.  On a rejection, back off past the whole conflicting term (the
    optimization at the end of section 5.3) and retry at once.
    """
    if node.role is not Role.LEADER or m.term != node.current_term:
        return
    peer = m.src
    node.recent_active.add(peer)
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


# --- Exercise 5: the commit rule ------------------------------------------------------

def advance_commit_index(node: Node) -> None:
    """Exercise 5.  Figure 2, Leaders: "If there exists an N such that N >
    commitIndex, a majority of matchIndex[i] >= N, and log[N].term ==
    currentTerm: set commitIndex = N (5.3, 5.4)."

    The leader counts itself (its own log holds everything).  Only an entry of
    the *current* term is committed by counting replicas; earlier entries are
    committed with it (section 5.4.2, Figure 8).  "A majority" is a quorum of the
    leader's configuration: of both C_old and C_new in the joint phase (section 6),
    and without the leader itself while it manages a configuration it is not part
    of (dissertation 4.2.2): ``node.has_quorum`` (exercise 7's rule) says whether
    the servers storing N are a quorum."""
    if node.role is not Role.LEADER:
        return
    match = dict(node.match_index)
    match[node.id] = node.log.last_index
    for n in sorted(set(match.values()), reverse=True):      # the highest N stored on a quorum
        if n <= node.commit_index:
            return
        if node.has_quorum({server for server, m in match.items() if m >= n}):
            if node.log.term_at(n) == node.current_term:
                node.commit_index = n
            return


# --- Exercise 6: clients ---------------------------------------------------------------

def handle_client_request(node: Node, m: ClientRequest) -> None:
    """Exercise 6.  Section 8: "Clients of Raft send all of their requests to the
    leader ... if the client's first choice is not the leader, that server will
    reject the client's request and supply information about the most recent
    leader it has heard from."

    A leader appends the command (once: a retry of a request that is already in
    its log or already applied is not appended again) and starts replicating it.
    A follower that knows the leader forwards the request to it once; otherwise
    it answers ``success=False`` with its ``leader_hint``.  The leader answers the
    client when the entry is applied (see ``apply_committed``).
    """
    if node.role is Role.LEADER:
        done, result = node.state_machine.cached_result(m.client_id, m.seq)
        if done:
            node.send(ClientReply(node.id, m.client_id, m.client_id, m.seq, True, result))
            return
        for i in range(node.log.last_index, node.commit_index, -1):
            e = node.log.entry(i)
            if e.client_id == m.client_id and e.seq == m.seq:
                return                    # already in the log: it will be answered when applied
        node.log.append(Entry(node.current_term, m.command, m.client_id, m.seq))
        node.rules.advance_commit_index(node)
        node.rules.broadcast_append_entries(node)
    elif node.leader_id is not None and node.leader_id != node.id and m.src == m.client_id:
        node.send(ClientRequest(node.id, node.leader_id, m.client_id, m.seq, m.command))
    else:
        node.send(ClientReply(node.id, m.client_id, m.client_id, m.seq, False, None, node.leader_id))


# --- Exercise 7: membership changes ---------------------------------------------------

def current_configuration(node: Node) -> Configuration:
    """Exercise 7.  The configuration ``node`` uses now.

    Section 6: "a server always uses the latest configuration in its log,
    regardless of whether the entry is committed."  The latest configuration
    entry in the log (``log.config_indexes`` lists them, in order); if the log
    holds none, the configuration its snapshot carries (section 7: the snapshot
    "includes ... the latest configuration as of the last included index");
    if it has none either, the cluster's initial configuration."""
    log = node.log
    if log.config_indexes:
        latest = log.entry(log.config_indexes[-1]).config
        if latest is not None:
            return latest
    if log.snapshot_config is not None:
        return log.snapshot_config
    return node.initial_configuration


def has_quorum(node: Node, ids) -> bool:
    """Exercise 7.  Whether the servers ``ids`` are a quorum of ``node``'s configuration.

    Section 6: "Agreement (for elections and entry commitment) requires separate
    majorities from both the old and new configurations" in the joint phase
    C_old,new; otherwise a majority of the voters.  Learners count for nothing,
    and neither does a server outside the configuration, even the leader itself
    (dissertation 4.2.2: a leader that is removed "does not count itself in
    majorities").  A configuration without voters has no quorum."""
    conf = node.configuration
    got = set(ids)
    majorities = (conf.voters,) if conf.old_voters is None else (conf.old_voters, conf.voters)
    return all(sum(1 for v in voters if v in got) > len(voters) // 2 for voters in majorities)


def may_change_configuration(node: Node):
    """Exercise 7.  Why ``node`` may not start a configuration change now (None: it may).

    * Only the leader changes the configuration (section 6).
    * One change at a time: "the leader will not begin a new configuration change
      until the previous one is committed" (dissertation 4.1), and in the joint
      phase not until C_new is appended.
    * Single-server changes (and the unsafe direct switch): "a leader may not append
      a new configuration entry until it has committed an entry from its current
      term" (the 2015 fix: dissertation errata, raft-dev "bug in single-server
      membership changes").  Without it, two leaders of different terms can each
      commit a change from the same old configuration, and their majorities need
      not overlap."""
    if node.role is not Role.LEADER:
        known = node.leader_id if node.leader_id not in (None, node.id) else None
        return f"{node.id} is not the leader ({known + ' is' if known else 'no leader is known'})"
    conf = node.configuration
    index = node.log.configuration_index
    if index > node.commit_index:
        return f"a configuration change is already in progress: {conf} at index {index} is not committed yet"
    if conf.is_joint:
        return f"a configuration change is already in progress: the joint configuration {conf}"
    if node.config.membership != "joint" and node.log.term_at(node.commit_index) != node.current_term:
        return f"the new leader {node.id} has not yet committed an entry of its term {node.current_term}"
    return None


# --- The engine's own rules (not exercises) -----------------------------------------

def handle_membership_change(node: Node, m: MembershipChange) -> None:
    """The operator asks the leader to add or remove servers (an input like a timer).

    A server joins as a learner: "the new server joins the cluster as a non-voting
    member ... the leader replicates entries to it, but it is not yet counted
    towards majorities" (dissertation 4.2.1); :func:`advance_configuration`
    promotes it once it has caught up.  Removing servers: with
    ``membership="joint"`` through C_old,new (section 6), otherwise straight to the
    new configuration (one server at a time unless ``"unsafe-direct"``)."""
    reason = node.rules.may_change_configuration(node)
    conf = node.configuration
    if reason is None and node.config.membership == "single" and len(m.add) + len(m.remove) > 1:
        reason = "single-server changes add or remove one server at a time"
    if reason is not None:
        node.note(f"refused the change ({m}): {reason}")
        return
    gone = set(m.remove)
    added = [s for s in m.add if s not in conf.members]
    voters = [v for v in conf.voters if v not in gone]
    learners = [x for x in conf.learners if x not in gone] + added
    if node.config.membership == "joint" and len(voters) != len(conf.voters):
        new = conf.joint(voters, learners)
    else:
        new = Configuration(tuple(voters), tuple(learners))
    for server in added:
        node.catch_up[server] = (node.log.last_index + 1, node.now)   # round 1: up to the new entry
    node.rules.append_configuration(node, new)


def append_configuration(node: Node, config: Configuration) -> None:
    """The leader appends ``config`` as a log entry and uses it at once (section 6: "a server always
    uses the latest configuration in its log"); a new member gets nextIndex and matchIndex as in
    section 5.3."""
    index = node.log.append(Entry(node.current_term, None, config=config))
    for peer in node.peers:
        if peer not in node.next_index:
            node.next_index[peer] = index + 1
            node.match_index[peer] = 0
    node.note(f"appended configuration {config} at index {index}")
    node.rules.advance_commit_index(node)
    node.rules.broadcast_append_entries(node)


def advance_configuration(node: Node) -> None:
    """The leader's part of a change in progress, after each of its steps:

    * once a configuration that does not include the leader is committed, it steps
      down (dissertation 4.2.2: "the leader steps down ... once the C_new entry is
      committed");
    * once C_old,new is committed, the leader appends C_new (section 6);
    * it catches up learners in rounds (dissertation 4.2.1): a round replicates
      everything the leader's log held when the round started; when a round ends
      within the minimum election timeout, the learner is promoted to voter, else
      another round starts.  Single-server changes promote one learner at a time;
      the other methods promote all the learners together once every one has caught
      up (several servers join in one change).  (The
      dissertation gives up after about 10 rounds; here a learner that never catches
      up stays a learner until the operator removes it.)"""
    if node.role is not Role.LEADER:
        return
    log = node.log
    conf = node.configuration
    committed = log.configuration_index <= node.commit_index
    if committed and not conf.is_voter(node.id):
        node.note(f"stepped down: it is not in the configuration {conf} committed at index "
                  f"{log.configuration_index}")
        node.become_follower()
        return
    if committed and conf.is_joint:
        node.rules.append_configuration(node, conf.leave_joint())
        return
    ready = []
    for learner in conf.learners:
        round_ = node.catch_up.get(learner)
        if round_ is None:
            node.catch_up[learner] = (log.last_index, node.now)
            continue
        target, started = round_
        if node.match_index.get(learner, 0) >= target:
            if node.now - started <= node.config.election_timeout[0]:
                ready.append(learner)
            else:
                node.catch_up[learner] = (log.last_index, node.now)     # another round
    if not ready or node.rules.may_change_configuration(node) is not None:
        return
    if node.config.membership == "single":
        ready = ready[:1]
    elif len(ready) < len(conf.learners):
        return
    for learner in ready:
        del node.catch_up[learner]
    voters = conf.voters + tuple(ready)
    learners = tuple(x for x in conf.learners if x not in ready)
    node.note(f"promoted {', '.join(ready)} to voter: caught up with the log")
    if node.config.membership == "joint":
        node.rules.append_configuration(node, conf.joint(voters, learners))
    else:
        node.rules.append_configuration(node, Configuration(voters, learners))


def on_election_timeout(node: Node) -> None:
    """Figure 2, Followers: "If election timeout elapses without receiving
    AppendEntries RPC from current leader or granting vote to candidate: convert
    to candidate."  With pre-vote (thesis 9.6) a follower first asks whether it
    could win.  A leader's election timer is the check-quorum timer (thesis 6.2):
    a leader that has not heard from a majority for a whole election timeout
    steps down.  A server that is not a voter in its own latest configuration (a
    learner, a server that knows it was removed, a new server that knows no
    configuration yet) never starts an election (etcd's "promotable")."""
    node.election_deadline = None
    if node.role is Role.LEADER:
        if node.config.check_quorum:
            if not node.has_quorum(node.recent_active | {node.id}):
                heard = len(node.recent_active)
                node.note(f"stepped down: heard from only {heard} follower{'' if heard == 1 else 's'} "
                          f"in an election timeout (check-quorum)")
                node.become_follower()
            else:
                node.recent_active = set()
                node.rules.reset_election_timer(node)
        return
    if not node.is_voter:
        node.note(f"is not a voter in its configuration {node.configuration}: it does not stand for election")
        return
    if node.config.pre_vote:
        start_pre_vote(node)
    else:
        node.rules.start_election(node)


def on_heartbeat_timeout(node: Node) -> None:
    """Figure 2, Leaders: "send initial empty AppendEntries RPCs (heartbeat) to
    each server; repeat during idle periods to prevent election timeouts (5.2)."""
    if node.role is not Role.LEADER:
        node.heartbeat_deadline = None
        return
    node.rules.broadcast_append_entries(node)
    node.heartbeat_deadline = node.now + node.config.heartbeat


def in_leader_lease(node: Node) -> bool:
    """Section 4.2.3 of the thesis (with check-quorum on): "if a server receives a
    RequestVote request within the minimum election timeout of hearing from a
    current leader, it does not update its term or grant its vote"."""
    if not node.config.check_quorum:
        return False
    if node.role is Role.LEADER:
        return True
    heard = node.last_heard_from_leader
    return heard is not None and node.now - heard < node.config.election_timeout[0]


def start_pre_vote(node: Node) -> None:
    """Thesis section 9.6: before a real election, ask whether a majority would
    vote for us in the next term; nobody changes term or vote for a PreVote."""
    node.become_pre_candidate()
    node.rules.reset_election_timer(node)
    conf = node.configuration
    for peer in node.peers:
        if conf.is_voter(peer):
            node.send(RequestVote(node.id, peer, node.current_term + 1, node.id,
                                  node.log.last_index, node.log.last_term, pre_vote=True))
    if node.has_quorum(node.votes_granted):
        node.rules.start_election(node)


def handle_pre_vote(node: Node, m: RequestVote) -> None:
    """Grant a PreVote if the candidate's next term is ahead of ours, its log is at
    least as up-to-date as ours, and we have not heard from a leader within the
    minimum election timeout (thesis 9.6 with 4.2.3)."""
    heard = node.last_heard_from_leader
    leader_alive = node.role is Role.LEADER or (
        heard is not None and node.now - heard < node.config.election_timeout[0])
    granted = (m.term > node.current_term and not leader_alive
               and node.log.is_up_to_date(m.last_log_index, m.last_log_term))
    node.send(RequestVoteReply(node.id, m.src, m.term if granted else node.current_term,
                               granted, pre_vote=True))


def handle_pre_vote_reply(node: Node, m: RequestVoteReply) -> None:
    if node.role is not Role.PRE_CANDIDATE or m.term != node.current_term + 1 or not m.vote_granted:
        return
    node.votes_granted.add(m.src)
    if node.has_quorum(node.votes_granted):
        node.rules.start_election(node)


def send_append_entries(node: Node, peer: str) -> None:
    """Send ``peer`` the entries from its nextIndex on (empty: a heartbeat), or
    InstallSnapshot if those entries were compacted away (section 7)."""
    next_index = node.next_index[peer]
    log = node.log
    if next_index <= log.snapshot_index:
        node.send(InstallSnapshot(node.id, peer, node.current_term, node.id,
                                  log.snapshot_index, log.snapshot_term, node.snapshot))
        return
    prev = next_index - 1
    node.send(AppendEntries(node.id, peer, node.current_term, node.id, prev, log.term(prev),
                            log.entries_from(next_index, node.config.max_entries),
                            node.commit_index))


def broadcast_append_entries(node: Node) -> None:
    for peer in node.peers:
        node.rules.send_append_entries(node, peer)


def apply_committed(node: Node) -> None:
    """Figure 2, All Servers: "If commitIndex > lastApplied: increment lastApplied,
    apply log[lastApplied] to state machine (5.3)."  The leader answers the client
    of each entry it applies.  Then compact the log if it has grown by
    ``snapshot_every`` entries since the last snapshot (section 7)."""
    # min(): a (buggy) commit index beyond the log is left for the safety checker to report
    while node.last_applied < min(node.commit_index, node.log.last_index):
        node.last_applied += 1
        entry = node.log.entry(node.last_applied)
        result = node.state_machine.apply(entry)
        node.applied.append((node.last_applied, entry, result))
        if node.role is Role.LEADER and entry.client_id is not None:
            node.send(ClientReply(node.id, entry.client_id, entry.client_id, entry.seq, True, result))
    every = node.config.snapshot_every
    if every and node.last_applied - node.log.snapshot_index >= every:
        take_snapshot(node)


def take_snapshot(node: Node) -> None:
    index = node.last_applied
    node.log.compact(index)               # the log keeps the configuration in force at index
    node.snapshot = node.state_machine.snapshot(index, node.log.snapshot_term, node.log.snapshot_config)
    node.note(f"took a snapshot up to index {index}")


def handle_install_snapshot(node: Node, m: InstallSnapshot) -> None:
    """Figure 13, InstallSnapshot RPC, receiver implementation: reply immediately
    if term < currentTerm; if an existing entry has the same index and term as the
    snapshot's last included entry, retain the entries following it; otherwise
    discard the entire log; reset the state machine using the snapshot."""
    if m.term < node.current_term:
        node.send(InstallSnapshotReply(node.id, m.src, node.current_term, 0))
        return
    if node.role is not Role.FOLLOWER:
        node.become_follower(m.leader_id)
    node.leader_id = m.leader_id
    node.last_heard_from_leader = node.now
    node.rules.reset_election_timer(node)
    if m.last_included_index > node.commit_index:
        keep_tail = node.log.term_at(m.last_included_index) == m.last_included_term
        node.log.reset_to_snapshot(m.last_included_index, m.last_included_term, keep_tail,
                                   getattr(m.data, "config", None))
        node.snapshot = m.data
        node.snapshot_state_restore()
        node.note(f"installed a snapshot up to index {m.last_included_index}")
    node.send(InstallSnapshotReply(node.id, m.src, node.current_term, m.last_included_index))


def handle_install_snapshot_reply(node: Node, m: InstallSnapshotReply) -> None:
    if node.role is not Role.LEADER or m.term != node.current_term:
        return
    node.recent_active.add(m.src)
    node.match_index[m.src] = max(node.match_index[m.src], m.match_index)
    node.next_index[m.src] = max(node.next_index[m.src], node.match_index[m.src] + 1)
    node.rules.advance_commit_index(node)


ALL_RULES = (
    "reset_election_timer", "start_election", "handle_request_vote_reply", "update_term",
    "handle_request_vote", "handle_append_entries", "handle_append_entries_reply",
    "advance_commit_index", "handle_client_request", "on_election_timeout",
    "on_heartbeat_timeout", "in_leader_lease", "start_pre_vote", "handle_pre_vote",
    "handle_pre_vote_reply", "send_append_entries", "broadcast_append_entries",
    "apply_committed", "handle_install_snapshot", "handle_install_snapshot_reply",
    "current_configuration", "has_quorum", "may_change_configuration", "handle_membership_change",
    "append_configuration", "advance_configuration",
)
