"""Joint consensus with one majority: a majority of all the servers of C_old and C_new together.

Section 6: agreement "requires separate majorities from both the old and new
configurations".  A majority of the union can be made of C_new alone, so a
candidate that only the new servers know can win while C_old elects another.
"""
from pathlib import Path

# The exercise's other functions are the reference's, read from this kit's raftlab/rules.py:
# `raftlab check` withholds them from the raftlab it grades in, and only the bug is measured.
_kit: dict = {"__name__": "raftlab.kit_rules", "__package__": "raftlab"}
exec(compile((Path(__file__).parents[2] / "rules.py").read_text(), "raftlab/rules.py", "exec"), _kit)
current_configuration = _kit["current_configuration"]
may_change_configuration = _kit["may_change_configuration"]

EXERCISE = 7


def has_quorum(node, ids):
    conf = node.configuration
    voters = conf.voting                       # BUG: C_old and C_new each need their own majority
    got = set(ids)
    return len(voters) > 0 and sum(1 for v in voters if v in got) > len(voters) // 2
