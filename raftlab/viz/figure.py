"""Whole figures: several views side by side, for a notebook (:func:`show`) or as PNG frames
(:class:`Renderer`, used by the Explorer)."""
from __future__ import annotations

import io
from functools import lru_cache
from typing import IO, TYPE_CHECKING, Any, Optional, Sequence

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .cluster import MEMBERS_NOTE, draw_cluster, member_handles
from .history import draw_history, history_legend_handles
from .logs import CAPTION, CONFIG_CAPTION, draw_logs
from .style import BACKGROUND, CONFIG_COLOR, INK, MESSAGE_STYLE, MUTED, ROLE_STYLE
from .timeline import draw_message_counts, draw_timeline

if TYPE_CHECKING:      # imported when first needed: it loads fonts, PIL and mathtext
    from matplotlib.backends.backend_agg import FigureCanvasAgg

__all__ = ["VIEWS", "figure", "show", "Renderer", "legend_png"]

_DRAW = {"cluster": draw_cluster, "logs": draw_logs, "timeline": draw_timeline, "counts": draw_message_counts,
         "history": draw_history}
#: The views that can be drawn, by name.
VIEWS = tuple(_DRAW)
# Views that set all their axes state each time, which a renderer can wipe cheaply between frames.
_WIPEABLE = ("cluster", "logs", "timeline")
# Views whose titles and legends the Explorer shows elsewhere (its header and its key).
_BARE = ("cluster", "logs", "history")


def check_views(views: Sequence[str]) -> tuple[str, ...]:
    """``views`` as a tuple, or ValueError naming the unknown ones and the choices."""
    views = (views,) if isinstance(views, str) else tuple(views)
    unknown = [v for v in views if v not in _DRAW]
    if not views or unknown or len(set(views)) != len(views):
        raise ValueError(f"views must be distinct names from {', '.join(VIEWS)}; got {list(views)!r}")
    return views


def _size(views: tuple[str, ...]) -> tuple[float, float]:
    others = len([v for v in views if v != "cluster"])
    if "cluster" in views and others:
        return (10.0, 4.1 if others == 1 else 5.8 if others == 2 else 7.5)
    if views == ("cluster",):
        return (6.2, 5.0)
    return (9.0, 3.2 * len(views))


def _arrange(fig: Figure, views: tuple[str, ...]) -> dict[str, Axes]:
    """The cluster on the left, the other views stacked on its right; otherwise one view per row."""
    others = [v for v in views if v != "cluster"]
    if "cluster" in views and others:
        grid = fig.add_gridspec(len(others), 2, width_ratios=(1.12, 0.88), wspace=0.02, hspace=0.32,
                                left=0.0, right=0.985, top=0.99, bottom=0.03)
        axes = {"cluster": fig.add_subplot(grid[:, 0])}
        for k, v in enumerate(others):
            axes[v] = fig.add_subplot(grid[k, 1])
        return axes
    grid = fig.add_gridspec(len(views), 1, hspace=0.45, left=0.07, right=0.97, top=0.93, bottom=0.1)
    return {v: fig.add_subplot(grid[k, 0]) for k, v in enumerate(views)}


def figure(sim, views: Sequence[str] = ("cluster", "logs"), fig: Optional[Figure] = None) -> Figure:
    """Draw ``views`` of ``sim`` side by side in one figure (a new pyplot figure unless ``fig`` is
    given) and return it."""
    views = check_views(views)
    if fig is None:
        import matplotlib.pyplot as plt
        fig = plt.figure(figsize=_size(views), facecolor=BACKGROUND)
    for view, ax in _arrange(fig, views).items():
        _DRAW[view](sim, ax)
    return fig


def show(sim, views: Sequence[str] = ("cluster", "logs")) -> None:
    """Draw ``views`` of ``sim`` in one figure and show it (``plt.show()``)."""
    import matplotlib.pyplot as plt
    figure(sim, views)
    plt.show()


def _wipe(ax: Axes) -> None:
    """Remove what was drawn (every artist added to ``ax``, inset axes, the legend), keeping the axes with
    their background, spines, axis and titles (cheaper than ``ax.clear()``, which rebuilds the axis)."""
    # Together these lists hold every artist added to the Axes, each once.
    drawn: list[Artist] = [*ax.artists, *ax.collections, *ax.images, *ax.lines, *ax.patches, *ax.tables,
                           *ax.texts, *ax.child_axes]
    legend = ax.get_legend()
    if legend is not None:
        drawn.append(legend)
    for artist in drawn:
        try:
            artist.remove()
        except (NotImplementedError, ValueError):
            pass
    ax.legend_ = None


class Renderer:
    """Draws frames of a simulation as PNG bytes, reusing one figure.

    No pyplot: the figure never shows up in a notebook by itself and never needs closing.  Frames are
    compact (no titles, no legends: see :func:`legend_png`), and the cluster and log views are wiped
    artist by artist instead of rebuilt, because matplotlib is the bottleneck of a redraw."""

    def __init__(self, views: Sequence[str] = ("cluster", "logs"), dpi: int = 100):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        self.views = check_views(views)
        self.dpi = dpi
        self.figure = Figure(figsize=_size(self.views), dpi=dpi, facecolor=BACKGROUND)
        self.canvas = FigureCanvasAgg(self.figure)
        self.axes = _arrange(self.figure, self.views)
        self.frames = 0

    def draw(self, sim, verdict: Any = None) -> None:
        """Draw ``sim`` on the figure (without rendering pixels); ``verdict``: the linearizability verdict
        the history view shows (default: the simulation's last ``check_history()``)."""
        for view, ax in self.axes.items():
            if view in _WIPEABLE:
                _wipe(ax)
            else:
                ax.clear()
            if view == "history":
                draw_history(sim, ax, verdict=verdict, legend=False, title=False)
            else:
                _DRAW[view](sim, ax, legend=view not in _BARE, title=view not in _BARE)
        self.frames += 1

    def png(self, sim, verdict: Any = None) -> bytes:
        """Draw ``sim`` (see :meth:`draw`) and return the frame as PNG bytes."""
        self.draw(sim, verdict)
        self.canvas.draw()
        buf = io.BytesIO()
        _encode(self.canvas, buf)
        return buf.getvalue()


def _encode(canvas: FigureCanvasAgg, buf: IO[bytes]) -> None:
    """The pixels already drawn by canvas.draw(), as a PNG (fast compression: frames are short-lived)."""
    from PIL import Image
    rgba = canvas.buffer_rgba()
    Image.frombuffer("RGBA", (rgba.shape[1], rgba.shape[0]), rgba, "raw", "RGBA", 0, 1) \
        .convert("RGB").save(buf, format="png", compress_level=1)


@lru_cache(maxsize=16)
def legend_png(views: tuple[str, ...] = ("cluster", "logs"), dpi: int = 100, width: float = 10.0,
               membership: bool = False) -> bytes:
    """A key to the Explorer's pictures (roles, message kinds, how to read the logs and the clients'
    history), drawn once.  ``membership``: also the servers' places in the configuration (voter, learner,
    leaving, removed) and how configurations show, for a cluster whose membership changed."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    views = check_views(views)
    lines = [("roles", 1)] + [("members", 1)] * (membership and "cluster" in views) \
        + [("messages", 2)] * ("cluster" in views) + [("logs", 1 + membership)] * ("logs" in views) \
        + [("history", 1)] * ("history" in views)
    height = 0.27 * sum(n for _, n in lines) + 0.04
    fig = Figure(figsize=(width, height), dpi=dpi, facecolor=BACKGROUND)
    FigureCanvasAgg(fig)
    y = 1.0
    common: dict[str, Any] = dict(loc="upper left", frameon=False, labelcolor=INK, borderaxespad=0.1,
                                  borderpad=0.1, handletextpad=0.25, columnspacing=1.1, fontsize=8)
    for what, n in lines:
        if what == "roles":
            handles = [Line2D([], [], ls="none", marker=st.marker, markersize=8, markerfacecolor=st.color,
                              markeredgecolor=INK, label=st.word) for st in ROLE_STYLE.values()]
            handles.append(Line2D([], [], ls="none", marker="o", markersize=9, markerfacecolor="none",
                                  markeredgecolor="#6f6f6f", markeredgewidth=2.2,
                                  label="ring = election timer (the arc left is the time left)"))
            fig.legend(handles=handles, bbox_to_anchor=(0.0, y), ncol=len(handles), **common)
        elif what == "members":
            fig.legend(handles=member_handles() + [Patch(color="none", label=MEMBERS_NOTE)],
                       bbox_to_anchor=(0.0, y), ncol=5, **common)
        elif what == "messages":
            handles = [Line2D([], [], ls="none", marker=st.marker, markersize=7,
                              markerfacecolor=st.color if st.filled else BACKGROUND,
                              markeredgecolor=INK if st.filled else st.color, label=st.label)
                       for st in MESSAGE_STYLE.values()]
            handles.append(Line2D([], [], ls="none", marker="X", markersize=8, markerfacecolor="#d62728",
                                  markeredgecolor=BACKGROUND, label="lost message"))
            fig.legend(handles=handles, bbox_to_anchor=(0.0, y), ncol=7, **common)
        elif what == "history":
            fig.legend(handles=history_legend_handles(), bbox_to_anchor=(0.0, y), ncol=7,
                       title="Clients' history (a bar from sent to answered):", alignment="left",
                       title_fontsize=8, **common)
        else:
            fig.text(0.006, y - 0.5 * 0.27 / height, "Logs: " + CAPTION, fontsize=8, color=MUTED, va="center")
            if membership:
                fig.text(0.006, y - 1.5 * 0.27 / height, "Logs: " + CONFIG_CAPTION + "; below the logs, the "
                         "configurations in the leader's log", fontsize=8, color=CONFIG_COLOR, va="center")
        y -= n * 0.27 / height
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor=BACKGROUND)
    return buf.getvalue()
