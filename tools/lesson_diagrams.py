"""Draw the lessons' fixed diagrams (the ones not drawn from a simulation) into notebooks/images/.

    python tools/lesson_diagrams.py

The lessons show them with a Markdown image link (`![...](images/roles.png)`), which works in JupyterLab and
on GitHub without running anything. Colours and shapes follow raftlab.viz (Okabe-Ito colours, and a word and
a shape besides each colour), so the diagrams and the Explorer read alike. Kept small: modest size and dpi.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

from raftlab.viz import ROLE_STYLE  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "notebooks" / "images"
INK = "#222222"
DPI = 80


def _box(ax, x, y, text, role, w=2.2, h=0.9):
    st = ROLE_STYLE[role]
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.08",
                                fc=st.color, ec=INK, lw=1.6))
    ax.text(x, y, text, ha="center", va="center", fontsize=12, fontweight="bold", color=st.text_color)


def _arrow(ax, a, b, text, rad=0.0, dx=0.0, dy=0.0, fontsize=9):
    ax.add_patch(FancyArrowPatch(a, b, connectionstyle=f"arc3,rad={rad}", arrowstyle="-|>",
                                 mutation_scale=14, lw=1.3, color=INK))
    mx, my = (a[0] + b[0]) / 2 + dx, (a[1] + b[1]) / 2 + dy
    ax.text(mx, my, text, ha="center", va="center", fontsize=fontsize, color=INK,
            bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none"))


def roles() -> plt.Figure:
    """The three roles and the moves between them (after Figure 4 of the paper)."""
    fig, ax = plt.subplots(figsize=(8.4, 3.3))
    ax.set_xlim(-0.5, 12.5)
    ax.set_ylim(-2.3, 2.8)
    ax.axis("off")
    f, c, l = (1.3, 0.0), (6.0, 0.0), (10.7, 0.0)
    _box(ax, *f, "follower", "follower")
    _box(ax, *c, "candidate", "candidate")
    _box(ax, *l, "leader", "leader")
    ax.annotate("starts up", xy=(f[0] - 1.1, 0.35), xytext=(-0.3, 1.6), fontsize=9, color=INK,
                arrowprops=dict(arrowstyle="-|>", color=INK, lw=1.2))
    _arrow(ax, (f[0] + 1.2, 0.25), (c[0] - 1.2, 0.25), "times out:\nnew term, votes for itself", dy=0.75)
    _arrow(ax, (c[0] + 1.2, 0.25), (l[0] - 1.2, 0.25), "votes from\na majority", dy=0.7)
    _arrow(ax, (c[0] - 1.2, -0.25), (f[0] + 1.2, -0.25), "hears a leader\nor a higher term", dy=-0.62)
    _arrow(ax, (l[0] - 0.4, -0.5), (f[0] + 0.4, -0.5), "sees a higher term", rad=-0.25, dy=-1.15)
    ax.add_patch(FancyArrowPatch((c[0] + 0.6, 0.56), (c[0] - 0.6, 0.56), connectionstyle="arc3,rad=1.4",
                                 arrowstyle="-|>", mutation_scale=14, lw=1.3, color=INK))
    ax.text(c[0], 1.95, "times out (split vote):\nnew term, new election", ha="center", fontsize=9, color=INK)
    return fig


def replicated_state_machine() -> plt.Figure:
    """Clients, and three servers each with a log and a state machine (after Figure 1 of the paper)."""
    fig, ax = plt.subplots(figsize=(8.4, 3.6))
    ax.set_xlim(0, 12)
    ax.set_ylim(0, 5.2)
    ax.axis("off")
    ax.add_patch(FancyBboxPatch((0.2, 2.0), 1.6, 1.2, boxstyle="round,pad=0.08", fc="#f2f2f2", ec=INK))
    ax.text(1.0, 2.6, "clients", ha="center", va="center", fontsize=11, color=INK)
    commands = ["put x 1", "append x 2", "put y 7", "get x"]
    for row, (y, name) in enumerate([(4.0, "n1 (leader)"), (2.3, "n2"), (0.6, "n3")]):
        role = "leader" if row == 0 else "follower"
        st = ROLE_STYLE[role]
        ax.add_patch(FancyBboxPatch((3.2, y - 0.45), 8.4, 1.15, boxstyle="round,pad=0.06",
                                    fc="#fbfbfb", ec=INK, lw=1.2))
        ax.text(3.45, y + 0.45, name, fontsize=9, color=INK, fontweight="bold", va="center")
        ax.add_patch(FancyBboxPatch((3.45, y - 0.3), 1.3, 0.5, boxstyle="round,pad=0.03", fc=st.color,
                                    ec=INK))
        ax.text(4.1, y - 0.05, "consensus", ha="center", va="center", fontsize=8, color=st.text_color)
        for k, cmd in enumerate(commands):
            ax.add_patch(plt.Rectangle((5.0 + k * 1.12, y - 0.32), 1.08, 0.55, fc="#dbe9f6", ec=INK, lw=0.8))
            ax.text(5.54 + k * 1.12, y - 0.05, cmd, ha="center", va="center", fontsize=6.5, color=INK)
        ax.text(10.5, y + 0.45, "state machine", fontsize=7, color="#555555", ha="center", va="center")
        ax.text(7.2, y + 0.45, "log (the same commands, in the same order)", fontsize=7, color="#555555",
                ha="center", va="center")
        ax.add_patch(FancyBboxPatch((9.7, y - 0.3), 1.6, 0.5, boxstyle="round,pad=0.03", fc="#d6f0e0",
                                    ec=INK))
        ax.text(10.5, y - 0.05, "x=12  y=7", ha="center", va="center", fontsize=8, color=INK)
        ax.add_patch(FancyArrowPatch((9.5, y - 0.05), (9.7, y - 0.05), arrowstyle="-|>", mutation_scale=10,
                                     color=INK))
    ax.add_patch(FancyArrowPatch((1.8, 2.9), (3.4, 3.9), arrowstyle="-|>", mutation_scale=14, lw=1.3,
                                 color=INK))
    ax.text(2.1, 3.75, "commands", fontsize=8, color=INK, rotation=32)
    ax.add_patch(FancyArrowPatch((3.4, 3.55), (1.8, 2.55), arrowstyle="-|>", mutation_scale=14, lw=1.3,
                                 color=INK, linestyle="--"))
    ax.text(2.6, 2.55, "results", fontsize=8, color=INK, rotation=32)
    for y in (2.3, 0.6):
        ax.add_patch(FancyArrowPatch((4.1, 3.68), (4.1, y + 0.22), arrowstyle="-|>", mutation_scale=12,
                                     color="#0072B2", lw=1.2, connectionstyle="arc3,rad=0.0"))
    ax.text(4.25, 3.27, "AppendEntries", fontsize=7, color="#0072B2", va="center", ha="left")
    return fig


DIAGRAMS = {"roles": roles, "replicated_state_machine": replicated_state_machine}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, draw in DIAGRAMS.items():
        fig = draw()
        path = OUT / f"{name}.png"
        fig.savefig(path, dpi=DPI, facecolor="white", bbox_inches="tight", pil_kwargs={"optimize": True})
        plt.close(fig)
        print(f"{path.relative_to(OUT.parents[1])}: {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
