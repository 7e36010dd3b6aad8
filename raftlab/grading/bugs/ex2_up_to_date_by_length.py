"""Comparing logs by length only: a longer log wins even with an older last term.

Section 5.4.1 compares the last terms first; a long log of stale entries is not
more up-to-date.
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
               and m.last_log_index >= node.log.last_index)     # BUG: ignores the last terms
    if granted:
        node.voted_for = m.candidate_id
        node.rules.reset_election_timer(node)
    node.send(RequestVoteReply(node.id, m.src, node.current_term, granted))
