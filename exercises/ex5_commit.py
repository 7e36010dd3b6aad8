"""Exercise 5: the commit rule (sections 5.3 and 5.4.2).

Write how a leader decides an entry is committed.  Read Figure 8 first: an entry
from an earlier term may be stored on a majority and still be overwritten.

What you can use:

    node.role, node.current_term, node.commit_index
    node.peers, node.match_index[peer]
    node.log.last_index, node.log.term_at(i)
    node.majority                    3 in a cluster of 5 (the leader counts itself)

Check your work:  raftlab check 5
"""
from raftlab import Role
from raftlab.node import Node


def advance_commit_index(node: Node) -> None:
    """Commit what a majority stores, if it is from the current term.

    Figure 2, Leaders: "If there exists an N such that N > commitIndex, a majority
    of matchIndex[i] >= N, and log[N].term == currentTerm: set commitIndex = N
    (5.3, 5.4)."

    Section 5.4.2: "Raft never commits log entries from previous terms by counting
    replicas.  Only log entries from the leader's current term are committed by
    counting replicas; once an entry from the current term has been committed in
    this way, then all prior entries are committed indirectly."

    Contract: only a leader commits.  The leader stores its whole log, so it
    counts itself (with ``node.log.last_index``).  Find the highest N held by a
    majority; if N > ``commit_index`` and ``log[N]`` is from ``current_term``, set
    ``commit_index = N``.  Otherwise change nothing.
    """
    raise NotImplementedError("Exercise 5: advance_commit_index is not written yet - "
                              "see exercises/ex5_commit.py")
