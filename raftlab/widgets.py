"""The Explorer: a control panel and a live picture of a simulation, in one line of a notebook.

    from raftlab import Simulation
    from raftlab.widgets import Explorer
    sim = Simulation(nodes=5, seed=1)
    Explorer(sim)                                        # every control
    Explorer(sim, controls=["step", "crash", "log"])     # only what a lesson needs
    Explorer.from_file("run.json")                       # play back a run saved with sim.save()
    Explorer.from_run(result.run, step=5)                # a run as data (e.g. explore()'s), at step 5
    Explorer(sim, views=("cluster", "history"))          # the clients' history beside the cluster

Every control calls one public method of :class:`raftlab.Simulation` (``step``, ``advance``, ``crash``,
``restart``, ``drop``, ``deliver``, ``isolate``, ``reconnect``, ``partition``, ``heal``, ``timeout``,
``client_request``, ``set_pre_vote``, ``add_server``, ``remove_server``, ``rewind``); no Raft logic lives
here.  Then the picture is redrawn.
A request the simulation refuses (deliver a message that has already arrived, crash a crashed server)
shows its message in the panel and leaves the simulation unchanged; a broken safety property turns the
safety indicator red and offers to go back to the step before it broke.

The widgets are attributes (``explorer.step_button``, ``explorer.node_picker``, ``explorer.event_log``,
``explorer.safety``, ``explorer.figure_output``...), so tests and lessons can press them from Python:
``explorer.step_button.click()``.

**Membership** (the ``"membership"`` control, section 6): ``explorer.new_server_text`` proposes the next free
name (``n4``), ``explorer.add_server_button`` calls ``sim.add_server(name)``, ``explorer.remove_picker`` and
``explorer.remove_server_button`` call ``sim.remove_server(name)``, and ``explorer.configuration`` says which
configuration the leader uses and whether it is committed.  A change the leader refuses (another one is not
committed yet, a new leader has not committed an entry of its term) or a bad name is said in the panel.  A
server added appears in the pictures and the pickers; after a rewind to before it, it is gone again.

**History.**  The Explorer remembers the furthest point the run has reached (``explorer.tape``, a
:class:`raftlab.run.Run`).  After a rewind (the time slider, or "Go to the step before"), Step, Advance, Play
and the slider play that run back with :func:`raftlab.run.play`, operator actions included; any other action
starts a new branch from there, like typing after an undo.

**The clients' history.**  With the ``"history"`` view, the Explorer checks the clients' history at every
redraw (:func:`raftlab.linearizability.check`, only when it changed; the check never stops the run), says
under the picture whether it is linearizable, outlines in red the operations that cannot be ordered, and
offers to go to the step before the answer that made it wrong (:meth:`Explorer.go_to_history_problem`).

**Drawing.**  The picture is a PNG drawn by matplotlib's Agg backend (:class:`raftlab.viz.Renderer`, one
figure reused) into an ``ipywidgets.Image``.  Nothing is printed into the notebook, so nbval sees no
output from it.  Changes made from code in other cells (``sim.crash(2)``) are drawn when that cell ends.
"""
from __future__ import annotations

import html
import time
import weakref
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence, Union

import ipywidgets as w

from . import viz
from .errors import ConfigError, NodeError, OperatorError, RaftlabError, SafetyViolation
from .events import ClientDone, Violation
from .linearizability import Verdict
from .linearizability import check as check_linearizable
from .run import Run, play
from .sim import Simulation
from .viz.tables import CONFIG_ROW, html_table

__all__ = ["Explorer", "CONTROLS"]

#: Every control a lesson can ask for.
CONTROLS = ("step", "advance", "play", "slider", "messages", "crash", "partition", "heal", "timeout",
            "client", "pre_vote", "membership", "log", "safety", "load")

_ROWS_SHOWN = 14                 # lines of the event log and of the log table
_FRAME_MS = 100                  # Play: one frame every 100 ms of wall-clock time (10 frames a second)
_QUEUED_S = 0.005                # a Play tick handled this soon after the previous one had been queued
_OK, _BAD, _MUTED = "#1b7f3b", "#c62828", "#666666"
_ANY = "any"                     # the "to" picker's choice for "let the client pick"
_HISTORY_STATES = 100_000        # the linearizability search's budget per redraw (it says "unknown" past it)


# --- small builders -------------------------------------------------------------------------------------

def _button(description: str, tooltip: str, icon: str = "", style: str = "") -> w.Button:
    return w.Button(description=description, tooltip=tooltip, icon=icon, button_style=style,
                    layout=w.Layout(width="auto", min_width="4.5em"))


def _row(label: str, widgets: list) -> w.HBox:
    head = w.HTML(f"<b>{html.escape(label)}</b>", layout=w.Layout(width="6.5em", min_width="6.5em"))
    return w.HBox([head] + widgets, layout=w.Layout(align_items="center", flex_flow="row wrap"))


def parse_groups(text: str) -> list[list[str]]:
    """``"n1 n2 | n3 n4 n5"`` (or ``"1 2 | 3 4 5"``) -> ``[["n1", "n2"], ["n3", "n4", "n5"]]``."""
    groups = []
    for part in text.split("|"):
        members = [x if x.startswith("n") else f"n{x}" for x in part.replace(",", " ").split()]
        if members:
            groups.append(members)
    if len(groups) < 2:
        raise OperatorError("type at least two groups of servers separated by |, for example: n1 n2 | n3 n4 n5")
    return groups


# --- the panel ------------------------------------------------------------------------------------------

class Explorer(w.VBox):
    """A control panel and live picture of a :class:`~raftlab.Simulation`.

    ``controls``: None for all of :data:`CONTROLS`, or a list of their names.
    ``views``: the pictures, from :data:`raftlab.viz.VIEWS` ("cluster", "logs", "timeline", "counts",
    "history")."""

    def __init__(self, sim: Simulation, controls: Optional[Iterable[str]] = None,
                 views: Sequence[str] = ("cluster", "logs"), *, dpi: int = 100, **kwargs: Any):
        if not isinstance(sim, Simulation):
            raise TypeError(f"Explorer needs a raftlab Simulation, got {type(sim).__name__}")
        chosen = list(CONTROLS) if controls is None else [controls] if isinstance(controls, str) else list(controls)
        unknown = [c for c in chosen if c not in CONTROLS]
        if unknown:
            raise ValueError(f"unknown control(s) {unknown}: choose from {', '.join(CONTROLS)}")
        self.sim = sim
        self.controls = tuple(c for c in CONTROLS if c in chosen)
        self.renderer = viz.Renderer(views, dpi=dpi)
        self.views = self.renderer.views
        self.frames = 0
        self.tape = sim.run
        self._stale = False
        self._busy = False
        self._playhead: Optional[int] = None
        self._last_tick = 0.0                    # time.monotonic() when the last Play frame was done
        #: the clients' history as last checked (with the "history" view), else None
        self.verdict: Optional[Verdict] = None
        self._verdict_of: Optional[tuple] = None   # the history that verdict is about
        self._build()
        super().__init__(children=self._layout(), **kwargs)
        self.add_class("raftlab-explorer")
        self._attach(sim)
        self.refresh()

    def __repr__(self) -> str:
        """Short and stable: a notebook stores it as the cell's text output, which nbval compares."""
        shown = "all" if self.controls == CONTROLS else ", ".join(self.controls)
        return (f"Explorer({len(self.sim.names)} servers, seed {self.sim.initial_config.seed}; "
                f"controls: {shown}; views: {', '.join(self.views)})")

    # --- building ---------------------------------------------------------------------------------------
    def _build(self) -> None:
        names = list(self.sim.names)
        self._build_picture()
        self._build_time()
        self._build_servers(names)
        self._build_messages(names)
        self._build_membership(names)
        self._build_panes()
        self._build_loading()

    def _build_picture(self) -> None:
        """The title, the picture, its key and the status line."""
        self.title = w.HTML(layout=w.Layout(flex="1 1 auto"))
        self.title.add_class("raftlab-title")
        self.figure_output = w.Image(format="png", layout=w.Layout(width="100%", max_width="1000px",
                                                                  height="auto"))
        self.figure_output.add_class("raftlab-figure")
        self.legend = w.Image(value=viz.legend_png(self.views), format="png",
                              layout=w.Layout(width="100%", max_width="1000px", height="auto"))
        self.legend.add_class("raftlab-legend")
        self.status = w.HTML(layout=w.Layout(min_height="1.5em"))
        self.status.add_class("raftlab-status")
        self.history_status = w.HTML(layout=w.Layout(flex="1 1 0", min_width="0"))
        self.history_status.add_class("raftlab-history")
        self.history_jump_button = _button("Go to the step before it went wrong",
                                           "rewind to just before the answer that made the clients' history "
                                           "impossible; then press Step to watch it arrive", "undo", "danger")
        self.history_jump_button.layout.display = "none"
        self.history_jump_button.layout.flex = "0 0 auto"
        self.history_jump_button.on_click(lambda _: self.go_to_history_problem())
        self.refresh_button = _button("", "redraw the picture", "refresh")
        self.refresh_button.layout.min_width = "2.5em"
        self.refresh_button.on_click(lambda _: self.refresh())

    def _build_time(self) -> None:
        """Step, Advance, Play and the time slider."""
        self.step_button = _button("Step", "process the next event: sim.step()", "step-forward", "primary")
        self.step_button.on_click(lambda _: self.step())
        self.advance_ms = w.BoundedIntText(value=100, min=1, max=100_000, step=10,
                                           layout=w.Layout(width="6em"))
        self.advance_button = _button("Advance", "run every event of the next N ms: sim.advance(N)",
                                      "fast-forward")
        self.advance_button.on_click(lambda _: self.advance(int(self.advance_ms.value)))
        self.play = w.Play(value=0, min=0, max=10**9, step=1, interval=_FRAME_MS, show_repeat=False,
                           tooltip="play / pause / stop")
        self.play.observe(self._on_play, names="value")
        self.play.observe(self._on_play_state, names="playing")
        self.speed = w.IntSlider(value=10, min=1, max=100, readout=True, continuous_update=False,
                                 layout=w.Layout(width="11em"),
                                 tooltip="virtual milliseconds per frame while playing")
        self.time_slider = w.IntSlider(value=self.sim.steps, min=0, max=max(self.sim.steps, 1),
                                       continuous_update=False, layout=w.Layout(flex="1 1 auto", min_width="20em"),
                                       tooltip="drag back to rewind (sim.rewind), forward to replay")
        self.time_slider.observe(self._on_slider, names="value")

    def _build_servers(self, names: list[str]) -> None:
        """The servers and the network."""
        self.node_picker = w.Dropdown(options=names, value=names[0], layout=w.Layout(width="6em"))
        self.crash_button = _button("Crash", "crash this server: sim.crash(server)", "power-off", "danger")
        self.crash_button.on_click(lambda _: self._act(self.sim.crash, self.node_picker.value))
        self.restart_button = _button("Restart", "restart this crashed server: sim.restart(server)", "redo",
                                      "success")
        self.restart_button.on_click(lambda _: self._act(self.sim.restart, self.node_picker.value))
        self.timeout_button = _button("Timeout", "fire its election timer now: sim.timeout(server)", "clock-o")
        self.timeout_button.on_click(lambda _: self._act(self.sim.timeout, self.node_picker.value))
        self.isolate_button = _button("Isolate", "cut it off from every other server: sim.isolate(server)",
                                      "chain-broken")
        self.isolate_button.on_click(lambda _: self._act(self.sim.isolate, self.node_picker.value))
        self.reconnect_button = _button("Reconnect", "give it back every link, leaving any other split: "
                                        "sim.reconnect(server)", "link")
        self.reconnect_button.on_click(lambda _: self._act(self.sim.reconnect, self.node_picker.value))
        half = max(len(names) // 2, 1)
        self.groups_text = w.Text(value=" ".join(names[:half]) + " | " + " ".join(names[half:]),
                                  layout=w.Layout(width="13em"), tooltip="servers on each side, separated by |")
        self.split_button = _button("Split", "partition the network into these groups: sim.partition(...)",
                                    "scissors")
        self.split_button.on_click(lambda _: self._on_split())
        self.heal_button = _button("Heal", "remove every partition and cut link: sim.heal()", "medkit")
        self.heal_button.on_click(lambda _: self._act(self.sim.heal))
        self.pre_vote = w.Checkbox(value=bool(self.sim.config.pre_vote), description="pre-vote",
                                   indent=False, layout=w.Layout(width="6.5em"),
                                   tooltip="servers ask for pre-votes first (thesis 9.6): sim.set_pre_vote")
        self.pre_vote.observe(self._on_pre_vote, names="value")

    def _build_messages(self, names: list[str]) -> None:
        """Clients and messages in flight."""
        self.command_text = w.Text(value="put x 1", layout=w.Layout(width="9em"),
                                   tooltip='"put x 1", "append x 2" or "get x"')
        self.target_picker = w.Dropdown(options=[("any server", _ANY)] + [(n, n) for n in names], value=_ANY,
                                        layout=w.Layout(width="8em"))
        self.client_button = _button("Send", "a client sends this command: sim.client_request(...)",
                                     "paper-plane")
        self.client_button.on_click(lambda _: self._on_client())
        self.message_picker = w.Dropdown(options=[], layout=w.Layout(width="30em"))
        self.deliver_button = _button("Deliver now", "deliver it now, ahead of its time: sim.deliver(id)",
                                      "envelope-open")
        self.deliver_button.on_click(lambda _: self._on_message("deliver"))
        self.drop_button = _button("Drop", "lose it: sim.drop(id)", "trash", "warning")
        self.drop_button.on_click(lambda _: self._on_message("drop"))

    def _build_membership(self, names: list[str]) -> None:
        """Adding and removing servers (section 6), and the configuration the leader uses."""
        self.new_server_text = w.Text(value=viz.next_free_name(names), layout=w.Layout(width="5em"),
                                      tooltip="the new server's name, like n4 (the next free one is proposed)")
        self.new_server_text.add_class("raftlab-new-server")
        self.add_server_button = _button("Add server", "start a new server with an empty log; the leader adds it "
                                         "as a learner, catches it up, then makes it a voter: sim.add_server(name)",
                                         "plus-circle")
        self.add_server_button.on_click(lambda _: self._on_add_server())
        self.remove_picker = w.Dropdown(options=names, value=names[0], layout=w.Layout(width="6em"))
        self.remove_server_button = _button("Remove server", "the leader appends a configuration without it: "
                                            "sim.remove_server(name)", "minus-circle")
        self.remove_server_button.on_click(lambda _: self._act(self.sim.remove_server, self.remove_picker.value))
        self.configuration = w.HTML()
        self.configuration.add_class("raftlab-membership")
        self._names = list(names)
        self._legend_membership = False

    def _build_panes(self) -> None:
        """The panes and the safety indicator."""
        self.event_log = w.HTML()
        self.event_log.add_class("raftlab-event-log")
        self.log_entries = w.HTML()
        self.log_entries.add_class("raftlab-log-entries")
        self.message_table = w.HTML()
        self.message_table.add_class("raftlab-messages")
        self.safety = w.HTML()
        self.safety.add_class("raftlab-safety")
        self.jump_button = _button("Go to the step before", "rewind to just before it broke; then press "
                                   "Step to watch it happen", "undo", "danger")
        self.jump_button.layout.display = "none"
        self.jump_button.on_click(lambda _: self.jump_to_problem())

    def _build_loading(self) -> None:
        """Loading a saved run."""
        self.load_upload = w.FileUpload(accept=".json", multiple=False, description="Load run",
                                        tooltip="a run saved with sim.save(path)")
        self.load_upload.observe(self._on_upload, names="value")
        self.load_path = w.Text(placeholder="path/to/run.json", layout=w.Layout(width="14em"))
        self.load_button = _button("Load", "load this saved run and play it back", "folder-open")
        self.load_button.on_click(lambda _: self._on_load_path())

    def _layout(self) -> list[w.Widget]:
        has = set(self.controls)
        header = [self.title]
        if "safety" in has:
            header += [self.safety, self.jump_button]
        rows: list[w.Widget] = [
            w.HBox(header + [self.refresh_button],
                   layout=w.Layout(align_items="center", justify_content="space-between", grid_gap="8px")),
            self.figure_output, self.legend]
        if "history" in self.views:
            rows.append(w.HBox([self.history_status, self.history_jump_button],
                               layout=w.Layout(align_items="center", grid_gap="8px")))
        rows += [_row(label, items) for label, items in self._control_rows(has) if items]
        rows.append(self.status)
        if "log" in has:
            rows.append(w.HBox([self._pane("Events, newest first", self.event_log, "3 1 0"),
                                self._pane("The leader's log, newest first", self.log_entries, "2 1 0")],
                               layout=w.Layout(grid_gap="10px", width="100%")))
        if "messages" in has:
            rows.append(self._pane("Messages in flight, soonest first", self.message_table, "1 1 auto"))
        return rows

    def _control_rows(self, has: set[str]) -> list[tuple[str, list[w.Widget]]]:
        """The labelled rows of controls a lesson asked for (a row with nothing in it is left out)."""
        clock: list[w.Widget] = [self.step_button] if "step" in has else []
        if "advance" in has:
            clock += [self.advance_button, self.advance_ms, w.Label("ms")]
        if "play" in has:
            clock += [w.HTML("&nbsp;&nbsp;"), self.play, w.Label("speed"), self.speed, w.Label("ms a frame")]
        servers: list[w.Widget] = [self.node_picker] if has & {"crash", "timeout", "partition"} else []
        if "crash" in has:
            servers += [self.crash_button, self.restart_button]
        if "timeout" in has:
            servers.append(self.timeout_button)
        if "partition" in has:
            servers += [self.isolate_button, self.reconnect_button]
        if "pre_vote" in has:
            servers += [w.HTML("&nbsp;&nbsp;"), self.pre_vote]
        network: list[w.Widget] = [self.groups_text, self.split_button] if "partition" in has else []
        if "heal" in has:
            network.append(self.heal_button)
        return [
            ("Time", clock),
            ("History", [w.Label("step"), self.time_slider] if "slider" in has else []),
            ("Servers", servers),
            ("Network", network),
            ("Client", [self.command_text, w.Label("to"), self.target_picker, self.client_button]
             if "client" in has else []),
            ("Members", [self.new_server_text, self.add_server_button, w.HTML("&nbsp;&nbsp;"), self.remove_picker,
                            self.remove_server_button, w.HTML("&nbsp;&nbsp;"), self.configuration]
             if "membership" in has else []),
            ("Message", [self.message_picker, self.deliver_button, self.drop_button] if "messages" in has else []),
            ("Saved run", [self.load_upload, w.Label("or"), self.load_path, self.load_button]
             if "load" in has else []),
        ]

    @staticmethod
    def _pane(title: str, body: w.Widget, flex: str) -> w.VBox:
        body.layout.width = "100%"
        body.layout.overflow = "auto"
        return w.VBox([w.HTML(f"<b>{html.escape(title)}</b>"), body],
                      layout=w.Layout(flex=flex, min_width="0", max_width="1000px"))

    # --- following the simulation -------------------------------------------------------------------------
    def _attach(self, sim: Simulation) -> None:
        """Listen to ``sim``: a change made from code marks the picture stale (cheap: nothing is drawn
        then); it is redrawn when the notebook cell ends."""
        ref = weakref.ref(self)

        def mark_stale(_sim, ref=ref):
            me = ref()
            if me is not None and not me._busy:
                me._stale = True
        self._listener = mark_stale
        sim.listeners.append(mark_stale)
        _watch_cells(self)

    def _detach(self) -> None:
        if self._listener in self.sim.listeners:
            self.sim.listeners.remove(self._listener)

    def close(self) -> None:
        """Stop following the simulation and close the widgets."""
        if getattr(self, "_listener", None) is not None:
            self._detach()
        _explorers.discard(self)
        super().close()

    @property
    def stale(self) -> bool:
        """Whether the simulation changed (from code) since the picture was drawn."""
        return self._stale

    @classmethod
    def from_file(cls, path: Union[str, Path], impl: Any = None, **kwargs: Any) -> "Explorer":
        """An Explorer at the start of a run saved with ``sim.save(path)``, ready to play it back: Play,
        Step, Advance and the time slider replay it, operator actions included."""
        return cls.from_run(Run.load(path, impl=impl), **kwargs)

    @classmethod
    def from_run(cls, run: Union[dict, str, Run], impl: Any = None, step: int = 0, **kwargs: Any) -> "Explorer":
        """An Explorer at step ``step`` of a run (a :class:`~raftlab.run.Run`, or its JSON: ``sim.to_json()``,
        the ``run`` of a safety violation or of :func:`raftlab.explore`), ready to play the rest back.
        ``impl``: the rules the run was made with, if they are not the reference or your exercises."""
        if not isinstance(run, Run):
            run = Run.from_json(run, impl=impl)
        if not isinstance(step, int) or isinstance(step, bool) or not 0 <= step <= run.steps:
            raise OperatorError(f"this run has steps 0 to {run.steps}: cannot open it at step {step!r}")
        explorer = cls(run.replay(until=0), **kwargs)
        explorer.tape = run
        if step:
            explorer.go_to(step)         # as the slider would: a violation on the way shows in the panel
        else:
            explorer.refresh()
        return explorer

    def load_run(self, data: Union[dict, str, bytes, Run], impl: Any = None) -> bool:
        """Show a saved run (the JSON of ``sim.save``, or a :class:`~raftlab.run.Run`) from its start, ready
        to play back.  The Explorer then drives a new Simulation, ``explorer.sim``.  Returns whether it
        loaded; if not, the panel says why and nothing changes."""
        try:
            run = data if isinstance(data, Run) else Run.from_json(
                data, impl=impl if impl is not None else self.sim.rules)
            sim = run.replay(until=0)
        except RaftlabError as exc:
            self._say(f"cannot load that run: {exc}", bad=True)
            return False
        self._detach()
        self.sim = sim
        self._attach(sim)
        self.tape = run
        self._playhead = None
        names = list(sim.names)
        self._busy = True
        try:
            self.target_picker.value = _ANY
        finally:
            self._busy = False
        self.refresh()
        self._say(f"Loaded a run of {run.steps} steps ({len(names)} servers, seed {sim.config.seed}). "
                  f"Press Play or Step to play it back.")
        return True

    # --- actions (public, so that lessons and tests can call them too) -------------------------------------
    def step(self) -> None:
        """One event (Step): replay the recorded run if we are behind its end, else ``sim.step()``."""
        self._playhead = None
        if self.tape.behind(self.sim):
            self._act(lambda: play(self.sim, self.tape, to_step=self.sim.steps + 1))
        else:
            self._act(self._step_live)

    def advance(self, ms: int, draw: bool = True) -> None:
        """``ms`` milliseconds (Advance, and each frame of Play): along the recorded run if we are behind
        its end (stopping at the end of the recording), else ``sim.advance(ms)``."""
        if self.tape.behind(self.sim):
            start = self.sim.now if self._playhead is None else max(self._playhead, self.sim.now)
            self._playhead = start + ms
            self._act(self._replay_until, self._playhead, draw=draw)
        else:
            self._playhead = None
            self._act(self.sim.advance, ms, draw=draw)

    def rewind(self, step: int) -> None:
        """Back to just after ``step`` (``sim.rewind``), keeping the run ahead for replay."""
        self._playhead = None
        self._act(self.sim.rewind, step)

    def go_to(self, step: int) -> None:
        """To just after ``step`` (what the time slider does): back with ``sim.rewind``, or forward along the
        recorded run (operator actions included)."""
        if step < self.sim.steps:
            self.rewind(step)
        elif step > self.sim.steps:
            self._playhead = None
            self._act(lambda: play(self.sim, self.tape, to_step=step))

    def go_to_history_problem(self) -> None:
        """Rewind to just before the answer that made the clients' history impossible to order (the last
        answer among the operations the verdict names); Step then shows it arrive."""
        verdict = self._history_verdict()
        if not verdict.failed:
            self._say("nothing to go back to: the clients' history is linearizable so far")
            return
        step = self._history_problem_step(verdict)
        self.rewind(max(step - 1, 0))
        self._say(f"Back at step {self.sim.steps}, just before the answer at t={verdict.replay_time} that no "
                  f"order of the operations explains. Press Step to watch it arrive.")

    def jump_to_problem(self) -> None:
        """Rewind to the step before the safety violation or error; Step then shows it happen."""
        problem = self.sim.violation or self.sim.error
        if problem is None:
            self._say("nothing to go back to: no safety property is broken")
            return
        step = self._problem_step()
        name = f"{problem.property} broke" if isinstance(problem, SafetyViolation) else "the error"
        self.rewind(max(step - 1, 0))
        self._say(f"Back at step {self.sim.steps}, just before {name}. Press Step to watch it happen.")

    def _step_live(self) -> None:
        if self.sim.step() is None:
            self._say("Nothing left to happen: no message in flight and no timer running.")

    def _replay_until(self, target: int) -> None:
        play(self.sim, self.tape, to_time=target)
        if not self.tape.behind(self.sim):
            self._playhead = None
            self.play.playing = False
            self._say("This is the end of the recorded run: Step, Advance or Play go on from here.")

    def _act(self, method: Callable, *args: Any, draw: bool = True) -> Any:
        """Call a Simulation method.  A refused request is shown in the panel (the simulation is unchanged);
        a safety violation or a rule's error shows in the safety indicator.  Nothing raises into the
        notebook.  Then redraw."""
        self._busy = True
        result = None
        self._say("")
        try:
            result = method(*args)
        except (SafetyViolation, NodeError):
            pass                                 # recorded in sim.violation / sim.error; shown by refresh
        except (RaftlabError, ValueError, TypeError, KeyError) as exc:
            self._say(str(exc), bad=True)
        finally:
            self._busy = False
        if not self.tape.follows(self.sim) or self.sim.steps >= self.tape.steps:
            self.tape = self.sim.run
        if draw:
            self.refresh()
        else:
            self._stale = True
        return result

    def _on_play(self, change) -> None:
        """One frame of Play.  If the kernel fell behind the browser's ticks (they queue up while a frame
        is drawn), the simulation still advances but the frame is not drawn: Play keeps its speed in
        simulated time and catches up, instead of lagging further and further."""
        if change["new"] <= change["old"]:
            return                               # the stop button rewinds the Play counter: ignore
        if self.sim.violation is not None or self.sim.error is not None:
            self.play.playing = False
            return
        queued = time.monotonic() - self._last_tick < _QUEUED_S    # this tick waited for the last one
        self.advance(int(self.speed.value), draw=not queued)
        self._last_tick = time.monotonic()

    def _on_play_state(self, change) -> None:
        if not change["new"] and self._stale:
            self.refresh()                       # show the last frame a paused Play skipped

    def _on_slider(self, change) -> None:
        if not self._busy:
            self.go_to(int(change["new"]))

    def _on_message(self, what: str) -> None:
        mid = self.message_picker.value
        if mid is None:
            self._say("No message picked: there is no message in flight.", bad=True)
            return
        self._act(getattr(self.sim, what), mid)

    def _on_split(self) -> None:
        try:
            groups = parse_groups(self.groups_text.value)
        except OperatorError as exc:
            self._say(str(exc), bad=True)
            return
        self._act(self.sim.partition, *groups)

    def _on_add_server(self) -> None:
        name = self.new_server_text.value.strip()
        if not name:
            self._say("Type a name for the new server, like n4.", bad=True)
            return
        self._act(self.sim.add_server, name)

    def _on_client(self) -> None:
        target = None if self.target_picker.value == _ANY else self.target_picker.value
        self._act(self.sim.client_request, self.command_text.value, target)

    def _on_pre_vote(self, change) -> None:
        if self._busy or bool(change["new"]) == bool(self.sim.config.pre_vote):
            return
        self._act(self.sim.set_pre_vote, bool(change["new"]))

    def _on_upload(self, change) -> None:
        files = change["new"]
        if files:
            self.load_run(bytes(files[0]["content"]))

    def _on_load_path(self) -> None:
        path = self.load_path.value.strip()
        if not path:
            self._say("Type the path of a run saved with sim.save(path).", bad=True)
            return
        try:
            run = Run.load(path, impl=self.sim.rules)
        except ConfigError as exc:
            self._say(str(exc), bad=True)
            return
        self.load_run(run)

    # --- drawing ------------------------------------------------------------------------------------------
    def _say(self, text: str, bad: bool = False) -> None:
        color = _BAD if bad else "inherit"
        self.status.value = f"<span style='color:{color}'>{html.escape(text)}</span>" if text else ""

    def refresh(self) -> None:
        """Redraw the picture and update every pane from the simulation."""
        self._stale = False
        verdict = self._history_verdict() if "history" in self.views else None
        self.figure_output.value = self.renderer.png(self.sim, verdict)
        self.frames += 1
        sim = self.sim
        leader = sim.leader()
        who = f"leader <b>{leader.id}</b> (term {leader.current_term})" if leader else "no leader"
        self.title.value = (f"<span style='font-size:15px'><b>raftlab Explorer</b> &nbsp; t = {sim.now} ms"
                            f" &middot; step {sim.steps} &middot; {who}</span>")
        self._busy = True
        try:
            self.time_slider.max = max(self.tape.steps if self.tape.follows(sim) else sim.steps, sim.steps, 1)
            self.time_slider.value = sim.steps
            if bool(self.pre_vote.value) != bool(sim.config.pre_vote):
                self.pre_vote.value = bool(sim.config.pre_vote)
            self._update_message_picker()
            self._update_servers()
        finally:
            self._busy = False
        if "messages" in self.controls:
            self.message_table.value = (f"<div style='max-height:14em;overflow:auto;border:1px solid #ddd'>"
                                        f"{viz.message_table_html(sim, limit=40)}</div>")
        if "log" in self.controls:
            self.event_log.value = self._events_html()
            self.log_entries.value = self._log_html()
        if verdict is not None:
            self._update_history(verdict)
        self._update_safety()

    def _history_verdict(self) -> Verdict:
        """The clients' history checked (:func:`raftlab.linearizability.check`; again only if it changed).
        A pure check: unlike ``sim.check_history()`` it never stops the run."""
        history = self.sim.history()
        key = tuple((op.client, op.seq, op.invoked, op.completed, op.result) for op in history)
        if self.verdict is None or key != self._verdict_of:
            self.verdict = check_linearizable(history, max_states=_HISTORY_STATES)
            self._verdict_of = key
        return self.verdict

    def _history_problem_step(self, verdict: Verdict) -> int:
        """The step in which the answer that made ``verdict``'s history wrong arrived: the last answer among
        its operations, found in the event log (else: the current step)."""
        ids = {(op.client, op.seq) for op in verdict.operations if op.completed == verdict.replay_time}
        for ev in reversed(self.sim.trace):
            if isinstance(ev, ClientDone) and (ev.client, ev.seq) in ids and ev.time == verdict.replay_time:
                return ev.step
        return self.sim.steps

    def _update_history(self, verdict: Verdict) -> None:
        count = len(self.sim.history())
        if verdict.failed:
            ops = "; ".join(f"{op.client}#{op.seq} {' '.join(map(str, op.command))}" for op in verdict.operations)
            text = (f"<b style='color:{_BAD}'>&#10007; Clients' history NOT linearizable</b> (key "
                    f"{html.escape(repr(verdict.key))}, wrong by t={verdict.replay_time}): "
                    f"{html.escape(verdict.explanation)} <i>Cannot be ordered:</i> {html.escape(ops)}")
        elif verdict.unknown:
            text = (f"<span style='color:{_MUTED}'>Clients' history: not decided within the search budget "
                    f"({count} operations)</span>")
        else:
            text = (f"<span style='color:{_OK}'>&#10003; Clients' history linearizable</span> "
                    f"({count} operation{'' if count == 1 else 's'})")
        self.history_status.value = text
        self.history_jump_button.layout.display = "" if verdict.failed else "none"

    def _update_servers(self) -> None:
        """Follow the servers (one added, or gone after a rewind) and the configuration: the pickers list
        every server, the name box proposes the next free name, the key explains membership once it
        changed."""
        names = list(self.sim.names)
        if names != self._names:
            self._names = names
            for picker in (self.node_picker, self.remove_picker):
                current = picker.value
                picker.options = names
                picker.value = current if current in names else names[0]
            target = self.target_picker.value
            self.target_picker.options = [("any server", _ANY)] + [(n, n) for n in names]
            self.target_picker.value = target if target in names else _ANY
            self.new_server_text.value = viz.next_free_name(names)
        members = viz.membership(self.sim)
        if (members is not None) != self._legend_membership:
            self._legend_membership = members is not None
            self.legend.value = viz.legend_png(self.views, membership=self._legend_membership)
        if "membership" in self.controls:
            self.configuration.value = self._configuration_html(members)

    def _configuration_html(self, members: Optional[viz.Membership]) -> str:
        """``leader n1's configuration: {n1,n2,n3}+learner n4 (not committed yet)``."""
        ref = viz.reference_server(self.sim)
        whose = f"leader {ref.id}'s" if members is not None and members.leader else f"{ref.id}'s"
        if members is None:
            return (f"<span style='color:{_MUTED}'>configuration: {html.escape(str(ref.initial_configuration))} "
                    f"(the cluster's first)</span>")
        state = "committed" if members.configuration == members.committed else "not committed yet"
        return (f"<span>{whose} configuration: <b>{html.escape(str(members.configuration))}</b> "
                f"<span style='color:{_MUTED}'>({state})</span></span>")

    def _update_message_picker(self) -> None:
        envs = self.sim.in_flight()
        options = [(f"#{e.id} {e.message}  (due t={e.deliver_at})", e.id) for e in envs]
        current = self.message_picker.value
        self.message_picker.options = options
        ids = [e.id for e in envs]
        self.message_picker.value = current if current in ids else (ids[0] if ids else None)

    def _events_html(self) -> str:
        lines = []
        for ev in reversed(list(self.sim.trace)[-_ROWS_SHOWN:]):
            style = "font-weight:bold" if ev.level == "info" else f"color:{_MUTED}"
            if isinstance(ev, Violation):
                style = f"font-weight:bold;color:{_BAD}"
            lines.append(f"<div style='{style}'>step {ev.step:<5} t={ev.time:<6} {html.escape(ev.text)}</div>")
        body = "".join(lines) or f"<div style='color:{_MUTED}'>nothing has happened yet</div>"
        return ("<div style='font-family:var(--jp-code-font-family,monospace);font-size:12px;white-space:pre;"
                "height:16em;overflow:auto;background:#fff;color:#222;padding:4px 6px;border:1px solid #ddd'>"
                f"{body}</div>")

    def _log_html(self) -> str:
        rows = viz.log_table(self.sim)
        node = rows[0]["node"] if rows else "-"
        shown = rows[::-1][:_ROWS_SHOWN]
        table = html_table([f"{node}: index", "term", "command", "committed"],
                           ([r["index"], r["term"], r["command"], "yes" if r["committed"] else "no"] for r in shown),
                           "the log is empty", [CONFIG_ROW if r["config"] else "" for r in shown])
        return f"<div style='height:16em;overflow:auto;background:#fff;border:1px solid #ddd'>{table}</div>"

    def _problem_step(self) -> int:
        problem = self.sim.violation or self.sim.error
        verdict = self.sim.history_verdict
        if isinstance(problem, SafetyViolation) and problem.property == "Linearizability" and verdict is not None \
                and verdict.failed:
            return self._history_problem_step(verdict)   # not the step of the check: the step of the answer
        step = getattr(problem, "step", None)
        return step if isinstance(step, int) else self.sim.steps

    def _update_safety(self) -> None:
        sim = self.sim
        problem = sim.violation or sim.error
        badge = "padding:3px 12px;border-radius:12px;font-weight:bold;color:#fff;white-space:nowrap"
        if problem is None:
            self.safety.value = (f"<span style='{badge};background:{_OK}' title='every safety property "
                                 f"holds'>&#10003; safe</span>" if sim.checker is not None else
                                 f"<span style='color:{_MUTED}'>safety not checked</span>")
            self.jump_button.layout.display = "none"
            return
        if isinstance(problem, SafetyViolation):
            label, detail = f"&#10007; {html.escape(problem.property)} violated", problem.detail
        else:
            label, detail = "&#10007; a rule raised an error", str(problem)
        self.safety.value = f"<span style='{badge};background:{_BAD}' title='{html.escape(detail)}'>{label}</span>"
        self.jump_button.layout.display = ""
        self.play.playing = False
        step = self._problem_step()
        self._say(f"{detail} (step {step}). The simulation has stopped; 'Go to the step before' rewinds "
                  f"to step {max(step - 1, 0)}.", bad=True)


# --- redraw after a cell that changed a simulation from code -----------------------------------------------
_explorers: "weakref.WeakSet[Explorer]" = weakref.WeakSet()
_hooked = False


def _watch_cells(explorer: Explorer) -> None:
    """After each notebook cell, redraw the Explorers whose simulation that cell changed."""
    global _hooked
    _explorers.add(explorer)
    if _hooked:
        return
    try:
        from IPython import get_ipython
    except ImportError:        # pragma: no cover - IPython comes with ipywidgets
        return
    shell = get_ipython()
    if shell is None:
        return
    shell.events.register("post_run_cell", _refresh_stale)
    _hooked = True


def _refresh_stale(*_args: Any) -> None:
    for explorer in list(_explorers):
        if explorer.stale and explorer.comm is not None:
            explorer.refresh()
