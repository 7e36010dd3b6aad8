"""Counting votes in any role but follower: a pre-candidate counts late real votes among its PreVotes.

Figure 2, Candidates: "If votes received from majority of servers: become
leader" -- only a candidate, and only votes of its own term.  This one returns
only for a follower (and a leader), so a pre-candidate (pre-vote on, thesis 9.6)
adds a late real vote of its current term to the PreVotes it holds for the
*next* term, and can become leader of its current term -- a term another server
already leads -- with one real vote: two leaders in one term (Election Safety).
Without pre-vote there are no pre-candidates, so no test without pre-vote sees
it.  Exposed by the pre-vote unit test of exercise 1.
"""
from pathlib import Path

from raftlab import Role

# The exercise's other functions are the reference's, read from this kit's raftlab/rules.py:
# `raftlab check` withholds them from the raftlab it grades in, and only the bug is measured.
_kit: dict = {"__name__": "raftlab.kit_rules", "__package__": "raftlab"}
exec(compile((Path(__file__).parents[2] / "rules.py").read_text(), "raftlab/rules.py", "exec"), _kit)
reset_election_timer = _kit["reset_election_timer"]
start_election = _kit["start_election"]

EXERCISE = 1


def handle_request_vote_reply(node, m):
    if node.role in (Role.FOLLOWER, Role.LEADER) or m.term != node.current_term:   # BUG: role is not CANDIDATE
        return
    if m.vote_granted:
        node.votes_granted.add(m.src)
        if len(node.votes_granted) >= node.majority:
            node.become_leader()
