"""Pictures of a simulation: the cluster, the logs, a timeline, message counts, the clients' history, and tables.

Every function here only *reads* the simulation (``sim.nodes``, ``sim.network``, ``sim.in_flight()``,
``sim.trace``, ``sim.timeline``) and never changes it.  Each ``draw_*`` draws into a matplotlib ``Axes``
(a new figure when ``ax`` is None) and returns it::

    from raftlab import viz
    viz.draw_cluster(sim)                                  # shown at the end of the cell
    viz.show(sim, views=("cluster", "logs", "timeline"))   # several views in one figure
    viz.message_table(sim)                                 # the messages in flight, as rows

How to read the pictures (colour is never the only clue, so they read in grayscale too):

* a server's **role** is its colour, its shape and a word: follower (white circle), pre-candidate
  (yellow diamond), candidate (orange square), leader (blue hexagon); a crashed server is gray and dashed;
* the **ring** around a server is its election timer: the arc left is the time left before it fires;
* a **message** sits on its link at the fraction of its trip already done, on the right-hand side of its
  direction of travel; its shape is its kind, and a hollow reply was rejected;
* a **lost** message is a red cross where it died, for a few milliseconds;
* in the clients' **history** (``draw_history``) each operation is a bar from sent to answered (hatched while
  it waits); given a verdict of ``sim.check_history()``, the operations that cannot be ordered are outlined red;
* a **partition** gives each side a letter and a tinted halo; blocked links are red and dashed;
* once the cluster's **membership** changed (section 6), each server's outline says its place in the
  leader's configuration (``membership(sim)``): voter (solid), learner (dotted: it gets the log but has no
  vote yet), leaving (thick vermillion: in C_old only, or removed by a change not committed yet), removed
  (faded); under it, the configuration it uses, marked \u2260 in vermillion when it is not the leader's;
  in the logs a configuration entry has a purple outline and a "C", and the leader's configurations are
  listed under the rows.

Artists carry a ``gid`` (``"server:n1:leader"``, ``"msg:AppendEntries"``, ``"entries:conflict"``...) and
labels can be read back with :func:`labels` (``labels(ax, "info:n1")``), so tests check what was drawn,
not pixels.  Labels are drawn as cached glyph outlines (:func:`write`), because matplotlib's own text is
the slowest part of a frame.
"""
from .cluster import DROP_SHOWN_MS, draw_cluster, layout, network_words, recent_losses
from .figure import VIEWS, Renderer, figure, legend_png, show
from .history import draw_history, history_bars
from .logs import conflicts, draw_logs, log_table
from .members import Membership, config_lines, config_text, membership, next_free_name, reference_server
from .style import MEMBER_STYLE, MESSAGE_STYLE, ROLE_STYLE, label_items, labels, message_style, write
from .tables import log_table_html, message_table, message_table_html
from .timeline import draw_message_counts, draw_timeline, message_counts, role_intervals

__all__ = ["draw_cluster", "draw_logs", "draw_timeline", "draw_message_counts", "draw_history", "history_bars",
           "message_table",
           "message_table_html", "log_table", "log_table_html", "show", "figure", "Renderer", "legend_png",
           "VIEWS", "ROLE_STYLE", "MESSAGE_STYLE", "message_style", "labels", "layout", "conflicts",
           "recent_losses", "network_words", "message_counts", "role_intervals", "write", "label_items",
           "DROP_SHOWN_MS", "membership", "Membership", "MEMBER_STYLE", "config_lines", "config_text",
           "next_free_name", "reference_server"]
