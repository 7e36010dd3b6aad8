"""A leader counts itself in every quorum, even when it has removed itself from the configuration.

Dissertation 4.2.2: a leader that is not part of the configuration it manages
"does not count itself in majorities".  Counted, it keeps believing it has a
quorum with fewer servers of the new configuration than it needs.
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
        count = sum(1 for v in voters if v in got)
        if node.id in got and node.id not in voters:
            count += 1                         # BUG: a server outside the configuration counts for nothing
        if not voters or count <= len(voters) // 2:
            return False
    return True
