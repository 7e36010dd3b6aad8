"""``raftlab check``: score your exercises.

    raftlab check                  every exercise, with your code in exercises/ (or $RAFTLAB_IMPL)
    raftlab check 3                exercise 3 only
    raftlab check 2 3 --json out.json --impl path/to/exercises --timeout 20

In a notebook: ``raftlab.check(3)``.  Both print a table: each test, its points,
passed or failed, and for a failure what went wrong in Raft terms, the seed, and
a line that replays the failing run in the Explorer with your code
(``raftlab.replay_failure("ex3/test_...")``), stopped just before the step that
went wrong.

How it works.  The tests are pytest tests (``tests/exercises/`` by default, or
``--tests DIR``), each marked with its exercise and points.  They run in a
*separate* Python process, with the plugin :mod:`raftlab.grading.check.plugin`
naming the code under test (``--raftlab-impl``); only the functions of the
exercise a test belongs to are taken from your code, the rest are the reference,
so each exercise is graded on its own.  Each exercise runs in a process of its
own, whose raftlab is an exam copy without that exercise's reference
(:mod:`raftlab.grading.check.exam`): a rule that calls the reference rule it
should replace earns nothing.  (The reference itself runs in one process.)  A
separate process keeps the score table safe from code that crashes or exits the
interpreter: the tests that finished keep their result, the others fail with the
reason.  An endless loop costs the test it happens in: each test has a time limit
(``--timeout``, pytest-timeout).

A failing run is saved to ``$RAFTLAB_FAILURES_DIR`` (default
``~/.cache/raftlab/failures``), one file per test, replaced by the next check of
that exercise; :func:`replay_failure` reads it back.

``--json OUT`` writes the result for machines (``raftlab grade`` reads it)::

    {"impl": str, "total": float, "max": float,
     "exercises": [{"number": int, "title": str, "points": float, "max": float,
                    "tests": [{"name": str, "points": float, "max": float, "passed": bool,
                               "explanation": str, "replay": str}]}],
     "errors": [str]}

Exit codes: 0 every selected test passed; 1 some failed; 2 bad arguments.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Union

from ...errors import ImplementationError, NodeError, RaftlabError, SafetyViolation
from ...impl import REFERENCE, impl_from_env, locate, resolve_rules
from .. import EXERCISES
from . import exam

__all__ = ["check", "run_check", "replay_failure", "CheckResult", "ExerciseResult", "TestResult",
           "default_tests_dir", "failures_dir", "register", "DEFAULT_TIMEOUT"]

#: Seconds one test may take before it fails (the reference needs well under one).
DEFAULT_TIMEOUT = 10.0
FAILURES_ENV = "RAFTLAB_FAILURES_DIR"
#: Plugins the graded tests do not need; nbval alone takes ~2 s to import (nbformat's JSON schema).
_UNNEEDED_PLUGINS = ("-p", "no:nbval", "-p", "no:anyio", "-p", "no:xdist", "-p", "no:xdist.looponfail")


@dataclass
class TestResult:
    name: str
    points: float
    max: float
    passed: bool
    explanation: str = ""
    replay: str = ""
    id: str = ""                 # ex3/test_name: what replay_failure takes
    seed: Optional[int] = None
    unwritten: bool = False      # failed because the exercise is still a stub

    __test__ = False             # not a pytest test class


@dataclass
class ExerciseResult:
    number: int
    title: str
    points: float
    max: float
    tests: list[TestResult] = field(default_factory=list)


@dataclass
class CheckResult:
    """The score of one implementation: per exercise, per test."""
    impl: str
    total: float
    max: float
    exercises: list[ExerciseResult]
    errors: list[str]

    @property
    def passed(self) -> bool:
        """True if every selected test passed (and there was at least one)."""
        tests = [t for e in self.exercises for t in e.tests]
        return bool(tests) and all(t.passed for t in tests)

    def to_dict(self) -> dict:
        """The ``--json`` document (see the module docstring for its schema)."""
        return {"impl": self.impl, "total": self.total, "max": self.max,
                "exercises": [{"number": e.number, "title": e.title, "points": e.points, "max": e.max,
                               "tests": [{"name": t.name, "points": t.points, "max": t.max,
                                          "passed": t.passed, "explanation": t.explanation,
                                          "replay": t.replay} for t in e.tests]}
                              for e in self.exercises],
                "errors": list(self.errors)}

    def table(self, width: int = 100) -> str:
        """The score table a student reads."""
        return _table(self, width)

    def __repr__(self) -> str:
        return f"<raftlab check of {self.impl}: {_num(self.total)} / {_num(self.max)} points>"


# --- where things are -----------------------------------------------------------------------------

def default_tests_dir() -> Path:
    """The graded tests: ``tests/exercises`` beside the raftlab package (an editable
    install or a checkout), else in the current folder or one of its parents."""
    beside = Path(__file__).resolve().parents[3] / "tests" / "exercises"
    if beside.is_dir():
        return beside
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / "tests" / "exercises").is_dir():
            return folder / "tests" / "exercises"
    raise FileNotFoundError("cannot find the graded tests (tests/exercises); pass --tests DIR")


def failures_dir() -> Path:
    """Where failing runs are saved for :func:`replay_failure`."""
    if os.environ.get(FAILURES_ENV):
        return Path(os.environ[FAILURES_ENV])
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "raftlab" / "failures"


def _record_path(folder: Path, test_id: str) -> Path:
    return folder / (re.sub(r"[^A-Za-z0-9_.-]", "_", test_id.replace("/", "__")) + ".json")


# --- running the tests ------------------------------------------------------------------------------

def _numbers(exercises: Iterable[Any]) -> list[int]:
    out: list[int] = []
    for x in exercises:
        if isinstance(x, (list, tuple, set, range)):
            out.extend(_numbers(x))
            continue
        try:
            n = int(x)
        except (TypeError, ValueError):
            n = None
        if n is None or n not in EXERCISES or isinstance(x, bool) or (isinstance(x, float) and x != n):
            raise ValueError(f"there is no exercise {x!r}: the exercises are numbered 1-{len(EXERCISES)}")
        if n not in out:
            out.append(n)
    return sorted(out)


def run_check(exercises: Iterable[Any] = (), impl: Optional[str] = None, tests: Union[None, str, Path] = None,
              timeout: float = DEFAULT_TIMEOUT, keyword: Optional[str] = None,
              save_failures: bool = True) -> CheckResult:
    """Run the graded tests of ``exercises`` (default: all) against ``impl`` (default:
    ``$RAFTLAB_IMPL``, else your exercises/) and return the score, without printing.
    Raises ``ValueError`` for an unknown exercise or a bad timeout,
    :class:`~raftlab.ImplementationError` when there is no such implementation, and
    ``FileNotFoundError`` when there are no tests."""
    numbers = _numbers(exercises) or sorted(EXERCISES)
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
        raise ValueError(f"the time limit per test must be a positive number of seconds, got {timeout!r}")
    target = locate(impl_from_env() if impl is None else impl)
    tests_dir = Path(tests).resolve() if tests is not None else default_tests_dir()
    if not tests_dir.is_dir():
        raise FileNotFoundError(f"no tests folder at {tests_dir}")
    parts = []
    with tempfile.TemporaryDirectory(prefix="raftlab-check-") as tmp:
        for group, exam_dir in _plan(target, numbers, Path(tmp)):
            lines, code, output = _run_tests(tests_dir, group, target, exam_dir, timeout, keyword, Path(tmp))
            part = _assemble(lines, group, target, code, output)
            if save_failures:
                _save_failures(part, lines, group, target, keyword)
            parts.append(part)
    return _merge(parts, target)


def _plan(target: str, numbers: list[int], tmp: Path) -> list[tuple[list[int], Optional[Path]]]:
    """The test runs: (exercises, the exam copy to run them in).  The reference runs whole, in
    one process; any other code runs one exercise per process, each in an exam copy of raftlab
    without that exercise's reference (so delegating to it earns nothing)."""
    here = exam.withheld_here()
    if here is not None:                       # this raftlab is an exam copy already (raftlab grade)
        if target == REFERENCE and here:
            raise ValueError(f"this raftlab is an exam copy without the reference of exercise(s) "
                             f"{', '.join(map(str, here))}: it cannot check the reference")
        if target != REFERENCE and set(numbers) - set(here):
            raise ValueError(f"this raftlab is an exam copy for exercise(s) {', '.join(map(str, here)) or 'none'}: "
                             f"it can check only those")
        return [(numbers, exam.PACKAGE.parent)]
    if target == REFERENCE:
        return [(numbers, None)]
    return [([n], exam.build(tmp / f"exam-ex{n}", [n])) for n in numbers]


def _run_tests(tests_dir: Path, numbers: list[int], target: str, exam_dir: Optional[Path], timeout: float,
               keyword: Optional[str], tmp: Path) -> tuple[list[str], Optional[int], str]:
    """One pytest process: (the plugin's JSON lines, its exit code or None if stopped, its output)."""
    results = tmp / f"results-{'-'.join(map(str, numbers))}.jsonl"
    cmd = [sys.executable, "-m", "pytest", str(tests_dir), "-q", "--tb=no", "-rN", "--show-capture=no",
           "-p", "raftlab.grading.check.plugin",
           "-p", "no:cacheprovider", *_UNNEEDED_PLUGINS, "-o", "addopts=", f"--confcutdir={tests_dir}",
           "--timeout", f"{timeout:g}", "--raftlab-results", str(results), "--raftlab-impl", target,
           "--raftlab-exercises", ",".join(map(str, numbers))]
    if keyword:
        cmd += ["-k", keyword]
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if exam_dir is not None:
        # The exam copy first on sys.path, and the working folder (a kit with its own raftlab/,
        # usually) not at all: Python puts it first for `-m`, so the process runs in the copy.
        env["PYTHONPATH"] = os.pathsep.join([str(exam_dir), *filter(None, [env.get("PYTHONPATH")])])
        env["PYTHONSAFEPATH"] = "1"
    limit = 120 + timeout * 200
    try:
        proc = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=limit, cwd=exam_dir)
        code, output = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired:
        code, output = None, f"the whole check was stopped after {limit:g} s"
    return (results.read_text().splitlines() if results.exists() else []), code, output


def _merge(parts: list[CheckResult], target: str) -> CheckResult:
    exercises = sorted((e for part in parts for e in part.exercises), key=lambda e: e.number)
    errors: list[str] = []
    for error in (e for part in parts for e in part.errors):
        if error not in errors:
            errors.append(error)
    return CheckResult(target, sum(e.points for e in exercises), sum(e.max for e in exercises), exercises, errors)


def _parse(lines: list[str]) -> tuple[list[dict], dict[str, dict], list[str]]:
    """The plugin's JSON lines -> (collected tests, outcomes by node id, problems)."""
    collected: list[dict] = []
    outcomes: dict[str, dict] = {}
    problems: list[str] = []
    for line in lines:
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "collected" in data:
            collected = data["collected"]
        if "result" in data:
            outcomes[data["result"]] = data
        for problem in data.get("problems", []):
            if problem not in problems:
                problems.append(problem)
    return collected, outcomes, problems


def _assemble(lines: list[str], numbers: list[int], impl: str, code: Optional[int], output: str) -> CheckResult:
    collected, outcomes, errors = _parse(lines)
    finished = code in (0, 1)
    if code is None:
        errors.append(output)
    elif code == 5 or (finished and not collected):
        errors.append("no graded tests were found for exercise(s) " + ", ".join(map(str, numbers)))
    elif not finished:
        tail = "\n".join(output.strip().splitlines()[-15:])
        errors.append(f"the test run stopped early (exit code {code}); its last output:\n{tail}")
    unfinished = ("the test never finished: the test run crashed or was stopped before it "
                  f"(exit code {code})")
    exercises = []
    for n in numbers:
        tests = []
        for t in collected:
            if t["exercise"] != n:
                continue
            out = outcomes.get(t["id"])
            passed = bool(out and out["passed"])
            explanation = "" if passed else (out["explanation"] if out else unfinished)
            test_id = f"ex{n}/{t['name']}"
            record = out.get("record") if out else None
            if passed:
                replay = ""
            elif record:
                replay = f"raftlab.replay_failure({test_id!r})  # seed {record['seed']}"
            else:
                replay = f"raftlab check {n} -k {_k_expression(t['name'])}"
            tests.append(TestResult(t["name"], t["max"] if passed else 0.0, t["max"], passed, explanation,
                                    replay, test_id, record["seed"] if record else None,
                                    bool(out and out.get("unwritten"))))
        exercises.append(ExerciseResult(n, EXERCISES[n].title, sum(t.points for t in tests),
                                        sum(t.max for t in tests), tests))
    return CheckResult(impl, sum(e.points for e in exercises), sum(e.max for e in exercises), exercises,
                       errors)


def _k_expression(name: str) -> str:
    """A ``-k`` expression that selects the test ``name`` (parameters and file prefixes dropped)."""
    return name.split("::")[-1].split("[")[0]


def _save_failures(result: CheckResult, lines: list[str], numbers: list[int], impl: str,
                   keyword: Optional[str]) -> None:
    """Save each failing run for replay_failure; remove the runs of tests that now pass."""
    collected, outcomes, _ = _parse(lines)
    tests = {t["id"]: t for t in collected}
    explanations = {t.id: t.explanation for e in result.exercises for t in e.tests}
    try:
        folder = failures_dir()
    except RuntimeError:                  # no home folder: nowhere to keep them
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if keyword is None:
            stale = [p for n in numbers for p in folder.glob(f"ex{n}__*.json")]
        else:
            stale = [_record_path(folder, test_id) for test_id in explanations]
        for path in stale:
            path.unlink(missing_ok=True)
        for nodeid, out in outcomes.items():
            t = tests.get(nodeid)
            if t is None or not out.get("record"):
                continue
            test_id = f"ex{t['exercise']}/{t['name']}"
            data = dict(out["record"], test=test_id, exercise=t["exercise"], impl=impl,
                        explanation=explanations.get(test_id, ""))
            path = _record_path(folder, test_id)
            tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data) + "\n")
            tmp.replace(path)
    except OSError as exc:                # not a grading problem: the score stands, replays are lost
        print(f"raftlab check: could not save the failing runs for replay in {folder}: {exc.strerror} "
              f"(set {FAILURES_ENV} to a writable folder)", file=sys.stderr)


# --- the table ----------------------------------------------------------------------------------------

def _num(x: float) -> str:
    return f"{x:g}"


def _wrap(text: str, indent: str, width: int) -> list[str]:
    out = []
    for line in text.splitlines() or [""]:
        extra = len(line) - len(line.lstrip(" "))
        out.extend(textwrap.wrap(line.strip(), width=width, initial_indent=indent + " " * extra,
                                 subsequent_indent=indent + " " * (extra + 2), break_long_words=False,
                                 break_on_hyphens=False) or [indent])
    return out


def _table(result: CheckResult, width: int = 100) -> str:
    lines = [f"raftlab check: {_impl_name(result.impl)}", ""]
    pad = " " * 14
    for e in result.exercises:
        head = f"Exercise {e.number}: {e.title}"
        score = f"{_num(e.points)} / {_num(e.max)} points"
        lines.append(f"{head}{' ' * max(2, width - len(head) - len(score))}{score}")
        failed = [t for t in e.tests if not t.passed]
        reasons = {t.explanation for t in failed}
        if len(failed) == len(e.tests) > 2 and len(reasons) == 1:
            lines.append(f"  FAIL  every test ({len(e.tests)}): ")
            lines.extend(_wrap(failed[0].explanation, pad, width))
            lines.append("")
            continue
        for t in e.tests:
            mark = "ok  " if t.passed else "FAIL"
            lines.append(f"  {mark}  {_num(t.points):>3}/{_num(t.max):<3}  {t.name}")
            if not t.passed:
                lines.extend(_wrap(t.explanation, pad, width))
                if t.replay and not t.unwritten:
                    lines.append(f"{pad}replay: {t.replay}")
        lines.append("")
    for error in result.errors:
        lines.extend(_wrap("problem: " + error, "", width))
    total = f"{_num(result.total)} / {_num(result.max)} points"
    lines.append(f"Total{' ' * max(2, width - 5 - len(total))}{total}")
    return "\n".join(lines)


def _impl_name(impl: str) -> str:
    if impl == "reference":
        return "the reference rules (raftlab/rules.py)"
    return f"your code in {impl}"


# --- the notebook API ----------------------------------------------------------------------------------

def check(*exercises: Any, impl: Optional[str] = None, tests: Union[None, str, Path] = None,
          timeout: float = DEFAULT_TIMEOUT, json_path: Union[None, str, Path] = None,
          keyword: Optional[str] = None, quiet: bool = False) -> CheckResult:
    """Score exercises (default: all) and print the table: ``raftlab.check(3)``.

    ``impl``: ``"exercises"`` (your exercises/ folder, found from the current
    folder upwards; the default, unless ``$RAFTLAB_IMPL`` names other code),
    ``"reference"``, or a path.  ``json_path``: also write the result as JSON.
    Returns a :class:`CheckResult`."""
    result = run_check(exercises, impl=impl, tests=tests, timeout=timeout, keyword=keyword)
    if json_path is not None:
        Path(json_path).write_text(json.dumps(result.to_dict(), indent=1) + "\n")
    if not quiet:
        print(result.table())
    return result


def replay_failure(test_id: str, impl: Optional[str] = None):
    """Open the run of a failed check in the Explorer, with your code, stopped just
    before the step that went wrong: ``raftlab.replay_failure("ex3/test_...")``.

    The run is the one ``raftlab check`` saved (seed, configuration and operator
    actions); it is replayed with the functions of that exercise from ``impl``
    (default: the code that was checked).  Returns the Explorer (or, without
    ipywidgets, the :class:`~raftlab.Simulation`)."""
    from ...sim import Simulation
    path = _record_path(failures_dir(), str(test_id))
    if not path.exists():
        raise LookupError(f"there is no saved failing run for {test_id!r} in {path.parent}: run "
                          f"`raftlab check` first (only tests that ran a simulation have one; "
                          f"the id looks like 'ex3/test_name')")
    record = json.loads(path.read_text())
    code = locate(impl) if impl is not None else record["impl"]
    functions = resolve_rules(code, exercise=record["exercise"], missing="unwritten")    # read afresh
    try:
        sim = Simulation.from_json(record["run"], impl=functions, until_step=record["stop_step"])
    except (SafetyViolation, NodeError, ImplementationError) as exc:
        raise RaftlabError(f"{test_id}: your code no longer replays this run the same way (did it change "
                           f"since the check?); it stops earlier with: {str(exc).splitlines()[0]}. "
                           f"Run the check again.") from None
    print(f"{test_id}: {record.get('explanation', '').splitlines()[0] if record.get('explanation') else ''}")
    print(f"seed {record['seed']}, replayed with {_impl_name(code)}: stopped after step "
          f"{record['stop_step']} ({record['why']}).")
    try:
        from ...widgets import Explorer
    except ImportError as exc:
        print(f"(the Explorer is not available: {exc}; here is the simulation)")
        return sim
    return Explorer(sim)


# --- the command line --------------------------------------------------------------------------------

def _exercise_arg(text: str) -> int:
    try:
        return _numbers([text])[0]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "check", help="score your exercises",
        description="Run the graded tests of the exercises against your code and print a score table. "
                    "Each exercise is graded on its own: the other exercises run the reference rules, and "
                    "the reference of the exercise being graded is not there to call.")
    p.add_argument("exercises", nargs="*", type=_exercise_arg, metavar="N",
                   help=f"exercise numbers (default: all, 1-{len(EXERCISES)})")
    p.add_argument("--impl", default=None,
                   help="the code to check: 'exercises' (your exercises/ folder), 'reference', or a path to a "
                        "module or package (default: $RAFTLAB_IMPL, else exercises)")
    p.add_argument("--json", metavar="OUT", dest="json_out",
                   help="also write the result as JSON to OUT ('-': to stdout, the table then goes to stderr)")
    p.add_argument("--tests", metavar="DIR", help="the graded tests (default: the kit's tests/exercises)")
    p.add_argument("--timeout", type=_seconds, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"time limit per test (default {DEFAULT_TIMEOUT:g})")
    p.add_argument("-k", dest="keyword", metavar="EXPR", help="only the tests whose name matches EXPR (pytest -k)")
    p.set_defaults(func=_main)


def _main(args) -> int:
    # This process holds every reference rule; the tests it starts run student code as the same
    # user, which must not read this process's memory through /proc (see check/exam.py).
    exam.set_dumpable(False)
    try:
        result = run_check(args.exercises, impl=args.impl, tests=args.tests, timeout=args.timeout,
                           keyword=args.keyword)
    except (ImplementationError, ValueError, FileNotFoundError) as exc:
        print(f"raftlab check: error: {exc}", file=sys.stderr)
        return 2
    table_out = sys.stderr if args.json_out == "-" else sys.stdout
    print(result.table(), file=table_out)
    if args.json_out:
        text = json.dumps(result.to_dict(), indent=1) + "\n"
        if args.json_out == "-":
            sys.stdout.write(text)
        else:
            try:
                Path(args.json_out).write_text(text)
            except OSError as exc:
                print(f"raftlab check: error: cannot write {args.json_out}: {exc.strerror}", file=sys.stderr)
                return 2
    return 0 if result.passed else 1
