"""The clients' history in the Explorer (issue 10): the "history" view checks the history at each redraw,
says whether it is linearizable, outlines what cannot be ordered, marks when it went wrong, and goes to the
step before the answer that made it wrong. Each check here is shown able to fail: the same moves with the
reference rules give a linearizable history and none of the marks."""
from __future__ import annotations

import html
import io

import pytest
from PIL import Image

from raftlab import ClientReply, SafetyViolation, Simulation, rules, viz
from raftlab.errors import OperatorError
from raftlab.events import ClientDone
from raftlab.widgets import Explorer

from .conftest import eager_vote_counting


def answers_reads_locally(node, m):
    """Bug: any server answers a read from its own state machine, without asking the leader."""
    if m.command[0] == "get":
        node.send(ClientReply(node.id, m.client_id, m.client_id, m.seq, True,
                              node.state_machine.data.get(m.command[1])))
        return
    rules.handle_client_request(node, m)


READS_LOCALLY = {"handle_client_request": answers_reads_locally}


def stale_read(impl=READS_LOCALLY) -> Simulation:
    """c1 writes x=1 then x=2 through the leader; c5 then reads x from a follower cut off since x=1.
    With ``answers_reads_locally`` the follower answers '1' (a stale read); with the reference the read
    waits for a leader (it goes through the log) and the history stays linearizable."""
    sim = Simulation(nodes=3, seed=1, impl=impl)
    leader = sim.run_until_leader()
    follower = next(n for n in sim.names if n != leader.id)
    sim.wait_for(sim.client_request("put x 1", node=leader.id))
    sim.advance(200)
    sim.isolate(follower)
    sim.wait_for(sim.client_request("put x 2", node=leader.id))
    sim.advance(1)
    sim.client_request("get x", node=follower, client="c5")
    sim.advance(80)
    return sim


def text(widget) -> str:
    return html.unescape(widget.value)


def drawn(explorer: Explorer) -> set[str]:
    """The gids of what the history view of ``explorer``'s last frame holds."""
    ax = explorer.renderer.axes["history"]
    return {a.get_gid() for a in [*ax.collections, *ax.lines]}


@pytest.fixture
def bad():
    e = Explorer(stale_read(), views=("cluster", "history"))
    yield e
    e.close()


def test_a_stale_read_is_named_outlined_and_dated(bad):
    assert bad.verdict is not None and bad.verdict.failed and bad.verdict.key == "x"
    assert ("c5", 1) in bad.verdict.ids
    shown = text(bad.history_status)
    assert "NOT linearizable" in shown and f"wrong by t={bad.verdict.replay_time}" in shown
    assert "c5#1 get x" in shown and "stale" in shown
    assert bad.history_jump_button.layout.display == ""
    assert {"history:get:bad", "history:put:bad", "history:wrong"} <= drawn(bad)
    assert bad.sim.violation is None                 # the Explorer's check never stops the run


def test_the_same_moves_with_the_reference_are_linearizable():
    e = Explorer(stale_read(impl=None), views=("cluster", "history"))
    assert e.verdict is not None and e.verdict.ok
    assert "linearizable" in text(e.history_status) and "NOT" not in text(e.history_status)
    assert e.history_jump_button.layout.display == "none"
    gids = drawn(e)
    assert "history:wrong" not in gids and not any(g.endswith(":bad") for g in gids)
    assert "history:get:pending" in gids             # the read waits: it goes through the log
    e.go_to_history_problem()
    assert "nothing to go back to" in text(e.status) and e.sim.steps == e.tape.steps
    e.close()


def test_go_to_the_step_before_the_bad_answer_then_step_to_see_it(bad):
    end, when = bad.sim.steps, bad.verdict.replay_time
    bad.go_to_history_problem()
    assert bad.sim.steps < end and bad.sim.now <= when
    assert bad.verdict.ok                            # re-checked where we are: the answer has not arrived
    assert "Press Step" in text(bad.status) and bad.history_jump_button.layout.display == "none"
    bad.step()
    last = bad.sim.trace[-1]
    assert isinstance(last, ClientDone) and (last.client, last.seq) == ("c5", 1) and last.time == when
    assert bad.verdict.failed and bad.history_jump_button.layout.display == ""


def test_a_linearizability_violation_goes_back_to_the_answer_not_to_the_check():
    sim = stale_read()
    sim.advance(300)                                 # the check comes long after the bad answer
    assert sim.check_history().failed and sim.violation.property == "Linearizability"
    e = Explorer(sim, views=("cluster", "logs"))      # no history view: the safety badge still knows
    assert "Linearizability violated" in e.safety.value
    e.jump_to_problem()
    e.step()
    last = e.sim.trace[-1]
    assert isinstance(last, ClientDone) and (last.client, last.seq) == ("c5", 1)
    e.close()


def test_without_the_history_view_nothing_is_checked():
    e = Explorer(stale_read(), views=("cluster", "logs"))
    assert e.verdict is None and e.history_status not in e.children[-1:]
    e.close()


def test_open_a_run_at_a_step():
    sim = stale_read()
    e = Explorer.from_run(sim.to_json(), impl=READS_LOCALLY, step=10, views=("cluster", "history"))
    assert e.sim.steps == 10 and e.tape.steps == sim.steps
    e.go_to(sim.steps)
    assert e.sim.steps == sim.steps and e.verdict.failed
    e.go_to(3)
    assert e.sim.steps == 3
    with pytest.raises(OperatorError, match="steps 0 to"):
        Explorer.from_run(sim.run, step=sim.steps + 1)
    e.close()


def test_open_a_run_at_its_bad_step_shows_the_violation():
    impl = {"handle_request_vote_reply": eager_vote_counting}
    sim = Simulation(nodes=5, seed=1, impl=impl)
    sim.timeout(1)
    with pytest.raises(SafetyViolation):
        sim.timeout(2)
        sim.run_until(lambda s: False, max_steps=200)
    run = sim.violation.run
    e = Explorer.from_run(run, impl=impl, step=run["steps"])
    assert "Election Safety violated" in e.safety.value and e.sim.steps == run["steps"]
    e.jump_to_problem()
    assert e.sim.steps == run["steps"] - 1 and "safe" in e.safety.value
    e.close()


def test_the_key_under_the_explorer_explains_the_history():
    with_history = viz.legend_png(("cluster", "history"))
    tall = Image.open(io.BytesIO(with_history)).height
    assert tall > Image.open(io.BytesIO(viz.legend_png(("cluster",)))).height
