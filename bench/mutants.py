"""Mutation testing of the exercise functions (issue 10, section 3): are the graded tests strong enough?

mutmut (https://mutmut.readthedocs.io) makes small changes ("mutants") to the reference's exercise functions in
raftlab/rules.py -- `>` becomes `>=`, `and` becomes `or`, `+ 1` becomes `+ 2`, an argument becomes None -- and
runs the graded tests of that exercise against each one.  A mutant the tests fail on is *killed*; one they pass
*survived*: either the tests miss a bug of that shape, or the change cannot be seen at all (an *equivalent*
mutant, listed in EQUIVALENT below with the reason; docs/mutants.md explains each one).

    .venv/bin/python bench/mutants.py              # every exercise (make mutants)
    .venv/bin/python bench/mutants.py 3 5          # exercises 3 and 5 only
    .venv/bin/python bench/mutants.py --jobs 1 --keep /tmp/mutants-run     # keep mutmut's folder to look into

How: for each exercise, a scratch copy of raftlab/ and tests/ in a temporary folder (never in the checkout, so
an interrupted run leaves the source tree as it was), with pyproject.toml's [tool.mutmut] section narrowed to
that exercise's graded tests (the tests marked ``exercise(N)`` in tests/exercises, hidden ones included), then
``mutmut run`` on the names of that exercise's functions only.  mutmut records which of those tests call each
function and runs only them against its mutants.

Prints the score per exercise (killed/total) and every surviving mutant: function, line, the change.  Exit
status 0 when every survivor is a known equivalent, 1 when a survivor is not, 2 when the run itself failed.
"""
from __future__ import annotations

import argparse
import ast
import difflib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from raftlab.grading import EXERCISES  # noqa: E402

RULES_FILE = "raftlab/rules.py"
RULES_MODULE = "raftlab.rules"
GRADED_TESTS = "tests/exercises"
BIN = Path(sys.executable).parent

#: Surviving mutants that behave exactly like the reference in every run, keyed by (function, the line as
#: written, the line as mutated), both stripped.  docs/mutants.md gives the argument for each at length.
EQUIVALENT: dict[tuple[str, str, str], str] = {
    ("update_term", "if term > node.current_term:", "if term >= node.current_term:"):
        "the engine calls update_term only when term > currentTerm (Node._receive)",
    ("handle_append_entries", "node.become_follower(m.leader_id)", "node.become_follower(None)"):
        "the next line sets node.leader_id = m.leader_id anyway",
    ("handle_append_entries", "conflict_term=None, conflict_index=log.last_index + 1)",
     "conflict_index=log.last_index + 1)"):
        "None is conflict_term's default",
    ("handle_append_entries", "if m.leader_commit > node.commit_index:", "if m.leader_commit >= node.commit_index:"):
        "when equal, max(commitIndex, min(leaderCommit, ...)) is commitIndex",
    ("handle_append_entries_reply", "node.next_index[peer] = max(next_index, node.match_index[peer] + 1, 1)",
     "node.next_index[peer] = max(next_index, node.match_index[peer] + 1, )"):
        "matchIndex >= 0, so matchIndex + 1 >= 1 already",
    ("advance_commit_index", "if n <= node.commit_index:", "if n < node.commit_index:"):
        "when N == commitIndex the loop at most sets commitIndex to the value it already has, then stops",
    ("has_quorum", "return all(sum(1 for v in voters if v in got) > len(voters) // 2 for voters in majorities)",
     "return all(sum(1 for v in voters if v in got) > len(voters) / 2 for voters in majorities)"):
        "for whole numbers, count > n // 2 and count > n / 2 agree (both mean count >= n // 2 + 1)",
}

#: Lines of the reference that do more than the exercise asks, keyed by (function, the line as written): any
#: mutant of them is outside the exercise's contract, and no graded run reaches the difference.
OUTSIDE_CONTRACT: dict[tuple[str, str], str] = {
    **{("handle_append_entries", line): "snapshots: off in graded runs (snapshot_every=0), not in exercise 3's "
                                        "contract"
       for line in ("if prev < log.snapshot_index:                  # the start is already in our snapshot",
                    "skip = min(log.snapshot_index - prev, len(entries))",
                    "prev, entries = prev + skip, entries[skip:]",
                    "if prev < log.snapshot_index:",
                    "node.send(AppendEntriesReply(node.id, m.src, node.current_term, True, log.snapshot_index))")},
    **{("may_change_configuration", line): "the words of a refusal: exercise 7's contract asks for a sentence "
                                           "saying why, not for these words"
       for line in ("known = node.leader_id if node.leader_id not in (None, node.id) else None",
                    "return f\"{node.id} is not the leader ({known + ' is' if known else 'no leader is known'})\"")},
}

# mutmut's exit codes per mutant (mutmut/stats.py), grouped the way this report counts them.
KILLED: dict[Optional[int], str] = {1: "killed", 3: "killed", 36: "timeout", 24: "timeout", -24: "timeout",
                                    152: "timeout", 255: "timeout", 37: "caught by type check"}
SURVIVED: dict[Optional[int], str] = {0: "survived"}
UNTESTED: dict[Optional[int], str] = {5: "no tests", 33: "no tests", 34: "skipped", None: "not checked"}
STATUS: dict[Optional[int], str] = {**KILLED, **SURVIVED, **UNTESTED}


@dataclass
class Mutant:
    name: str                 # mutmut's name, e.g. raftlab.rules.x_advance_commit_index__mutmut_13
    function: str
    status: str
    line: int = 0             # the first line it changes, in raftlab/rules.py
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    equivalent: Optional[str] = None
    outside: Optional[str] = None   # why the difference is outside the exercise's contract


@dataclass
class ExerciseResult:
    number: int
    tests: int
    mutants: list[Mutant]
    seconds: float

    def count(self, *statuses: str) -> int:
        return sum(m.status in statuses for m in self.mutants)

    @property
    def killed(self) -> int:
        return self.count("killed", "timeout", "caught by type check")

    @property
    def survivors(self) -> list[Mutant]:
        return [m for m in self.mutants if m.status not in ("killed", "timeout", "caught by type check")]


class RunFailed(Exception):
    """mutmut or pytest could not run; the message says where to look."""


# --- the scratch project ----------------------------------------------------------------------------------

def _load_toml(path: Path) -> dict:
    try:
        import tomllib
    except ImportError:                      # Python 3.10: mutmut depends on toml there
        import toml as tomllib
        return tomllib.loads(path.read_text())
    return tomllib.loads(path.read_text())


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)             # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} to [tool.mutmut]")


def _pyproject_for(tests: list[str]) -> str:
    """The checkout's pyproject.toml, its [tool.mutmut] test selection narrowed to ``tests`` (node ids)."""
    text = (ROOT / "pyproject.toml").read_text()
    settings = dict(_load_toml(ROOT / "pyproject.toml").get("tool", {}).get("mutmut", {}))
    settings["pytest_add_cli_args_test_selection"] = tests
    text = re.sub(r"(?ms)^\[tool\.mutmut\]\n.*?(?=^\[)", "", text)
    section = "\n[tool.mutmut]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in settings.items())
    return text.rstrip("\n") + "\n" + section


def _copy_project(dest: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    shutil.copytree(ROOT / "raftlab", dest / "raftlab", ignore=ignore)
    (dest / "tests").mkdir(parents=True)
    shutil.copy2(ROOT / "tests" / "conftest.py", dest / "tests" / "conftest.py")
    shutil.copytree(ROOT / GRADED_TESTS, dest / GRADED_TESTS, ignore=ignore)


_COLLECT = """
import json, sys, pytest
found = {}
class Collect:
    def pytest_collection_modifyitems(self, items):
        for item in items:
            marker = item.get_closest_marker("exercise")
            found[item.nodeid] = marker.args[0] if marker and marker.args else None
code = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", sys.argv[1]], plugins=[Collect()])
print("MUTANTS-COLLECTED " + json.dumps(found))
sys.exit(int(code))
"""


def graded_tests(folder: Path) -> dict[int, list[str]]:
    """The node ids of the graded tests in ``folder``/tests/exercises, by the exercise they are marked with."""
    out = subprocess.run([sys.executable, "-c", _COLLECT, GRADED_TESTS], cwd=folder, capture_output=True,
                         text=True, env=_env())
    line = next((x for x in out.stdout.splitlines() if x.startswith("MUTANTS-COLLECTED ")), None)
    if out.returncode != 0 or line is None:
        said = "\n".join(x for x in out.stdout.splitlines() if not x.startswith("MUTANTS-COLLECTED "))
        raise RunFailed(f"could not collect the graded tests in {GRADED_TESTS}:\n{said[-3000:]}{out.stderr[-2000:]}")
    by_exercise: dict[int, list[str]] = {}
    for nodeid, number in json.loads(line.split(" ", 1)[1]).items():
        if number is not None:
            by_exercise.setdefault(number, []).append(nodeid)
    return by_exercise


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("RAFTLAB_IMPL", None)            # the graded tests must run the (mutated) reference
    env["PYTHONHASHSEED"] = "0"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


# --- running mutmut ---------------------------------------------------------------------------------------

_running: Optional[subprocess.Popen] = None


def _run(cmd: list[str], cwd: Path, log: Path) -> int:
    """Run ``cmd`` in its own process group, output to ``log``; on Ctrl-C stop the whole group."""
    global _running
    with open(log, "a") as out:
        _running = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=_env(),
                                    start_new_session=True)
        try:
            return _running.wait()
        finally:
            _stop(_running)
            _running = None


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGINT, 5), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _function_lines(rules_file: Path) -> dict[str, tuple[int, int]]:
    """The first and last line of each top-level ``def`` in ``rules_file``."""
    tree = ast.parse(rules_file.read_text())
    return {node.name: (node.lineno, node.end_lineno or node.lineno)
            for node in tree.body if isinstance(node, ast.FunctionDef)}


def _changed(function_source: str, mutated_source: str) -> tuple[int, list[str], list[str]]:
    """(offset of the first changed line within the function, removed lines, added lines)."""
    a, b = function_source.splitlines(), mutated_source.splitlines()
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    first, removed, added = None, [], []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            first = i1 if first is None else first
            removed += a[i1:i2]
            added += b[j1:j2]
    return first or 0, removed, added


def _describe(mutant: Mutant, work: Path, span: tuple[int, int]) -> None:
    """Fill in the mutant's line and change from ``mutmut show`` (a unified diff of the function)."""
    out = subprocess.run([str(BIN / "mutmut"), "show", mutant.name], cwd=work, capture_output=True, text=True,
                         env=_env())
    before: list[str] = []
    after: list[str] = []
    in_hunk = False
    for text in out.stdout.splitlines():
        if text.startswith("@@"):
            in_hunk = True
            match = re.match(r"@@ -(\d+)(?:,\d+)? \+(\d+)", text)
            assert match is not None, text
            before += [""] * (int(match.group(1)) - 1 - len(before))
            after += [""] * (int(match.group(2)) - 1 - len(after))
            continue
        if not in_hunk or text.startswith(("---", "+++")):
            continue
        if text.startswith("-"):
            before.append(text[1:])
        elif text.startswith("+"):
            after.append(text[1:])
        else:
            before.append(text[1:])
            after.append(text[1:])
    offset, removed, added = _changed("\n".join(before), "\n".join(after))
    # mutmut prints the function as it re-wrote it, so find the changed line in the file itself: of the lines
    # of this function that read like it, the one nearest to where the diff puts it
    source = (work / RULES_FILE).read_text().splitlines()     # the copy mutmut started from
    first, last = span
    same = [n for n in range(first, last + 1) if removed and source[n - 1].strip() == removed[0].strip()]
    mutant.line = min(same, key=lambda n: abs(n - first - offset)) if same else first + offset
    mutant.removed, mutant.added = removed, added
    if len(removed) == 1 and len(added) == 1:
        mutant.equivalent = EQUIVALENT.get((mutant.function, removed[0].strip(), added[0].strip()))
    if removed and mutant.equivalent is None:
        mutant.outside = OUTSIDE_CONTRACT.get((mutant.function, removed[0].strip()))


def run_exercise(number: int, scratch: Path, tests: list[str], jobs: int) -> ExerciseResult:
    work = scratch / f"ex{number}"
    _copy_project(work)
    (work / "pyproject.toml").write_text(_pyproject_for(tests))
    functions = EXERCISES[number].rules
    names = [f"{RULES_MODULE}.x_{f}__mutmut_*" for f in functions]
    log = work / "mutmut.log"
    start = time.perf_counter()
    code = _run([str(BIN / "mutmut"), "run", "--max-children", str(jobs), *names], work, log)
    seconds = time.perf_counter() - start
    meta = work / "mutants" / (RULES_FILE + ".meta")
    if code != 0 or not meta.exists():
        tail = "".join(log.read_text().splitlines(keepends=True)[-25:])
        raise RunFailed(f"exercise {number}: mutmut run exited with {code} (log: {log}):\n{tail}")
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    lines = _function_lines(work / RULES_FILE)
    mutants = []
    for name, exit_code in codes.items():
        match = re.fullmatch(rf"{re.escape(RULES_MODULE)}\.x_(\w+)__mutmut_(\d+)", name)
        if not match or match.group(1) not in functions:
            continue
        status = STATUS.get(exit_code, f"suspicious (exit {exit_code})")
        mutant = Mutant(name, match.group(1), status)
        if mutant.status not in KILLED.values():
            _describe(mutant, work, lines[mutant.function])
        mutants.append(mutant)
    mutants.sort(key=lambda m: (functions.index(m.function), int(m.name.rsplit("_", 1)[1])))
    return ExerciseResult(number, len(tests), mutants, seconds)


# --- the report -------------------------------------------------------------------------------------------

def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "    -"


def report(results: list[ExerciseResult]) -> int:
    print()
    print(f"{'exercise':<42} {'tests':>5} {'mutants':>7} {'killed':>6} {'equiv':>5} {'outside':>7} {'other':>5}  "
          f"{'score':>6}  {'of the rest':>11}")
    totals = [0, 0, 0, 0, 0]
    for r in results:
        total, killed = len(r.mutants), r.killed
        equivalent = sum(m.equivalent is not None for m in r.survivors)
        outside = sum(m.outside is not None for m in r.survivors)
        other = total - killed - equivalent - outside
        totals = [a + b for a, b in zip(totals, (total, killed, equivalent, outside, other), strict=True)]
        _row(f"{r.number} {EXERCISES[r.number].title}", str(r.tests), total, killed, equivalent, outside, other)
    _row("all", "", *totals)
    print("score = killed/mutants; of the rest = killed/(mutants - equivalent - outside the contract); "
          "other = survivors neither")

    survivors = [(r.number, m) for r in results for m in r.survivors]
    if survivors:
        print()
        print("Surviving mutants:")
    for number, m in survivors:
        verdict = (f"equivalent: {m.equivalent}" if m.equivalent else
                   f"outside the contract: {m.outside}" if m.outside else m.status.upper())
        print(f"  exercise {number}  {RULES_FILE}:{m.line}  {m.function}  ({m.name.rsplit('.', 1)[1]})  {verdict}")
        for text in m.removed:
            print(f"      - {text.strip()}")
        for text in m.added:
            print(f"      + {text.strip()}")
    print()
    print("Timings: " + ", ".join(f"exercise {r.number} {r.seconds:.0f} s" for r in results))
    return 1 if totals[-1] else 0


def _row(title: str, tests: str, total: int, killed: int, equivalent: int, outside: int, other: int) -> None:
    print(f"{title:<42} {tests:>5} {total:>7} {killed:>6} {equivalent:>5} {outside:>7} {other:>5}  "
          f"{_pct(killed, total)}  {_pct(killed, total - equivalent - outside):>11}")


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("exercises", nargs="*", type=int, metavar="N", help="exercise numbers (default: all)")
    parser.add_argument("--jobs", type=int, default=2, help="mutmut workers (default 2)")
    parser.add_argument("--keep", type=Path, help="keep mutmut's scratch folders here (must not exist yet)")
    args = parser.parse_args(argv)
    wrong = [n for n in args.exercises if n not in EXERCISES]
    if wrong:
        parser.error(f"there is no exercise {wrong[0]}: the exercises are numbered 1-{len(EXERCISES)}")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.keep is not None and args.keep.exists():
        parser.error(f"--keep {args.keep}: that folder exists already; name a new one")
    numbers = sorted(set(args.exercises)) or sorted(EXERCISES)
    if not (BIN / "mutmut").exists():
        print(f"mutmut is not installed next to {sys.executable}: run `make venv` (it is in the test extra)",
              file=sys.stderr)
        return 2

    scratch = args.keep or Path(tempfile.mkdtemp(prefix="raftlab-mutants-"))
    scratch.mkdir(parents=True, exist_ok=True)
    version = subprocess.run([str(BIN / "mutmut"), "--version"], capture_output=True, text=True).stdout.strip()
    print(f"Mutation testing ({version}): the exercise functions of {RULES_FILE}, each exercise against its "
          f"own graded tests in {GRADED_TESTS}, {args.jobs} worker{'s' if args.jobs > 1 else ''}.")
    print(f"Scratch folder: {scratch}" + ("" if args.keep else " (removed at the end)"))
    try:
        collect = scratch / "collect"
        _copy_project(collect)
        tests = graded_tests(collect)
        results = []
        for number in numbers:
            if not tests.get(number):
                raise RunFailed(f"exercise {number} has no graded tests in {GRADED_TESTS}")
            print(f"  exercise {number}: {', '.join(EXERCISES[number].rules)} against "
                  f"{len(tests[number])} tests ...", flush=True)
            results.append(run_exercise(number, scratch, tests[number], args.jobs))
        return report(results)
    except RunFailed as error:
        print(f"mutation testing failed: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: nothing in the checkout was changed", file=sys.stderr)
        return 130
    finally:
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    # SIGTERM (a CI timeout, `kill`) cleans up like Ctrl-C does
    signal.signal(signal.SIGINT, signal.default_int_handler)     # Ctrl-C, even when started in the background
    signal.signal(signal.SIGTERM, _terminated)
    sys.exit(main())
