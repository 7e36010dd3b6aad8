"""Exercise 4 with check-quorum on, under churn with clients, and an exhaustive search.

With check-quorum (thesis 6.2) the leader counts who answered its AppendEntries
(your ``handle_append_entries_reply``, ``node.recent_active``) and steps down when
a whole election timeout passes without a majority.
"""
import pytest

from raftlab import AppendEntries, Role, Simulation
from raftlab.explore import search_config
from raftlab.grading.check.harness import churn, cluster, describe, elect, expect, no_bad_schedule

pytestmark = pytest.mark.exercise(4)


@pytest.mark.points(2)
def test_a_leader_in_a_minority_steps_down_with_check_quorum(impl):
    for seed in range(1, 4):
        sim = cluster(impl, nodes=5, seed=seed, check_quorum=True)
        leader = sim.run_until_leader(within=3000)
        expect(leader is not None, f"seed {seed}: no leader after 3000 ms with check-quorum on:\n{sim.summary()}")
        sim.advance(200)
        buddy = next(n.id for n in sim.nodes.values() if n is not leader)
        others = [n for n in sim.names if n not in (leader.id, buddy)]
        sim.partition([leader.id, buddy], others)
        sim.advance(1000)
        expect(leader.role is not Role.LEADER,
               f"seed {seed}: with check-quorum on, {leader.id} and {buddy} were split from the other three for "
               f"1000 ms; {leader.id} hears from one follower of four, not a majority, yet is still "
               f"{describe(leader)}.  Count a follower as heard from only when its reply is of the current term "
               f"(thesis 6.2):\n{sim.summary()}")
        new = sim.leader()
        expect(new is not None and new.id in others,
               f"seed {seed}: 1000 ms after {leader.id} and {buddy} were split off, the three others have no "
               f"leader:\n{sim.summary()}")


@pytest.mark.points(3)
@pytest.mark.parametrize("features", [{}, {"pre_vote": True, "check_quorum": True}],
                         ids=["plain", "pre_vote_check_quorum"])
def test_acknowledged_writes_survive_churn(impl, features):
    for seed in range(1, 5):
        churn(impl, seed, **features)


def leader_with_a_new_request(impl):
    """3 servers under the search's clock: n1 leads term 1, c1's put x=1 is entry 2 of its log, and n2 has
    received the AppendEntries that carried only entry 1 (its reply is in flight)."""
    sim = Simulation(search_config(3), impl=impl)
    elect(sim, "n1")
    sim.client_request(("put", "x", "1"), node="n1", client="c1")
    first = next(e for e in sim.in_flight() if isinstance(e.message, AppendEntries) and e.message.dst == "n2")
    sim.deliver(first.id)
    return sim


@pytest.mark.points(2)
def test_no_short_schedule_after_a_request_breaks_safety(impl):
    no_bad_schedule(impl, "from a leader of term 1 with an uncommitted put x=1 (entry 2) and n2's reply for entry 1 "
                          "in flight, every schedule of at most 5 deliveries, election timeouts and one crash",
                    start=leader_with_a_new_request(impl), depth=5, choices=("deliver", "timeout", "crash"),
                    requests=1, crashes=1)
