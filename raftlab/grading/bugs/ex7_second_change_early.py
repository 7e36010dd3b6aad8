"""One change at a time, forgotten: a leader starts a change while the last one is uncommitted.

Only the joint phase is checked; a configuration entry that is not committed yet
does not stop a second change, so two configurations can be in flight, and the
second one's majorities need not overlap the first one's.
"""
from pathlib import Path

from raftlab import Role

# The exercise's other functions are the reference's, read from this kit's raftlab/rules.py:
# `raftlab check` withholds them from the raftlab it grades in, and only the bug is measured.
_kit: dict = {"__name__": "raftlab.kit_rules", "__package__": "raftlab"}
exec(compile((Path(__file__).parents[2] / "rules.py").read_text(), "raftlab/rules.py", "exec"), _kit)
current_configuration = _kit["current_configuration"]
has_quorum = _kit["has_quorum"]

EXERCISE = 7


def may_change_configuration(node):
    if node.role is not Role.LEADER:
        return f"{node.id} is not the leader"
    if node.configuration.is_joint:            # BUG: and nothing while log.configuration_index > commit_index
        return "the joint configuration is not left yet"
    if node.config.membership != "joint" and node.log.term_at(node.commit_index) != node.current_term:
        return f"{node.id} has not yet committed an entry of its term"
    return None
