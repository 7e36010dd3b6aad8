"""The cluster graph: servers on a circle, their links, messages in flight and the state of the network."""
from __future__ import annotations

import math
from typing import Optional, Sequence

import networkx as nx
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.lines import Line2D
from matplotlib.patches import Arc, Circle, Patch, RegularPolygon

from ..events import Dropped, Lost
from .members import MEMBER_WORDS, Membership, config_lines, membership
from .style import (
    BACKGROUND,
    BAD,
    BLOCKED,
    FADED,
    GROUP_LETTERS,
    GROUP_TINTS,
    INK,
    LINK,
    MEMBER_STYLE,
    MESSAGE_STYLE,
    MUTED,
    ROLE_STYLE,
    message_style,
    new_axes,
    paint_background,
    role_key,
    text_width,
    write,
)

__all__ = ["draw_cluster", "layout", "recent_losses", "network_words", "member_handles", "MEMBERS_NOTE",
           "DROP_SHOWN_MS"]

#: For how long (virtual ms) a lost message stays on the picture, where it died.
DROP_SHOWN_MS = 30

_Point = tuple[float, float]

_LIMIT_X = 2.45
_LANE = 0.055          # how far right of its link a message travels, so the two directions do not overlap


def layout(names: Sequence[str]) -> dict[str, tuple[float, float]]:
    """Fixed positions: the servers on a circle of radius 1, ``n1`` at 12 o'clock, then clockwise.

    networkx's circular layout puts server i at angle 2*pi*i/n from 3 o'clock, anticlockwise; mirroring
    it across the diagonal (swapping x and y) gives a clock face."""
    names = list(names)
    if len(names) == 1:
        return {names[0]: (0.0, 0.0)}
    raw = nx.circular_layout(nx.complete_graph(names))
    return {name: (round(float(raw[name][1]), 12), round(float(raw[name][0]), 12)) for name in names}


def _radius(n: int) -> float:
    """Server size in data units: smaller as the circle fills up (3 to 9 servers stay legible)."""
    return 0.2 if n <= 5 else max(0.12, 0.2 * 5.5 / n)


def _shape(role: str, xy: tuple[float, float], r: float, **kw):
    marker = ROLE_STYLE[role].marker
    if marker == "o":
        return Circle(xy, r, **kw)
    if marker == "D":
        return RegularPolygon(xy, 4, radius=r * 1.22, orientation=0, **kw)
    if marker == "s":
        return RegularPolygon(xy, 4, radius=r * 1.25, orientation=math.pi / 4, **kw)
    return RegularPolygon(xy, 6, radius=r * 1.15, orientation=0, **kw)


def _along(p0, p1, trim: float, f: float, side: float) -> tuple[float, float]:
    """The point a fraction ``f`` of the way along p0->p1 (shortened by ``trim`` at both ends), moved
    ``side`` to the right of the direction of travel."""
    dx, dy = p1[0] - p0[0], p1[1] - p0[1]
    length = math.hypot(dx, dy) or 1.0
    ux, uy = dx / length, dy / length
    usable = max(length - 2 * trim, 0.0)
    return (p0[0] + ux * (trim + usable * f) + uy * side, p0[1] + uy * (trim + usable * f) - ux * side)


def progress(env, now: int) -> float:
    """How much of its trip a message has done: 0 when sent, 1 when due."""
    span = env.deliver_at - env.sent_at
    if span <= 0:
        return 1.0
    return min(max((now - env.sent_at) / span, 0.0), 1.0)


def recent_losses(sim, within: int = DROP_SHOWN_MS) -> list[Lost | Dropped]:
    """The messages lost in the last ``within`` ms, oldest first: the :class:`~raftlab.events.Lost` (the
    network lost it) and :class:`~raftlab.events.Dropped` (the operator dropped it) events, which carry
    the message."""
    found: list[Lost | Dropped] = []
    now = sim.now
    for ev in reversed(sim.trace):
        if now - ev.time > within:
            break
        if isinstance(ev, (Lost, Dropped)):
            found.append(ev)
    found.reverse()
    return found


def _clients(sim, servers) -> list[str]:
    """The clients to draw: those that exist, and any end of a message in flight that is not a server."""
    seen = dict.fromkeys(sim.clients)
    for env in sim.in_flight():
        for who in (env.message.src, env.message.dst):
            if who not in servers:
                seen.setdefault(who, None)
    return sorted(seen, key=lambda c: (len(c), c))


def network_words(net) -> str:
    """``partition: n1 n2 | n3 n4 n5`` and ``cut: n1->n2``, one per line, or ""."""
    parts = []
    sides = net.sides()
    if sides is not None:
        bridges = net.bridges()
        parts.append("partition: " + " | ".join(" ".join(g) for g in sides)
                     + (f" (reaching every side: {' '.join(bridges)})" if bridges else ""))
    if net.cut:
        parts.append("cut: " + ", ".join(f"{a}\u2192{b}" for a, b in sorted(net.cut)))
    return "\n".join(parts)


def _config_caption(node, members: Membership) -> tuple[str, str]:
    """The caption under a server: the configuration it uses (text, colour).  The reference server (the
    leader) shows its configuration; a server that uses the same one says so briefly; one that uses another
    shows it in vermillion, marked \u2260 (colour is not the only clue)."""
    conf = members.uses[node.id]
    if node.id == members.reference:
        return "\n".join(config_lines(conf)), INK
    if node.id not in members.differs:
        return ("= leader's config" if members.leader else f"= {members.reference}'s config"), MUTED
    lines = config_lines(conf, word="\u2260 ")
    if not lines[0].startswith("\u2260"):
        lines[0] = "\u2260 " + lines[0]
    return "\n".join(lines), BAD


def _write_info(ax: Axes, at: _Point, info: str, caption: Optional[tuple[str, str]], *, size: float, ha: str,
                va: str, weight: str, color: str, gid: str) -> None:
    """A server's info beside it, and under it the caption (text, colour) saying its configuration, if any.

    The two are one block of lines in two labels (a label has one colour): each is padded with the other's
    lines, left empty, so both stack the same way whatever ``va``; and each is shifted so that their left
    edges line up whatever ``ha``."""
    if caption is None:
        write(ax, *at, info, size=size, ha=ha, va=va, weight=weight, color=color, gid=f"info:{gid}")
        return
    text, caption_color = caption
    widths = text_width(info, size, weight), text_width(text, size)
    k = {"left": 0.0, "center": 0.5, "right": 1.0}[ha]
    write(ax, *at, info + "\n" * (text.count("\n") + 1), size=size, ha=ha, va=va, weight=weight, color=color,
          offset=(k * (widths[0] - max(widths)), 0.0), gid=f"info:{gid}")
    write(ax, *at, "\n" * (info.count("\n") + 1) + text, size=size, ha=ha, va=va,
          color=MUTED if color == MUTED else caption_color, offset=(k * (widths[1] - max(widths)), 0.0),
          gid=f"config:{gid}")


def draw_cluster(sim, ax: Optional[Axes] = None, *, legend: bool = True, title: bool = True) -> Axes:
    """Draw the servers, their links, the messages in flight, and partitions and cut links.

    Each server shows its name; its role by colour, shape and word; ``current_term``, ``voted_for`` and
    ``commit_index``; and its election timer as a ring (the arc left is the time left before it fires,
    a full ring being the longest election timeout).  Each message in flight sits on its link at the
    fraction of its trip already done.

    Once the cluster's membership changed (section 6; :func:`raftlab.viz.membership`), each server's outline
    and first line also say its place in the leader's configuration (voter, learner, leaving, removed:
    see :data:`~raftlab.viz.style.MEMBER_STYLE`; a removed server is faded), and a caption under its info
    says which configuration it uses: the leader's in full, "= leader's config" for a server that agrees,
    and, in vermillion and marked \u2260, a configuration that is not the leader's.  ``sim`` is only read."""
    ax = new_axes(ax, (6.4, 5.8))
    paint_background(ax)
    names = list(sim.names)
    nodes = sim.nodes
    pos = layout(names)
    r = _radius(len(names))
    small = len(names) > 5
    net = sim.network
    groups = net.groups
    now = sim.now
    members = membership(sim)        # None while the cluster never changed its membership
    # Room for the configuration captions (about 0.13 a line) and the legend's second row.
    extra = 0.0 if members is None else 0.13 * max(len(config_lines(c)) for c in members.uses.values())
    top = max(p[1] for p in pos.values()) + r * 1.75 + 0.55 + extra + (0.25 if title else 0)
    bottom = (min(p[1] for p in pos.values()) - r * 1.75 - 0.55 - extra
              - (0.42 + (0.3 if members is not None else 0) if legend else 0))
    ax.set_xlim(-_LIMIT_X, _LIMIT_X)
    ax.set_ylim(bottom, top)
    ax.set_aspect("equal")
    ax.axis("off")

    # Links: light gray; red and dashed when blocked both ways, dotted when blocked one way only.
    free: list[list[_Point]] = []
    both: list[list[_Point]] = []
    one: list[list[_Point]] = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            ab, ba = net.blocked(a, b) is not None, net.blocked(b, a) is not None
            (both if ab and ba else one if ab or ba else free).append([pos[a], pos[b]])
    ax.add_collection(LineCollection(free, colors=LINK, linewidths=1.0, zorder=1, gid="links"),
                      autolim=False)
    if both:
        ax.add_collection(LineCollection(both, colors=BLOCKED, linewidths=1.3, linestyles=(0, (4, 3)),
                                         alpha=0.75, zorder=1, gid="links:blocked"), autolim=False)
    if one:
        ax.add_collection(LineCollection(one, colors=BLOCKED, linewidths=1.3, linestyles=(0, (1, 2.5)),
                                         alpha=0.9, zorder=1, gid="links:one-way"), autolim=False)
    for src, dst in sorted(net.cut):
        if src in pos and dst in pos:
            x, y = _along(pos[src], pos[dst], r * 1.2, 0.22, _LANE)
            write(ax, x, y, "\u2702", size=12, color=BLOCKED, gid=f"cut:{src}->{dst}")

    # Partition: a tinted halo and a letter for each side.
    if groups is not None:
        badges, tints = [], []
        for name in names:
            g = groups.get(name, 0)
            if g is None:                # reconnected: it reaches every side
                continue
            tint = GROUP_TINTS[g % len(GROUP_TINTS)]
            ax.add_artist(Circle(pos[name], r * 1.75, facecolor=tint, edgecolor="none", zorder=0,
                                 gid=f"group:{name}:{GROUP_LETTERS[g]}"))
            x, y = pos[name]
            d = math.hypot(x, y) or 1.0
            bx, by = x - x / d * r * 1.95, y - y / d * r * 1.95
            badges.append((bx, by))
            tints.append(tint)
            write(ax, bx, by, GROUP_LETTERS[g], size=7, weight="bold", gid=f"side:{name}")
        ax.scatter([b[0] for b in badges], [b[1] for b in badges], s=120, marker="o", c=tints, edgecolors=INK,
                   linewidths=0.7, zorder=5, gid="sides")

    # Election timers.
    longest = max(sim.config.election_timeout[1], 1)
    ring = 2 * r * 1.4
    for name in names:
        node = nodes[name]
        if node.crashed or node.election_deadline is None:
            continue
        left = min(max((node.election_deadline - now) / longest, 0.0), 1.0)
        alpha = FADED if members is not None and members.status[name] == "removed" else None
        ax.add_artist(Arc(pos[name], ring, ring, theta1=0, theta2=360, color="#e4e4e4", lw=3.2, zorder=2,
                          alpha=alpha))
        if left > 0:
            ax.add_artist(Arc(pos[name], ring, ring, theta1=90 - 360 * left, theta2=90, lw=3.2, zorder=3,
                              color=BAD if left < 0.15 else "#6f6f6f", alpha=alpha, gid=f"timer:{name}"))

    # The servers.
    leader = sim.leader()
    for name in names:
        node = nodes[name]
        role = role_key(node)
        st = ROLE_STYLE[role]
        x, y = pos[name]
        status = members.status[name] if members is not None else "voter"
        faded = status == "removed"
        linestyle = "--" if role == "crashed" else MEMBER_STYLE[status].linestyle
        shape = _shape(role, (x, y), r, facecolor=st.color, edgecolor=MEMBER_STYLE[status].edge, zorder=4,
                       linewidth=1.2 if role == "crashed" else MEMBER_STYLE[status].linewidth,
                       linestyle=linestyle, alpha=FADED if faded else None, gid=f"server:{name}:{role}")
        ax.add_artist(shape)
        write(ax, x, y, name, size=9.5 if small else 11, weight="bold",
              color=MUTED if faded else st.text_color, gid=f"name:{name}")
        d = math.hypot(x, y)
        ox, oy = (x / d, y / d) if d else (0.0, 1.0)
        ha = "center" if abs(ox) < 0.3 else ("left" if ox > 0 else "right")
        va = "bottom" if oy > 0.5 else ("top" if oy < -0.5 else "center")
        word = st.word if members is None else f"{st.word} \u00b7 {MEMBER_WORDS[status]}"
        info = (f"{word}\nterm {node.current_term} \u00b7 voted {node.voted_for or '-'}\n"
                f"commit {node.commit_index}")
        _write_info(ax, (x + ox * r * 1.75, y + oy * r * 1.75), info,
                    _config_caption(node, members) if members is not None else None,
                    size=7.5 if small else 8.5, ha=ha, va=va, weight="bold" if node is leader else "normal",
                    color=MUTED if node.crashed or faded else INK, gid=name)

    # Clients, in the middle.
    clients = _clients(sim, nodes)
    where = dict(pos)
    for k, c in enumerate(clients):
        where[c] = (0.34 * (k - (len(clients) - 1) / 2), -0.05)
        write(ax, *where[c], c, size=7, gid=f"client:{c}")
    if clients:
        ax.scatter([where[c][0] for c in clients], [where[c][1] for c in clients], s=300, marker="s",
                   c="#f2f2f2", edgecolors=MUTED, linewidths=0.8, zorder=4, gid="clients")

    # Messages in flight: one scatter per style.
    points: dict[str, list[_Point]] = {}
    for env in sim.in_flight():
        msg = env.message
        p0, p1 = where.get(msg.src), where.get(msg.dst)
        if p0 is None or p1 is None:
            continue
        trim = r * 1.15 if msg.src in pos and msg.dst in pos else r * 0.65
        points.setdefault(message_style(msg), []).append(_along(p0, p1, trim, progress(env, now), _LANE))
    for key, ms in MESSAGE_STYLE.items():
        pts = points.get(key)
        if pts:
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=ms.size * (0.8 if small else 1.0),
                       marker=ms.marker, c=ms.color if ms.filled else BACKGROUND,
                       edgecolors=INK if ms.filled else ms.color, linewidths=0.7 if ms.filled else 1.5,
                       zorder=7, gid=f"msg:{key}")

    # Lost messages: a red cross where they died (at the receiver if it was crashed), fading out.
    lost, colors = [], []
    for ev in recent_losses(sim):
        p0, p1, t = where.get(ev.message.src), where.get(ev.message.dst), ev.time
        if p0 is not None and p1 is not None:
            at_receiver = isinstance(ev, Lost) and ev.receiver_crashed
            lost.append(_along(p0, p1, r * 1.15, 0.92 if at_receiver else 0.5, _LANE))
            colors.append(to_rgba(BLOCKED, 1.0 - 0.6 * (now - t) / DROP_SHOWN_MS))
    if lost:
        ax.scatter([p[0] for p in lost], [p[1] for p in lost], s=130, marker="X", c=colors,
                   edgecolors=BACKGROUND, linewidths=0.8, zorder=8, gid="lost")

    words = network_words(net)
    if words:
        write(ax, _LIMIT_X - 0.02, top - 0.02, words, size=8, color=BLOCKED,
              ha="right", va="top", gid="network")
    if title:
        who = f"leader {leader.id} (term {leader.current_term})" if leader else "no leader"
        write(ax, -_LIMIT_X + 0.02, top - 0.02, f"t = {now} ms \u00b7 step {sim.steps} \u00b7 {who}",
              size=10, ha="left", va="top", gid="title")
    if legend:
        _legend(ax, points, members is not None)
    return ax


#: How the captions under the servers read (for keys).
MEMBERS_NOTE = "under each server: its configuration (\u2260 in vermillion: not the leader's)"


def member_handles() -> list[Patch]:
    """Legend handles for the servers' places in the configuration (outlines; removed servers faded)."""
    return [Patch(facecolor=BACKGROUND, edgecolor=st.edge, linestyle=st.linestyle, linewidth=st.linewidth,
                  alpha=FADED if key == "removed" else None, label=st.label) for key, st in MEMBER_STYLE.items()]


def _legend(ax: Axes, shown: dict, members: bool = False) -> None:
    """Role shapes, the servers' places in the configuration (once membership changed), and the shapes of
    the kinds of message in flight now."""
    handles: list = [Line2D([], [], ls="none", marker=st.marker, markersize=8, markerfacecolor=st.color,
                            markeredgecolor=INK, label=st.word) for st in ROLE_STYLE.values()]
    if members:
        handles += member_handles()
    for key in [k for k in MESSAGE_STYLE if k in shown]:
        st = MESSAGE_STYLE[key]
        handles.append(Line2D([], [], ls="none", marker=st.marker, markersize=7,
                              markerfacecolor=st.color if st.filled else BACKGROUND,
                              markeredgecolor=INK if st.filled else st.color, label=st.label))
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=5, fontsize=7,
              frameon=False, handletextpad=0.2, columnspacing=0.9, labelcolor=INK)
