"""Exercise 7 under churn: servers added and removed while others crash, restart and are cut off.

What clients see is the test: with changes in flight under faults, every write a
client was told succeeded must stay in the committed log of every member, and
the answers must fit one order of the operations (linearizability); every
safety property (one change at a time among them) is checked after every step.
"""
import pytest

from raftlab.grading.check.harness import churn

pytestmark = pytest.mark.exercise(7)


@pytest.mark.points(1)
@pytest.mark.parametrize("membership", ["single", "joint"])
def test_acknowledged_writes_survive_changes_under_churn(impl, membership):
    for seed in range(1, 11):
        churn(impl, seed, nodes=3, changes=300, membership=membership)


@pytest.mark.points(1)
def test_changes_under_churn_with_pre_vote_and_check_quorum(impl):
    for seed in range(11, 21):
        churn(impl, seed, nodes=3, changes=300, pre_vote=True, check_quorum=True)
