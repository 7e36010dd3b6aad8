"""A server uses its latest *committed* configuration, not its latest one.

Section 6: "a server always uses the latest configuration in its log, regardless
of whether the entry is committed."  Waiting for the commit leaves a leader
counting under the old configuration while the new one is replicated, and a
follower that never learns the commit keeps the old configuration.
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
    for index in reversed(log.config_indexes):
        if index <= node.commit_index:         # BUG: the latest entry counts, committed or not
            return log.entry(index).config
    if log.snapshot_config is not None:
        return log.snapshot_config
    return node.initial_configuration
