"""The clients' history as a picture: one row per client, a bar per operation from the moment it was sent to
the moment its answer arrived (open-ended while it waits), coloured by kind; the operations a linearizability
verdict could not order are outlined in red, and a dashed red line marks the time by which it was already
wrong (``verdict.replay_time``).  Read from ``sim.history()``; ``sim`` is only read."""
from __future__ import annotations

from typing import Any, Optional

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..messages import format_command
from .style import BAD, BLUE, INK, MUTED, OK, PURPLE, new_axes, paint_background, write

__all__ = ["draw_history", "history_bars", "history_legend_handles"]

_KIND_COLOR = {"put": BLUE, "append": PURPLE, "get": OK}
_LABELS_UP_TO = 40          # name each operation on its bar when at most this many are shown


def history_bars(sim, verdict: Any = None, window: Optional[int] = None) -> list[dict]:
    """The bars to draw, oldest first: ``{"client", "row", "start", "end", "kind", "text", "pending", "bad"}``.
    ``bad``: the verdict (of :meth:`Simulation.check_history`) names the operation among those it could
    not order."""
    end_of_time = max(sim.now, 1)
    start = 0 if window is None else max(0, end_of_time - window)
    bad = set(getattr(verdict, "ids", ()) or ())
    clients = sorted({op.client for op in sim.history()}, key=lambda c: (len(c), c))
    rows = {c: len(clients) - 1 - k for k, c in enumerate(clients)}
    bars = []
    for op in sim.history():
        done = op.completed if op.completed is not None else end_of_time
        if done < start:
            continue
        answer = f" -> {op.result!r}" if op.completed is not None and op.command[0] == "get" else ""
        bars.append({"client": op.client, "row": rows[op.client], "start": max(op.invoked, start),
                     "end": max(done, op.invoked + 1), "kind": op.command[0], "pending": op.completed is None,
                     "text": f"{format_command(op.command)}{answer}", "bad": (op.client, op.seq) in bad})
    return bars


def draw_history(sim, ax: Optional[Axes] = None, *, verdict: Any = None, window: Optional[int] = None,
                 legend: bool = True, title: bool = True) -> Axes:
    """Draw the clients' operations over time (see the module); ``verdict`` (default: the last one of
    ``sim.check_history()``): outline the operations it could not order and mark when the history was
    already wrong; ``window``: the last ``window`` ms."""
    ax = new_axes(ax, (8.0, 2.8))
    paint_background(ax)
    if verdict is None:
        verdict = getattr(sim, "history_verdict", None)
    bars = history_bars(sim, verdict, window)
    end = max(sim.now, 1)
    start = 0 if window is None else max(0, end - window)
    rows = 1 + max((b["row"] for b in bars), default=0)
    ax.set_xlim(start, end + max(end - start, 1) * 0.03)
    ax.set_ylim(-0.7, rows - 0.3)
    for client, row in sorted({(b["client"], b["row"]) for b in bars}):
        write(ax, start, row, client, size=8, ha="right", offset=(-5, 0), gid=f"row:{client}")
    for (kind, pending, bad), group in _groups(bars).items():
        boxes = [[(b["start"], b["row"] - 0.3), (b["end"], b["row"] - 0.3), (b["end"], b["row"] + 0.3),
                  (b["start"], b["row"] + 0.3)] for b in group]
        ax.add_collection(PolyCollection(
            boxes, facecolors=_KIND_COLOR.get(kind, MUTED), alpha=0.45 if pending else 0.85,
            edgecolors=BAD if bad else INK, linewidths=2.2 if bad else 0.5, hatch="//" if pending else None,
            zorder=3 if bad else 2, gid=f"history:{kind}{':pending' if pending else ''}{':bad' if bad else ''}"),
            autolim=False)
    wrong = _wrong_time(verdict)
    if wrong is not None and start <= wrong <= end:
        ax.axvline(wrong, color=BAD, linestyle="--", linewidth=1.2, zorder=4, gid="history:wrong")
        write(ax, wrong, rows - 0.35, f"wrong by t={wrong}", size=7, ha="right", va="top", color=BAD,
              offset=(-3, 0), gid="history:wrong-label")
    if len(bars) <= _LABELS_UP_TO:
        late = start + 0.8 * (end - start)      # labels of bars this far right end at the bar's end instead
        for b in _roomy(bars, 0.07 * (end - start)):
            x, ha = (b["end"], "right") if b["start"] > late else (b["start"], "left")
            write(ax, x, b["row"] + 0.34, b["text"], size=6.5, ha=ha, va="bottom",
                  color=BAD if b["bad"] else INK, gid="history-label")
    if not bars:
        write(ax, (start + end) / 2, 0, "no client operation yet", size=9, color=MUTED, gid="empty")
    ax.set_yticks([])
    ax.tick_params(labelsize=7, colors=INK)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    if legend:
        ax.legend(handles=history_legend_handles(), fontsize=6.5, ncol=6, loc="upper left", frameon=False,
                  bbox_to_anchor=(0, -0.12))
    if title:
        ax.set_title("Clients' history: each operation from sent to answered", fontsize=10, color=INK,
                     loc="left", fontweight="bold")
    return ax


def history_legend_handles() -> list[Artist]:
    """The key to the history view (also drawn under the Explorer's picture)."""
    handles: list[Artist] = [Patch(facecolor=color, edgecolor=INK, label=kind) for kind, color in _KIND_COLOR.items()]
    handles.append(Patch(facecolor="white", edgecolor=INK, hatch="//", label="no answer yet"))
    handles.append(Patch(facecolor="white", edgecolor=BAD, linewidth=2, label="cannot be ordered"))
    handles.append(Line2D([], [], color=BAD, linestyle="--", label="wrong by this time"))
    return handles


def _roomy(bars: list[dict], room: float) -> list[dict]:
    """The bars whose label has room: the next bar of the same client starts at least ``room`` later
    (the last bar of a row always has room).  An operation the verdict names is always labelled."""
    shown = []
    for row in sorted({b["row"] for b in bars}):
        mine = sorted((b for b in bars if b["row"] == row), key=lambda b: b["start"])
        for b, after in zip(mine, mine[1:] + [None], strict=True):
            if b["bad"] or after is None or after["start"] - b["start"] >= room:
                shown.append(b)
    return sorted(shown, key=lambda b: (b["start"], b["row"]))


def _wrong_time(verdict: Any) -> Optional[int]:
    """When a failed verdict says the history was already wrong (the last answer its operations need),
    else None: the moment to rewind to, marked on the picture."""
    if verdict is None or not getattr(verdict, "failed", False):
        return None
    return getattr(verdict, "replay_time", None)


def _groups(bars: list[dict]) -> dict[tuple, list[dict]]:
    """The bars by (kind, pending, bad), in a fixed order (one collection each)."""
    out: dict[tuple, list[dict]] = {}
    for b in bars:
        out.setdefault((b["kind"], b["pending"], b["bad"]), []).append(b)
    return dict(sorted(out.items()))
