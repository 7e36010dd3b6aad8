"""Exercise 5 under churn with clients, and an exhaustive search.

What a client sees is the test of the commit rule: a write it was told
succeeded must be in every server's committed log for ever after, and the
answers it got must fit one order of the operations (linearizability).
"""
import pytest

from raftlab.grading.check.harness import churn, no_bad_schedule

pytestmark = pytest.mark.exercise(5)


@pytest.mark.points(3)
@pytest.mark.parametrize("features", [{}, {"pre_vote": True, "check_quorum": True}],
                         ids=["plain", "pre_vote_check_quorum"])
def test_acknowledged_writes_survive_churn(impl, features):
    for seed in range(1, 7):
        churn(impl, seed, **features)


@pytest.mark.points(2)
def test_no_short_schedule_breaks_the_commit_rule(impl):
    no_bad_schedule(impl, "every schedule of at most 6 choices (deliver a message, an election timeout, a leader "
                          "heartbeat, one client request) on 3 servers",
                    nodes=3, depth=6, choices=("deliver", "timeout", "heartbeat", "request"), requests=1, crashes=0)
