"""A small stand-in for ``raftlab check`` (raftlab/grading/check.py is written elsewhere).

Same interface as the real one, so the grader can be tested before and apart from it:

    check [N ...] --impl PATH --json OUT [--tests DIR] [--timeout S]

runs ``DIR/test_ex<N>_*.py`` with pytest, in this process, with ``RAFTLAB_IMPL=PATH``;
a test's points come from ``@pytest.mark.points(P)``, an exercise's title from the first
line of its test module's docstring.  Writes the JSON the grader reads; exit 0 if
everything passed, 1 if something failed, 2 on bad arguments.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

import pytest


class _Points:
    def __init__(self):
        self.tests = {}          # nodeid -> result

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        mark = item.get_closest_marker("points")
        points = float(mark.args[0]) if mark else 1.0
        number = int(re.match(r"test_ex(\d+)", item.module.__name__.rpartition(".")[2]).group(1))
        title = (item.module.__doc__ or f"Exercise {number}").strip().splitlines()[0]
        entry = self.tests.setdefault(item.nodeid, {"number": number, "title": title, "name": item.name,
                                                    "max": points, "passed": True, "explanation": ""})
        if not report.passed:                       # failed, or skipped (a skipped test earns nothing)
            entry["passed"] = False
            entry["explanation"] = entry["explanation"] or report.longreprtext[-1500:]
        return report


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["check"]:
        argv = argv[1:]
    parser = argparse.ArgumentParser(prog="raftlab check")
    parser.add_argument("numbers", nargs="*", type=int)
    parser.add_argument("--impl", required=True)
    parser.add_argument("--json", required=True)
    parser.add_argument("--tests", required=True)
    parser.add_argument("--timeout", type=float, default=10)
    try:
        args = parser.parse_args(argv)
    except SystemExit:
        return 2
    tests = Path(args.tests)
    files = sorted(tests.glob("test_ex*.py"))
    if args.numbers:
        files = [f for f in files if int(re.match(r"test_ex(\d+)", f.name).group(1)) in args.numbers]
    os.environ["RAFTLAB_IMPL"] = args.impl
    plugin = _Points()
    code = pytest.main([*map(str, files), "-q", "-p", "no:cacheprovider", "-p", "no:nbval", "--rootdir", str(tests),
                        f"--timeout={args.timeout:g}", "-W", "ignore::DeprecationWarning"],
                       plugins=[plugin])
    exercises = {}
    for test in plugin.tests.values():
        ex = exercises.setdefault(test["number"], {"number": test["number"], "title": test["title"],
                                                   "points": 0.0, "max": 0.0, "tests": []})
        points = test["max"] if test["passed"] else 0.0
        ex["tests"].append({"name": test["name"], "points": points, "max": test["max"],
                            "passed": test["passed"], "explanation": test["explanation"],
                            "replay": f"raftlab check {test['number']} --impl exercises -k {test['name']}"})
        ex["points"] += points
        ex["max"] += test["max"]
    total = sum(e["points"] for e in exercises.values())
    data = {"impl": args.impl, "total": total, "max": sum(e["max"] for e in exercises.values()),
            "exercises": [exercises[n] for n in sorted(exercises)],
            "errors": [] if code in (0, 1) else [f"pytest exited with {int(code)}"]}
    with open(args.json, "w") as f:
        json.dump(data, f)
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
