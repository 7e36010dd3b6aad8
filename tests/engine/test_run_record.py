"""The run record: one action registry, typed events, runs that replay and fork, rewind that keeps the code.

And the moves scripts need: change the network mid-run, reconnect one server, clients on the network,
the leader a majority follows, an operation's result by id."""
from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest

from raftlab import Config, OperatorError, Role, Simulation
from raftlab.actions import ACTIONS, Action, Crash, Partition, action_from_json
from raftlab.errors import ConfigError
from raftlab.events import ClientSent, Delivered, Dropped, Lost, NetworkState, NodeState, RoleChanged
from raftlab.messages import AppendEntries
from raftlab.run import Run, play

from .helpers import make_leader

DATA = Path(__file__).parent / "data"


def busy_run(seed: int = 3) -> Simulation:
    """A run that uses most kinds of action."""
    sim = Simulation(nodes=5, seed=seed, request_interval=50)
    leader = sim.run_until_leader()
    sim.client_request("put x 1", client="c9")
    sim.isolate(leader.id)
    sim.advance(400)
    sim.set_pre_vote(True)
    sim.reconnect(leader.id)
    sim.partition(["n1", "n2", "c9"], ["n3", "n4", "n5"])
    sim.set_network(drop=0.2, delay=(5, 30))
    sim.advance(300)
    sim.cut("n3", "n4")
    sim.heal()
    sim.crash(2)
    sim.advance(200)
    sim.restart(2)
    assert sim.run_until(lambda s: len(s.in_flight()) >= 2, within=500)
    sim.drop(sim.in_flight()[0].id)
    sim.deliver(sim.in_flight()[0].id)
    sim.timeout(4)
    sim.set_check_quorum(True)
    sim.advance(100)
    return sim


# --- one registry --------------------------------------------------------------------------------------

def test_every_action_is_a_simulation_method_of_the_same_name():
    for name, cls in ACTIONS.items():
        assert issubclass(cls, Action) and cls.name == name
        method = getattr(Simulation, name)
        assert callable(method) and "do(act." in inspect.getsource(method), name


def test_recorded_actions_round_trip_through_json():
    sim = busy_run()
    names = {r.action.name for r in sim.actions}
    assert names >= {"advance", "client_request", "isolate", "reconnect", "partition", "set_network", "cut",
                     "heal", "crash", "restart", "drop", "deliver", "timeout", "set_pre_vote", "set_check_quorum"}
    for recorded in sim.actions:
        assert action_from_json(json.loads(json.dumps(recorded.to_json()))) == recorded


def test_a_saved_run_replays_event_for_event():
    sim = busy_run()
    again = Simulation.from_json(json.dumps(sim.to_json()))
    assert again.trace_text() == sim.trace_text() and again.summary() == sim.summary()
    assert again.actions == sim.actions and (again.steps, again.now) == (sim.steps, sim.now)


def test_every_path_takes_an_action_the_same_way():
    """A method, sim.do(Action) and a replayed record all record the same thing."""
    a, b = Simulation(nodes=3, seed=1), Simulation(nodes=3, seed=1)
    a.run_until_leader()
    b.run_until_leader()
    a.crash(2)
    b.do(Crash(2))
    assert a.actions == b.actions and a.actions[-1].action == Crash("n2")
    assert a.actions[-1].to_json() == [a.steps, a.now, "crash", ["n2"]]


@pytest.mark.parametrize("bad", [
    Crash("n9"), Crash(True), Partition((["n1"], ["n1", "n2"])), Partition(()),
])
def test_a_refused_action_changes_and_records_nothing(bad):
    sim = Simulation(nodes=3, seed=1)
    sim.advance(300)
    before = (sim.to_json(), sim.trace_text())
    with pytest.raises(OperatorError):
        sim.do(bad)
    assert (sim.to_json(), sim.trace_text()) == before


def test_do_wants_an_action():
    sim = Simulation(nodes=3, seed=1)
    with pytest.raises(OperatorError, match="do\\(\\) takes a raftlab action"):
        sim.do(("crash", "n1"))


@pytest.mark.parametrize("record, why", [
    ([0, 0, "explode", []], "unknown action 'explode'"),
    ([0, 0, "crash", ["n1", "n2"]], "bad arguments for crash"),
    (["x", 0, "crash", ["n1"]], "malformed action"),
    ({"step": 0}, "malformed action"),
])
def test_a_bad_saved_action_is_named(record, why):
    with pytest.raises(ConfigError, match=why):
        action_from_json(record)


def test_a_format_1_run_still_loads_and_replays():
    """A run saved before actions were named after methods (by raftlab 0.1, kept in tests/engine/data)."""
    data = json.loads((DATA / "run_format1.json").read_text())
    assert data["raftlab"] == 1 and {a[2] for a in data["actions"]} >= {"client", "wait", "pre_vote"}
    sim = Simulation.load(DATA / "run_format1.json")
    assert sim.summary() + "\n" + sim.trace_text("info") + "\n" == (DATA / "run_format1.summary.txt").read_text()
    assert sim.to_json()["raftlab"] == 2


# --- runs: replay, fork, rewind ----------------------------------------------------------------------------

def test_fork_and_replay_give_the_past_exactly():
    sim = busy_run()
    run = sim.run
    for at in (0, 10, sim.steps // 2, sim.steps):
        past = run.fork(at).replay()
        assert past.steps == at
        assert [str(e) for e in past.trace if e.step < at] == [str(e) for e in sim.trace if e.step < at]
    with pytest.raises(ConfigError, match="between 0 and"):
        run.fork(sim.steps + 1)


def test_play_stops_before_a_step_that_is_an_action():
    sim = busy_run()
    run = sim.run
    deliver_at = next(r.step for r in sim.actions if r.action.name == "deliver")
    fresh = run.fork(0).replay()
    play(fresh, run, to_step=deliver_at)
    assert fresh.steps == deliver_at and run.behind(fresh)
    play(fresh, run)
    assert fresh.summary() == sim.summary() and not run.behind(fresh)


IMPORTS = """
from pathlib import Path
with open(Path(__file__).with_name("imports.log"), "a") as f:
    f.write("imported\\n")
"""


def test_rewind_never_imports_the_rules_again(tmp_path):
    module = tmp_path / "my_rules.py"
    module.write_text(IMPORTS)
    sim = Simulation(nodes=3, seed=2, impl=str(module))
    held = sim.node(1)
    sim.advance(2000)
    for step in (sim.steps // 2, 5, 0):
        sim.rewind(step)
        sim.advance(500)
    Simulation.from_json(sim.to_json(), impl=sim.rules)
    assert (tmp_path / "imports.log").read_text() == "imported\n"          # once, when the run began
    assert all(n.rules is sim.rules for n in sim.nodes.values())
    assert held is sim.node(1) and held.rules is sim.rules


def test_a_held_node_shows_the_moment_rewound_to():
    sim = Simulation(nodes=5, seed=4)
    n1 = sim.node(1)
    sim.run_until_leader()
    mark, term, log = sim.steps, n1.current_term, n1.log.last_index
    sim.advance(3000)
    sim.crash(1)
    assert n1.crashed
    sim.rewind(mark)
    assert n1 is sim.node(1) and not n1.crashed
    assert (n1.current_term, n1.log.last_index) == (term, log)
    sim.advance(100)                                    # and it is live: it goes on with the simulation
    assert n1.log is sim.node(1).log and sim.node(1) is n1


# --- node.step returns a Ready; the log keeps no checker state ------------------------------------------------

def test_a_step_returns_its_effects():
    leader = make_leader("n1", nodes=3, term=2, log=(1, 1))
    from raftlab.messages import ClientRequest
    ready = leader.step(ClientRequest("c1", "n1", "c1", 1, ("put", "x", "1")), now=1001)
    assert [type(m) for m in ready.messages] == [AppendEntries, AppendEntries]
    assert ready.log.written_from == 4 and ready.log.removed is None
    again = leader.step(ClientRequest("c1", "n1", "c1", 1, ("put", "x", "1")), now=1002)
    assert again.log.written_from is None           # the log was taken over by the previous Ready
    assert not hasattr(leader.log, "dirty_from") and not hasattr(leader.log, "truncated")


# --- typed events and timeline ------------------------------------------------------------------------------

def test_events_carry_their_messages_and_states():
    sim = Simulation(nodes=3, seed=1, drop=0.3)
    sim.run_until_leader()
    sim.drop(sim.in_flight()[0].id)
    sim.advance(500)
    kinds = {type(e) for e in sim.trace}
    assert {Delivered, Lost, Dropped, RoleChanged} <= kinds
    dropped = next(e for e in sim.trace if isinstance(e, Dropped))
    assert dropped.text == f"operator dropped #{dropped.message_id} {dropped.message}" and dropped.level == "info"
    lost = next(e for e in sim.trace if isinstance(e, Lost))
    assert lost.reason == "lost by the network" and lost.level == "debug"
    roles = [e for e in sim.trace if isinstance(e, RoleChanged)]
    assert roles[-1].role == "leader" and str(roles[-1]).endswith(f"{roles[-1].node} became leader at term "
                                                                  f"{roles[-1].term}")
    assert all(isinstance(r, (NodeState, NetworkState)) for r in sim.timeline)


# --- the network mid-run ---------------------------------------------------------------------------------------

def test_set_network_changes_loss_and_delay_from_now_on():
    sim = Simulation(nodes=3, seed=5)
    sim.run_until_leader()
    sim.set_network(drop=0.5, delay=(40, 40))
    sent_from = sim.now
    sim.advance(2000)
    delivered = [e for e in sim.trace if isinstance(e, Delivered) and e.time > sent_from + 40]
    assert any(isinstance(e, Lost) and e.time > sent_from for e in sim.trace)
    assert sim.config.drop == 0.5 and sim.config.delay == (40, 40) and delivered
    assert all(env.deliver_at - env.sent_at == 40 for env in sim.in_flight())
    assert Simulation.from_json(sim.to_json()).trace_text() == sim.trace_text()


@pytest.mark.parametrize("kwargs, why", [
    ({}, "at least one of"), ({"drop": 2}, "probability"), ({"delay": (9, 3)}, "delay"),
    ({"drop": 1.0}, "loses every message"), ({"duplicate": "lots"}, "probability"),
])
def test_set_network_refuses_bad_settings(kwargs, why):
    sim = Simulation(nodes=3, seed=5)
    before = sim.to_json()
    with pytest.raises(OperatorError, match=why):
        sim.set_network(**kwargs)
    assert sim.to_json() == before


def test_reconnect_one_server():
    sim = Simulation(nodes=5, seed=1)
    sim.partition(["n1", "n2"], ["n3", "n4", "n5"])
    sim.reconnect("n1")
    net = sim.network
    assert net.blocked("n1", "n4") is None and net.blocked("n4", "n1") is None      # n1 reaches both sides
    assert net.blocked("n2", "n4") is not None                                     # the split stays
    sim.isolate(3)
    sim.reconnect(3)
    assert net.groups is None                                                      # nothing left split
    sim.cut("n1", "n2")
    sim.reconnect("n1")
    assert not net.cut
    with pytest.raises(OperatorError, match="n1 is not cut off from anyone"):
        sim.reconnect("n1")


def test_clients_are_on_the_network():
    sim = Simulation(nodes=3, seed=1)
    leader = sim.run_until_leader()
    sim.isolate("c1")
    op = sim.client_request("put x 1", node=leader.id, client="c1")
    sent = next(e for e in sim.trace if isinstance(e, ClientSent) and e.client == "c1")
    assert sent.lost == "c1 and n1 are on different sides of a partition".replace("n1", leader.id)
    sim.advance(300)
    assert sim.operation(op).completed is None
    sim.reconnect("c1")
    assert sim.wait_for(op, within=3000).result == "ok"
    # a client placed on one side of a partition reaches only that side; one not named reaches every side
    other = next(n for n in sim.names if n != leader.id)
    sim.partition([other, "c2"])
    assert sim.network.blocked("c2", leader.id) and sim.network.blocked("c3", leader.id) is None


def test_the_leader_is_the_one_a_majority_follows():
    sim = Simulation(nodes=5, seed=1)
    first = sim.run_until_leader()
    sim.isolate(first.id)
    assert sim.leader() is None and sim.leader(reachable=False) is first
    second = sim.run_until_leader()
    assert second is not first and second.current_term > first.current_term
    sim.heal()                           # first still believes it leads, in an older term, until it hears
    assert first.role is Role.LEADER and sim.leader() is second


def test_an_operation_by_its_id():
    sim = Simulation(nodes=3, seed=1)
    sim.run_until_leader()
    op_id = sim.client_request("append k v")
    op = sim.operation(op_id)
    assert op.id == op_id and op.completed is None
    assert sim.wait_for(op_id).result == "v" and op.completed is not None
    with pytest.raises(OperatorError, match="no client operation"):
        sim.operation(("c7", 1))


def test_check_quorum_switched_on_under_a_leader_takes_effect():
    sim = Simulation(nodes=3, seed=1)
    leader = sim.run_until_leader()
    sim.set_check_quorum(True)
    sim.isolate(leader.id)
    sim.advance(1000)
    assert leader.role is not Role.LEADER
    assert any(f"{leader.id} stepped down" in e.text for e in sim.trace)


def test_a_run_is_data():
    sim = busy_run()
    run = sim.run
    assert isinstance(run, Run) and run.rules is sim.rules and run.config == sim.initial_config
    assert run.to_json() == sim.to_json() and Config.from_dict(run.to_json()["config"]) == run.config


def test_opening_a_run_never_imports_code_it_names(tmp_path):
    rules = tmp_path / "theirs.py"
    rules.write_text("import pathlib\npathlib.Path(__file__).with_name('ran').write_text('yes')\n")
    sim = Simulation(nodes=3, seed=1, impl=str(rules))
    sim.advance(200)
    (tmp_path / "ran").unlink()
    data = sim.to_json()
    with pytest.raises(ConfigError, match="pass it again"):
        Simulation.from_json(data)
    assert not (tmp_path / "ran").exists()
    assert Simulation.from_json(data, impl=str(rules)).summary() == sim.summary()
    for trusted in ("reference", None, "exercises"):            # the engine's rules, or the opener's own
        assert Run.from_json({**data, "impl": trusted}).rules.spec == (trusted or "reference")
