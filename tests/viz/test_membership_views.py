"""Membership in the pictures (issue 12; section 6 of the paper, chapter 4 of the dissertation): who is a
voter, a learner, leaving or removed; the configuration each server uses, marked where it is not the
leader's; configuration entries in the logs and the log tables; and the Explorer's Add / Remove server.
What was drawn is read back (gids, labels, styles), never pixels."""
from __future__ import annotations

import html
import io

import matplotlib.pyplot as plt
import pytest
from matplotlib.colors import to_rgb
from PIL import Image

from raftlab import Simulation, viz
from raftlab.membership import Configuration
from raftlab.viz.style import BAD, CONFIG_COLOR, FADED, MEMBER_STYLE, MUTED
from raftlab.widgets import CONTROLS, Explorer

from .test_views import boxes, by_gid, fingerprint
from .test_widgets import tree


def started(nodes=3, seed=1, **config) -> Simulation:
    """A cluster whose leader has committed its no-op, so that it may change the configuration."""
    sim = Simulation(nodes=nodes, seed=seed, **config)
    assert sim.run_until(lambda s: s.leader() is not None and s.leader().commit_index >= 1, within=3000)
    return sim


def settled(sim, within=3000):
    """Run until the change is over: the leader's configuration has no learner and no C_old, it is
    committed, and every server in it uses it."""
    def done(s):
        leader = s.leader()
        return (leader is not None and not leader.configuration.learners and not leader.configuration.is_joint
                and leader.commit_index >= leader.log.last_index
                and all(s.node(n).configuration == leader.configuration for n in leader.configuration.members))
    assert sim.run_until(done, within=within)
    return sim.leader()


def drawn(sim, draw=viz.draw_cluster):
    _fig, ax = plt.subplots()
    draw(sim, ax)
    return ax


def first_line(ax, name):
    (info,) = viz.labels(ax, f"info:{name}")
    return info.splitlines()[0]


def caption(ax, name):
    """The configuration caption under a server, without the lines that pad it under the info."""
    (item,) = viz.label_items(ax, f"config:{name}")
    return item.text.strip("\n"), item.color


# --- who is who -------------------------------------------------------------------------------------------

def test_nothing_about_membership_is_drawn_while_it_never_changed():
    sim = started(nodes=5)
    assert viz.membership(sim) is None
    ax = drawn(sim)
    assert viz.labels(ax, "config:") == []
    assert first_line(ax, sim.leader().id) == "leader"
    legend = [t.get_text() for t in viz.draw_cluster(sim).get_legend().get_texts()]
    assert "learner (no vote)" not in legend
    logs = drawn(sim, viz.draw_logs)
    assert viz.labels(logs, "configurations") == [] and boxes(logs, "entries:config") == 0


def test_an_added_server_appears_as_a_learner_then_becomes_a_voter():
    sim = started()
    leader = sim.leader()
    sim.add_server("n4")
    members = viz.membership(sim)
    assert members.reference == leader.id and members.leader
    assert members.configuration == Configuration(("n1", "n2", "n3"), ("n4",))
    assert members.status == {"n1": "voter", "n2": "voter", "n3": "voter", "n4": "learner"}
    ax = drawn(sim)
    assert len(by_gid(ax, "server:")) == 4 and viz.labels(ax, "name:n4") == ["n4"]   # in the layout
    assert first_line(ax, "n4") == "follower \u00b7 learner"
    (shape,) = by_gid(ax, "server:n4:")
    assert shape.get_linestyle() == MEMBER_STYLE["learner"].linestyle
    assert caption(ax, leader.id)[0] == "config {n1,n2,n3}\nlearner n4"
    # The followers have not received the new entry yet: they use another configuration, marked.
    for name in members.differs:
        text, color = caption(ax, name)
        assert text.startswith("\u2260") and color == BAD
    assert set(members.differs) == {"n1", "n2", "n3", "n4"} - {leader.id}
    assert caption(ax, "n4")[0] == "\u2260 no configuration yet"

    leader = settled(sim)
    assert str(leader.configuration) == "{n1,n2,n3,n4}"
    members = viz.membership(sim)
    assert set(members.status.values()) == {"voter"} and members.differs == ()
    ax = drawn(sim)
    assert first_line(ax, "n4") == "follower \u00b7 voter"
    for name in ("n1", "n2", "n3", "n4"):
        if name != leader.id:
            assert caption(ax, name) == ("= leader's config", MUTED)
    assert not [item for item in viz.label_items(ax, "config:") if item.color == BAD]


def test_joint_consensus_shows_c_old_and_c_new_and_who_is_leaving():
    sim = started(nodes=5, membership="joint")
    leader = sim.leader()
    gone = [n for n in ("n1", "n2", "n3", "n4", "n5") if n != leader.id][:2]
    sim.remove_server(*gone)
    members = viz.membership(sim)
    assert members.configuration.is_joint
    assert [n for n, s in members.status.items() if s == "leaving"] == gone
    ax = drawn(sim)
    new = ",".join(n for n in ("n1", "n2", "n3", "n4", "n5") if n not in gone)
    assert caption(ax, leader.id)[0] == f"C_old {{n1,n2,n3,n4,n5}}\nC_new {{{new}}}"
    for name in gone:
        assert first_line(ax, name).endswith("\u00b7 leaving")
        (shape,) = by_gid(ax, f"server:{name}:")
        assert shape.get_edgecolor()[:3] == pytest.approx(to_rgb(BAD))
        assert shape.get_linewidth() == MEMBER_STYLE["leaving"].linewidth
    legend = [t.get_text() for t in viz.draw_cluster(sim).get_legend().get_texts()]
    assert {"voter", "learner (no vote)", "leaving", "removed"} <= set(legend)


def test_a_removed_leader_is_leaving_until_the_change_commits_then_drawn_faded():
    sim = started()
    old = sim.leader()
    sim.remove_server(old.id)
    assert viz.membership(sim).status[old.id] == "leaving"       # still leading: C_new is not committed
    assert first_line(drawn(sim), old.id) == "leader \u00b7 leaving"
    assert sim.run_until(lambda s: not old.is_leader, within=3000)
    assert viz.membership(sim).status[old.id] != "voter"
    settled(sim)                                     # a new leader that knows C_new is committed
    members = viz.membership(sim)
    assert members.status[old.id] == "removed" and members.reference != old.id
    ax = drawn(sim)
    (shape,) = by_gid(ax, f"server:{old.id}:")
    assert shape.get_alpha() == FADED
    (name,) = viz.label_items(ax, f"name:{old.id}")
    assert name.color == MUTED
    others = [s for n, s in members.status.items() if n != old.id]
    assert others == ["voter", "voter"]
    for other in by_gid(ax, "server:"):
        if not other.get_gid().startswith(f"server:{old.id}:"):
            assert other.get_alpha() is None


def test_without_a_leader_servers_are_compared_with_the_longest_log():
    sim = started()
    sim.add_server("n4")
    leader = settled(sim)
    sim.crash(leader.id)
    assert sim.leader() is None
    members = viz.membership(sim)
    ref = viz.reference_server(sim)
    assert not members.leader and members.reference == ref.id
    assert ref.log.last_index == max(n.log.last_index for n in sim.nodes.values())
    ax = drawn(sim)
    assert caption(ax, ref.id)[0] == "config {n1,n2,n3,n4}"
    for name in sim.names:
        if name != ref.id:
            assert caption(ax, name) == (f"= {ref.id}'s config", MUTED)


def test_captions_stack_under_the_info_and_line_up():
    """The caption is a label of its own padded by the info's lines (and the info by the caption's), so both
    stack as one block whatever the anchor; their left edges line up."""
    sim = started()
    sim.add_server("n4")
    ax = drawn(sim)
    for name in sim.names:
        (info,) = viz.label_items(ax, f"info:{name}")
        (conf,) = viz.label_items(ax, f"config:{name}")
        assert (info.x, info.y, info.ha, info.va, info.size) == (conf.x, conf.y, conf.ha, conf.va, conf.size)
        assert len(info.text.split("\n")) == len(conf.text.split("\n"))
        assert conf.text.split("\n")[:3] == ["", "", ""]                 # under the info's three lines
        width = max(viz.style.text_width(info.text, info.size, info.weight),
                    viz.style.text_width(conf.text, conf.size, conf.weight))
        k = {"left": 0.0, "center": 0.5, "right": 1.0}[info.ha]
        left_info = info.offset[0] - k * viz.style.text_width(info.text, info.size, info.weight)
        left_conf = conf.offset[0] - k * viz.style.text_width(conf.text, conf.size, conf.weight)
        assert left_info == pytest.approx(left_conf) == pytest.approx(-k * width)


def test_config_lines_and_text():
    assert viz.config_lines(Configuration(("n1", "n2", "n3"))) == ["config {n1,n2,n3}"]
    nine = Configuration(tuple(f"n{i}" for i in range(1, 10)), ("n10", "n11"))
    assert viz.config_lines(nine) == ["config {n1,n2,n3,n4,n5,", "  n6,n7,n8,n9}", "learners n10,n11"]
    joint = Configuration(("n1", "n2", "n4"), old_voters=("n1", "n2", "n3"))
    assert viz.config_lines(joint) == ["C_old {n1,n2,n3}", "C_new {n1,n2,n4}"]
    assert viz.config_lines(Configuration(())) == ["no configuration yet"]
    assert viz.config_text(joint) == "config C_old,new {n1,n2,n3} -> {n1,n2,n4}"
    assert viz.config_text(Configuration(("n1",), ("n2",))) == "config {n1}+learner n2"


def test_next_free_name():
    assert viz.next_free_name(["n1", "n2", "n3"]) == "n4"
    assert viz.next_free_name(["n1", "n3"]) == "n2"
    assert viz.next_free_name([f"n{k}" for k in range(1, 100)]) == ""


# --- the logs -----------------------------------------------------------------------------------------------

def test_configuration_entries_are_outlined_marked_and_listed():
    sim = started()
    sim.add_server("n4")
    leader = settled(sim)
    ax = drawn(sim, viz.draw_logs)
    expected = [(n.id, i) for n in sim.nodes.values() for i in n.log.config_indexes]
    assert len(expected) >= 8                           # two configurations on each of 4 servers
    assert boxes(ax, "entries:config") == len(expected)
    (coll,) = by_gid(ax, "entries:config")
    assert coll.get_edgecolor()[0][:3] == pytest.approx(to_rgb(CONFIG_COLOR))
    assert sorted(tuple(item.gid.split(":")[1:]) for item in viz.label_items(ax, "config:")) == \
        sorted((n, str(i)) for n, i in expected)
    assert set(viz.labels(ax, "config:")) == {"C"}
    (listed,) = viz.labels(ax, "configurations")
    first, second = leader.log.config_indexes
    assert listed == (f"configurations in {leader.id}'s log: {first} {{n1,n2,n3}}+learner n4 \u00b7 "
                      f"{second} {{n1,n2,n3,n4}}")
    (row,) = viz.labels(ax, "row:n4")
    assert row.startswith("n4 (follower")
    sim.remove_server(next(n for n in sim.names if n != leader.id))
    ax = drawn(sim, viz.draw_logs)
    assert "(not committed)" in viz.labels(ax, "configurations")[0]


def test_a_learner_and_a_removed_server_say_so_in_their_log_row():
    sim = started()
    sim.add_server("n4")
    ax = drawn(sim, viz.draw_logs)
    assert viz.labels(ax, "row:n4") == [f"n4 (learner, follower, t{sim.node('n4').current_term})"]
    leader = settled(sim)
    gone = next(n for n in sim.names if n != leader.id)
    sim.remove_server(gone)
    settled_leader = settled(sim)
    ax = drawn(sim, viz.draw_logs)
    (row,) = viz.label_items(ax, f"row:{gone}")
    assert row.text.startswith(f"{gone} (removed, ") and row.color == MUTED
    assert settled_leader is leader


def test_log_table_names_configuration_entries():
    sim = started()
    sim.add_server("n4")
    rows = viz.log_table(sim)
    config_rows = [r for r in rows if r["config"]]
    assert [r["command"] for r in config_rows] == ["config {n1,n2,n3}+learner n4"]
    assert [r["index"] for r in config_rows] == sim.leader().log.config_indexes
    assert [r["command"] for r in rows if not r["config"]] == ["no-op"]
    table = viz.log_table_html(sim)
    assert table.count(viz.tables.CONFIG_ROW) == 1 and "config {n1,n2,n3}+learner n4" in html.unescape(table)


@pytest.mark.parametrize("draw", [viz.draw_cluster, viz.draw_logs, viz.log_table, viz.log_table_html,
                                  viz.membership])
def test_membership_views_only_read_the_simulation(draw):
    sim = started(membership="joint")
    sim.add_server("n4", "n5")
    sim.advance(30)
    before = fingerprint(sim)
    draw(sim)
    assert fingerprint(sim) == before


def test_membership_frames_are_deterministic():
    def frame():
        sim = started(membership="joint")
        sim.add_server("n4", "n5")
        sim.advance(60)
        return viz.Renderer().png(sim)
    assert frame() == frame()


def test_the_key_explains_membership_only_when_asked():
    plain = Image.open(io.BytesIO(viz.legend_png(("cluster", "logs"))))
    members = Image.open(io.BytesIO(viz.legend_png(("cluster", "logs"), membership=True)))
    assert members.height > plain.height and members.width == plain.width


# --- the Explorer -------------------------------------------------------------------------------------------

def status(explorer):
    return html.unescape(explorer.status.value)


@pytest.fixture
def explorer():
    e = Explorer(started())
    yield e
    e.close()


def test_membership_is_a_control_a_lesson_can_choose():
    assert "membership" in CONTROLS
    e = Explorer(started(), controls=["step", "membership"])
    widgets = tree(e)
    for shown in (e.new_server_text, e.add_server_button, e.remove_picker, e.remove_server_button,
                  e.configuration):
        assert shown in widgets
    assert e.crash_button not in widgets
    e.close()
    e = Explorer(started(), controls=["step"])
    assert e.add_server_button not in tree(e)
    e.close()


def test_add_server_proposes_the_next_free_name_and_the_server_joins(explorer):
    sim = explorer.sim
    legend = explorer.legend.value
    assert explorer.new_server_text.value == "n4"
    assert "{n1,n2,n3} (the cluster's first)" in html.unescape(explorer.configuration.value)
    explorer.add_server_button.click()
    assert status(explorer) == "" and sim.actions[-1].action.name == "add_server"
    assert "n4" in sim.names and list(explorer.node_picker.options) == ["n1", "n2", "n3", "n4"]
    assert list(explorer.remove_picker.options) == ["n1", "n2", "n3", "n4"]
    assert "n4" in [v for _, v in explorer.target_picker.options]
    assert explorer.new_server_text.value == "n5"
    text = html.unescape(explorer.configuration.value)
    assert f"leader {sim.leader().id}'s configuration: " in text and "{n1,n2,n3}+learner n4" in text
    assert "(not committed yet)" in text
    assert explorer.legend.value != legend                 # the key now explains membership
    assert "config {n1,n2,n3}+learner n4" in html.unescape(explorer.log_entries.value)
    explorer.advance_ms.value = 1000
    explorer.advance_button.click()
    text = html.unescape(explorer.configuration.value)
    assert "{n1,n2,n3,n4}</b>" in text and "(committed)" in text


def test_a_refused_change_and_a_bad_name_show_a_message_and_change_nothing(explorer):
    sim = explorer.sim
    explorer.add_server_button.click()
    before = (sim.summary(), len(sim.actions), list(sim.names))
    explorer.new_server_text.value = "n5"
    explorer.add_server_button.click()                   # n4's change is not committed yet
    assert "a configuration change is already in progress" in status(explorer)
    explorer.new_server_text.value = "server five"
    explorer.add_server_button.click()
    assert "a server is named like 'n4'" in status(explorer)
    explorer.new_server_text.value = "  "
    explorer.add_server_button.click()
    assert "Type a name for the new server, like n4." in status(explorer)
    explorer.new_server_text.value = "n4"
    explorer.add_server_button.click()
    assert "n4 is already in the configuration" in status(explorer)
    assert (sim.summary(), len(sim.actions), list(sim.names)) == before


def test_remove_server_and_a_removal_the_leader_refuses(explorer):
    sim = explorer.sim
    leader = sim.leader()
    gone = next(n for n in sim.names if n != leader.id)
    explorer.remove_picker.value = gone
    explorer.remove_server_button.click()
    assert status(explorer) == "" and gone not in leader.configuration.members
    assert f"{{{','.join(n for n in sim.names if n != gone)}}}" in html.unescape(explorer.configuration.value)
    explorer.remove_server_button.click()
    assert f"{gone} is not in the configuration" in status(explorer)


def test_rewinding_before_an_added_server_takes_it_off_the_pickers(explorer):
    sim = explorer.sim
    start = sim.steps
    explorer.add_server_button.click()
    explorer.advance_ms.value = 50
    explorer.advance_button.click()
    explorer.rewind(start)
    assert list(sim.names) == ["n1", "n2", "n3"]
    assert list(explorer.node_picker.options) == ["n1", "n2", "n3"]
    assert explorer.new_server_text.value == "n4"
    explorer.go_to(explorer.tape.steps)                  # and forward again, add_server included
    assert "n4" in sim.names and list(explorer.remove_picker.options)[-1] == "n4"

