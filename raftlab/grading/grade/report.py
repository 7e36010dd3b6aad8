"""The gradebook (CSV, one row per student) and each student's feedback (Markdown).

Both are rebuilt from the per-submission result files, and written atomically
(a temporary file, then ``os.replace``): an interrupted run never leaves half a file.
Text that came from a submission (exception messages, output diffs) is capped and
shown in code blocks, never as Markdown.
"""
from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from pathlib import Path
from typing import Iterable, Mapping, Optional

__all__ = ["write_atomic", "csv_text", "feedback_markdown", "columns", "safe_filename"]


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader sees the old file or the new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def safe_filename(name: str) -> str:
    """A student's name as a file name: no folders, no leading dot, no control characters."""
    cleaned = re.sub(r"[\x00-\x1f/\\:*?\"<>|]+", "_", name).strip(" .")
    return cleaned[:120] or "student"


def columns(calibration) -> list:
    """The gradebook's score columns: one per exercise, one per graded notebook."""
    return ([f"ex{e['number']}" for e in calibration.exercises]
            + [Path(nb["name"]).stem for nb in calibration.notebooks])


def _num(x: float) -> str:
    return f"{x:g}"


def _spreadsheet_safe(text: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def reason(result: dict, limit: int = 1000) -> str:
    parts = list(result.get("problems", [])) + list(result.get("notes", []))
    text = "; ".join(parts)
    return text if len(text) <= limit else text[:limit] + " [...see the feedback file]"


def csv_text(results: Iterable[dict], calibration, similarity: Optional[Mapping[str, str]] = None) -> str:
    """The gradebook: student, total, max, status, a column per exercise and notebook, similarity,
    reason.  ``similarity`` maps a student to what the similarity report flags about them (the
    cell is empty when nothing is flagged: a flag for the instructor to look at, never a deduction)."""
    score_cols = columns(calibration)
    similarity = similarity or {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", "total", "max", "status", *score_cols, "similarity", "reason"])
    for r in results:
        scores = {f"ex{e['number']}": _num(e["points"]) for e in r.get("exercises", [])}
        scores.update({Path(nb["name"]).stem: _num(nb["points"]) for nb in r.get("notebooks", [])})
        writer.writerow([_spreadsheet_safe(r["student"]), _num(r.get("total", 0)), _num(r.get("max", 0)),
                         r["status"], *[scores.get(c, "0") for c in score_cols],
                         _spreadsheet_safe(similarity.get(r["student"], "")), _spreadsheet_safe(reason(r))])
    return out.getvalue()


def _block(text: str) -> str:
    """``text`` as a fenced code block whose fence no backtick run inside can close."""
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "?", str(text)).rstrip()
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text}\n{fence}"


def _inline(text: str) -> str:
    text = re.sub(r"[\x00-\x1f\x7f]", " ", str(text))
    return "`" + text.replace("`", "'") + "`" if text else ""


def feedback_markdown(result: dict) -> str:
    """One student's feedback: the score, what went wrong, every lost point and how to replay it."""
    lines = [f"# Raft exercises: feedback for {result['student']}", "",
             f"**Total: {_num(result.get('total', 0))} / {_num(result.get('max', 0))}**"
             f" (status: {result['status']})", ""]
    if result.get("problems"):
        lines += ["## What went wrong", ""]
        lines += [f"- {_plain(p)}" for p in result["problems"]]
        lines.append("")
    if result.get("exercises"):
        lines += ["## Exercises", "", "| Exercise | Points |", "|---|---|"]
        for e in result["exercises"]:
            lines.append(f"| {e['number']}. {_plain(e['title'])} | {_num(e['points'])} / {_num(e['max'])} |")
        lines.append("")
        for e in result["exercises"]:
            lost = [t for t in e["tests"] if not t["passed"]]
            if not lost:
                continue
            lines += [f"### Exercise {e['number']}: {_plain(e['title'])} ({_num(e['points'])} / {_num(e['max'])})", ""]
            for t in lost:
                lines.append(f"- **{_plain(t['name'])}** ({_num(t['points'])} / {_num(t['max'])})")
                if t.get("explanation"):
                    lines += ["", _indent(_block(t["explanation"]))]
                replay = t.get("replay") or f"raftlab check {e['number']} --impl exercises"
                lines += ["", f"  Replay: {_inline(replay)}", ""]
    if result.get("notebooks"):
        lines += ["## Checkpoint notebooks", "", "| Notebook | Check cells passed | Points |", "|---|---|---|"]
        for nb in result["notebooks"]:
            passed = sum(1 for c in nb["cells"] if c["passed"])
            lines.append(f"| {_plain(nb['name'])} | {passed} / {len(nb['cells'])} | "
                         f"{_num(nb['points'])} / {_num(nb['max'])} |")
        lines.append("")
        for nb in result["notebooks"]:
            lost = [c for c in nb["cells"] if not c["passed"]]
            if not lost:
                continue
            lines += [f"### {_plain(nb['name'])} ({_num(nb['points'])} / {_num(nb['max'])})", ""]
            for c in lost:
                head = f" ({_inline(c['head'])})" if c.get("head") else ""
                lines.append(f"- **check cell {c['cell']}**{head} ({_num(c['points'])} / {_num(c['max'])})")
                if c.get("message"):
                    lines += ["", _indent(_block(c["message"]))]
                replay = f"RAFTLAB_IMPL=exercises pytest --nbval-lax exercises/checkpoints/{nb['name']}"
                lines += ["", f"  Replay: {_inline(replay)}", ""]
    if result.get("notes"):
        lines += ["## Notes", ""]
        lines += [f"- {_plain(n)}" for n in result["notes"]]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _plain(text: str) -> str:
    """Text in a Markdown line: no line breaks, no HTML, no accidental emphasis or links."""
    text = re.sub(r"[\x00-\x1f\x7f]", " ", str(text))
    return re.sub(r"([\\`*_\[\]<>|#])", r"\\\1", text)


def _indent(text: str, by: str = "  ") -> str:
    return "\n".join(by + line if line else line for line in text.splitlines())
