"""Exercise 6: what clients see -- linearizable reads, durable acknowledged writes -- and an exhaustive search.

The reference sends every command, reads included, through the log: a leader
answers a get only when the entry holding it is committed, which proves it was
still the leader then (section 8; ReadIndex, thesis 6.4, is the cheaper way).
A follower's or a deposed leader's state machine can be stale.
"""
import pytest

from raftlab import ClientReply, ClientRequest, Entry, Role
from raftlab.grading.check.harness import churn, cluster, expect, make_node, no_bad_schedule, take_sent

pytestmark = pytest.mark.exercise(6)


@pytest.mark.points(2)
def test_a_follower_does_not_answer_a_read_from_its_own_state_machine(rules):
    node = make_node(rules, "n3", term=3, log=[1, 3], leader_id="n1")
    node.state_machine.apply(Entry(3, ("put", "x", "old"), "c2", 1))
    node.step(ClientRequest("c1", "n3", "c1", 1, ("get", "x")), node.now)
    answers = [m for m in take_sent(node, ClientReply) if m.success]
    expect(not answers,
           f"n3, a follower of n1, answered c1's get x from its own state machine: "
           f"{'; '.join(map(str, answers))}.  A follower may lag the leader, so its answer can be stale "
           f"(section 8); send the read to the leader like any other request")


def _read_value(sim, op_id, within=3000):
    op = sim.wait_for(op_id, within=within)
    expect(op.completed is not None, f"{op} got no answer within {within} ms:\n{sim.summary()}")
    return op


@pytest.mark.points(2)
def test_a_read_from_a_lagging_follower_is_linearizable(impl):
    for seed in range(1, 4):
        sim = cluster(impl, nodes=5, seed=seed)
        leader = sim.run_until_leader(within=3000)
        expect(leader is not None, f"seed {seed}: no leader after 3000 ms:\n{sim.summary()}")
        sim.advance(200)
        lagging = next(n.id for n in sim.nodes.values() if n is not leader)
        sim.isolate(lagging)
        _read_value(sim, sim.client_request(("put", "x", "new"), node=leader.id, client="c1"))
        op = _read_value(sim, sim.client_request(("get", "x"), node=lagging, client="c2"))
        verdict = sim.check_history()
        expect(verdict.ok and op.result == "new",
               f"seed {seed}: c1's put x=new was acknowledged, then c2 asked {lagging} (cut off, so behind) for x "
               f"and got {op.result!r}: {verdict.explanation or 'a stale read'}.  Only the leader, once the read "
               f"is committed, knows the latest value")


@pytest.mark.points(2)
def test_a_deposed_leader_gives_no_stale_read(impl):
    for seed in range(1, 4):
        sim = cluster(impl, nodes=5, seed=seed)
        old = sim.run_until_leader(within=3000)
        expect(old is not None, f"seed {seed}: no leader after 3000 ms:\n{sim.summary()}")
        _read_value(sim, sim.client_request(("put", "x", "old"), node=old.id, client="c1"))
        sim.isolate(old.id)
        new = sim.run_until_leader(within=3000)
        expect(new is not None and new is not old,
               f"seed {seed}: {old.id} was cut off; 3000 ms later the others have no new leader:\n{sim.summary()}")
        _read_value(sim, sim.client_request(("put", "x", "new"), node=new.id, client="c1"))
        expect(old.role is Role.LEADER, f"seed {seed}: the test expects {old.id} to still believe it leads")
        op = _read_value(sim, sim.client_request(("get", "x"), node=old.id, client="c2"))
        verdict = sim.check_history()
        expect(verdict.ok and op.result == "new",
               f"seed {seed}: {old.id}, cut off and already replaced by {new.id}, still believes it leads; c1's "
               f"put x=new was acknowledged by {new.id}, then c2 asked {old.id} for x and got {op.result!r}: "
               f"{verdict.explanation or 'a stale read'}.  A leader must know it still leads before it answers "
               f"a read (section 8): send the read through the log")


@pytest.mark.points(3)
@pytest.mark.parametrize("features", [{}, {"pre_vote": True, "check_quorum": True}],
                         ids=["plain", "pre_vote_check_quorum"])
def test_clients_see_a_linearizable_history_under_churn(impl, features):
    for seed in range(1, 7):
        churn(impl, seed, **features)


@pytest.mark.points(2)
def test_no_short_schedule_loses_an_acknowledged_write(impl):
    no_bad_schedule(impl, "every schedule of at most 6 choices (deliver a message, an election timeout, a leader "
                          "heartbeat, one client request) on 3 servers",
                    nodes=3, depth=6, choices=("deliver", "timeout", "heartbeat", "request"), requests=1, crashes=0)
