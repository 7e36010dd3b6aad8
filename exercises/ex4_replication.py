"""Exercise 4: the leader handles AppendEntries replies (section 5.3).

Write how a leader learns what each follower holds.  ``next_index[peer]`` is the
next entry to send that follower; ``match_index[peer]`` the highest entry known
to be replicated on it.

What you can use:

    m.src (the follower), m.term, m.success, m.match_index, m.conflict_term, m.conflict_index
    node.role, node.current_term
    node.next_index[peer], node.match_index[peer]
    node.recent_active               a set: add the follower (it answered; used by check-quorum)
    node.log.last_index_of_term(term)  the last index holding an entry of `term`, or None
    node.rules.send_append_entries(node, peer)   send peer what it lacks, from next_index[peer]
    node.rules.advance_commit_index(node)        exercise 5: commit what a majority holds

Check your work:  raftlab check 4
"""
from raftlab import AppendEntriesReply, Role
from raftlab.node import Node


def handle_append_entries_reply(node: Node, m: AppendEntriesReply) -> None:
    """A follower answered an AppendEntries.

    Figure 2, Leaders: "If successful: update nextIndex and matchIndex for
    follower (5.3).  If AppendEntries fails because of log inconsistency:
    decrement nextIndex and retry (5.3)."

    Contract:
    * Ignore the reply unless you are the leader and ``m.term == current_term``
      (replies arrive late, twice and out of order).  Add ``m.src`` to
      ``node.recent_active``.
    * Success: ``match_index[peer]`` becomes ``m.match_index`` if that is higher
      (never move it back); ``next_index[peer]`` at least ``match_index[peer] + 1``;
      then ``node.rules.advance_commit_index(node)``.
    * Failure: move ``next_index[peer]`` back and retry at once with
      ``node.rules.send_append_entries(node, peer)``.  Back off past a whole term
      (end of section 5.3): if the follower named a ``conflict_term`` that your log
      holds, go to just after your last entry of that term; otherwise go to
      ``m.conflict_index``.  Always move back by at least one, but never to
      ``match_index[peer]`` or below, and never below 1.
    """
    raise NotImplementedError("Exercise 4: handle_append_entries_reply is not written yet - "
                              "see exercises/ex4_replication.py")
