"""Exercise 1: leader election (section 5.2 of the Raft paper).

Write three rules.  A follower that hears nothing from a leader for a whole
election timeout starts an election; the engine calls ``start_election`` for
that.  Each vote that comes back is handled by ``handle_request_vote_reply``.
Both use ``reset_election_timer``.

What you can use on ``node`` (a :class:`raftlab.Node`):

    node.id, node.peers              "n1", ["n2", "n3", ...] (every other server, in order)
    node.current_term, node.voted_for
    node.role                        Role.FOLLOWER / Role.CANDIDATE / Role.LEADER
    node.become_candidate()          the only way to change role (also become_leader, become_follower)
    node.votes_granted               a set of the servers that voted for this candidate (itself included)
    node.majority                    how many votes win: 3 in a cluster of 5
    node.log.last_index, node.log.last_term
    node.now                         the current time in ms
    node.random_election_timeout()   a fresh random timeout in ms (call it once per reset)
    node.election_deadline           when the election timer fires (an absolute time in ms)
    node.send(message)               queue a message; it leaves when the step ends
    node.rules.<rule>(node, ...)     call another rule (e.g. node.rules.reset_election_timer(node))

Check your work:  raftlab check 1   (or raftlab.check(1) in a notebook)
"""
from raftlab import RequestVote, RequestVoteReply, Role
from raftlab.node import Node


def reset_election_timer(node: Node) -> None:
    """Restart the election timer with a fresh random timeout.

    Section 5.2: "Raft uses randomized election timeouts to ensure that split
    votes are rare and that they are resolved quickly.  To prevent split votes
    in the first place, election timeouts are chosen randomly from a fixed
    interval (e.g., 150-300 ms)."

    Contract: set ``node.election_deadline`` to ``node.now`` plus one fresh draw of
    ``node.random_election_timeout()``.  Draw exactly once per call: the draws are
    the node's own random stream, so the same draws give the same run as the
    reference.

    Hint: one line.
    """
    raise NotImplementedError("Exercise 1: reset_election_timer is not written yet - "
                              "see exercises/ex1_election.py")


def start_election(node: Node) -> None:
    """The election timer fired: become a candidate and ask for votes.

    Figure 2, Candidates (section 5.2): "On conversion to candidate, start election:
    increment currentTerm; vote for self; reset election timer; send RequestVote
    RPCs to all other servers."

    Contract:
    * ``current_term`` goes up by one; call ``node.become_candidate()``;
    * vote for yourself: ``voted_for`` is your id and ``votes_granted`` is ``{node.id}``;
    * reset the election timer (through ``node.rules.reset_election_timer(node)``);
    * send one ``RequestVote(src, dst, term, candidate_id, last_log_index,
      last_log_term)`` to each peer, carrying your log's last index and term;
    * if your own vote is already a majority (a cluster of one), ``node.become_leader()``.
    """
    raise NotImplementedError("Exercise 1: start_election is not written yet - "
                              "see exercises/ex1_election.py")


def handle_request_vote_reply(node: Node, m: RequestVoteReply) -> None:
    """A vote (granted or not) came back to a candidate.

    Figure 2, Candidates: "If votes received from majority of servers: become leader."

    Contract:
    * count the vote only if you are still a candidate and ``m.term`` is your
      ``current_term`` (a late reply from an earlier election counts for nothing);
    * a server votes once, but its reply may arrive twice (the network duplicates
      messages): count voters, not replies (``node.votes_granted`` is a set);
    * with a majority (``node.majority``, yourself included), ``node.become_leader()``.

    A reply with a higher term never reaches you as a candidate: the engine
    applies the term rule (exercise 2) first, and that makes you a follower.
    """
    raise NotImplementedError("Exercise 1: handle_request_vote_reply is not written yet - "
                              "see exercises/ex1_election.py")
