"""The view functions, drawn headless from known states: what they draw (labels, shapes, markers, gids),
never pixels.  Every view must leave the simulation exactly as it found it."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pytest
from matplotlib.collections import LineCollection, PathCollection, PolyCollection
from matplotlib.patches import Arc, Circle, RegularPolygon

from raftlab import Simulation, viz
from raftlab.messages import (AppendEntries, AppendEntriesReply, ClientReply, ClientRequest, Entry,
                              RequestVote, RequestVoteReply)

# --- helpers ------------------------------------------------------------------------------------------


def by_gid(ax, prefix):
    """Artists of ax whose gid starts with prefix."""
    return [a for a in ax.get_children() if (a.get_gid() or "").startswith(prefix)]


def points(ax, prefix):
    """How many scatter points the collections with this gid prefix hold."""
    return sum(len(c.get_offsets()) for c in by_gid(ax, prefix) if isinstance(c, PathCollection))


def segments(ax, gid):
    found = [c for c in by_gid(ax, gid) if isinstance(c, LineCollection) and c.get_gid() == gid]
    return sum(len(c.get_segments()) for c in found)


def boxes(ax, gid):
    return sum(len(c.get_paths()) for c in by_gid(ax, gid) if isinstance(c, PolyCollection) and c.get_gid() == gid)


def fingerprint(sim):
    """Everything a view could change by mistake."""
    return (sim.to_json(), sim.summary(), sim.trace_text(), len(sim.timeline), sim.steps, sim.now,
            [e.id for e in sim.in_flight()], sorted(sim.network.cut), sim.network.groups)


def elected(nodes=5, seed=1, **config):
    sim = Simulation(nodes=nodes, seed=seed, **config)
    assert sim.run_until_leader() is not None
    return sim


def with_entries(n=3, seed=1):
    sim = elected(seed=seed)
    for k in range(n):
        sim.client_request(f"put x {k}")
        sim.advance(40)
    return sim


@pytest.fixture
def ax():
    _fig, ax = plt.subplots()
    return ax


# --- the views never change the simulation --------------------------------------------------------------

@pytest.mark.parametrize("draw", [viz.draw_cluster, viz.draw_logs, viz.draw_timeline, viz.draw_message_counts,
                                  viz.message_table, viz.message_table_html, viz.log_table, viz.log_table_html,
                                  viz.conflicts, viz.recent_losses])
def test_views_only_read_the_simulation(draw):
    sim = with_entries(2)
    sim.crash(3)
    sim.partition(["n1", "n2"])
    sim.advance(7)
    before = fingerprint(sim)
    draw(sim)
    assert fingerprint(sim) == before


def test_renderer_frames_do_not_change_the_simulation_and_are_deterministic():
    sim = with_entries(2)
    before = fingerprint(sim)
    renderer = viz.Renderer(("cluster", "logs", "timeline"))
    first = renderer.png(sim)
    second = renderer.png(sim)
    assert first.startswith(b"\x89PNG") and first == second and renderer.frames == 2
    assert fingerprint(sim) == before
    sim.step()
    assert renderer.png(sim) != first


def test_renderer_opens_no_pyplot_figure():
    before = plt.get_fignums()
    viz.Renderer().png(Simulation(nodes=3, seed=1))
    assert plt.get_fignums() == before


# --- the cluster graph ----------------------------------------------------------------------------------

def test_layout_is_a_clock_face_starting_at_the_top():
    pos = viz.layout(["n1", "n2", "n3", "n4"])
    assert pos["n1"] == pytest.approx((0, 1), abs=1e-6)
    assert pos["n2"] == pytest.approx((1, 0), abs=1e-6)      # clockwise: the next server is at 3 o'clock
    assert pos["n3"] == pytest.approx((0, -1), abs=1e-6)
    assert pos == viz.layout(["n1", "n2", "n3", "n4"])


def test_every_server_shows_name_role_term_vote_and_commit_index(ax):
    sim = with_entries(2)
    viz.draw_cluster(sim, ax)
    leader = sim.leader()
    for name, node in sim.nodes.items():
        assert viz.labels(ax, f"name:{name}") == [name]
        (info,) = viz.labels(ax, f"info:{name}")
        assert info.splitlines()[0] == node.role.value
        assert f"term {node.current_term}" in info and f"voted {node.voted_for}" in info
        assert f"commit {node.commit_index}" in info
    (shape,) = by_gid(ax, f"server:{leader.id}:leader")
    assert isinstance(shape, RegularPolygon) and shape.numvertices == 6
    assert len(by_gid(ax, "server:")) == 5 and len(by_gid(ax, "server:n")) == 5
    (bold,) = viz.label_items(ax, f"info:{leader.id}")
    assert bold.weight == "bold"


def test_roles_differ_by_shape_and_word_not_only_colour():
    styles = list(viz.ROLE_STYLE.values())
    assert len({s.marker for s in styles if s.word != "crashed"}) == 4
    assert len({s.word for s in styles}) == len(styles)
    assert len({s.color for s in styles}) == len(styles)


def test_a_candidate_is_a_square_and_a_crashed_server_is_gray_and_dashed(ax):
    sim = Simulation(nodes=5, seed=2)
    sim.crash(4)
    sim.timeout(2)
    viz.draw_cluster(sim, ax)
    (candidate,) = by_gid(ax, "server:n2:candidate")
    assert isinstance(candidate, RegularPolygon) and candidate.numvertices == 4
    (crashed,) = by_gid(ax, "server:n4:crashed")
    assert isinstance(crashed, Circle) and crashed.get_linestyle() == "--"
    assert viz.labels(ax, "info:n4")[0].startswith("crashed")
    assert not by_gid(ax, "timer:n4")          # a crashed server has no timer running


def test_the_timer_ring_shows_the_time_left(ax):
    sim = Simulation(nodes=3, seed=1)
    viz.draw_cluster(sim, ax)
    longest = sim.config.election_timeout[1]
    for name, node in sim.nodes.items():
        (arc,) = by_gid(ax, f"timer:{name}")
        assert isinstance(arc, Arc)
        left = (node.election_deadline - sim.now) / longest
        assert arc.theta2 - arc.theta1 == pytest.approx(360 * left)


def test_one_marker_per_message_in_flight_by_kind(ax):
    sim = Simulation(nodes=5, seed=1)
    sim.timeout(1)                                     # n1 asks everyone for a vote
    viz.draw_cluster(sim, ax)
    in_flight = sim.in_flight()
    assert len(in_flight) == 4 and all(isinstance(e.message, RequestVote) for e in in_flight)
    assert points(ax, "msg:RequestVote") == 4
    assert points(ax, "msg:") == 4


def test_message_markers_count_every_kind_in_a_busy_cluster():
    sim = with_entries(3)
    sim.client_request("put y 1")
    for _ in range(6):
        sim.step()
    _fig, ax = plt.subplots()
    viz.draw_cluster(sim, ax)
    expected: dict[str, int] = {}
    for env in sim.in_flight():
        key = viz.message_style(env.message)
        expected[key] = expected.get(key, 0) + 1
    assert expected, "the scenario should have messages in flight"
    for key, count in expected.items():
        assert points(ax, f"msg:{key}") == count, key


def test_a_message_travels_from_sender_to_receiver():
    sim = Simulation(nodes=3, seed=1, delay=(20, 20))
    sim.timeout(1)
    env = next(e for e in sim.in_flight() if e.dst == "n2")
    pos = viz.layout(sim.names)

    def where():
        _fig, ax = plt.subplots()
        viz.draw_cluster(sim, ax)
        offsets = [o for c in by_gid(ax, "msg:RequestVote") for o in c.get_offsets()]
        return min(offsets, key=lambda o: math.dist(o, pos["n2"]))

    def dist(p, name):
        return math.dist(p, pos[name])

    start = where()
    assert dist(start, "n1") < dist(start, "n2")
    sim.advance(15)
    assert env.id in [e.id for e in sim.in_flight()]
    later = where()
    assert dist(later, "n2") < dist(later, "n1")


def test_message_styles_tell_kinds_and_outcomes_apart():
    style = viz.message_style
    assert style(RequestVote("n1", "n2", 1, "n1", 0, 0)) == "RequestVote"
    assert style(RequestVote("n1", "n2", 1, "n1", 0, 0, pre_vote=True)) == "PreVote"
    assert style(RequestVoteReply("n2", "n1", 1, True)) == "VoteGranted"
    assert style(RequestVoteReply("n2", "n1", 1, False)) == "VoteRejected"
    assert style(AppendEntries("n1", "n2", 1, "n1", 0, 0)) == "Heartbeat"
    assert style(AppendEntries("n1", "n2", 1, "n1", 0, 0, (Entry(1, ("put", "x", "1")),))) == "AppendEntries"
    assert style(AppendEntriesReply("n2", "n1", 1, True, 1)) == "AppendOk"
    assert style(AppendEntriesReply("n2", "n1", 1, False)) == "AppendRejected"
    assert style(ClientRequest("c1", "n1", "c1", 1, ("get", "x"))) == "ClientRequest"
    assert style(ClientReply("n1", "c1", "c1", 1, False, None, "n2")) == "ClientRedirect"
    s = viz.MESSAGE_STYLE
    assert s["VoteGranted"].filled and not s["VoteRejected"].filled        # readable without colour
    assert s["AppendOk"].filled and not s["AppendRejected"].filled
    assert len({(v.marker, v.filled, v.color) for v in s.values()}) == len(s)


def test_a_partition_shows_sides_and_blocked_links(ax):
    sim = elected()
    sim.partition(["n1", "n2"], ["n3", "n4", "n5"])
    viz.draw_cluster(sim, ax)
    assert segments(ax, "links:blocked") == 2 * 3
    assert segments(ax, "links") == 1 + 3
    assert {a.get_gid() for a in by_gid(ax, "group:")} == {
        "group:n1:A", "group:n2:A", "group:n3:B", "group:n4:B", "group:n5:B"}
    assert viz.labels(ax, "side:") == ["A", "A", "B", "B", "B"]
    assert viz.labels(ax, "network") == ["partition: n1 n2 | n3 n4 n5"]
    sim.heal()
    _fig, ax2 = plt.subplots()
    viz.draw_cluster(sim, ax2)
    assert not by_gid(ax2, "group:") and not by_gid(ax2, "links:blocked") and not viz.labels(ax2, "network")
    assert segments(ax2, "links") == 10


def test_a_cut_link_is_marked_one_way(ax):
    sim = elected()
    sim.cut(1, 2)
    viz.draw_cluster(sim, ax)
    assert segments(ax, "links:one-way") == 1
    assert viz.labels(ax, "cut:n1->n2") == ["\u2702"]
    assert viz.labels(ax, "network") == ["cut: n1\u2192n2"]


def test_a_dropped_message_shows_where_it_died_for_a_moment():
    sim = elected()
    victim = sim.in_flight()[0] if sim.in_flight() else None
    if victim is None:
        sim.client_request("put x 1")
        victim = sim.in_flight()[0]
    sim.drop(victim.id)
    _fig, ax = plt.subplots()
    viz.draw_cluster(sim, ax)
    assert points(ax, "lost") == 1
    assert viz.recent_losses(sim)[-1].message == victim.message
    sim.advance(viz.DROP_SHOWN_MS + 1)
    _fig, ax = plt.subplots()
    viz.draw_cluster(sim, ax)
    assert points(ax, "lost") == len(viz.recent_losses(sim))


def test_messages_lost_to_a_partition_are_shown():
    sim = elected()
    sim.isolate(sim.leader().id)
    sim.advance(60)                                   # the next heartbeats die at the partition
    losses = viz.recent_losses(sim)
    assert losses and all("partition" in ev.reason for ev in losses)
    _fig, ax = plt.subplots()
    viz.draw_cluster(sim, ax)
    assert points(ax, "lost") == len(losses)


@pytest.mark.parametrize("n", [3, 7, 9])
def test_three_to_nine_servers_do_not_overlap(n):
    sim = elected(nodes=n, seed=3)
    _fig, ax = plt.subplots()
    viz.draw_cluster(sim, ax)
    shapes = by_gid(ax, "server:")
    assert len(shapes) == n
    centres = [s.center if isinstance(s, Circle) else s.xy for s in shapes]
    radius = max(getattr(s, "radius", 0) for s in shapes)
    assert min(math.dist(a, b) for i, a in enumerate(centres) for b in centres[i + 1:]) > 2 * radius
    assert len(viz.labels(ax, "info:")) == n


def test_clients_are_drawn_in_the_middle(ax):
    sim = elected()
    sim.client_request("put x 1")
    viz.draw_cluster(sim, ax)
    assert viz.labels(ax, "client:") == ["c1"]
    assert points(ax, "msg:ClientRequest") == 1


def test_standalone_drawing_has_a_title_and_a_legend():
    sim = elected()
    ax = viz.draw_cluster(sim)
    leader = sim.leader()
    assert viz.labels(ax, "title") == [f"t = {sim.now} ms \u00b7 step {sim.steps} \u00b7 leader {leader.id} "
                                       f"(term {leader.current_term})"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:5] == ["follower", "pre-candidate", "candidate", "leader", "crashed"]
    assert ax.figure.get_facecolor()[:3] == (1.0, 1.0, 1.0)   # an explicit background, for dark themes


# --- the logs -------------------------------------------------------------------------------------------

def test_logs_show_every_entry_with_its_term_and_commit_state(ax):
    sim = with_entries(3)
    sim.client_request("put y 9")
    sim.step()
    sim.step()
    viz.draw_logs(sim, ax)
    nodes = sim.nodes.values()
    total = sum(n.log.last_index for n in nodes)
    committed = sum(min(n.commit_index, n.log.last_index) for n in nodes)
    assert boxes(ax, "entries:committed") == committed
    assert boxes(ax, "entries:pending") == total - committed
    assert total > committed > 0
    for node in nodes:
        for i in range(1, node.log.last_index + 1):
            assert viz.labels(ax, f"term:{node.id}:{i}") == [str(node.log.term_at(i))]
    assert segments(ax, "commit-index") == sum(1 for n in nodes if n.commit_index >= 1)
    (hatched,) = [c for c in by_gid(ax, "entries:pending")]
    assert hatched.get_hatch() == "////"


def test_logs_show_the_leaders_next_and_match_index(ax):
    sim = with_entries(2)
    leader = sim.leader()
    viz.draw_logs(sim, ax)
    followers = [n for n in sim.nodes.values() if n is not leader]
    for f in followers:
        assert viz.labels(ax, f"indexes:{f.id}") == [
            f"next {leader.next_index[f.id]}\nmatch {leader.match_index[f.id]}"]
    assert points(ax, "next-index") == len(followers)
    assert segments(ax, "match-index") == sum(1 for f in followers if leader.match_index[f.id] >= 1)


def conflicting_logs():
    """An old leader, cut off, takes two requests it can never commit; a new leader is elected."""
    sim = Simulation(nodes=5, seed=3)
    old = sim.run_until_leader()
    sim.advance(100)
    sim.isolate(old.id)
    sim.client_request("put x 1", node=old.id)
    sim.client_request("put y 2", node=old.id)
    sim.advance(800)
    new = sim.leader()
    sim.heal()
    assert new is not None and new is not old and new.current_term > old.current_term
    return sim, old, new


def test_entries_that_differ_from_the_leaders_are_highlighted():
    sim, old, new = conflicting_logs()
    bad = viz.conflicts(sim)
    assert list(bad) == [old.id]
    assert bad[old.id] == [i for i in range(1, old.log.last_index + 1)
                           if i > new.log.last_index or new.log.term_at(i) != old.log.term_at(i)]
    _fig, ax = plt.subplots()
    viz.draw_logs(sim, ax)
    assert boxes(ax, "entries:conflict") == len(bad[old.id])
    red = [lab for lab in viz.label_items(ax, f"term:{old.id}:") if lab.color == "#d62728"]
    assert sorted(int(lab.gid.rsplit(":", 1)[1]) for lab in red) == bad[old.id]


def test_no_leader_no_conflicts():
    assert viz.conflicts(Simulation(nodes=3, seed=1)) == {}


def test_a_long_log_shows_its_last_entries():
    sim = with_entries(20)
    _fig, ax = plt.subplots()
    viz.draw_logs(sim, ax, max_entries=10)
    last = max(n.log.last_index for n in sim.nodes.values())
    assert viz.labels(ax, "column") == [str(i) for i in range(last - 9, last + 1)]
    assert not [lab for lab in viz.label_items(ax, "term:") if lab.gid.endswith(":1")]


def test_an_empty_cluster_says_its_logs_are_empty(ax):
    viz.draw_logs(Simulation(nodes=3, seed=1), ax)
    assert viz.labels(ax, "empty") == ["every log is empty"]


def test_a_compacted_prefix_is_drawn_as_a_snapshot():
    sim = Simulation(nodes=3, seed=1, snapshot_every=3)
    sim.run_until_leader()
    for k in range(6):
        sim.client_request(f"put x {k}")
        sim.advance(40)
    node = sim.leader()
    assert node.log.snapshot_index > 0
    _fig, ax = plt.subplots()
    viz.draw_logs(sim, ax)
    assert viz.labels(ax, f"snapshot:{node.id}") == [f"snapshot \u2264{node.log.snapshot_index}"]


def test_log_table_lists_commands_and_commit_state():
    sim = with_entries(2)
    rows = viz.log_table(sim)
    leader = sim.leader()
    assert [r["index"] for r in rows] == list(range(1, leader.log.last_index + 1))
    assert rows[0]["command"] == "no-op" and rows[1]["command"] == "put x=0"
    assert rows[1]["client"] == "c1#1"
    assert [r["committed"] for r in rows] == [i <= leader.commit_index for i in range(1, len(rows) + 1)]
    html = viz.log_table_html(sim, "n2")
    assert "put x=0" in html and "<table" in html


# --- the timeline ---------------------------------------------------------------------------------------

def test_timeline_shows_roles_terms_crashes_and_partitions():
    sim = elected()
    leader = sim.leader()
    sim.advance(100)
    sim.crash(leader.id)
    sim.partition(["n1", "n2"])
    sim.advance(400)
    sim.heal()
    sim.advance(100)
    intervals = viz.role_intervals(sim)
    assert any(role == "leader" for *_t, role, _term in intervals[leader.id])
    assert intervals[leader.id][-1][2] == "crashed"
    for spans in intervals.values():           # consecutive and covering the run
        assert spans[0][0] == 0 and spans[-1][1] == sim.now
        assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    _fig, ax = plt.subplots()
    viz.draw_timeline(sim, ax)
    (leading,) = by_gid(ax, "timeline:leader")
    (crashed,) = by_gid(ax, "timeline:crashed")
    assert leading.owners.count(leader.id) == sum(1 for *_t, r, _ in intervals[leader.id] if r == "leader")
    assert crashed.owners == [leader.id]
    assert viz.labels(ax, "row:") == sim.names + ["commit"]
    assert len(by_gid(ax, "partition")) == 1
    (line,) = by_gid(ax, "commit-index")
    assert viz.labels(ax, "commit-value") == [f" {max(n.commit_index for n in sim.nodes.values())}"]
    assert line.get_xdata()[-1] == sim.now


def test_timeline_window_shows_only_the_last_milliseconds(ax):
    sim = elected()
    sim.advance(3000)
    viz.draw_timeline(sim, ax, window=500)
    assert ax.get_xlim()[0] == sim.now - 500


def test_message_counts_per_kind_add_up():
    sim = with_entries(3)
    starts, width, counts = viz.message_counts(sim, bins=10)
    delivered = [e for e in sim.trace if "->" in e.text and "(" in e.text and " lost: " not in e.text
                 and not e.text.startswith("operator")]
    assert sum(sum(v) for v in counts.values()) == len(delivered)
    assert {"RequestVote", "AppendEntries", "AppendEntriesReply"} <= set(counts)
    assert len(starts) == 10 and width > 0
    _fig, ax = plt.subplots()
    viz.draw_message_counts(sim, ax, bins=10)
    assert {a.get_gid() for a in by_gid(ax, "count:")} >= {f"count:{k}" for k in counts}


# --- tables and figures ---------------------------------------------------------------------------------

def test_message_table_lists_the_messages_in_flight():
    sim = with_entries(1)
    sim.client_request("put z 3")
    sim.step()
    rows = viz.message_table(sim)
    assert [r["id"] for r in rows] == [e.id for e in sim.in_flight()]
    first, env = rows[0], sim.in_flight()[0]
    assert (first["from"], first["to"], first["deliver_at"]) == (env.src, env.dst, env.deliver_at)
    assert first["fields"] in str(env.message)
    html = viz.message_table_html(sim, limit=1)
    assert f">{env.id}<" in html and f"and {len(rows) - 1} more" in html
    assert "no message in flight" in viz.message_table_html(Simulation(nodes=3, seed=1))


def test_show_draws_the_views_and_calls_plt_show(monkeypatch):
    shown = []
    monkeypatch.setattr(plt, "show", lambda *a, **k: shown.append(plt.gcf()))
    sim = elected()
    viz.show(sim, views=("cluster", "logs", "timeline"))
    (fig,) = shown
    assert len(fig.axes) == 3
    assert viz.labels(fig.axes[0], "name:") == sim.names


def test_unknown_views_are_refused_with_the_choices():
    with pytest.raises(ValueError, match="cluster, logs, timeline, counts"):
        viz.show(Simulation(nodes=3), views=("cluster", "graph"))
    with pytest.raises(ValueError):
        viz.Renderer(("logs", "logs"))


def test_the_legend_strip_is_a_png():
    assert viz.legend_png(("cluster", "logs")).startswith(b"\x89PNG")


def test_labels_written_by_the_fast_path_are_drawn():
    """A label drawn as a glyph outline really reaches the pixels (and its extent is known)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(2, 1), dpi=50)
    FigureCanvasAgg(fig)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.axis("off")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    blank = bytes(fig.canvas.buffer_rgba()) if fig.canvas.draw() is None else b""
    viz.write(ax, 0.5, 0.5, "n1", size=20, gid="x")
    fig.canvas.draw()
    assert bytes(fig.canvas.buffer_rgba()) != blank
    extent = ax._raftlab_labels.get_window_extent(fig.canvas.get_renderer())
    assert 0 < extent.width < 100 and 0 < extent.height < 50


# --- the clients' history (issue 10) -------------------------------------------------------------------

def stale_read_history():
    """A follower that answers reads from its own, stale, state machine: every log invariant holds, the
    clients' history does not."""
    from tests.engine.test_invariants import answers_reads_locally
    sim = Simulation(nodes=3, seed=1, impl={"handle_client_request": answers_reads_locally})
    leader = sim.run_until_leader()
    follower = next(n for n in sim.names if n != leader.id)
    sim.wait_for(sim.client_request("put x 1", node=leader.id))
    sim.advance(200)
    sim.isolate(follower)
    sim.wait_for(sim.client_request("put x 2", node=leader.id))
    sim.advance(1)
    sim.wait_for(sim.client_request("get x", node=follower, client="c5"))
    sim.client_request("append y z", node=follower, client="c7")      # never answered
    sim.advance(50)
    return sim


def test_the_history_draws_a_bar_per_operation_and_outlines_what_cannot_be_ordered():
    sim = stale_read_history()
    _fig, ax = plt.subplots()
    viz.draw_history(sim, ax)                         # before any check: nothing is outlined
    assert sorted(c.get_gid() for c in ax.collections) == ["history:append:pending", "history:get",
                                                           "history:put"]
    verdict = sim.check_history()
    assert verdict.failed
    _fig, ax = plt.subplots()
    viz.draw_history(sim, ax)                         # the last verdict is shown
    by_gid = {c.get_gid(): len(c.get_paths()) for c in ax.collections}
    assert by_gid == {"history:append:pending": 1, "history:get:bad": 1, "history:put:bad": 2}
    bars = viz.history_bars(sim, verdict)
    assert [(b["client"], b["text"], b["bad"]) for b in bars] == [
        ("c1", "put x=1", True), ("c1", "put x=2", True), ("c5", "get x -> '1'", True), ("c7", "append y=z", False)]
    assert viz.labels(ax, "row:") == ["c1", "c5", "c7"]
    plt.close("all")


def test_the_history_is_a_view_of_figures_and_the_explorer():
    from raftlab.widgets import Explorer
    sim = stale_read_history()
    fig = viz.figure(sim, ("cluster", "history"))
    assert any(c.get_gid() == "history:get" for ax in fig.axes for c in ax.collections)
    explorer = Explorer(sim, views=["cluster", "history"])
    assert explorer.views == ("cluster", "history") and explorer.figure_output.value[:4] == b"\x89PNG"
    explorer.close()
    plt.close("all")
