"""``raftlab grade --scheduler ADDRESS``: grade each submission on a Dask distributed cluster.

A class of thousands outgrows one machine.  The instructor starts ``dask scheduler`` and
``dask worker ADDRESS`` on their machines (or a batch system does), with this raftlab installed
on each; ``raftlab grade`` stays where it is and does what it does without a cluster -- take the
submissions in, calibrate the reference, keep the cache, the gradebook, the feedback and the
progress bar -- but sends the grading of each submission to the cluster as one task.

What travels is data, never paths: a task carries the staged files of one submission (at most
32 MB: :mod:`~raftlab.grading.grade.stage`), and the instructor's tests, notebooks and
calibration are sent to every worker once.  A worker grades in boxes of its own, exactly as the
local pool does (:func:`~raftlab.grading.grade.runner.grade_submission`): as root, two users of
its own per thread it runs tasks on (claimed like the local grader's, so two workers or graders on
one machine never share one), the same limits, exam copies and clean-up.  It answers with the
result record; the grader saves it in the cache as it arrives, so an interrupted run resumes
where it stopped, like a local one.

Each worker process keeps one :class:`WorkerGrader` per grading setup (keyed by its digest):
its work folder, box users and box interpreter are made by its first task and reused.
"""
from __future__ import annotations

import atexit
import concurrent.futures as futures
import os
import queue
import shutil
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Optional

from ..sandbox.box import (
    Identity,
    Sandbox,
    claim_free_uids,
    claim_uids,
    entry_files,
    prepare_box_python,
    running_as_root,
)
from .runner import GraderSetup, grade_submission
from .stage import Staged, scan

__all__ = ["Shipment", "pack_tree", "unpack_tree", "ClusterPool", "WorkerGrader", "grade_on_worker"]


def pack_tree(root: Path) -> dict:
    """{relative path: bytes} for the regular files under ``root`` (a folder or one file);
    ``__pycache__`` left out."""
    root = Path(root)
    if root.is_file():
        return {root.name: root.read_bytes()}
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.is_symlink() and "__pycache__" not in p.parts}


def unpack_tree(files: dict, dest: Path) -> Path:
    """Write ``files`` ({relative path: bytes}) under ``dest``; refuses paths that leave it."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for rel, data in sorted(files.items()):
        target = dest / rel
        if ".." in Path(rel).parts or Path(rel).is_absolute():
            raise ValueError(f"refusing to write {rel!r} outside {dest}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return dest


@dataclass(frozen=True)
class Shipment:
    """What every task of one grading run needs, sent to each worker once."""
    digest: str                  #: the grader's digest (tests, notebooks, engine, limits)
    setup: GraderSetup           #: its paths are the grader's; a worker replaces them with its own copies
    tests: dict                  #: the instructor's exercise tests, {relative path: bytes}
    notebooks: dict              #: {name: bytes}
    sanitize: Optional[bytes]
    same_user: bool
    uid_from: Optional[int]      #: the first uid a worker may claim for its boxes (None: the first free block)


class WorkerGrader:
    """The grader inside one worker process: its work folder, box users and interpreter."""

    _lock = threading.Lock()
    _by_digest: dict = {}

    def __init__(self, shipment: Shipment, slots: int):
        self.work = Path(tempfile.mkdtemp(prefix="raftlab-grade-worker-"))
        os.chmod(self.work, 0o711)
        self.claim: list = []
        identities: list = [None] * (2 * slots)
        if running_as_root() and not shipment.same_user:
            if shipment.uid_from is None:
                base, self.claim = claim_free_uids(2 * slots)
            else:
                base, self.claim = _claim_from(shipment.uid_from, 2 * slots)
            identities = [Identity.for_slot(i, base) for i in range(2 * slots)]
        self.identities = identities
        python = prepare_box_python(self.work, identities[0])
        shared = self.work / "instructor"
        tests = unpack_tree(shipment.tests, shared / "tests" / shipment.setup.tests.name)
        notebooks = unpack_tree(shipment.notebooks, shared / "notebooks")
        sanitize = None
        if shipment.sanitize is not None:
            sanitize = shared / "sanitize.cfg"
            sanitize.write_bytes(shipment.sanitize)
        self.setup = replace(shipment.setup, tests=tests, sanitize=sanitize, python=python.executable,
                             notebooks=[notebooks / Path(nb).name for nb in shipment.setup.notebooks])
        self.python = python
        self.slots: queue.Queue = queue.Queue()
        for slot in range(slots):
            self.slots.put(slot)
        self.count = 0
        atexit.register(self.close)

    @classmethod
    def get(cls, shipment: Shipment) -> "WorkerGrader":
        with cls._lock:
            grader = cls._by_digest.get(shipment.digest)
            if grader is None:
                grader = cls(shipment, _worker_threads())
                cls._by_digest[shipment.digest] = grader
            return grader

    def grade(self, staged: Staged, files: dict) -> dict:
        """Grade one submission (its staged files) in this worker's boxes."""
        slot = self.slots.get()
        with WorkerGrader._lock:
            self.count += 1
            root = self.work / f"sub{self.count:05d}"
        boxes: tuple = ()
        try:
            folder = unpack_tree(files, root / "student") if staged.folder is not None else None
            staged = replace(staged, folder=folder)
            found = scan(staged)
            reveal = entry_files(self.setup.check_entry)
            boxes = (Sandbox(root / "tests-box", self.identities[2 * slot], self.setup.limits, self.python, reveal),
                     Sandbox(root / "notebooks-box", self.identities[2 * slot + 1], self.setup.limits, self.python,
                             reveal))
            result = grade_submission(self.setup, root, boxes[0], boxes[1], staged, found)
            result["notes"] = staged.notes + [n for n in found.notes if n not in staged.notes] + result["notes"]
            return result
        finally:
            for box in boxes:
                box.close()
            shutil.rmtree(root, ignore_errors=True)
            self.slots.put(slot)

    def close(self) -> None:
        for fd in self.claim:
            try:
                os.close(fd)
            except OSError:
                pass
        self.claim = []
        shutil.rmtree(self.work, ignore_errors=True)


def _claim_from(first: int, count: int) -> tuple:
    """The first free block of ``count`` uids from ``first``, claimed: (base, claim)."""
    base = first
    while True:
        try:
            return base, claim_uids(range(base, base + count))
        except ValueError:
            base += count
            if base > first + 64 * count:
                raise


def _worker_threads() -> int:
    """How many tasks this Dask worker runs at once (each needs its own two boxes)."""
    try:
        from distributed import get_worker
        return max(1, int(get_worker().state.nthreads))
    except (ImportError, ValueError, AttributeError):
        return 1


def grade_on_worker(shipment: Shipment, staged: Staged, files: dict) -> dict:
    """The task: grade one submission on this worker.  A failure of the grader itself comes back
    as a result with an ``error`` (not cached, like the local pool's)."""
    started = time.monotonic()
    try:
        result = WorkerGrader.get(shipment).grade(staged, files)
    except Exception as exc:  # one submission never stops the class
        result = {"error": traceback.format_exc()[-4000:],
                  "problems": [f"internal grader error on a cluster worker ({type(exc).__name__}: {exc}); "
                               f"this result is not cached, run `raftlab grade` again"]}
    result["seconds"] = round(time.monotonic() - started, 2)
    result["worker"] = _worker_name()
    return result


def _worker_name() -> str:
    try:
        from distributed import get_worker
        return str(get_worker().address)
    except (ImportError, ValueError):
        return ""


class ClusterPool:
    """Grading tasks on a Dask cluster, seen by the grader as ``concurrent.futures`` futures."""

    def __init__(self, address: str, shipment: Shipment, log: Callable[[str], None]):
        try:
            from distributed import Client
        except ImportError:
            raise ValueError("--scheduler needs Dask distributed: `pip install raftlab[grade]`") from None
        try:
            self.client = Client(address, timeout="20s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ValueError(f"no Dask scheduler answers at {address} ({exc}); start one with "
                             f"`dask scheduler` and workers with `dask worker {address}`") from None
        workers = self.client.scheduler_info().get("workers", {})
        log(f"raftlab grade: grading on the Dask cluster at {address} ({len(workers)} worker(s), "
            f"{sum(w.get('nthreads', 1) for w in workers.values())} thread(s))")
        self.shipment = self.client.scatter(shipment, broadcast=True)
        self.tasks: list = []

    def submit(self, student: str, key: str, staged: Staged, files: dict,
               finish: Callable[[dict], dict]) -> futures.Future:
        """Send one submission's grading to the cluster; the future holds ``finish(its result)``."""
        task = self.client.submit(grade_on_worker, self.shipment, replace(staged, folder=staged.folder and Path(".")),
                                  files, key=f"raftlab-grade-{key[:16]}-{len(self.tasks)}", pure=False, retries=0)
        self.tasks.append(task)
        done: futures.Future = futures.Future()

        def settle(task) -> None:
            if done.cancelled():
                return
            try:
                done.set_result(finish(task.result()))
            except BaseException as exc:  # the task or the cluster failed
                done.set_exception(exc)
        task.add_done_callback(settle)
        return done

    def shutdown(self) -> None:
        try:
            self.client.cancel([t for t in self.tasks if not t.done()])
        finally:
            self.client.close()
