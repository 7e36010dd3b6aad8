"""Learners counted in quorums: a new server's reply counts before it has caught up and been promoted.

Dissertation 4.2.1: a new server joins "as a non-voting member ... it is not yet
counted towards majorities".  Counting it lets a leader (or a candidate) reach a
"majority" with servers that do not hold the log.
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
    got = set(ids)
    groups = [conf.voters] if conf.old_voters is None else [conf.old_voters, conf.voters]
    for voters in groups:
        count = sum(1 for s in got if s in voters or s in conf.learners)   # BUG: learners count for nothing
        if not voters or count <= len(voters) // 2:
            return False
    return True
