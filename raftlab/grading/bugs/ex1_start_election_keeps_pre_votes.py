"""A new election keeps the votes already counted: votes_granted gains the candidate instead of being reset.

Figure 2, Candidates: "On conversion to candidate, start election: increment
currentTerm; vote for self ..." -- a new election starts with one vote, its own.
With pre-vote on, a pre-candidate starts its real election holding the PreVotes
of a majority (thesis 9.6: nobody changed term or vote for them); kept, they
make it leader of the new term at once, without a single real vote, while
another server can win the same term with real ones: two leaders in one term
(Election Safety).  Without pre-vote a follower's votes_granted is empty, so
only a candidate that runs again after a split vote carries a stale vote over,
and random runs rarely meet that.  Exposed by the pre-vote tests of exercise 1.
"""
from pathlib import Path

from raftlab import RequestVote

# The exercise's other functions are the reference's, read from this kit's raftlab/rules.py:
# `raftlab check` withholds them from the raftlab it grades in, and only the bug is measured.
_kit: dict = {"__name__": "raftlab.kit_rules", "__package__": "raftlab"}
exec(compile((Path(__file__).parents[2] / "rules.py").read_text(), "raftlab/rules.py", "exec"), _kit)
reset_election_timer = _kit["reset_election_timer"]
handle_request_vote_reply = _kit["handle_request_vote_reply"]

EXERCISE = 1


def start_election(node):
    node.current_term += 1
    node.become_candidate()
    node.voted_for = node.id
    node.votes_granted.add(node.id)          # BUG: should be node.votes_granted = {node.id}
    node.rules.reset_election_timer(node)
    for peer in node.peers:
        node.send(RequestVote(node.id, peer, node.current_term, node.id,
                              node.log.last_index, node.log.last_term))
    if len(node.votes_granted) >= node.majority:
        node.become_leader()
