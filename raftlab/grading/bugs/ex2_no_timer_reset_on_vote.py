"""Not resetting the election timer when granting a vote.

The voter may time out right after voting and start a rival election, splitting
votes and delaying the leader (Figure 2, Followers).
"""
from pathlib import Path

from raftlab import RequestVoteReply

# The exercise's other functions are the reference's, read from this kit's raftlab/rules.py:
# `raftlab check` withholds them from the raftlab it grades in, and only the bug is measured.
_kit: dict = {"__name__": "raftlab.kit_rules", "__package__": "raftlab"}
exec(compile((Path(__file__).parents[2] / "rules.py").read_text(), "raftlab/rules.py", "exec"), _kit)
update_term = _kit["update_term"]

EXERCISE = 2


def handle_request_vote(node, m):
    granted = (m.term == node.current_term
               and node.voted_for in (None, m.candidate_id)
               and node.log.is_up_to_date(m.last_log_index, m.last_log_term))
    if granted:
        node.voted_for = m.candidate_id
        # BUG: missing node.rules.reset_election_timer(node)
    node.send(RequestVoteReply(node.id, m.src, node.current_term, granted))
