"""Bad input: clear errors in Raft terms, and a cluster left exactly as it was.

Reference: section 5.2's timing requirement (broadcastTime << electionTimeout, so
the heartbeat must be below the minimum election timeout), and the design's property
4 (every operator move is a public method that checks its arguments first).

Invalid configurations raise ``ConfigError`` with a message that names the problem.
Every misused operator action raises the documented error (``UnknownNodeError``,
``MessageNotInFlight``, ``OperatorError``; all are ``OperatorError``s) and changes
nothing: the run's JSON, its summary, the messages in flight, the trace, the counters,
the clients and the recorded actions are compared before and after.
"""
import pytest

from raftlab import (PRESETS, Config, ConfigError, MessageNotInFlight, NodeError, OperatorError,
                     Simulation, UnknownNodeError)
from raftlab.statemachine import CommandError

from .helpers import state


# --- configurations -------------------------------------------------------------------------------

@pytest.mark.parametrize("changes, message", [
    (dict(heartbeat=150), r"heartbeat \(150 ms\) must be below the minimum election timeout \(150 ms\)"),
    (dict(heartbeat=200, election_timeout=(150, 300)), "must be below the minimum election timeout"),
    (dict(heartbeat=0), "heartbeat must be a positive number of ms"),
    (dict(nodes=0), "a cluster needs at least 1 node"),
    (dict(nodes=-3), "a cluster needs at least 1 node"),
    (dict(nodes=100), "use at most 99"),
    (dict(nodes=2.5), "a cluster needs at least 1 node"),
    (dict(delay=(-1, 5)), "delay must be MIN-MAX with 0 <= MIN <= MAX"),
    (dict(delay=(10, 5)), "delay must be MIN-MAX with 0 <= MIN <= MAX"),
    (dict(delay=5), "delay must be a pair of whole milliseconds"),
    (dict(election_timeout=(0, 100)), "election_timeout must be MIN-MAX with 0 < MIN <= MAX"),
    (dict(election_timeout=(300, 150)), "election_timeout must be MIN-MAX"),
    (dict(election_timeout=(150.5, 300)), "election_timeout must be a pair of whole milliseconds"),
    (dict(drop=1.5), r"drop is a probability between 0 and 1 \(got 1.5\)"),
    (dict(drop=-0.1), "drop is a probability between 0 and 1"),
    (dict(drop=1), "drop=1 loses every message"),
    (dict(duplicate=2), "duplicate is a probability between 0 and 1"),
    (dict(seed="seven"), "seed must be an integer"),
    (dict(snapshot_every=-1), "snapshot_every must be a whole number >= 0"),
    (dict(clients=0), "clients must be at least 1"),
    (dict(max_entries=0), "max_entries must be at least 1"),
    (dict(nodez=3), "unknown configuration field.*nodez"),
    (dict(heart_beat=10, seed=1), "unknown configuration field.*heart_beat"),
])
def test_invalid_configs_raise_config_error(changes, message):
    for make in (lambda: Config(**changes), lambda: Simulation(**changes),
                 lambda: Config.preset("teaching", **changes), lambda: Config().replace(**changes),
                 lambda: Config.from_dict({**Config().to_dict(), **changes})):
        with pytest.raises(ConfigError, match=message):
            make()


def test_unknown_preset():
    with pytest.raises(ConfigError, match="unknown preset 'fast'; presets: teaching, seed, lossy, paper-9.3"):
        Config.preset("fast")


def test_every_preset_is_valid_and_runs():
    for name in PRESETS:
        sim = Simulation(Config.preset(name))
        assert sim.run_until_leader(within=5000) is not None, name


def test_not_a_config():
    with pytest.raises(ConfigError, match="config must be a raftlab Config, got dict"):
        Simulation({"nodes": 3})


def test_not_a_saved_run():
    for bad in ("{not json", '{"raftlab": 99}', "[]", '{"raftlab": 1, "config": {}}'):
        with pytest.raises(ConfigError, match="not a raftlab run"):
            Simulation.from_json(bad)


def test_a_saved_run_with_a_bad_config(tmp_path):
    sim = Simulation(nodes=3)
    data = sim.to_json()
    data["config"]["heartbeat"] = 500
    with pytest.raises(ConfigError, match="heartbeat"):
        Simulation.from_json(data)
    with pytest.raises(ConfigError, match="cannot read the saved run"):
        Simulation.load(tmp_path / "missing.json")


# --- operator actions -----------------------------------------------------------------------------

@pytest.fixture
def sim():
    """A running 5-node cluster with a leader, messages in flight, one crashed node, a client
    waiting, and one delivered and one dropped message whose ids are known."""
    s = Simulation(nodes=5, seed=2, request_interval=0)
    s.run_until_leader(within=2000)
    s.crash("n5")
    s.client_request("put x 1", client="c1")
    s.run_until(lambda s: len(s.in_flight()) >= 2, within=200)
    s.delivered_id = s.in_flight()[0].id
    s.deliver(s.delivered_id)
    s.dropped_id = s.in_flight()[0].id
    s.drop(s.dropped_id)
    assert s.in_flight() and s.clients["c1"].pending is not None
    return s


MISUSES = [
    # unknown nodes, every way of naming one
    ("crash n9", lambda s: s.crash("n9"), UnknownNodeError, "there is no node 'n9': this cluster has n1..n5"),
    ("crash 9", lambda s: s.crash(9), UnknownNodeError, "there is no node 'n9'"),
    ("crash None", lambda s: s.crash(None), UnknownNodeError, "a node is named like 'n2'"),
    ("crash True", lambda s: s.crash(True), UnknownNodeError, "a node is named like 'n2'"),
    ("restart n0", lambda s: s.restart("n0"), UnknownNodeError, "no node 'n0'"),
    ("timeout N1", lambda s: s.timeout("N1"), UnknownNodeError, "no node 'N1'"),
    ("isolate n6", lambda s: s.isolate("n6"), UnknownNodeError, "no node 'n6'"),
    ("cut n1 n9", lambda s: s.cut("n1", "n9"), UnknownNodeError, "no node 'n9'"),
    ("cut n1 n1", lambda s: s.cut("n1", 1), OperatorError, "a node has no link to itself"),
    ("node lookup", lambda s: s.node("x"), UnknownNodeError, "no node 'x'"),
    ("client to n9", lambda s: s.client_request("put x 2", node="n9"), UnknownNodeError, "no node 'n9'"),
    # messages that are not in flight
    ("deliver delivered", lambda s: s.deliver(s.delivered_id), MessageNotInFlight, "was delivered at t="),
    ("drop delivered", lambda s: s.drop(s.delivered_id), MessageNotInFlight, "was delivered at t="),
    ("deliver dropped", lambda s: s.deliver(s.dropped_id), MessageNotInFlight, "was dropped by the operator"),
    ("drop dropped", lambda s: s.drop(s.dropped_id), MessageNotInFlight, "was dropped by the operator"),
    ("deliver unsent", lambda s: s.deliver(10**6), MessageNotInFlight, "was never sent"),
    ("deliver -1", lambda s: s.deliver(-1), MessageNotInFlight, "was never sent"),
    ("deliver '3'", lambda s: s.deliver("3"), MessageNotInFlight, "is not a message id"),
    ("drop None", lambda s: s.drop(None), MessageNotInFlight, "is not a message id"),
    # partitions
    ("partition nothing", lambda s: s.partition(), OperatorError, "non-empty groups"),
    ("partition empty group", lambda s: s.partition([], ["n1"]), OperatorError, "non-empty groups"),
    ("partition twice", lambda s: s.partition(["n1", "n2"], ["n2", "n3"]), OperatorError,
     "n2 cannot be in two groups"),
    ("partition everyone", lambda s: s.partition(["n1", "n2", "n3", "n4", "n5"]), OperatorError,
     "at least two groups; use heal"),
    ("partition unknown", lambda s: s.partition(["n1", "n7"]), UnknownNodeError, "no node 'n7'"),
    # crash / restart / timeout in the wrong state
    ("restart a running node", lambda s: s.restart("n1"), OperatorError,
     "n1 is running; only a crashed node can be restarted"),
    ("crash a crashed node", lambda s: s.crash("n5"), OperatorError,
     "n5 is already crashed; restart it first"),
    ("timeout a crashed node", lambda s: s.timeout("n5"), OperatorError, "n5 is crashed: it has no timer"),
    # clients
    ("bad command", lambda s: s.client_request("jump x 1"), CommandError, "unknown command"),
    ("short command", lambda s: s.client_request(("put", "x")), CommandError, "unknown command"),
    ("not a command", lambda s: s.client_request(42), CommandError, "unknown command"),
    ("busy client", lambda s: s.client_request("get x", client="c1"), OperatorError,
     "c1 is still waiting for its request #1"),
    ("client named like a node", lambda s: s.client_request("get x", client="n1"), OperatorError,
     "client names are a 'c' then letters or digits"),
    ("client not a string", lambda s: s.client_request("get x", client=7), OperatorError,
     "client names are a 'c' then letters or digits"),
    # time
    ("rewind beyond the end", lambda s: s.rewind(s.steps + 1), OperatorError,
     "can only rewind to a step between 0 and"),
    ("rewind negative", lambda s: s.rewind(-1), OperatorError, "can only rewind"),
    ("rewind a string", lambda s: s.rewind("3"), OperatorError, "can only rewind"),
    ("advance negative", lambda s: s.advance(-5), OperatorError, "a whole number of milliseconds >= 0"),
    ("advance fractional", lambda s: s.advance(1.5), OperatorError, "a whole number of milliseconds"),
    # a bool is not a number, a string is not a bool (issue 13)
    ("advance True", lambda s: s.advance(True), OperatorError, "a whole number of milliseconds"),
    ("rewind True", lambda s: s.rewind(True), OperatorError, "can only rewind"),
    ("run_until within True", lambda s: s.run_until(lambda _: False, within=True), OperatorError,
     "a whole number of milliseconds"),
    ("pre-vote 'false'", lambda s: s.set_pre_vote("false"), OperatorError, "set_pre_vote takes True or False"),
    ("pre-vote None", lambda s: s.set_pre_vote(None), OperatorError, "set_pre_vote takes True or False"),
    ("check-quorum 'no'", lambda s: s.set_check_quorum("no"), OperatorError, "takes True or False"),
    ("check-quorum []", lambda s: s.set_check_quorum([]), OperatorError, "takes True or False"),
    # client commands follow the key-value store's grammar, with a size limit
    ("put None None", lambda s: s.client_request(("put", None, None)), CommandError, "a key is text"),
    ("put 1 2.5", lambda s: s.client_request(("put", 1, 2.5)), CommandError, "a value is text"),
    ("put an object", lambda s: s.client_request(("put", "x", object())), CommandError, "a value is text"),
    ("a 10 MB command", lambda s: s.client_request("put x " + "y" * 10_000_000), CommandError,
     "characters long"),
    ("a key with a space", lambda s: s.client_request(("put", "a b", "1")), CommandError, "with no spaces"),
    ("request to a crashed server", lambda s: s.client_request("put x 1", node="n5"), OperatorError,
     "n5 is crashed: a request sent to it would only be lost"),
    ("client 'c 1'", lambda s: s.client_request("get x", client="c 1"), OperatorError,
     "client names are a 'c' then letters or digits"),
    # the network
    ("set_network drop=2", lambda s: s.set_network(drop=2), OperatorError, "probability"),
    ("set_network nothing", lambda s: s.set_network(), OperatorError, "at least one of"),
    ("reconnect a connected server", lambda s: s.reconnect("n2"), OperatorError, "not cut off from anyone"),
    ("isolate 'c 1'", lambda s: s.isolate("c 1"), UnknownNodeError, "clients are named like 'c1'"),
]


@pytest.mark.parametrize("name, action, error, message", MISUSES, ids=[m[0] for m in MISUSES])
def test_misuse_raises_and_changes_nothing(sim, name, action, error, message):
    before = state(sim)
    with pytest.raises(error, match=message) as caught:
        action(sim)
    assert isinstance(caught.value, OperatorError)        # one family of errors for operator mistakes
    assert state(sim) == before
    # and the cluster still works afterwards
    sim.advance(100)
    assert sim.violation is None and sim.error is None


def test_unknown_node_errors_are_key_errors_with_a_readable_message(sim):
    with pytest.raises(KeyError) as caught:
        sim.crash("n9")
    assert str(caught.value) == "there is no node 'n9': this cluster has n1..n5"


def test_a_rule_that_raises_stops_the_run_with_a_node_error():
    def unfinished(node, m):
        raise NotImplementedError("Exercise 2: handle_request_vote")
    sim = Simulation(nodes=3, seed=1, impl={"handle_request_vote": unfinished})
    with pytest.raises(NodeError, match="raised NotImplementedError while handling .*RequestVote.*"
                                        "Exercise 2: handle_request_vote"):
        sim.run_until_leader(within=2000)
    assert isinstance(sim.error, NodeError)
    with pytest.raises(NodeError):
        sim.advance(10)                                     # halted
