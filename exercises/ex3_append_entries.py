"""Exercise 3: AppendEntries on the follower (sections 5.3 and 5.4).

Write the receiver of AppendEntries: the message a leader sends to replicate its
log, and (with no entries) as a heartbeat.

What you can use:

    m.term, m.leader_id, m.prev_log_index, m.prev_log_term, m.entries (a tuple of Entry),
    m.leader_commit
    node.current_term, node.role, node.become_follower(leader_id), node.leader_id
    node.last_heard_from_leader      set it to node.now when a valid AppendEntries arrives
    node.log.term_at(i)              the term of entry i (0 for index 0, None if there is no entry i)
    node.log.last_index
    node.log.append(entry)           add one entry at the end
    node.log.truncate_from(i)        delete entry i and everything after it
    node.log.first_index_of_term(term, at_or_before)
                                     the first index of the run of `term` that contains at_or_before
    node.commit_index
    node.rules.reset_election_timer(node)
    node.send(AppendEntriesReply(node.id, m.src, node.current_term, success,
                                 match_index=..., conflict_term=..., conflict_index=...))

Entry i of the message is log index ``m.prev_log_index + i`` (counting from 1).

Check your work:  raftlab check 3
"""
from raftlab import AppendEntries, AppendEntriesReply, Role
from raftlab.node import Node


def handle_append_entries(node: Node, m: AppendEntries) -> None:
    """A leader sent entries (or a heartbeat).

    Figure 2, AppendEntries RPC, receiver implementation:
    "1. Reply false if term < currentTerm (5.1).
     2. Reply false if log doesn't contain an entry at prevLogIndex whose term
        matches prevLogTerm (5.3).
     3. If an existing entry conflicts with a new one (same index but different
        terms), delete the existing entry and all that follow it (5.3).
     4. Append any new entries not already in the log.
     5. If leaderCommit > commitIndex, set commitIndex = min(leaderCommit, index
        of last new entry)."

    Contract:
    * ``m.term < current_term``: reply ``success=False`` with your term; change nothing.
    * Otherwise a leader of your term is alive: if you are not a follower, call
      ``node.become_follower(m.leader_id)``; set ``node.leader_id = m.leader_id``
      and ``node.last_heard_from_leader = node.now``; reset the election timer
      (Figure 2, Followers: "If election timeout elapses without receiving
      AppendEntries RPC from current leader ... convert to candidate").
    * No entry at ``prev_log_index`` with term ``prev_log_term``: reply
      ``success=False`` with a hint for the leader (the optimization at the end of
      section 5.3): if your log is too short, ``conflict_term=None`` and
      ``conflict_index=last_index + 1``; otherwise ``conflict_term`` = the term you
      hold at ``prev_log_index`` and ``conflict_index`` = the first index of that term.
    * Otherwise walk the entries: skip one you already hold (same index and term),
      and only on a *conflict* (same index, different term) truncate from there,
      then append.  A stale or reordered AppendEntries whose entries you already
      hold must delete nothing.
    * ``commit_index`` becomes ``min(m.leader_commit, prev_log_index + len(entries))``
      if that is higher than it was; it never moves back.
    * Reply ``success=True`` with ``match_index = prev_log_index + len(entries)``.
    """
    raise NotImplementedError("Exercise 3: handle_append_entries is not written yet - "
                              "see exercises/ex3_append_entries.py")
