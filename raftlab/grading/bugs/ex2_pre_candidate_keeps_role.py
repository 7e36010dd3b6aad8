"""A higher term makes only candidates and leaders step down: a pre-candidate adopts the term and stays one.

Figure 2, All Servers: "If RPC request or response contains term T >
currentTerm: set currentTerm = T, convert to follower (5.1)" -- whatever the
server was.  With pre-vote on, a pre-candidate that learns of a newer term (a
rejected PreVote reply, a RequestVote) keeps campaigning in it and follows
nobody until a heartbeat arrives.  Without pre-vote there are no pre-candidates.
Exposed by the pre-vote unit test of exercise 2.
"""
from pathlib import Path

from raftlab import Role

# The exercise's other functions are the reference's, read from this kit's raftlab/rules.py:
# `raftlab check` withholds them from the raftlab it grades in, and only the bug is measured.
_kit: dict = {"__name__": "raftlab.kit_rules", "__package__": "raftlab"}
exec(compile((Path(__file__).parents[2] / "rules.py").read_text(), "raftlab/rules.py", "exec"), _kit)
handle_request_vote = _kit["handle_request_vote"]

EXERCISE = 2


def update_term(node, term):
    if term > node.current_term:
        node.current_term = term
        node.voted_for = None
        if node.role in (Role.CANDIDATE, Role.LEADER):     # BUG: a pre-candidate must step down too
            node.become_follower()
