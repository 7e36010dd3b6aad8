"""How things look: colours, marker shapes, and fast text labels.

Colour is never the only clue: every role and message kind also has a shape (and roles a word), so the
pictures read in grayscale and for colour-blind students.  The colours are the Okabe-Ito palette.
Backgrounds are explicit (never transparent), so a figure looks the same in JupyterLab's light and
dark themes.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Optional

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.font_manager import FontProperties
from matplotlib.path import Path
from matplotlib.textpath import TextPath
from matplotlib.transforms import Bbox, IdentityTransform

from ..messages import (
    AppendEntries,
    AppendEntriesReply,
    ClientReply,
    InstallSnapshot,
    InstallSnapshotReply,
    Message,
    RequestVote,
    RequestVoteReply,
)

BACKGROUND = "#ffffff"
INK = "#222222"
MUTED = "#6b6b6b"
LINK = "#c8c8c8"
BLOCKED = "#d62728"
OK = "#009E73"          # Okabe-Ito bluish green
BAD = "#D55E00"         # Okabe-Ito vermillion
BLUE = "#0072B2"
SKY = "#56B4E9"
ORANGE = "#E69F00"
YELLOW = "#F0E442"
PURPLE = "#CC79A7"


@dataclass(frozen=True)
class RoleStyle:
    color: str
    marker: str
    text_color: str
    word: str


#: Role (or "crashed") -> fill colour, marker shape, colour of the name inside, and the word shown.
ROLE_STYLE = {
    "follower": RoleStyle("#ffffff", "o", INK, "follower"),
    "pre-candidate": RoleStyle(YELLOW, "D", INK, "pre-candidate"),
    "candidate": RoleStyle(ORANGE, "s", INK, "candidate"),
    "leader": RoleStyle(BLUE, "h", "#ffffff", "leader"),
    "crashed": RoleStyle("#bdbdbd", "o", "#555555", "crashed"),
}


@dataclass(frozen=True)
class MemberStyle:
    edge: str
    linestyle: Any
    linewidth: float
    label: str


#: A server's place in the configuration (see :mod:`raftlab.viz.membership`) -> its outline, and the words
#: of the key.  A removed server is also drawn faded (:data:`FADED`); the word is in its caption too.
MEMBER_STYLE = {
    "voter": MemberStyle(INK, "-", 1.6, "voter"),
    "learner": MemberStyle(INK, (0, (1.2, 1.6)), 1.9, "learner (no vote)"),
    "leaving": MemberStyle(BAD, "-", 2.8, "leaving"),
    "removed": MemberStyle(INK, "-", 1.2, "removed"),
}
#: Opacity of a server that is in no configuration any more.
FADED = 0.3
#: Outline of a configuration entry in the log view.
CONFIG_COLOR = PURPLE


@dataclass(frozen=True)
class MessageStyle:
    marker: str
    color: str
    filled: bool
    size: float
    label: str


#: Message style key -> how a message in flight is drawn.  The shape is the kind (triangle up: vote
#: request, triangle down: vote reply, square: AppendEntries, diamond: its reply, pentagon: snapshot,
#: star: client); a hollow reply was rejected.
MESSAGE_STYLE = {
    "RequestVote": MessageStyle("^", ORANGE, True, 75, "RequestVote"),
    "PreVote": MessageStyle("^", ORANGE, False, 75, "PreVote"),
    "VoteGranted": MessageStyle("v", OK, True, 75, "vote granted"),
    "VoteRejected": MessageStyle("v", BAD, False, 75, "vote rejected"),
    "AppendEntries": MessageStyle("s", BLUE, True, 80, "AppendEntries"),
    "Heartbeat": MessageStyle("s", SKY, True, 45, "heartbeat"),
    "AppendOk": MessageStyle("D", OK, True, 50, "append ok"),
    "AppendRejected": MessageStyle("D", BAD, False, 50, "append rejected"),
    "InstallSnapshot": MessageStyle("p", PURPLE, True, 85, "InstallSnapshot"),
    "SnapshotReply": MessageStyle("p", PURPLE, False, 65, "snapshot reply"),
    "ClientRequest": MessageStyle("*", "#444444", True, 120, "client request"),
    "ClientReply": MessageStyle("*", OK, True, 120, "client reply"),
    "ClientRedirect": MessageStyle("*", BAD, False, 120, "client: not leader"),
}

GROUP_TINTS = ("#cfe3f5", "#fde0c5", "#d5efd9", "#eadcf2", "#f7f0c4", "#e0e0e0")
GROUP_LETTERS = "ABCDEFGHIJ"
TERM_COLORS = ("#dbe9f6", "#fde2c8", "#d6f0e0", "#f3dcef", "#fbf3c5", "#e2e2f6", "#f9d9d5", "#dff2f4")


def message_style(msg: Message) -> str:
    """The :data:`MESSAGE_STYLE` key of a message: its kind and, for a reply, whether it was granted."""
    if isinstance(msg, RequestVote):
        return "PreVote" if msg.pre_vote else "RequestVote"
    if isinstance(msg, RequestVoteReply):
        return "VoteGranted" if msg.vote_granted else "VoteRejected"
    if isinstance(msg, AppendEntries):
        return "Heartbeat" if not msg.entries else "AppendEntries"
    if isinstance(msg, AppendEntriesReply):
        return "AppendOk" if msg.success else "AppendRejected"
    if isinstance(msg, InstallSnapshot):
        return "InstallSnapshot"
    if isinstance(msg, InstallSnapshotReply):
        return "SnapshotReply"
    if isinstance(msg, ClientReply):
        return "ClientReply" if msg.success else "ClientRedirect"
    return "ClientRequest"


def role_key(node) -> str:
    """The :data:`ROLE_STYLE` key of a server: its role, or "crashed"."""
    return "crashed" if node.crashed else node.role.value


def term_color(term: int) -> str:
    return TERM_COLORS[term % len(TERM_COLORS)]


# --- text as paths ----------------------------------------------------------------------------------------
# Matplotlib draws each glyph of a Text with Python code (about 0.08 ms a glyph here), and each artist has
# its own overhead: one frame of the Explorer spent ~70 ms on its labels.  Instead, every label of an Axes
# goes into one artist, :class:`Labels`, which draws them all as filled glyph outlines (cached: labels repeat
# from frame to frame) in a single call per colour.

_CAP = 0.73        # cap height, as a fraction of the font size
_LINE = 1.22       # line spacing


@lru_cache(maxsize=8192)
def _outline(text: str, size: float, weight: str, ha: str, va: str) -> Path:
    """The outline of ``text`` in points, placed relative to its anchor point by ``ha``/``va``
    (lines stacked downwards)."""
    prop = FontProperties(family="DejaVu Sans", size=size, weight=weight)
    lines = text.split("\n")
    paths, widths = [], []
    for k, line in enumerate(lines):
        tp = TextPath((0, -k * _LINE * size), line, prop=prop) if line else None
        if tp is not None and len(tp.vertices):
            paths.append(tp)
            widths.append(tp.get_extents().x1)
    width = max(widths, default=0.0)
    cap, drop = _CAP * size, (len(lines) - 1) * _LINE * size
    dx = {"left": 0.0, "center": -width / 2, "right": -width}[ha]
    dy = {"top": -cap, "center": (drop - cap) / 2, "bottom": drop, "baseline": 0.0}[va]
    if not paths:
        return Path(np.zeros((0, 2)), np.zeros(0, dtype=Path.code_type))
    path = Path.make_compound_path(*paths)
    return Path(np.asarray(path.vertices) + (dx, dy), path.codes)


@lru_cache(maxsize=4096)
def text_width(text: str, size: float, weight: str = "normal") -> float:
    """The width of ``text`` (its widest line) in points, as :func:`write` draws it: the right-most point of
    its glyph outlines (control points included, which is close enough and much cheaper than the exact
    extents of the curves)."""
    vertices = np.asarray(_outline(text, size, weight, "left", "baseline").vertices)
    return float(vertices[:, 0].max()) if len(vertices) else 0.0


@dataclass(frozen=True)
class Label:
    """One text label: its anchor (data coordinates), text, style and gid."""
    x: float
    y: float
    text: str
    size: float
    color: str
    weight: str
    ha: str
    va: str
    offset: tuple[float, ...]
    gid: Optional[str]

    def get_text(self) -> str:
        return self.text

    def get_gid(self) -> Optional[str]:
        return self.gid


class Labels(Artist):
    """Every label of one Axes, drawn in one go as filled glyph outlines (see :func:`write`)."""

    def __init__(self, ax: Axes, zorder: float = 6):
        super().__init__()
        self.items: list[Label] = []
        self.set_zorder(zorder)
        ax.add_artist(self)
        self.set_clip_on(False)

    def _groups(self, renderer) -> dict[str, Path]:
        ax = self.axes
        if not self.items or ax is None:         # nothing written, or taken off its Axes
            return {}
        anchors = ax.transData.transform(np.array([(i.x, i.y) for i in self.items], dtype=float))
        scale = renderer.points_to_pixels(1.0)
        verts: dict[str, list] = {}
        codes: dict[str, list] = {}
        for item, (ax_, ay_) in zip(self.items, anchors, strict=True):
            outline = _outline(item.text, item.size, item.weight, item.ha, item.va)
            points = np.asarray(outline.vertices)
            if not len(points):
                continue
            v = (points + item.offset) * scale + (ax_, ay_)
            verts.setdefault(item.color, []).append(v)
            codes.setdefault(item.color, []).append(outline.codes)
        return {c: Path(np.concatenate(verts[c]), np.concatenate(codes[c])) for c in verts}

    def draw(self, renderer) -> None:
        if not self.get_visible():
            return
        for color, path in self._groups(renderer).items():
            gc = renderer.new_gc()
            gc.set_linewidth(0)
            gc.set_antialiased(True)
            gc.set_foreground(color)
            renderer.draw_path(gc, path, IdentityTransform(), to_rgba(color))
            gc.restore()
        self.stale = False

    def get_window_extent(self, renderer=None) -> Bbox:
        if renderer is None:
            # Agg canvases (Renderer, the notebook's inline backend) have get_renderer; the base class does not.
            renderer = self.figure.canvas.get_renderer()  # type: ignore[attr-defined]
        extents = [np.asarray(p.vertices) for p in self._groups(renderer).values()]
        if not extents:
            return Bbox.null()
        return Bbox.union([Bbox.from_extents(*v.min(axis=0), *v.max(axis=0)) for v in extents])


def write(ax: Axes, x: float, y: float, text: str, *, size: float = 8, color: str = INK,
          weight: str = "normal", ha: str = "center", va: str = "center",
          offset: tuple[float, float] = (0.0, 0.0), gid: Optional[str] = None) -> Label:
    """Write ``text`` at data point (x, y) of ``ax`` (``offset`` in points); ``ha``/``va`` as for
    matplotlib's text.  Read labels back with :func:`labels`."""
    layer: Optional[Labels] = getattr(ax, "_raftlab_labels", None)
    if layer is None or layer.axes is not ax:
        layer = Labels(ax)
        # Kept on its Axes, where the next write() (and tests) find it; Axes declares no such attribute.
        ax._raftlab_labels = layer  # type: ignore[attr-defined]
    label = Label(float(x), float(y), str(text), float(size), color, weight, ha, va, tuple(offset), gid)
    layer.items.append(label)
    layer.stale = True
    return label


def labels(ax: Axes, gid_prefix: Optional[str] = None) -> list[str]:
    """Every text on ``ax`` (matplotlib Text and labels from :func:`write`), optionally only those whose
    gid starts with ``gid_prefix``, in the order they were drawn."""
    found: list = list(ax.texts)
    for artist in ax.artists:
        if isinstance(artist, Labels):
            found.extend(artist.items)
    if gid_prefix is not None:
        found = [t for t in found if (t.get_gid() or "").startswith(gid_prefix)]
    return [t.get_text() for t in found]


def label_items(ax: Axes, gid_prefix: str = "") -> list[Label]:
    """The :class:`Label` objects written on ``ax`` (with position, colour and weight), by gid prefix."""
    return [item for artist in ax.artists if isinstance(artist, Labels) for item in artist.items
            if (item.gid or "").startswith(gid_prefix)]


def new_axes(ax: Optional[Axes], size: tuple[float, float]) -> Axes:
    """``ax``, or the axes of a new pyplot figure (shown by the notebook at the end of the cell)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt
    _fig, ax = plt.subplots(figsize=size, facecolor=BACKGROUND)
    return ax


def paint_background(ax: Axes) -> None:
    ax.set_facecolor(BACKGROUND)
    if ax.figure is not None:
        ax.figure.set_facecolor(BACKGROUND)
