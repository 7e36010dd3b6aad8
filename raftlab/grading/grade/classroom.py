"""``raftlab grade``: grade a whole class, each submission in a box of its own.

    raftlab grade SUBMISSIONS_DIR --out grades.csv --feedback feedback/ [--jobs N] [--force]

``SUBMISSIONS_DIR`` holds one folder (or ``.zip``) per student: their copy of
``exercises/``.  For each one the grader runs the instructor's exercise tests
(``tests/exercises``, hidden tests included) and the instructor's checkpoint
notebooks (``exercises/checkpoints/*.ipynb``, with nbval) against the student's rules,
in a box (:mod:`raftlab.grading.sandbox`): its own user when run as root, resource
limits, a private folder, a wall-clock timeout, and every process it started killed
at the end.  Before anyone is graded, the reference rules go through the same boxes
and must score full marks (the *calibration*).

Results are kept per submission in a cache folder, keyed by the content of the
submission and of the grader's tests; a re-run grades only what changed (``--force``:
everything).  The CSV and the feedback files are rebuilt from that cache and written
atomically, so Ctrl-C or a crash loses no grade already written.

The threat model -- what the boxes defend against and what they do not -- is in
docs/grading-threat-model.md.
"""
from __future__ import annotations

import argparse
import concurrent.futures as futures
import hashlib
import json
import os
import queue
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from ..check.exam import PACKAGE
from ..sandbox.box import (
    DEFAULT_UID_BASE,
    Identity,
    Limits,
    Sandbox,
    SandboxSetupError,
    box_can_read,
    claim_free_uids,
    claim_uids,
    entry_files,
    kill_user,
    kit_hiding_problem,
    prepare_box_python,
    running_as_root,
)
from .cluster import ClusterPool, Shipment, pack_tree
from .report import csv_text, feedback_markdown, safe_filename, write_atomic
from .runner import Calibration, CalibrationError, GraderSetup, calibrate, grade_submission
from .similarity import DEFAULT_THRESHOLD, SimilarityReport, build_report, folder_code, write_html
from .stage import discover, scan, stage

__all__ = ["register", "grade_class", "GradeOptions", "main"]

#: Bump when a change to the grader should re-grade cached submissions.
GRADER_VERSION = "2"


@dataclass
class GradeOptions:
    """The options of one ``raftlab grade`` run (the CLI's flags)."""
    submissions: Path
    out: Path = Path("grades.csv")
    feedback: Path = Path("feedback")
    tests: Path = Path("tests/exercises")
    notebooks: Optional[Path] = Path("exercises/checkpoints")
    sanitize: Optional[Path] = Path("tests/nbval_sanitize.cfg")
    cache: Optional[Path] = None
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    force: bool = False
    test_timeout: float = 10.0
    import_timeout: float = 10.0
    max_timeouts: int = 3
    run_timeout: float = 240.0
    submission_timeout: float = 600.0
    memory_mb: int = 2048
    nproc: int = 256
    fsize_mb: int = 64
    sandbox_uid: Optional[int] = None      #: first uid of the boxes' users (None: the first free block)
    same_user: bool = False
    work_dir: Optional[Path] = None
    keep_work: bool = False
    check_entry: str = "raftlab.cli:main"
    progress: bool = True
    similarity_threshold: float = DEFAULT_THRESHOLD   #: flag exercise code this much like another's (0..1)
    similarity_dir: Optional[Path] = None             #: the similarity pages (None: ``similarity/`` by --out)
    scheduler: Optional[str] = None                   #: a Dask scheduler's address: grade on its cluster

    def limits(self) -> Limits:
        return Limits(wall=self.run_timeout, cpu=int(self.run_timeout) + 1, memory_mb=self.memory_mb,
                      nproc=self.nproc, fsize_mb=self.fsize_mb)


class _Stop(Exception):
    """Grading was interrupted."""


def _digest_tree(h, root: Path) -> None:
    root = Path(root)
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*")
                                                 if p.is_file() and "__pycache__" not in p.parts)
    for p in files:
        h.update(str(p.relative_to(root) if p != root else p.name).encode() + b"\0")
        h.update(p.read_bytes())


def grader_digest(opts: GradeOptions, notebooks: list) -> str:
    """What a grade depends on besides the submission: the tests, the notebooks, the
    engine and grader source, and the limits."""
    h = hashlib.sha256(f"raftlab-grade {GRADER_VERSION}\n".encode())
    _digest_tree(h, opts.tests)
    for nb in notebooks:
        _digest_tree(h, nb)
    if opts.sanitize is not None:
        _digest_tree(h, opts.sanitize)
    _digest_tree(h, PACKAGE)                                         # the raftlab package
    h.update(json.dumps([opts.test_timeout, opts.import_timeout, opts.max_timeouts, opts.run_timeout,
                         opts.submission_timeout, opts.memory_mb, opts.nproc, opts.fsize_mb,
                         opts.check_entry]).encode())
    return h.hexdigest()


def _mpl_cache() -> Optional[Path]:
    try:
        import matplotlib
        return Path(matplotlib.get_cachedir())
    except Exception:
        return None


def _status(result: dict) -> str:
    return "problems" if result.get("problems") else "ok"


def _ungradable(student: str, source: str, problems: list, notes: list, calibration: Calibration) -> dict:
    why = "; ".join(problems)
    exercises = [{"number": e["number"], "title": e["title"], "points": 0.0, "max": e["max"], "problems": [],
                  "tests": [{"name": t["name"], "points": 0.0, "max": t["max"], "passed": False,
                             "explanation": f"not graded: {why}", "replay": ""} for t in e["tests"]]}
                 for e in calibration.exercises]
    notebooks = [{"name": nb["name"], "points": 0.0, "max": nb["max"], "problems": [],
                  "cells": [{"cell": c["cell"], "points": 0.0, "max": c["points"], "passed": False,
                             "head": c.get("head", ""), "message": f"not graded: {why}"}
                            for c in nb["cells"]]}
                 for nb in calibration.notebooks]
    maximum = sum(e["max"] for e in exercises) + sum(nb["max"] for nb in notebooks)
    return {"student": student, "source": source, "status": "failed", "total": 0.0, "max": maximum,
            "exercises": exercises, "notebooks": notebooks, "problems": problems, "notes": notes}


class ClassGrader:
    """One ``raftlab grade`` run: calibration, then every submission, then the reports."""

    def __init__(self, opts: GradeOptions, log=print):
        self.opts = opts
        self.log = log
        self.stop = threading.Event()
        self.boxes: set = set()
        self.lock = threading.Lock()
        self.results: dict = {}      # student -> result (this run's, or the cached one)
        self.counts = {"graded": 0, "cached": 0}
        self.codes: dict = {}        # student -> exercise -> the code compared by the similarity report
        self.similarity: Optional[SimilarityReport] = None

    # --- setup -------------------------------------------------------------------------
    def _identities(self) -> list:
        opts = self.opts
        if opts.same_user or not running_as_root():
            if not opts.same_user:
                self.log("raftlab grade: warning: not running as root, so student code runs as your own "
                         "user: it is limited in time, memory and processes, but it can read and change "
                         "your files (see docs/grading-threat-model.md)")
            return [None] * (2 * opts.jobs)
        # Two boxes per job (the exercise tests and the notebooks run side by side), a user each.
        count = 2 * opts.jobs
        if opts.sandbox_uid is None:
            base, self._uid_claim = claim_free_uids(count)
        else:
            base = opts.sandbox_uid
            self._uid_claim = claim_uids(range(base, base + count))
        return [Identity.for_slot(i, base) for i in range(count)]

    def _clean_stale_lock(self) -> None:
        """One grader per cache.  A lock left by a run that was killed (kill -9, a crash of
        the machine) is stale: what that run left behind -- processes of its boxes' users,
        its work folder -- is cleaned up first."""
        self.lock_path = self.cache / "grader.lock"
        try:
            old = json.loads(self.lock_path.read_text())
        except (OSError, ValueError):
            return
        if not isinstance(old, dict):
            return
        pid = old.get("pid")
        if isinstance(pid, int) and pid != os.getpid() and _alive(pid):
            raise ValueError(f"another `raftlab grade` (pid {pid}) is using {self.cache}; wait for it "
                             f"or stop it")
        uids = [u for u in old.get("uids", []) if isinstance(u, int) and u >= 1000]
        if running_as_root() and uids:
            try:
                held = claim_uids(uids, check=False)       # not if another grader uses them now
            except ValueError:
                held = []
            for uid in uids if held else []:
                kill_user(uid)
            for fd in held:
                os.close(fd)
        work = Path(str(old.get("work", "")))
        if work.name.startswith("raftlab-grade-") and work.is_dir() and work != self.work:
            shutil.rmtree(work, ignore_errors=True)
        self.log("raftlab grade: cleaned up after an earlier run that did not finish")

    def _write_lock(self) -> None:
        uids = [i.uid for i in self.identities if i is not None]
        write_atomic(self.lock_path, json.dumps({"pid": os.getpid(), "work": str(self.work), "uids": uids}))

    def _release_lock(self) -> None:
        for fd in getattr(self, "_uid_claim", []):
            os.close(fd)
        self._uid_claim = []
        if not hasattr(self, "lock_path"):
            return
        try:
            data = json.loads(self.lock_path.read_text())
            if data.get("pid") == os.getpid():
                self.lock_path.unlink()
        except (OSError, ValueError, AttributeError):
            pass

    def setup(self) -> None:
        opts = self.opts
        self.notebooks = (sorted(Path(opts.notebooks).glob("*.ipynb"))
                          if opts.notebooks is not None and Path(opts.notebooks).is_dir() else [])
        self.cache = Path(opts.cache) if opts.cache else Path(opts.out).resolve().parent / ".raftlab-grade-cache"
        (self.cache / "results").mkdir(parents=True, exist_ok=True)
        os.chmod(self.cache, 0o700)             # grades are for the instructor only
        self.work = Path(tempfile.mkdtemp(prefix="raftlab-grade-", dir=opts.work_dir))
        os.chmod(self.work, 0o711)
        self._clean_stale_lock()          # before the uid check: it may clean up after a crash
        self.identities = self._identities()
        self._write_lock()
        if self.identities[0] is not None and os.stat(opts.submissions).st_mode & 0o005:
            self.log(f"raftlab grade: warning: other users can read {opts.submissions}, so the boxes' users "
                     f"can read every submission: `chmod o-rx {opts.submissions}`")
        self.python = prepare_box_python(self.work, self.identities[0])
        self._warn_if_reference_readable()
        self.digest = grader_digest(opts, self.notebooks)
        self.setup_ = GraderSetup(
            tests=Path(opts.tests).resolve(), notebooks=[nb.resolve() for nb in self.notebooks],
            sanitize=Path(opts.sanitize).resolve() if opts.sanitize is not None else None,
            check_entry=opts.check_entry, test_timeout=opts.test_timeout,
            import_timeout=opts.import_timeout, max_timeouts=opts.max_timeouts,
            submission_timeout=opts.submission_timeout,
            limits=opts.limits(), python=self.python.executable, mpl_cache=_mpl_cache())

    def _warn_if_reference_readable(self) -> None:
        """The boxes import exam copies of raftlab, never this one: if their users can still read
        this raftlab's reference rules, a submission could copy them from disk while it is graded."""
        identity = self.identities[0]
        rules = PACKAGE / "rules.py"
        if identity is not None and box_can_read(self.python, identity, rules):
            kit = PACKAGE.parent
            why = kit_hiding_problem()
            hidden = (f"the boxes cannot start with the kit hidden ({why})" if why else
                      "the boxes start with the kit hidden, yet they can read it")
            self.log(f"raftlab grade: warning: the boxes' users can read the reference rules ({rules}), so a "
                     f"submission could copy them from disk while it is graded ({hidden}); the boxes do not "
                     f"need them (they import exam copies): `chmod -R o-rwx {PACKAGE} {kit / 'tests'} "
                     f"{kit / '.git'}` (see docs/grading-threat-model.md)")

    def _boxes(self, root: Path, slot: int) -> tuple:
        """The two boxes of job ``slot`` for the submission folder ``root``."""
        reveal = entry_files(self.setup_.check_entry)
        boxes = (Sandbox(root / "tests-box", self.identities[2 * slot], self.setup_.limits, self.python, reveal),
                 Sandbox(root / "notebooks-box", self.identities[2 * slot + 1], self.setup_.limits, self.python,
                         reveal))
        with self.lock:
            self.boxes.update(boxes)
        return boxes

    def _close(self, boxes: tuple, root: Path) -> None:
        with self.lock:
            self.boxes.difference_update(boxes)
        for box in boxes:
            box.close(keep=self.opts.keep_work)
        if not self.opts.keep_work:
            shutil.rmtree(root, ignore_errors=True)

    def calibrate(self) -> Calibration:
        path = self.cache / "calibration.json"
        try:
            saved = json.loads(path.read_text())
            if saved.get("digest") == self.digest:
                return Calibration.from_json(saved["calibration"])
        except (OSError, ValueError, KeyError):
            pass
        root = self.work / "calibration"
        root.mkdir()
        boxes = self._boxes(root, 0)
        try:
            calibration = calibrate(self.setup_, root, *boxes)
        finally:
            self._close(boxes, root)
        write_atomic(path, json.dumps({"digest": self.digest, "calibration": calibration.to_json()}))
        return calibration

    # --- one submission -------------------------------------------------------------------
    def _result_path(self, student: str) -> Path:
        return self.cache / "results" / f"{safe_filename(student)}.json"

    def _cached(self, student: str, key: str) -> Optional[dict]:
        try:
            saved = json.loads(self._result_path(student).read_text())
        except (OSError, ValueError):
            return None
        return saved if saved.get("key") == key and saved.get("student") == student else None

    def _save(self, result: dict) -> None:
        write_atomic(self._result_path(result["student"]), json.dumps(result, indent=1))
        write_atomic(Path(self.opts.feedback) / f"{safe_filename(result['student'])}.md",
                     feedback_markdown(result))

    def grade_one(self, student: str, source: Path, staged, slots: "queue.Queue") -> dict:
        slot = slots.get()
        boxes = None
        root = staged.folder.parent
        started = time.monotonic()
        try:
            if self.stop.is_set():
                raise _Stop()
            boxes = self._boxes(root, slot)
            found = scan(staged)
            result = grade_submission(self.setup_, root, boxes[0], boxes[1], staged, found)
            result["notes"] = staged.notes + [n for n in found.notes if n not in staged.notes] + result["notes"]
            result.update(student=student, source=staged.source, status=_status(result))
        except _Stop:
            raise
        except Exception as exc:  # one submission never stops the class
            if self.stop.is_set():
                raise _Stop() from exc
            result = _ungradable(student, staged.source,
                                 [f"internal grader error ({type(exc).__name__}: {exc}); this result "
                                  f"is not cached, run `raftlab grade` again"], [], self.calibration)
            result["error"] = traceback.format_exc()[-4000:]
        finally:
            if boxes is not None:
                self._close(boxes, root)
            slots.put(slot)
        if self.stop.is_set():
            raise _Stop()
        result["seconds"] = round(time.monotonic() - started, 2)
        return result

    # --- the class ---------------------------------------------------------------------------
    def run(self) -> int:
        opts = self.opts
        try:
            self.setup()
            self.calibration = self.calibrate()
            self.setup_.calibration = self.calibration
            for w in self.calibration.warnings:
                self.log(f"raftlab grade: warning: {w}")
            return self._grade_all()
        finally:
            for box in list(self.boxes):
                box.kill()
            work = getattr(self, "work", None)          # None if the setup failed before making it
            if work is not None and not opts.keep_work:
                shutil.rmtree(work, ignore_errors=True)
            self._release_lock()

    def _grade_all(self) -> int:
        opts = self.opts
        submissions = discover(opts.submissions)
        self.students = [s for s, _ in submissions]
        todo = self._take_in(submissions)
        self._compare()
        self._write_csv()
        bar = _progress(len(submissions), len(submissions) - len(todo), opts.progress)
        pool, pending = self._cluster(todo) if opts.scheduler else self._local(todo)
        interrupted = False
        previous = _on_sigterm()
        try:
            self._collect_results(pending, bar)
        except KeyboardInterrupt:
            interrupted = True
            self.stop.set()
            for fut in pending:
                fut.cancel()
            for box in list(self.boxes):
                box.kill()
        finally:
            if isinstance(pool, ClusterPool):
                pool.shutdown()
            else:
                pool.shutdown(wait=True, cancel_futures=True)
            _restore_sigterm(previous)
            bar.close()
            self._write_csv()
        for student, result in self._collect().items():
            if "error" not in result:
                write_atomic(Path(opts.feedback) / f"{safe_filename(student)}.md", feedback_markdown(result))
        summary = self._summary()
        if interrupted:
            self.log(f"raftlab grade: interrupted; {summary}. Grades already written are kept: run the "
                     f"same command again to grade the rest.")
            return 130
        self.log(f"raftlab grade: {summary}; wrote {opts.out} and {opts.feedback}/")
        return 0

    def _local(self, todo: list) -> tuple:
        """Today's pool: ``--jobs`` submissions at once on this machine, two boxes each."""
        slots: queue.Queue = queue.Queue()
        for slot in range(self.opts.jobs):
            slots.put(slot)
        pool = futures.ThreadPoolExecutor(max_workers=self.opts.jobs, thread_name_prefix="grade")
        pending = {pool.submit(self.grade_one, student, source, staged, slots): (student, key)
                   for student, source, staged, key in todo}
        return pool, pending

    def _cluster(self, todo: list) -> tuple:
        """Each submission a task on the Dask cluster at ``--scheduler`` (the same boxes, on its workers)."""
        opts = self.opts
        tests = Path(opts.tests)
        shipment = Shipment(
            digest=self.digest, setup=self.setup_, tests=pack_tree(tests),
            notebooks={Path(nb).name: Path(nb).read_bytes() for nb in self.setup_.notebooks},
            sanitize=Path(opts.sanitize).read_bytes() if opts.sanitize is not None else None,
            same_user=opts.same_user or not running_as_root(),
            uid_from=None if opts.sandbox_uid is None else opts.sandbox_uid + 2 * opts.jobs)
        pool = ClusterPool(opts.scheduler or "", shipment, self.log)
        pending = {}
        for student, _source, staged, key in todo:
            files = pack_tree(staged.folder) if staged.folder is not None else {}
            shutil.rmtree(staged.folder.parent if staged.folder is not None else self.work / "none",
                          ignore_errors=True)
            pending[pool.submit(student, key, staged, files, self._finisher(student, staged))] = (student, key)
        return pool, pending

    def _finisher(self, student: str, staged) -> Callable[[dict], dict]:
        """What turns a worker's answer into this submission's result (as grade_one does locally)."""
        def finish(result: dict) -> dict:
            if "error" in result:
                out = _ungradable(student, staged.source, result.get("problems", []), [], self.calibration)
                out.update(error=result["error"], seconds=result.get("seconds", 0))
                return out
            result.update(student=student, source=staged.source, status=_status(result))
            return result
        return finish

    def _take_in(self, submissions: list) -> list:
        """Stage every submission; note the cached and the ungradable ones; return the rest to
        grade, as (student, source, staged, key)."""
        self.keys: dict = {}
        todo = []
        for i, (student, source) in enumerate(submissions):
            staged = stage(student, source, self.work / f"sub{i:04d}" / "student")
            self.codes[student] = folder_code(staged.folder, self.calibration.numbers)
            key = hashlib.sha256(f"{self.digest}\n{staged.digest}".encode()).hexdigest()
            self.keys[student] = key
            cached = None if self.opts.force else self._cached(student, key)
            if cached is not None:
                self.results[student] = cached
                self.counts["cached"] += 1
                shutil.rmtree(self.work / f"sub{i:04d}", ignore_errors=True)
            elif staged.problems:
                result = _ungradable(student, staged.source, staged.problems, staged.notes, self.calibration)
                result.update(key=key, digest=staged.digest)
                self._save(result)
                self.results[student] = result
                self.counts["graded"] += 1
            else:
                todo.append((student, source, staged, key))
        return todo

    def _compare(self) -> None:
        """The similarity report of every submission's exercise code (cached ones too: it only
        parses the staged files, it runs nothing), before anyone is graded, so every gradebook
        written from now on has its ``similarity`` column.  It flags; it never changes a grade."""
        opts = self.opts
        try:
            self.similarity = build_report(self.codes, self.calibration.numbers, opts.similarity_threshold)
        except ImportError as exc:
            self.log(f"raftlab grade: warning: no similarity report ({exc}); `pip install raftlab[grade]`")
            return
        folder = opts.similarity_dir or Path(opts.out).resolve().parent / "similarity"
        write_html(self.similarity, folder)
        flagged = len(self.similarity.flags)
        self.log(f"raftlab grade: similarity report in {folder}/index.html: {flagged} submission(s) at or above "
                 f"{opts.similarity_threshold:.0%} (flagged in the gradebook's similarity column, not deducted)")

    def _collect_results(self, pending: dict, bar) -> None:
        """Save each grade as soon as its submission is done (the CSV too), until none is left."""
        while pending:
            done, _ = futures.wait(pending, timeout=0.5, return_when=futures.FIRST_COMPLETED)
            for fut in done:
                student, key = pending.pop(fut)
                try:
                    result = fut.result()
                except _Stop:
                    continue
                result.update(key=key)
                if "error" not in result:
                    self._save(result)
                else:
                    write_atomic(Path(self.opts.feedback) / f"{safe_filename(student)}.md", feedback_markdown(result))
                self.results[student] = result
                self.counts["graded"] += 1
                self._write_csv()
                bar.update(1)
                bar.set_postfix_str(f"{student}: {result['status']}", refresh=False)

    def _summary(self) -> str:
        collected = self._collect()
        statuses = [r["status"] for r in collected.values()]
        left = len(self.students) - len(collected)
        text = (f"{len(self.students)} submissions: {self.counts['graded']} graded now, "
                f"{self.counts['cached']} unchanged since the last run, "
                f"{statuses.count('problems')} with problems, {statuses.count('failed')} not gradable")
        return text + (f", {left} not graded yet" if left else "")

    def _collect(self) -> dict:
        """Every grade there is for the current submissions: this run's, else the cached one
        (the cache is the truth: Ctrl-C may land between writing a result and noting it)."""
        out = {}
        for student in self.students:
            result = self.results.get(student)
            if result is None and student in self.keys:
                result = self._cached(student, self.keys[student])
            if result is not None:
                out[student] = result
        return out

    def _write_csv(self) -> None:
        with self.lock:
            rows = list(self._collect().values())
            flags = {s: self.similarity.column(s) for s in self.students} if self.similarity else {}
            write_atomic(Path(self.opts.out), csv_text(rows, self.calibration, flags))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"raftlab" in f.read()
    except OSError:
        return True


def _progress(total: int, initial: int, enabled: bool):
    from tqdm import tqdm
    return tqdm(total=total, initial=initial, desc="grading", unit="submission", file=sys.stderr,
                disable=not enabled, dynamic_ncols=True)


def _on_sigterm():
    """SIGTERM stops the run like Ctrl-C (grades already written are kept)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum, frame):
        raise KeyboardInterrupt()
    return signal.signal(signal.SIGTERM, handler)


def _restore_sigterm(previous) -> None:
    if previous is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, previous)


def grade_class(opts: GradeOptions, log=print) -> int:
    """Grade every submission in ``opts.submissions``; returns the exit code."""
    return ClassGrader(opts, log).run()


# --- the command line -------------------------------------------------------------------------

def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be positive")
        return value
    return parse


def _percent(text: str) -> float:
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage") from None
    if not 0 < value <= 100:
        raise argparse.ArgumentTypeError(f"{text!r} must be a percentage above 0 and at most 100")
    return value


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "grade", help="grade a whole class: a CSV gradebook and a feedback file per student",
        description="Grade every submission (a folder or .zip holding a student's exercises/) in "
                    "SUBMISSIONS: the instructor's exercise tests and checkpoint notebooks run against "
                    "each student's rules, each submission in a box of its own. Re-running grades only "
                    "what changed. Times are in seconds.")
    p.add_argument("submissions", help="folder with one folder or .zip per student")
    p.add_argument("--out", default="grades.csv", help="the gradebook to write (default: grades.csv)")
    p.add_argument("--feedback", default="feedback", help="folder for one Markdown file per student")
    p.add_argument("--jobs", type=_positive(int), default=os.cpu_count() or 1,
                   help="submissions graded in parallel (default: the number of cores)")
    p.add_argument("--force", action="store_true", help="grade again even what is unchanged")
    p.add_argument("--tests", default="tests/exercises",
                   help="the instructor's exercise tests (default: tests/exercises)")
    p.add_argument("--notebooks", default="exercises/checkpoints",
                   help="the instructor's graded notebooks (default: exercises/checkpoints)")
    p.add_argument("--sanitize", default="tests/nbval_sanitize.cfg",
                   help="nbval sanitize file (default: tests/nbval_sanitize.cfg, if present)")
    p.add_argument("--cache", help="where results are kept between runs "
                                   "(default: .raftlab-grade-cache next to --out)")
    p.add_argument("--timeout", type=_positive(float), default=10.0,
                   help="per test and per notebook cell (default 10, as raftlab check)")
    p.add_argument("--import-timeout", type=_positive(float), default=10.0,
                   help="per file, when importing a submission's files (default 10)")
    p.add_argument("--max-timeouts", type=int, default=3, metavar="N",
                   help="after N tests of an exercise (N cells of a notebook) ran out of time, skip the "
                        "rest: they would loop too (default 3; 0: run every one to its limit)")
    p.add_argument("--run-timeout", type=_positive(float), default=240.0,
                   help="wall-clock limit of each run in a box (default 240)")
    p.add_argument("--submission-timeout", type=_positive(float), default=600.0,
                   help="wall-clock budget of one submission, all runs together (default 600)")
    p.add_argument("--memory", type=_positive(int), default=2048, metavar="MB",
                   help="address space per process (default 2048)")
    p.add_argument("--nproc", type=_positive(int), default=256,
                   help="processes+threads per box (default 256)")
    p.add_argument("--max-file-size", type=_positive(int), default=64, metavar="MB",
                   help="largest file (and output) a box may write (default 64)")
    p.add_argument("--sandbox-uid", type=_positive(int), default=None, metavar="FROM",
                   help=f"as root: the boxes run as uids FROM .. FROM+2*jobs-1 (two boxes per job), which no "
                        f"account may use (default: the first free block from {DEFAULT_UID_BASE})")
    p.add_argument("--same-user", action="store_true",
                   help="run student code as your own user even as root (weaker: see the threat model)")
    p.add_argument("--work-dir", help="where the boxes are made (default: the system's temp folder)")
    p.add_argument("--keep-work", action="store_true", help="keep the boxes' folders (to debug the grader)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="grade each submission on the Dask cluster whose scheduler is at ADDRESS "
                        "(tcp://host:8786; start it with `dask scheduler`, and `dask worker ADDRESS` on each "
                        "machine, as root for boxes with users of their own); default: on this machine")
    p.add_argument("--similarity-threshold", type=_percent, default=round(DEFAULT_THRESHOLD * 100), metavar="PERCENT",
                   help=f"flag (never deduct) a submission whose code of an exercise is at least PERCENT like "
                        f"the reference's or another submission's (default {DEFAULT_THRESHOLD:.0%})")
    p.add_argument("--similarity-report", metavar="DIR",
                   help="where the similarity pages go (default: similarity/ next to --out)")
    p.add_argument("--check-entry", default="raftlab.cli:main", help=argparse.SUPPRESS)
    p.set_defaults(func=handler)


def options_from_args(args) -> GradeOptions:
    sanitize = Path(args.sanitize) if args.sanitize else None
    if sanitize is not None and not sanitize.is_file():
        if args.sanitize != "tests/nbval_sanitize.cfg":
            raise ValueError(f"no sanitize file at {args.sanitize}")
        sanitize = None
    notebooks = Path(args.notebooks) if args.notebooks else None
    if notebooks is not None and not notebooks.is_dir() and args.notebooks != "exercises/checkpoints":
        raise ValueError(f"no notebooks folder at {args.notebooks}")
    if not Path(args.submissions).is_dir():
        raise ValueError(f"no submissions folder at {args.submissions}")
    if not Path(args.tests).is_dir():
        raise ValueError(f"no exercise tests at {args.tests}: run from the raftlab repository, or pass --tests")
    return GradeOptions(
        submissions=Path(args.submissions), out=Path(args.out), feedback=Path(args.feedback),
        tests=Path(args.tests), notebooks=notebooks, sanitize=sanitize,
        cache=Path(args.cache) if args.cache else None, jobs=args.jobs, force=args.force,
        test_timeout=args.timeout, import_timeout=args.import_timeout, max_timeouts=max(0, args.max_timeouts),
        run_timeout=args.run_timeout,
        submission_timeout=args.submission_timeout, memory_mb=args.memory, nproc=args.nproc,
        fsize_mb=args.max_file_size, sandbox_uid=args.sandbox_uid, same_user=args.same_user,
        work_dir=Path(args.work_dir) if args.work_dir else None, keep_work=args.keep_work,
        check_entry=args.check_entry, progress=not args.quiet,
        similarity_threshold=args.similarity_threshold / 100,
        similarity_dir=Path(args.similarity_report) if args.similarity_report else None,
        scheduler=args.scheduler)


def handler(args) -> int:
    try:
        opts = options_from_args(args)
    except ValueError as exc:
        print(f"raftlab grade: error: {exc}", file=sys.stderr)
        return 2
    log = lambda text: print(text, file=sys.stderr)  # noqa: E731
    try:
        return grade_class(opts, log)
    except CalibrationError as exc:
        log(f"raftlab grade: error: {exc}")
        return 1
    except (SandboxSetupError, ValueError, PermissionError) as exc:
        log(f"raftlab grade: error: {exc}")
        return 2
    except KeyboardInterrupt:
        log("raftlab grade: interrupted")
        return 130


def main(argv=None) -> int:
    """``python -m raftlab.grading.grade.classroom ...`` (the same as ``raftlab grade ...``)."""
    parser = argparse.ArgumentParser(prog="raftlab")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["grade", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
