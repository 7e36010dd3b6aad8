"""The configuration is read from the log entries only: once compacted into a snapshot, it is forgotten.

Section 7: the snapshot "includes ... the latest configuration as of the last
included index".  A server whose configuration entries were all compacted
falls back to the cluster's initial configuration, and counts the wrong votes.
"""
from pathlib import Path

# The exercise's other functions are the reference's, read from this kit's raftlab/rules.py:
# `raftlab check` withholds them from the raftlab it grades in, and only the bug is measured.
_kit: dict = {"__name__": "raftlab.kit_rules", "__package__": "raftlab"}
exec(compile((Path(__file__).parents[2] / "rules.py").read_text(), "raftlab/rules.py", "exec"), _kit)
has_quorum = _kit["has_quorum"]
may_change_configuration = _kit["may_change_configuration"]

EXERCISE = 7


def current_configuration(node):
    log = node.log
    if log.config_indexes:
        return log.entry(log.config_indexes[-1]).config
    return node.initial_configuration          # BUG: log.snapshot_config first, if the snapshot has one
