"""The log view: one row of boxes per server, one box per log index, labelled with the entry's term."""
from __future__ import annotations

from typing import Any, Optional, Sequence, Union

from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import to_rgba
from numpy.typing import ArrayLike

from ..messages import format_command
from .members import MEMBER_WORDS, config_text, membership, reference_server
from .style import (
    BACKGROUND,
    BLOCKED,
    BLUE,
    CONFIG_COLOR,
    INK,
    MUTED,
    OK,
    ROLE_STYLE,
    new_axes,
    paint_background,
    role_key,
    term_color,
    write,
)

__all__ = ["draw_logs", "conflicts", "log_table", "CAPTION", "CONFIG_CAPTION"]

#: What the log view adds once the cluster's membership changed.
CONFIG_CAPTION = "purple outline, C = configuration entry"
CAPTION = ("number = the entry's term \u00b7 hatched = not committed \u00b7 black bar = commit index \u00b7 "
           "red = differs from the leader \u00b7 \u25bc = leader's next_index \u00b7 green line = match_index")
_CONFIG_CHARS = 80     # the list of configuration entries wraps after about this many characters
_CONFIG_LINE = 0.42    # and takes this much height a line
_MIN_ROWS = 7          # fewer servers do not make taller boxes

_Box = list[tuple[float, float]]
_RGBA = tuple[float, float, float, float]
_Key = tuple[str, Union[int, str]]         # (server, log index), or (server, "snapshot")


class _Entries(PolyCollection):
    """Boxes of log entries; ``keys[i]`` says which server and index box i shows."""

    def __init__(self, verts: Sequence[ArrayLike], keys: list[_Key], **kwargs: Any):
        super().__init__(verts, **kwargs)
        self.keys = keys


def conflicts(sim) -> dict[str, list[int]]:
    """For each server, the indexes where its log differs from the leader's: an entry of another term, or
    an entry the leader does not have (both will be overwritten).  Empty when there is no leader."""
    leader = sim.leader()
    if leader is None:
        return {}
    theirs = leader.log
    out: dict[str, list[int]] = {}
    for name, node in sim.nodes.items():
        if node is leader:
            continue
        log = node.log
        bad = [i for i in range(log.snapshot_index + 1, log.last_index + 1)
               if i > theirs.last_index or theirs.term_at(i) not in (None, log.term_at(i))]
        if bad:
            out[name] = bad
    return out


def _box(i: float, y: float, width: float = 0.88) -> _Box:
    x0, y0 = i - 0.44, y - 0.36
    return [(x0, y0), (x0 + width, y0), (x0 + width, y0 + 0.72), (x0, y0 + 0.72)]


def draw_logs(sim, ax: Optional[Axes] = None, *, max_entries: int = 12, legend: bool = True,
              title: bool = True) -> Axes:
    """Draw every server's log: one row per server, one box per index showing the entry's term.

    Committed entries are solid and uncommitted ones hatched; a black bar follows each server's
    ``commit_index``; entries that differ from the leader's at the same index are outlined in red.  On
    the followers' rows the leader's ``next_index`` is a blue triangle and its ``match_index`` a green
    line.  Only the last ``max_entries`` indexes are drawn.  A configuration entry (section 6: "special
    entries in the replicated log") has a purple outline and a "C"; once membership changed, the leader's
    configuration entries are listed under the rows, and a row that is not a voter's says so ("n4
    (learner, follower, t2)").  ``sim`` is only read."""
    ax = new_axes(ax, (7.2, 3.8))
    paint_background(ax)
    names = list(sim.names)
    nodes = [sim.nodes[n] for n in names]
    rows = len(nodes)
    last = max((n.log.last_index for n in nodes), default=0)
    lo = max(1, last - max_entries + 1)
    hi = lo + max_entries - 1
    leader = sim.leader()
    bad = conflicts(sim)
    small = rows > 5
    members = membership(sim)
    shown = _configurations_shown(sim, members, lo, hi)
    top = rows - 0.1 + (0.5 if title else 0)
    ax.axis("off")
    left = lo - (6.5 if members is not None else 5.0)     # room for "n4 (learner, follower, t2)"
    ax.set_xlim(left, hi + 2.6)
    below = _CONFIG_LINE * (shown.count("\n") + 1 if shown else 0)     # the configurations listed
    if legend:
        below += 0.6 + (0.3 if members is not None else 0)
    ax.set_ylim(top - max(rows, _MIN_ROWS) - 0.65 - below, top)

    for k in range(lo, hi + 1):
        write(ax, k, rows - 0.42, str(k), size=7.5, color=MUTED, va="bottom", gid="column")
    cells: dict[str, tuple[list[_Box], list[_RGBA], list[_Key]]] = {   # boxes, face colours, keys
        "committed": ([], [], []), "pending": ([], [], [])}
    conflict_boxes, config_boxes, discs, commits, matches, nexts = [], [], [], [], [], []
    for row, node in enumerate(nodes):
        y = rows - 1 - row
        log = node.log
        role = role_key(node)
        status = members.status[node.id] if members is not None else "voter"
        place = "" if status == "voter" else f"{MEMBER_WORDS[status]}, "
        write(ax, lo - 0.65, y, f"{node.id} ({place}{ROLE_STYLE[role].word}, t{node.current_term})",
              size=7.5 if small else 8.5, ha="right", weight="bold" if node is leader else "normal",
              color=MUTED if node.crashed or status == "removed" else INK, gid=f"row:{node.id}")
        alpha = 0.45 if node.crashed or status == "removed" else 1.0
        wrong = set(bad.get(node.id, ()))
        configs = set(log.config_indexes)
        for i in range(max(lo, log.snapshot_index + 1), log.last_index + 1):
            term = log.term_at(i)
            state = "committed" if i <= node.commit_index else "pending"
            boxes, faces, keys = cells[state]
            boxes.append(_box(i, y))
            faces.append(to_rgba(term_color(term), alpha))
            keys.append((node.id, i))
            if i in wrong:
                conflict_boxes.append(_box(i, y))
            if i in configs:            # a configuration entry: a purple outline and a "C" above its corner
                config_boxes.append(_box(i, y))
                write(ax, i - 0.40, y + 0.33, "C", size=6.5, weight="bold", color=CONFIG_COLOR, ha="left",
                      va="top", gid=f"config:{node.id}:{i}")
            if state == "pending":
                discs.append((i, y))
            write(ax, i, y, str(term), size=9, weight="bold" if state == "committed" else "normal",
                  color=BLOCKED if i in wrong else (MUTED if node.crashed else INK), gid=f"term:{node.id}:{i}")
        if log.snapshot_index >= lo:
            cells["committed"][0].append(_box(lo, y, log.snapshot_index - lo + 0.88))
            cells["committed"][1].append(to_rgba("#e0e0e0", alpha))
            cells["committed"][2].append((node.id, "snapshot"))
            write(ax, (lo + log.snapshot_index) / 2, y, f"snapshot \u2264{log.snapshot_index}", size=6.5,
                  color=MUTED, gid=f"snapshot:{node.id}")
        if node.commit_index >= lo:
            commits.append([(node.commit_index + 0.5, y - 0.45), (node.commit_index + 0.5, y + 0.45)])
        if leader is not None and node is not leader and not node.crashed and node.id in leader.next_index:
            nxt, match = leader.next_index[node.id], leader.match_index.get(node.id, 0)
            if lo <= nxt <= hi:
                nexts.append((nxt, y + 0.47))
            if match >= lo:
                matches.append([(lo - 0.44, y - 0.46), (min(match, hi) + 0.44, y - 0.46)])
            write(ax, hi + 0.65, y, f"next {nxt}\nmatch {match}", size=7.5, ha="left", color=MUTED,
                  gid=f"indexes:{node.id}")
    for state, (boxes, faces, keys) in cells.items():
        if boxes:
            coll = _Entries(boxes, keys, facecolors=faces, edgecolors=INK, linewidths=0.7, zorder=2,
                            hatch=None if state == "committed" else "////", hatchcolor="#a0a0a0",
                            gid=f"entries:{state}")
            ax.add_collection(coll, autolim=False)
    if discs:   # a white disc behind the term of a hatched box keeps it readable
        ax.scatter([d[0] for d in discs], [d[1] for d in discs], s=95, c=BACKGROUND, edgecolors="none",
                   zorder=3)
    if config_boxes:
        ax.add_collection(PolyCollection(config_boxes, facecolors="none", edgecolors=CONFIG_COLOR, linewidths=2.0,
                                         zorder=4, gid="entries:config"), autolim=False)
    if conflict_boxes:
        ax.add_collection(PolyCollection(conflict_boxes, facecolors="none", edgecolors=BLOCKED, linewidths=2.2,
                                         zorder=4, gid="entries:conflict"), autolim=False)
    if commits:
        ax.add_collection(LineCollection(commits, colors=INK, linewidths=2.6, capstyle="butt", zorder=4,
                                         gid="commit-index"), autolim=False)
    if matches:
        ax.add_collection(LineCollection(matches, colors=OK, linewidths=2.4, capstyle="butt", zorder=5,
                                         gid="match-index"), autolim=False)
    if nexts:
        ax.scatter([p[0] for p in nexts], [p[1] for p in nexts], marker="v", s=34, c=BLUE, edgecolors="none",
                   zorder=5, gid="next-index")
    if last == 0:
        write(ax, (lo + hi) / 2, (rows - 1) / 2, "every log is empty", size=9, color=MUTED, gid="empty")
    if title:
        write(ax, left + 0.1, top - 0.05, "Logs", size=10, weight="bold", ha="left", va="top", gid="title")
    if shown:
        write(ax, left + 0.1, -0.62, shown, size=7, color=CONFIG_COLOR, ha="left", va="top", gid="configurations")
    if legend:
        caption = CAPTION.replace(" \u00b7 red", "\nred") + ("\n" + CONFIG_CAPTION if members is not None else "")
        write(ax, (left + 0.1 + hi + 2.5) / 2, -0.62 - _CONFIG_LINE * (shown.count("\n") + 1 if shown else 0),
              caption, size=6.5, color=MUTED, va="top", gid="caption")
    return ax


def _configurations_shown(sim, members, lo: int, hi: int) -> str:
    """The last configuration entries of the reference server's log (the leader's) between ``lo`` and
    ``hi``, at most three, a few to a line: ``configurations in n2's log: 2 {n1,n2,n3}+learner n4 \u00b7
    3 {n1,n2,n3,n4} (not committed)``."""
    if members is None:
        return ""
    node = sim.nodes[members.reference]
    found = [f"{i} {node.log.entry(i).config}{'' if i <= node.commit_index else ' (not committed)'}"
             for i in node.log.config_indexes if lo <= i <= hi][-3:]
    if not found:
        return ""
    lines = [f"configurations in {node.id}'s log: {found[0]}"]
    for item in found[1:]:
        if len(lines[-1]) + len(item) > _CONFIG_CHARS:
            lines.append(item)
        else:
            lines[-1] += " \u00b7 " + item
    return "\n".join(lines)


def log_table(sim, node=None) -> list[dict]:
    """The log of ``node`` (default: the leader, else the server with the longest log) as rows: node,
    index, term, command, client (``c1#2``), committed, applied, and config (whether it is a
    configuration entry, whose command reads ``config {n1,n2,n3}+learner n4``)."""
    if node is None:
        chosen = reference_server(sim)
    else:
        chosen = sim.node(node)
    log = chosen.log
    rows = []
    for i in range(log.snapshot_index + 1, log.last_index + 1):
        entry = log.entry(i)
        command = config_text(entry.config) if entry.config is not None else format_command(entry.command)
        rows.append({"node": chosen.id, "index": i, "term": entry.term, "command": command,
                     "client": f"{entry.client_id}#{entry.seq}" if entry.client_id else "",
                     "committed": i <= chosen.commit_index, "applied": i <= chosen.last_applied,
                     "config": entry.config is not None})
    return rows
