"""Exercise 2: the term rule and voting (sections 5.1, 5.2 and 5.4.1).

Write two rules.  ``update_term`` is the rule every server applies to every
message first (the engine calls it when a message carries a higher term);
``handle_request_vote`` decides whether to vote for a candidate.

What you can use on ``node``:

    node.id, node.current_term, node.voted_for (None or a server id)
    node.role, node.become_follower()
    node.log.last_index, node.log.last_term
    node.log.is_up_to_date(last_log_index, last_log_term)
                                     True if a log ending there is at least as up-to-date as yours
                                     (you may also write the comparison of section 5.4.1 yourself)
    node.rules.reset_election_timer(node)
    node.send(message)

Check your work:  raftlab check 2
"""
from raftlab import RequestVote, RequestVoteReply, Role
from raftlab.node import Node


def update_term(node: Node, term: int) -> None:
    """A message carried ``term``, higher than ours (the engine checked that).

    Figure 2, All Servers (section 5.1): "If RPC request or response contains term
    T > currentTerm: set currentTerm = T, convert to follower."

    Contract: if ``term > node.current_term``: adopt it, forget your vote
    (``voted_for = None``: nobody has had your vote in the new term), and call
    ``node.become_follower()`` (a leader or candidate of an older term steps down).
    """
    raise NotImplementedError("Exercise 2: update_term is not written yet - "
                              "see exercises/ex2_request_vote.py")


def handle_request_vote(node: Node, m: RequestVote) -> None:
    """A candidate asks for our vote.

    Figure 2, RequestVote RPC, receiver implementation:
    "1. Reply false if term < currentTerm (5.1).
     2. If votedFor is null or candidateId, and candidate's log is at least as
        up-to-date as receiver's log, grant vote (5.2, 5.4)."

    Section 5.4.1: "If the logs have last entries with different terms, then the
    log with the later term is more up-to-date.  If the logs end with the same
    term, then whichever log is longer is more up-to-date."

    Figure 2, Followers: a follower that grants a vote restarts its election timer.

    Contract:
    * grant when ``m.term == node.current_term`` (a higher term was already adopted
      by update_term), you have not voted for anyone else in this term, and the
      candidate's log (``m.last_log_index``, ``m.last_log_term``) is at least as
      up-to-date as yours;
    * when you grant: ``voted_for = m.candidate_id`` and reset the election timer;
    * always reply ``RequestVoteReply(node.id, m.src, node.current_term, granted)``:
      the reply carries *your* term, so a stale candidate learns the newer one.
    """
    raise NotImplementedError("Exercise 2: handle_request_vote is not written yet - "
                              "see exercises/ex2_request_vote.py")
