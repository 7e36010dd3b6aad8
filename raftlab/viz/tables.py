"""Tables: the message inspector (messages in flight) and a log with its commands, as rows or HTML."""
from __future__ import annotations

import html
from typing import Any, Iterable, Optional, Sequence

from .logs import log_table
from .style import CONFIG_COLOR, MESSAGE_STYLE, message_style

__all__ = ["message_table", "message_table_html", "log_table_html", "html_table", "CONFIG_ROW"]


def _fields(msg) -> str:
    """The key fields of a message: what its short form shows between the parentheses."""
    text = str(msg)
    start = text.find("(")
    return text[start + 1:-1] if start >= 0 and text.endswith(")") else ""


def message_table(sim) -> list[dict]:
    """The messages in flight, soonest delivery first, as rows: id, from, to, kind, term, fields,
    sent_at, deliver_at, copy (the second copy of a duplicated message)."""
    rows = []
    for env in sim.in_flight():
        msg = env.message
        rows.append({"id": env.id, "from": msg.src, "to": msg.dst,
                     "kind": MESSAGE_STYLE[message_style(msg)].label, "term": getattr(msg, "term", None),
                     "fields": _fields(msg), "sent_at": env.sent_at, "deliver_at": env.deliver_at,
                     "copy": env.copy})
    return rows


# Explicit colours, so that the tables read the same in light and dark themes.
_TABLE = ("border-collapse:collapse;font-family:var(--jp-code-font-family,monospace);font-size:12px;"
          "color:#222;background:#fff")
_CELL = "padding:1px 8px;border-bottom:1px solid #ddd;text-align:left;white-space:nowrap"


#: How a configuration entry's row stands out in a log table (the log view outlines it in the same colour).
CONFIG_ROW = f"background:#f6e4ee;box-shadow:inset 3px 0 0 {CONFIG_COLOR}"


def html_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], empty: str,
               row_styles: Optional[Sequence[str]] = None) -> str:
    """An HTML table with explicit colours; ``row_styles``: a CSS style for each row ("" for none)."""
    head = "".join(f"<th style='{_CELL};border-bottom:2px solid #999'>{html.escape(h)}</th>" for h in headers)
    rows = list(rows)
    styles = list(row_styles) if row_styles is not None else [""] * len(rows)
    body = "".join((f"<tr style='{style}'>" if style else "<tr>")
                   + "".join(f"<td style='{_CELL}'>{html.escape(str(v))}</td>" for v in row) + "</tr>"
                   for row, style in zip(rows, styles, strict=True))
    if not body:
        body = f"<tr><td style='{_CELL};color:#666' colspan='{len(headers)}'>{html.escape(empty)}</td></tr>"
    return f"<table style='{_TABLE}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def message_table_html(sim, limit: Optional[int] = None) -> str:
    """:func:`message_table` as an HTML table (at most ``limit`` rows, then "... and N more")."""
    rows = message_table(sim)
    more = len(rows) - limit if limit is not None and len(rows) > limit else 0
    shown = rows[:limit] if limit is not None else rows
    table = html_table(["#", "from", "to", "kind", "fields", "sent", "due"],
                       ([r["id"], r["from"], r["to"], r["kind"] + (" (copy)" if r["copy"] else ""), r["fields"],
                         r["sent_at"], r["deliver_at"]] for r in shown), "no message in flight")
    if more:
        table += f"<div style='font-size:11px;color:#666;background:#fff'>... and {more} more</div>"
    return table


def log_table_html(sim, node=None) -> str:
    """:func:`raftlab.viz.log_table` as an HTML table; configuration entries are tinted."""
    rows = log_table(sim, node)
    return html_table(["node", "index", "term", "command", "client", "committed", "applied"],
                      ([r["node"], r["index"], r["term"], r["command"], r["client"],
                        "yes" if r["committed"] else "no", "yes" if r["applied"] else "no"] for r in rows),
                      "the log is empty", [CONFIG_ROW if r["config"] else "" for r in rows])
