"""What happened over time: roles and terms per server, the commit index, partitions; message counts."""
from __future__ import annotations

from typing import Any, Optional, Sequence

from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.lines import Line2D
from numpy.typing import ArrayLike

from ..events import Delivered, NetworkState, NodeState
from .style import BLOCKED, BLUE, INK, MUTED, OK, ORANGE, PURPLE, ROLE_STYLE, SKY, new_axes, paint_background, write

__all__ = ["draw_timeline", "draw_message_counts", "message_counts", "role_intervals"]

_HEIGHT = {"leader": 0.8, "candidate": 0.56, "pre-candidate": 0.46, "follower": 0.3, "crashed": 0.7}


class _RoleBoxes(PolyCollection):
    """The timeline's boxes of one role; ``owners[i]`` is the server box i belongs to."""

    def __init__(self, verts: Sequence[ArrayLike], owners: list[str], **kwargs: Any):
        super().__init__(verts, **kwargs)
        self.owners = owners


def role_intervals(sim) -> dict[str, list[tuple[int, int, str, int]]]:
    """For each server, the intervals ``(start, end, role or "crashed", term)`` of ``sim.timeline``, up
    to ``sim.now``; an interval of zero length (changed twice in one millisecond) is left out."""
    last: dict[str, tuple] = {}
    out: dict[str, list] = {n: [] for n in sim.names}
    for rec in sim.timeline:
        if not isinstance(rec, NodeState):
            continue
        t, name = rec.time, rec.node
        state = ("crashed" if rec.crashed else rec.role, rec.term)
        prev = last.get(name)
        if prev is not None and (prev[1], prev[2]) == state:
            continue                                  # only the commit index changed
        if prev is not None and t > prev[0]:
            out[name].append((prev[0], t, prev[1], prev[2]))
        last[name] = (t, *state)
    for name, (t, role, term) in last.items():
        if sim.now > t:
            out[name].append((t, sim.now, role, term))
    return out


def _split_spans(sim) -> list[tuple[int, int]]:
    """Times when a partition or a cut link was in place: [(start, end)]."""
    spans, opened = [], None
    for rec in sim.timeline:
        if not isinstance(rec, NetworkState):
            continue
        t, split = rec.time, rec.split
        if split and opened is None:
            opened = t
        elif not split and opened is not None:
            spans.append((opened, t))
            opened = None
    if opened is not None:
        spans.append((opened, sim.now))
    return spans


def _commit_steps(sim) -> list[tuple[int, int]]:
    """The highest commit index of any server over time, as (time, value) changes."""
    best, out = 0, [(0, 0)]
    for rec in sim.timeline:
        if isinstance(rec, NodeState) and rec.commit_index > best:
            best = rec.commit_index
            out.append((rec.time, best))
    return out


def draw_timeline(sim, ax: Optional[Axes] = None, *, window: Optional[int] = None, legend: bool = True,
                  title: bool = True) -> Axes:
    """One row per server: its role over time (the taller the bar, the closer to leader; hatched while
    crashed) with its term written where it changes; red shading while the network is partitioned or a
    link is cut; on top, the highest commit index in the cluster.  ``window``: only the last ``window``
    ms.  Read from ``sim.timeline``; ``sim`` is only read."""
    ax = new_axes(ax, (8.0, 3.4))
    paint_background(ax)
    names = list(sim.names)
    rows = len(names)
    end = max(sim.now, 1)
    start = 0 if window is None else max(0, end - window)
    span = max(end - start, 1)
    lo_band, hi_band = rows - 0.25, rows + 0.85
    ax.set_xlim(start, end + span * 0.05)
    ax.set_ylim(-0.6, hi_band + 0.35)
    intervals = role_intervals(sim)
    boxes: dict[str, tuple[list[list[tuple[float, float]]], list[str]]] = {}   # role -> (boxes, their servers)
    for row, name in enumerate(names):
        y = rows - 1 - row
        write(ax, start, y, name, size=8, ha="right", offset=(-5, 0), gid=f"row:{name}")
        last_term, last_label = None, -1e18
        for t0, t1, role, term in intervals[name]:
            if t1 <= start:
                last_term = term
                continue
            x0, h = max(t0, start), _HEIGHT[role]
            found, owners = boxes.setdefault(role, ([], []))
            found.append([(x0, y - h / 2), (t1, y - h / 2), (t1, y + h / 2), (x0, y + h / 2)])
            owners.append(name)
            if term != last_term and term and role != "crashed" and x0 - last_label > span * 0.03:
                write(ax, x0, y + 0.42, f"t{term}", size=6.5, ha="left", va="bottom", gid="term-label")
                last_label = x0
            last_term = term
    for role in ("follower", "pre-candidate", "candidate", "leader", "crashed"):
        if role in boxes:
            found, owners = boxes[role]
            coll = _RoleBoxes(found, owners, facecolors=ROLE_STYLE[role].color, edgecolors=INK, linewidths=0.5,
                              hatch="xxx" if role == "crashed" else None, zorder=2, gid=f"timeline:{role}")
            ax.add_collection(coll, autolim=False)
    for s0, s1 in _split_spans(sim):
        if s1 > start:
            ax.axvspan(max(s0, start), max(s1, start + 1e-9), color=BLOCKED, alpha=0.09, zorder=0,
                       gid="partition")
    # The commit index, in a band above the rows.
    steps = _commit_steps(sim)
    top = max(c for _, c in steps) or 1
    scale = (hi_band - lo_band) / top
    xs, ys, value = [], [], 0
    for t, c in steps:
        if t > start:
            xs += [t, t]
            ys += [lo_band + value * scale, lo_band + c * scale]
        value = c
        if t <= start:
            xs, ys = [start], [lo_band + value * scale]
    xs.append(end)
    ys.append(lo_band + value * scale)
    ax.add_line(Line2D(xs, ys, color=INK, lw=1.3, zorder=3, gid="commit-index"))
    write(ax, end, ys[-1], f" {value}", size=7, ha="left", gid="commit-value")
    write(ax, start, (lo_band + hi_band) / 2, "commit", size=8, ha="right", offset=(-5, 0), gid="row:commit")
    ax.set_yticks([])
    ax.tick_params(axis="x", labelsize=7, colors=INK, length=2)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(MUTED)
    if legend:
        ax.set_xlabel("time (ms) \u00b7 taller bar: closer to leader (follower, pre-candidate, candidate, leader)"
                      " \u00b7 hatched: crashed \u00b7 red: partition", fontsize=7, color=MUTED)
    if title:
        ax.set_title("Timeline", fontsize=10, color=INK, loc="left", fontweight="bold")
    return ax


_KIND_COLORS = {"RequestVote": ORANGE, "RequestVoteReply": OK, "AppendEntries": BLUE,
                "AppendEntriesReply": SKY, "InstallSnapshot": PURPLE, "InstallSnapshotReply": "#e7b6d3",
                "ClientRequest": "#444444", "ClientReply": "#9a9a9a"}


def message_counts(sim, bins: int = 20) -> tuple[list[float], float, dict[str, list[int]]]:
    """Messages delivered per kind in ``bins`` equal slices of the time covered by ``sim.trace``.
    Returns (slice start times, slice width, {kind: counts}), kinds in a fixed order."""
    start = sim.trace[0].time if sim.trace else 0
    width = max(sim.now - start, 1) / bins
    counts: dict[str, list[int]] = {}
    for ev in sim.trace:
        if not isinstance(ev, Delivered):
            continue
        k = min(int((ev.time - start) / width), bins - 1)
        msg = ev.message
        kind = msg.kind.replace("RequestVote", "PreVote") if getattr(msg, "pre_vote", False) else msg.kind
        counts.setdefault(kind, [0] * bins)[k] += 1
    order = list(_KIND_COLORS)
    ordered = {k: counts[k] for k in sorted(counts, key=lambda k: (order.index(k) if k in order else 99, k))}
    return [start + k * width for k in range(bins)], width, ordered


def draw_message_counts(sim, ax: Optional[Axes] = None, *, bins: int = 20, legend: bool = True,
                        title: bool = True) -> Axes:
    """Messages delivered per kind over time (stacked bars; replies dotted), from the event log."""
    ax = new_axes(ax, (7.0, 3.0))
    paint_background(ax)
    starts, width, counts = message_counts(sim, bins)
    bottom = [0] * bins
    for kind, values in counts.items():
        ax.bar(starts, values, width=width * 0.9, bottom=bottom, align="edge",
               color=_KIND_COLORS.get(kind, MUTED), edgecolor=INK, linewidth=0.3,
               hatch="..." if kind.endswith("Reply") else None, label=kind, gid=f"count:{kind}")
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    if not counts:
        write(ax, 0.5, 0.5, "no message delivered yet", size=9, color=MUTED, gid="empty")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
    elif legend:
        ax.legend(fontsize=6.5, ncol=4, labelcolor=INK, loc="upper left", frameon=True, facecolor="#ffffff",
                  edgecolor="none", framealpha=0.85, handlelength=1.2, columnspacing=0.8)
    ax.tick_params(labelsize=7, colors=INK)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel("time (ms)", fontsize=7, color=MUTED)
    ax.set_ylabel("messages delivered", fontsize=7, color=MUTED)
    if title:
        ax.set_title("Messages delivered, per kind", fontsize=10, color=INK, loc="left", fontweight="bold")
    return ax
