"""Single-server changes without the 2015 fix: a new leader changes the configuration at once.

A leader may start a change before it has committed an entry of its own term.
Two leaders of different terms can then each commit a change from the same old
configuration, and their majorities need not overlap: a committed entry is lost
(the bug found in 2015 in the dissertation's single-server changes).
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
    index = node.log.configuration_index
    if index > node.commit_index:
        return f"a configuration change at index {index} is not committed yet"
    if node.configuration.is_joint:
        return "the joint configuration is not left yet"
    return None                                # BUG: no "committed an entry of its current term" check
