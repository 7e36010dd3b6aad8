"""Reading what a box wrote, warily, and the result records the gradebook is built from.

Everything here reads files a submission's code could have written: sizes are capped,
lines that are not JSON objects are skipped, and text is cut to a length before it
reaches a report.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

__all__ = ["cap", "read_lines", "parse_lines", "read_json", "timed_out", "zero_tests", "exercise_result",
           "notebook_result", "MAX_JSON", "TEXT_CAP"]

MAX_JSON = 16 << 20
TEXT_CAP = 2000


def cap(text, limit: int = TEXT_CAP) -> str:
    """``text`` as a string of at most ``limit`` characters (and a mark where it was cut)."""
    text = "" if text is None else str(text)
    return text if len(text) <= limit else text[:limit] + " [...]"


def read_lines(path: Path) -> list:
    """The JSON objects, one per line, in the first megabyte of ``path`` ([] if unreadable)."""
    try:
        with open(path, "rb") as f:
            return parse_lines(f.read(1 << 20))
    except OSError:
        return []


def parse_lines(data: bytes) -> list:
    events = []
    for line in data.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def read_json(path: Path):
    """The JSON document at ``path``, or None if it is missing, larger than 16 MB or not JSON."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_JSON + 1)
        if len(data) > MAX_JSON:
            return None
        return json.loads(data)
    except (OSError, ValueError):
        return None


def timed_out(text: str) -> bool:
    """Whether a failure message is a time limit's (pytest-timeout's, raftlab check's, nbval's)."""
    return bool(re.search(r"Timeout \(>[\d.]+s\)|Timeout of [\d.]+ seconds exceeded"
                          r"|did not finish within [\d.]+ s", text or ""))


def zero_tests(cal: dict, why: str) -> list:
    """Every test of the calibrated exercise ``cal``, failed for ``why``."""
    return [{"name": t["name"], "points": 0.0, "max": t["max"], "passed": False, "explanation": why,
             "replay": ""} for t in cal["tests"]]


def exercise_result(cal: dict, tests: list, problems: list) -> dict:
    return {"number": cal["number"], "title": cal["title"], "points": round(sum(t["points"] for t in tests), 3),
            "max": cal["max"], "tests": tests, "problems": problems}


def notebook_result(cal: dict, cells: dict, problems: list) -> dict:
    """A notebook's result from ``cells`` ({cell: (passed, message)}) and its calibration."""
    out = []
    for c in cal["cells"]:
        passed, message = cells.get(c["cell"], (False, ""))
        if c["cell"] not in cells:
            message = "did not run" + (f" ({problems[0]})" if problems else "")
        out.append({"cell": c["cell"], "points": c["points"] if passed else 0.0, "max": c["points"],
                    "passed": passed, "head": c.get("head", ""), "message": "" if passed else message})
    return {"name": cal["name"], "points": round(sum(c["points"] for c in out), 3), "max": cal["max"],
            "cells": out, "problems": problems}
