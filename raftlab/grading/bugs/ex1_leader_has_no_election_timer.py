"""A leader's election timer is never set: reset_election_timer does nothing for a leader.

"Leaders do not time out" is true without check-quorum.  With check-quorum on
(thesis 6.2), the leader's election timer is its quorum check: "a leader steps
down if an election timeout elapses without a successful round of heartbeats
to a majority of its cluster".  Without the timer a leader cut off from the
majority leads forever in its minority, accepting requests it can never commit.
Exposed only by the check-quorum tests of exercise 1.
"""
from pathlib import Path

from raftlab import Role

# The exercise's other functions are the reference's, read from this kit's raftlab/rules.py:
# `raftlab check` withholds them from the raftlab it grades in, and only the bug is measured.
_kit: dict = {"__name__": "raftlab.kit_rules", "__package__": "raftlab"}
exec(compile((Path(__file__).parents[2] / "rules.py").read_text(), "raftlab/rules.py", "exec"), _kit)
start_election = _kit["start_election"]
handle_request_vote_reply = _kit["handle_request_vote_reply"]

EXERCISE = 1


def reset_election_timer(node):
    if node.role is Role.LEADER:              # BUG: with check-quorum a leader's timer is its quorum check
        return
    node.election_deadline = node.now + node.random_election_timeout()
