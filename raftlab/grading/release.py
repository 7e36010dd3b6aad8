"""``raftlab release OUT_DIR``: write the student handout.

The handout is the kit (engine, lessons, exercises, public tests) with:

* **the exercise stubs** of ``exercises/`` (the release refuses to run if one of
  them is not a stub: it would hand out a solution);
* **the reference solutions withheld**: in ``raftlab/rules.py`` the functions of
  ``EXERCISE_RULES`` keep their signature and docstring, but their bodies call
  ``raftlab/_withheld.py``, which holds the original code compressed.  The
  engine, the lessons and the public tests still run the reference (a lesson
  needs a working cluster before the student has written one);
* **no hidden tests** (``tests/exercises/hidden/`` and any
  ``tests/exercises/**/hidden_*.py``), **no bug catalogue**
  (``raftlab/grading/bugs/``, near-copies of the solutions), **no class grader**
  (``raftlab/grading/grade/``, ``raftlab/grading/sandbox/``, this release
  command, the grader's threat model and benchmark), **no self-tests of the
  autograder** (``tests/grading_selftest/``), none of the developers' own test
  suites of the engine and the class grader (``tests/engine``, ``tests/grading``:
  the engine's tests script buggy variants of the exercised rules), and no "For
  instructors" section in README.md.  What a student runs stays
  (``raftlab/grading/check/``), and so do the public graded tests
  (``tests/exercises/``): they are what ``raftlab check`` runs.

Be honest with yourself about the withheld code: it *deters, it does not
prevent*.  Two lines of Python decompress it (and compiled bytecode would be as
easy to decompile, and would tie the handout to one Python version, which is
why raftlab ships compressed source instead).  It keeps the answer out of
sight while a student reads ``rules.py``; it is no defence against a student
who wants to cheat.  Grade with hidden tests and read the code.

The release then checks the handout: no withheld function's body appears in
any file, the handout's own raftlab is the one imported there and has no class
grader, the reference (withheld) scores full marks on the public tests while the
stubs score zero, and the lessons run (nbval on ``notebooks/``).
"""
from __future__ import annotations

import ast
import fnmatch
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from ..impl import IMPL_ENV
from ..rules import EXERCISE_RULES
from .check.exam import WITHHELD_MODULE, functions, replace_bodies, withheld_module

__all__ = ["release", "ReleaseError", "ReleaseReport", "register", "KIT_ROOT", "LEFT_OUT"]

KIT_ROOT = Path(__file__).resolve().parents[2]

#: Folders and files (glob patterns, relative to the kit) that never go into the handout: the bug
#: catalogue and the autograder's self-tests (near-copies of the solutions), the hidden tests, the
#: class grader, its sandbox, its threat model and its benchmark, this release command, and the
#: developers' own test suites of the engine and of the class grader (the engine's tests script buggy
#: variants of the exercised rules, e.g. Figure 8's commit rule without its term check).
LEFT_OUT = ("raftlab/grading/bugs", "raftlab/grading/grade", "raftlab/grading/sandbox", "raftlab/grading/release.py",
            "tests/grading_selftest", "tests/exercises/hidden", "tests/exercises/*hidden_*.py", "tests/engine",
            "tests/grading", "docs/grading-threat-model.md", "bench/grade.py")
#: Build output and local state, never copied (when the kit is not a git checkout).
_JUNK = {".git", ".venv", "venv", "__pycache__", ".pytest_cache", ".ipynb_checkpoints", "build", "dist",
         ".hypothesis", "test-artifacts", "node_modules", ".mypy_cache", ".ruff_cache"}


class ReleaseError(Exception):
    """The handout cannot be written, or failed its own checks (``bad_argument``: because of where it
    was asked to go, which is the caller's to fix: exit code 2)."""

    def __init__(self, message: str, bad_argument: bool = False):
        super().__init__(message)
        self.bad_argument = bad_argument


@dataclass
class ReleaseReport:
    out: Path
    files: int = 0
    left_out: list[str] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"wrote the student handout to {self.out} ({self.files} files)",
                 f"  withheld (compressed in raftlab/{WITHHELD_MODULE}.py): {', '.join(self.withheld)}",
                 f"  left out: {', '.join(self.left_out) or 'nothing'}"]
        lines += [f"  checked: {c}" for c in self.checks]
        return "\n".join(lines)


# --- which files -----------------------------------------------------------------------------------

def _kit_files(root: Path) -> list[str]:
    """Every file of the kit, relative: git's tracked and untracked-but-not-ignored files in a
    checkout, else a walk that skips build output and local state."""
    if (root / ".git").exists() and shutil.which("git"):
        proc = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others",
                               "--exclude-standard"], capture_output=True, text=True)
        if proc.returncode == 0:
            return sorted(p for p in proc.stdout.split("\0") if p and (root / p).is_file())
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _JUNK and not d.endswith(".egg-info"))
        rel = Path(folder).relative_to(root)
        found += [str(rel / f) if str(rel) != "." else f for f in sorted(files) if not f.endswith(".pyc")]
    return found


def _left_out(rel: str) -> Optional[str]:
    """The entry of LEFT_OUT that keeps ``rel`` out of the handout, if any."""
    for pattern in LEFT_OUT:
        if rel.startswith(pattern + "/") or fnmatch.fnmatch(rel, pattern):
            return pattern
    return None


# --- withholding the solutions ---------------------------------------------------------------------

def withhold(rules_source: str, names: Sequence[str]) -> tuple[str, str]:
    """``rules.py`` -> (rules.py with the bodies of ``names`` replaced by calls into
    ``_withheld``, the source of ``_withheld.py``)."""
    tree = ast.parse(rules_source)
    found = functions(tree, names)
    missing = [n for n in names if n not in found]
    if missing:
        raise ReleaseError(f"raftlab/rules.py has no function(s) {', '.join(missing)}")
    lines = rules_source.splitlines(keepends=True)
    imports = [ast.get_source_segment(rules_source, n) or "" for n in tree.body
               if isinstance(n, (ast.Import, ast.ImportFrom)) and not (isinstance(n, ast.ImportFrom)
                                                                       and n.module == "__future__")]
    hidden = ["from __future__ import annotations", "", *imports]
    for fn in sorted(found.values(), key=lambda f: f.lineno):
        start = fn.decorator_list[0].lineno if fn.decorator_list else fn.lineno
        hidden += ["", "", "".join(lines[start - 1:fn.end_lineno]).rstrip("\n")]
    out = replace_bodies(rules_source, names, lambda fn: f"return {WITHHELD_MODULE}.{fn.name}("
                         + ", ".join(a.arg for a in fn.args.args) + ")   # the reference solution is withheld")
    marker = "from .node import Node, Role\n"
    if marker not in out:
        raise ReleaseError("raftlab/rules.py no longer imports `from .node import Node, Role`: "
                           "update raftlab/grading/release.py")
    out = out.replace(marker, marker + f"from . import {WITHHELD_MODULE}\n", 1)
    return out, withheld_module("\n".join(hidden) + "\n")


def _body_lines(rules_source: str, names: Sequence[str]) -> dict[str, set[str]]:
    """The distinctive lines of each withheld function's body (to look for leaks)."""
    tree = ast.parse(rules_source)
    out = {}
    for name, fn in functions(tree, names).items():
        body = fn.body[1:] if isinstance(fn.body[0], ast.Expr) else fn.body
        text = "\n".join(ast.get_source_segment(rules_source, stmt) or "" for stmt in body)
        out[name] = {ln.split("#")[0].strip() for ln in text.splitlines() if len(ln.split("#")[0].strip()) >= 24}
    return out


def find_leaks(out: Path, bodies: dict[str, set[str]]) -> list[str]:
    """Files of the handout that hold a withheld function's code (half its distinctive lines, at least 3)."""
    leaks = []
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        for name, lines in bodies.items():
            hits = [ln for ln in lines if ln in text]
            if lines and len(hits) >= max(3, (len(lines) + 1) // 2):
                leaks.append(f"{path.relative_to(out)} holds the code of {name} ({len(hits)} of its lines)")
    return leaks


def check_stubs(exercises: Path) -> list[str]:
    """Functions in exercises/ that are not stubs (their body, after the docstring, must be one
    ``raise NotImplementedError(...)``)."""
    from . import EXERCISES
    problems = []
    for ex in EXERCISES.values():
        path = exercises / f"{ex.module}.py"
        if not path.is_file():
            problems.append(f"{path.name} is missing")
            continue
        fns = functions(ast.parse(path.read_text()), ex.rules)
        for name in ex.rules:
            fn = fns.get(name)
            body = fn.body[1:] if fn and isinstance(fn.body[0], ast.Expr) else (fn.body if fn else [])
            stub = (len(body) == 1 and isinstance(body[0], ast.Raise)
                    and "NotImplementedError" in ast.dump(body[0]))
            if not stub:
                problems.append(f"exercises/{path.name}: {name} is not a stub")
    return problems


def _strip_instructor_section(readme: Path) -> None:
    if not readme.exists():
        return
    lines = readme.read_text().splitlines(keepends=True)
    out, skipping = [], False
    for line in lines:
        if line.startswith("## "):
            skipping = line.strip().lower() == "## for instructors"
        if not skipping:
            out.append(line)
    readme.write_text("".join(out).rstrip() + "\n")


# --- the release ----------------------------------------------------------------------------------------

def release(out: Path, *, root: Path = KIT_ROOT, verify: bool = True,
            notebooks: Optional[Sequence[str]] = None, progress=print) -> ReleaseReport:
    """Write the handout to ``out`` (which must not exist, or be empty) and check it.

    ``notebooks``: the lessons to run in the check (default: every ``notebooks/*.ipynb``)."""
    out = Path(out).resolve()
    root = Path(root).resolve()
    if not (root / "raftlab" / "rules.py").is_file() or not (root / "exercises").is_dir():
        raise ReleaseError(f"{root} is not a raftlab kit (it needs raftlab/rules.py and exercises/)")
    if out == root or root in out.parents:
        raise ReleaseError(f"write the handout outside the kit, not into {out}", bad_argument=True)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ReleaseError(f"{out} already exists and is not an empty folder", bad_argument=True)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReleaseError(f"cannot write the handout to {out}: {exc.strerror}", bad_argument=True) from None
    stubs = check_stubs(root / "exercises")
    if stubs:
        raise ReleaseError("the handout would give away solutions: " + "; ".join(stubs)
                           + " (restore the stubs in exercises/)")
    report = ReleaseReport(out)
    names = [n for number in sorted(EXERCISE_RULES) for n in EXERCISE_RULES[number]]
    rules_source = (root / "raftlab" / "rules.py").read_text()
    new_rules, withheld_module = withhold(rules_source, names)
    left_out = set()
    for rel in _kit_files(root):
        pattern = _left_out(rel)
        if pattern:
            left_out.add(pattern)
            continue
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, target)
        report.files += 1
    (out / "raftlab" / "rules.py").write_text(new_rules)
    (out / "raftlab" / f"{WITHHELD_MODULE}.py").write_text(withheld_module)
    report.files += 1
    _strip_instructor_section(out / "README.md")
    report.left_out = sorted(left_out)
    report.withheld = names
    leaks = find_leaks(out, _body_lines(rules_source, names))
    if leaks:
        raise ReleaseError("the handout still holds withheld code:\n  " + "\n  ".join(leaks))
    report.checks.append("no file holds the code of a withheld rule")
    if verify:
        _verify(out, report, notebooks, progress)
    return report


def _run(out: Path, args: list[str], what: str, timeout: int = 1800) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", IMPL_ENV)}
    env["PYTHONPATH"] = str(out) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["RAFTLAB_FAILURES_DIR"] = str(out / ".raftlab-release-check")
    try:
        return subprocess.run([sys.executable, *args], cwd=out, env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ReleaseError(f"checking the handout: {what} took longer than {timeout} s") from None


def _verify(out: Path, report: ReleaseReport, notebooks: Optional[Sequence[str]], progress) -> None:
    progress("checking the handout ...")
    where = _run(out, ["-c", "import raftlab, raftlab.rules as r; print(raftlab.__file__); "
                             "print(r.handle_request_vote.__code__.co_filename)"], "importing raftlab")
    if where.returncode != 0 or not where.stdout.startswith(str(out)):
        raise ReleaseError(f"the handout's raftlab is not the one imported there:\n{where.stdout}{where.stderr}")
    report.checks.append("the handout's own raftlab is imported there")
    grader = _run(out, ["-c", "import importlib.util as u; print([m for m in ('raftlab.grading.grade', "
                              "'raftlab.grading.sandbox', 'raftlab.grading.release', 'raftlab.grading.bugs') "
                              "if u.find_spec(m)])"], "looking for the class grader")
    if grader.returncode != 0 or grader.stdout.strip() != "[]":
        raise ReleaseError(f"the handout still holds the class grader: {grader.stdout}{grader.stderr}")
    report.checks.append("no class grader, sandbox, release command or bug catalogue")
    import json
    score = out / ".raftlab-release-check.json"
    for impl, full in (("reference", True), ("exercises", False)):
        proc = _run(out, ["-m", "raftlab", "check", "--impl", impl, "--json", str(score)],
                    f"raftlab check --impl {impl}")
        data = json.loads(score.read_text()) if score.exists() else None
        ok = data is not None and (data["total"] == data["max"] > 0 if full else data["total"] == 0 < data["max"])
        if not ok or data is None:
            raise ReleaseError(f"in the handout, `raftlab check --impl {impl}` should score "
                               f"{'full marks' if full else 'zero'}:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}")
        report.checks.append(f"raftlab check --impl {impl}: {data['total']:g} / {data['max']:g} points")
    score.unlink(missing_ok=True)
    shutil.rmtree(out / ".raftlab-release-check", ignore_errors=True)
    lessons = sorted((out / "notebooks").glob("*.ipynb")) if notebooks is None else \
        [out / "notebooks" / n for n in notebooks]
    if lessons:
        sanitize = out / "tests" / "nbval_sanitize.cfg"
        args = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "--nbval", "--nbval-current-env"]
        if sanitize.exists():
            args += ["--nbval-sanitize-with", str(sanitize)]
        progress(f"running {len(lessons)} lesson notebook(s) in the handout ...")
        proc = _run(out, args + [str(p) for p in lessons], "the lessons")
        if proc.returncode != 0:
            raise ReleaseError("a lesson fails in the handout:\n" + proc.stdout[-4000:] + proc.stderr[-2000:])
        report.checks.append(f"{len(lessons)} lesson notebook(s) pass nbval")
    for junk in out.rglob("__pycache__"):
        shutil.rmtree(junk, ignore_errors=True)


# --- the command line --------------------------------------------------------------------------------

def register(subparsers) -> None:
    p = subparsers.add_parser(
        "release", help="write the student handout",
        description="Write the student handout to OUT_DIR: the kit with the exercise stubs, the reference "
                    "solutions of the exercises withheld (compressed: this deters, it does not prevent), "
                    "and without the hidden tests, the bug catalogue, the class grader and the autograder's "
                    "self-tests. "
                    "Then check that the lessons and the public tests still run in it.")
    p.add_argument("out_dir", metavar="OUT_DIR", help="where to write it (must not exist, or be empty)")
    p.add_argument("--no-verify", action="store_true", help="skip the checks that run the handout")
    p.set_defaults(func=_main)


def _main(args) -> int:
    try:
        report = release(Path(args.out_dir), verify=not args.no_verify)
    except ReleaseError as exc:
        print(f"raftlab release: error: {exc}", file=sys.stderr)
        return 2 if exc.bad_argument else 1
    print(report)
    return 0
