"""The Explorer driven from Python, as a lesson or a student's clicks would: each control changes the
simulation through its public methods and redraws; bad requests show a message and change nothing."""
from __future__ import annotations

import html
import json

import ipywidgets as w
import matplotlib.pyplot as plt
import pytest

from raftlab import Simulation
from raftlab.run import play
from raftlab.widgets import CONTROLS, Explorer, parse_groups

from .conftest import eager_vote_counting, rule_that_raises


def tree(widget):
    """Every widget inside ``widget``."""
    found = [widget]
    for child in getattr(widget, "children", ()):
        found.extend(tree(child))
    return found


def status(explorer):
    return html.unescape(explorer.status.value)


def state(sim):
    return (sim.summary(), sim.trace_text(), sim.steps, sim.now, [e.id for e in sim.in_flight()],
            len(sim.actions), sim.network.groups, sorted(sim.network.cut))


@pytest.fixture
def sim():
    return Simulation(nodes=5, seed=1)


@pytest.fixture
def explorer(sim):
    e = Explorer(sim)
    yield e
    e.close()


def test_one_line_shows_the_whole_panel(explorer, sim):
    assert isinstance(explorer, w.VBox)
    assert bytes(explorer.figure_output.value).startswith(b"\x89PNG")
    assert explorer.frames == 1
    assert repr(explorer) == "Explorer(5 servers, seed 1; controls: all; views: cluster, logs)"
    for name in ("step_button", "advance_button", "play", "time_slider", "message_picker", "deliver_button",
                 "drop_button", "node_picker", "crash_button", "restart_button", "isolate_button", "split_button",
                 "heal_button", "timeout_button", "client_button", "pre_vote", "event_log", "safety",
                 "load_button", "figure_output"):
        assert getattr(explorer, name) in tree(explorer), name
    assert "safe" in explorer.safety.value
    assert f"t = {sim.now} ms" in explorer.title.value


def test_a_lesson_can_show_only_the_controls_it_needs(sim):
    e = Explorer(sim, controls=["step", "crash", "log"], views=("cluster",))
    widgets = tree(e)
    assert e.step_button in widgets and e.crash_button in widgets and e.event_log in widgets
    for hidden in (e.advance_button, e.play, e.time_slider, e.drop_button, e.split_button, e.heal_button,
                   e.client_button, e.pre_vote, e.load_button, e.safety, e.message_table):
        assert hidden not in widgets
    assert repr(e).endswith("controls: step, crash, log; views: cluster)")
    e.close()


def test_unknown_controls_and_views_are_refused(sim):
    with pytest.raises(ValueError, match="unknown control.*'undo'.*step, advance"):
        Explorer(sim, controls=["step", "undo"])
    with pytest.raises(ValueError, match="views must be"):
        Explorer(sim, views=("cluster", "graph"))
    with pytest.raises(TypeError, match="needs a raftlab Simulation"):
        Explorer("not a simulation")
    assert CONTROLS[0] == "step"


def test_step_processes_one_event_and_redraws(explorer, sim):
    picture, frames = explorer.figure_output.value, explorer.frames
    explorer.step_button.click()
    assert sim.steps == 1
    assert explorer.frames == frames + 1 and explorer.figure_output.value != picture
    assert sim.trace[-1].text in explorer.event_log.value.replace("&gt;", ">")
    assert explorer.time_slider.value == 1


def test_advance_runs_n_milliseconds(explorer, sim):
    explorer.advance_ms.value = 250
    explorer.advance_button.click()
    assert sim.now == 250 and sim.steps > 0
    assert "t = 250 ms" in explorer.title.value


def test_play_advances_by_the_speed_per_frame_and_stop_does_nothing(explorer, sim):
    explorer.speed.value = 20
    for _ in range(3):
        explorer.play.value += 1
    assert sim.now == 60
    frames = explorer.frames
    explorer.play.value = 0                       # the stop button rewinds the Play counter
    assert sim.now == 60 and explorer.frames == frames


def test_crash_and_restart_the_picked_server(explorer, sim):
    explorer.node_picker.value = "n3"
    explorer.crash_button.click()
    assert sim.node(3).crashed and "n3 crashed" in explorer.event_log.value
    explorer.restart_button.click()
    assert not sim.node(3).crashed


def test_a_refused_request_shows_a_message_and_changes_nothing(explorer, sim):
    explorer.node_picker.value = "n2"
    explorer.crash_button.click()
    before, frames = state(sim), explorer.frames
    explorer.crash_button.click()                 # already crashed
    assert "n2 is already crashed; restart it first" in status(explorer)
    assert state(sim) == before
    explorer.timeout_button.click()               # a crashed server has no timer
    assert "n2 is crashed" in status(explorer) and state(sim) == before
    assert explorer.frames > frames
    explorer.step_button.click()
    assert status(explorer) == ""                 # the next good action clears the message


def test_delivering_a_message_that_already_arrived_is_refused(explorer, sim):
    explorer.advance_ms.value = 200
    explorer.advance_button.click()
    sim.timeout(2)
    explorer.refresh()
    picked = explorer.message_picker.value
    assert picked == sim.in_flight()[0].id
    sim.deliver(picked)                           # behind the panel's back: it is no longer in flight
    before = state(sim)
    explorer.deliver_button.click()
    assert f"message #{picked} was delivered" in status(explorer)
    assert state(sim) == before
    picked = explorer.message_picker.value
    sim.drop(picked)
    before = state(sim)
    explorer.drop_button.click()
    assert f"message #{picked} was dropped by the operator" in status(explorer)
    assert state(sim) == before


def test_deliver_now_and_drop_act_on_the_picked_message(explorer, sim):
    sim.timeout(1)
    explorer.refresh()
    first, second = [e.id for e in sim.in_flight()][:2]
    explorer.message_picker.value = second
    explorer.deliver_button.click()
    assert second not in [e.id for e in sim.in_flight()] and sim.steps == 2
    assert "delivered early by the operator" in sim.trace[-1].text or any(
        "delivered early" in e.text for e in sim.trace)
    explorer.message_picker.value = first
    explorer.drop_button.click()
    assert first not in [e.id for e in sim.in_flight()]
    assert sim.network.dropped == 1 and f"operator dropped #{first}" in sim.trace_text()


def test_no_message_in_flight_is_said_plainly(explorer, sim):
    assert explorer.message_picker.value is None
    explorer.drop_button.click()
    assert "there is no message in flight" in status(explorer)


def test_timeout_starts_an_election(explorer, sim):
    explorer.node_picker.value = "n4"
    explorer.timeout_button.click()
    assert sim.node(4).role.value == "candidate" and sim.node(4).current_term == 1


def test_isolate_split_and_heal(explorer, sim):
    explorer.node_picker.value = "n5"
    explorer.isolate_button.click()
    assert sim.network.groups == {"n5": 0, "n1": 1, "n2": 1, "n3": 1, "n4": 1}
    explorer.groups_text.value = "1 2 | n3, n4 n5"
    explorer.split_button.click()
    assert sim.network.groups == {"n1": 0, "n2": 0, "n3": 1, "n4": 1, "n5": 1}
    explorer.heal_button.click()
    assert sim.network.groups is None


def test_reconnect_gives_one_server_its_links_back(explorer, sim):
    explorer.groups_text.value = "n1 n2 | n3 n4 n5"
    explorer.split_button.click()
    explorer.node_picker.value = "n1"
    explorer.reconnect_button.click()
    assert sim.network.blocked("n1", "n4") is None and sim.network.blocked("n2", "n4") is not None
    assert sim.actions[-1].action.name == "reconnect"
    recorded = len(sim.actions)
    explorer.reconnect_button.click()                      # nothing left to reconnect: said, nothing changed
    assert "n1 is not cut off from anyone" in status(explorer) and len(sim.actions) == recorded


@pytest.mark.parametrize("text, message", [("n1 n2", "at least two groups"),
                                           ("n1 | n9", "there is no node 'n9'"),
                                           ("n1 n2 | n2 n3", "n2 cannot be in two groups")])
def test_bad_groups_are_explained(explorer, sim, text, message):
    before = state(sim)
    explorer.groups_text.value = text
    explorer.split_button.click()
    assert message in status(explorer)
    assert state(sim) == before


def test_parse_groups():
    assert parse_groups("n1 n2 | 3 4 5") == [["n1", "n2"], ["n3", "n4", "n5"]]


def test_client_requests(explorer, sim):
    explorer.command_text.value = "append y 7"
    explorer.target_picker.value = "n2"
    explorer.client_button.click()
    (op,) = sim.operations
    assert op.command == ("append", "y", "7") and sim.actions[-1].to_json()[2:] == [
        "client_request", [["append", "y", "7"], "n2", None]]
    before = state(sim)
    explorer.command_text.value = "jump x"
    explorer.client_button.click()
    assert status(explorer) and "jump" in status(explorer)
    assert state(sim) == before and len(sim.operations) == 1


def test_pre_vote_toggle(explorer, sim):
    explorer.pre_vote.value = True
    assert sim.config.pre_vote is True and sim.actions[-1].to_json()[2:] == ["set_pre_vote", [True]]
    explorer.pre_vote.value = False
    assert sim.config.pre_vote is False


def test_the_time_slider_rewinds_and_replays_with_operator_actions(explorer, sim):
    for _ in range(10):
        explorer.step_button.click()
    explorer.node_picker.value = "n3"
    explorer.crash_button.click()
    for _ in range(10):
        explorer.step_button.click()
    reference = state(sim)
    assert sim.steps == 20 and explorer.time_slider.max == 20
    explorer.time_slider.value = 5
    assert sim.steps == 5 and not sim.node(3).crashed
    assert explorer.time_slider.max == 20             # the run ahead is kept for replay
    explorer.time_slider.value = 20
    assert state(sim) == reference
    explorer.time_slider.value = 8
    for _ in range(12):                               # Step replays too, crash included
        explorer.step_button.click()
    assert state(sim) == reference


def test_a_new_action_after_a_rewind_starts_a_new_branch(explorer, sim):
    explorer.advance_ms.value = 400
    explorer.advance_button.click()
    end = sim.steps
    explorer.time_slider.value = 10
    explorer.node_picker.value = "n1"
    explorer.crash_button.click()
    assert sim.steps == 10 and sim.node(1).crashed
    assert explorer.time_slider.max == 10 and end > 10
    explorer.step_button.click()
    assert sim.steps == 11


def test_advance_after_a_rewind_replays_the_recorded_run(explorer, sim):
    explorer.advance_ms.value = 300
    explorer.advance_button.click()
    explorer.node_picker.value = "n2"
    explorer.crash_button.click()
    explorer.advance_button.click()
    reference = state(sim)
    explorer.time_slider.value = 0
    explorer.advance_ms.value = 50
    for _ in range(12):
        explorer.advance_button.click()
    assert state(sim) == reference


def buggy_explorer():
    sim = Simulation(nodes=5, seed=1, impl={"handle_request_vote_reply": eager_vote_counting})
    e = Explorer(sim)
    sim.timeout(1)
    sim.timeout(2)
    e.refresh()
    return sim, e


def test_a_safety_violation_turns_the_indicator_red_and_can_be_replayed():
    sim, e = buggy_explorer()
    e.advance_ms.value = 100
    e.advance_button.click()                     # two leaders in term 1: does not raise into the notebook
    assert sim.violation is not None and sim.violation.property == "Election Safety"
    broke_at = sim.violation.step
    assert "Election Safety violated" in e.safety.value and e.jump_button.layout.display == ""
    assert "Election Safety" in status(e) or "leaders" in status(e)
    before = state(sim)
    e.step_button.click()                        # a halted run refuses to go on, quietly
    assert state(sim) == before
    e.jump_button.click()
    assert sim.steps == broke_at - 1 and sim.violation is None and "safe" in e.safety.value
    assert e.jump_button.layout.display == "none"
    e.step_button.click()
    assert sim.violation is not None and sim.violation.step == broke_at
    e.close()


def test_an_error_in_a_rule_is_shown_not_raised():
    sim = Simulation(nodes=3, seed=1, impl={"handle_request_vote": rule_that_raises})
    e = Explorer(sim)
    e.advance_ms.value = 1000
    e.advance_button.click()
    assert sim.error is not None
    assert "a rule raised an error" in e.safety.value and "not finished" in status(e)
    e.jump_button.click()
    assert sim.error is None and sim.steps == 1
    e.close()


def test_play_stops_at_a_violation():
    sim, e = buggy_explorer()
    e.speed.value = 100
    e.play.playing = True
    for _ in range(5):
        e.play.value += 1
    assert sim.violation is not None and e.play.playing is False
    e.close()


def saved_run(tmp_path):
    sim = Simulation(nodes=5, seed=4)
    sim.run_until_leader()
    sim.client_request("put x 1")
    sim.advance(30)
    sim.crash(sim.leader().id)
    sim.advance(400)
    sim.client_request("put y 2")
    sim.advance(100)
    path = sim.save(tmp_path / "run.json")
    return sim, path


def test_a_saved_run_plays_back(tmp_path):
    original, path = saved_run(tmp_path)
    e = Explorer.from_file(path)
    assert e.sim.steps == 0 and e.time_slider.max == original.steps
    e.speed.value = 100
    e.play.playing = True
    frames = 0
    while e.play.playing and frames < 50:              # the browser ticks only while it plays
        e.play.value += 1
        frames += 1
    assert frames <= original.now // 100               # 720 ms at 100 ms a frame (the last wait ends it)
    assert state(e.sim) == state(original)                    # it stops at the end of the recording
    assert e.play.playing is False and "end of the recorded run" in status(e)
    e.play.value += 1                                          # and goes on live from there
    assert e.sim.now == original.now + 100
    e.time_slider.value = original.steps - 8
    for _ in range(8):
        e.step_button.click()
    assert e.sim.summary() == original.summary() and e.sim.trace_text() == original.trace_text()
    e.close()


def test_loading_a_run_into_a_panel(tmp_path, explorer, sim):
    original, path = saved_run(tmp_path)
    explorer.load_path.value = str(path)
    explorer.load_button.click()
    assert explorer.sim is not sim and explorer.sim.steps == 0
    assert "Loaded a run of" in status(explorer)
    explorer.time_slider.value = original.steps
    assert explorer.sim.summary() == original.summary()
    assert explorer.load_run(json.dumps(original.to_json()))      # the JSON itself (an upload) works too


def test_a_bad_saved_run_is_explained(tmp_path, explorer, sim):
    bad = tmp_path / "notes.json"
    bad.write_text('{"hello": 1}')
    for value in (str(bad), str(tmp_path / "missing.json")):
        explorer.load_path.value = value
        explorer.load_button.click()
        assert explorer.sim is sim
        assert "not a raftlab run" in status(explorer) or "cannot read" in status(explorer)
    assert not explorer.load_run(b"{not json")
    assert "invalid JSON" in status(explorer) and explorer.sim is sim


def test_changes_made_from_code_are_drawn_after_the_cell(explorer, sim):
    from raftlab import widgets
    frames = explorer.frames
    sim.crash(2)                                  # a lesson's code cell
    assert explorer.stale and explorer.frames == frames
    widgets._refresh_stale()                      # what IPython's post_run_cell hook calls
    assert not explorer.stale and explorer.frames == frames + 1
    assert "n2 crashed" in explorer.event_log.value


def test_closing_stops_following_the_simulation(sim):
    e = Explorer(sim)
    assert len(sim.listeners) == 1
    e.close()
    assert sim.listeners == []


def test_the_panel_opens_no_pyplot_figure(sim):
    before = plt.get_fignums()
    e = Explorer(sim)
    e.step_button.click()
    assert plt.get_fignums() == before
    e.close()


def test_play_follows_a_run_exactly():
    live = Simulation(nodes=3, seed=2)
    live.advance(200)
    live.crash(1)
    live.advance(300)
    run = live.run
    again = Simulation(nodes=3, seed=2)
    play(again, run)
    assert again.summary() == live.summary() and again.actions == live.actions
    assert not run.behind(again)


def test_play_skips_drawing_ticks_that_queued_up_and_draws_when_paused(explorer, sim, monkeypatch):
    """Ticks handled back to back had queued while a frame was drawn: the simulation advances for each,
    but only the first is drawn; pausing draws the last state.  (The panel's clock is stopped here, so
    "back to back" does not depend on how busy the machine is.)"""
    from types import SimpleNamespace

    from raftlab import widgets
    monkeypatch.setattr(widgets, "time", SimpleNamespace(monotonic=lambda: 1000.0))
    explorer.speed.value = 10
    explorer.play.playing = True
    frames = explorer.frames
    for _ in range(4):
        explorer.play.value += 1
    assert sim.now == 40
    assert explorer.frames == frames + 1 and explorer.stale
    explorer.play.playing = False
    assert explorer.frames == frames + 2 and not explorer.stale
    assert "t = 40 ms" in explorer.title.value
