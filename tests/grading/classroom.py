"""Build what the grader's tests grade: an instructor's side (tests, notebooks) and students.

A correct submission is the reference rules written out as exercise modules (their
source, not an import of ``raftlab.rules``); the others change one file of it.
"""
from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from raftlab import rules

HERE = Path(__file__).parent
REPO = HERE.parents[1]
FAKE_CHECK = HERE / "fake_check.py"
EXERCISE_TESTS = HERE / "fixtures" / "exercise_tests"

#: The stand-in layout of ``exercises/``: file -> the rules it holds (exercises 1 to 3).
FILES = {
    "ex1_elections.py": ("reset_election_timer", "start_election", "handle_request_vote_reply"),
    "ex2_request_vote.py": ("update_term", "handle_request_vote"),
    "ex3_append_entries.py": ("handle_append_entries",),
}

HEADER = '''"""{title} (a student's exercise file)."""
from raftlab.messages import (AppendEntries, AppendEntriesReply, ClientReply, ClientRequest, Entry,
                              RequestVote, RequestVoteReply)
from raftlab.node import Node, Role

'''

INIT = "".join(f"from .{Path(f).stem} import *\n" for f in FILES)


def reference_source(filename: str) -> str:
    """An exercise file holding the reference rules' source."""
    body = "\n\n".join(inspect.getsource(getattr(rules, name)) for name in FILES[filename])
    return HEADER.format(title=filename) + body


def buggy(filename: str, old: str, new: str) -> str:
    """The reference source of ``filename`` with one change (which must apply)."""
    source = reference_source(filename)
    assert old in source, f"{old!r} is not in {filename}"
    return source.replace(old, new, 1)


#: Exercise 3 that calls the reference rule it should replace.
DELEGATES = HEADER.format(title="ex3") + """from raftlab import rules


def handle_append_entries(node, m):
    return rules.handle_append_entries(node, m)
"""


def stash(token: str) -> dict:
    """A submission that tries to carry the reference of exercise 3 from a run that has it to
    the run that grades exercise 3: its exercise 1 file writes the reference's source to
    ``$HOME``, ``/tmp`` and ``/dev/shm`` whenever it is imported where that reference is there
    (the runs of exercises 1 and 2); its exercise 3 file runs what it finds there."""
    name = f"raftlab-stash-{token}.py"
    writer = f"""import inspect as _inspect, os as _os
import raftlab.rules as _rules
_source = _inspect.getsource(_rules.handle_append_entries)
if "withheld" not in _source:
    for _folder in (_os.environ.get("HOME", "/nonexistent"), "/tmp", "/dev/shm"):
        try:
            with open(_os.path.join(_folder, {name!r}), "w") as _f:
                _f.write({HEADER.format(title="stash")!r} + _source)
        except OSError:
            pass
"""
    reader = HEADER.format(title="ex3") + f"""import os as _os
_found = None
for _folder in (_os.environ.get("HOME", "/nonexistent"), "/tmp", "/dev/shm"):
    _path = _os.path.join(_folder, {name!r})
    if _found is None and _os.path.exists(_path):
        _namespace = {{}}
        exec(open(_path).read(), _namespace)
        _found = _namespace["handle_append_entries"]


def handle_append_entries(node, m):
    if _found is None:
        raise NotImplementedError("Exercise 3: nothing was stashed")
    return _found(node, m)
"""
    return {"ex1_elections.py": writer + reference_source("ex1_elections.py"), "ex3_append_entries.py": reader}


def remove_stash(token: str) -> None:
    for folder in ("/tmp", "/dev/shm"):
        Path(folder, f"raftlab-stash-{token}.py").unlink(missing_ok=True)


def write_submission(root: Path, changes: dict | None = None, *, extra: dict | None = None) -> Path:
    """A student's folder: ``root/exercises/`` with the reference rules, then ``changes``
    (file -> new text, or None to delete it) and ``extra`` files (path -> text/bytes)
    anywhere under ``root``."""
    ex = Path(root) / "exercises"
    ex.mkdir(parents=True, exist_ok=True)
    files = {name: reference_source(name) for name in FILES}
    files["__init__.py"] = INIT
    files.update(changes or {})
    for name, text in files.items():
        if text is not None:
            (ex / name).write_text(text)
    for rel, content in (extra or {}).items():
        path = Path(root) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return Path(root)


def zip_folder(folder: Path, archive: Path, *, extra_entries: dict | None = None) -> Path:
    """Zip ``folder`` (entries relative to it), plus raw entries (name -> bytes or a
    ``("symlink", target)`` pair) such as ``../evil.py``."""
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                z.write(path, path.relative_to(folder).as_posix())
        for name, content in (extra_entries or {}).items():
            if isinstance(content, tuple) and content[0] == "symlink":
                info = zipfile.ZipInfo(name)
                info.external_attr = (0o120777 << 16)
                z.writestr(info, content[1])
            else:
                z.writestr(name, content)
    return archive


# --- the instructor's checkpoint notebooks ------------------------------------------------------

SETUP = "import os\nfrom raftlab import Simulation\nimpl = os.environ.get('RAFTLAB_IMPL')"
NOTEBOOKS = {
    "cp1_elections.ipynb": [
        SETUP,
        "# NBVAL_CHECK_OUTPUT\n# points: 2\nsim = Simulation(nodes=5, seed=3, impl=impl)\n"
        "leader = sim.run_until_leader()\nprint(leader.id, 'is leader in term', leader.current_term)",
        "# NBVAL_CHECK_OUTPUT\nsim.crash(leader.id)\nnew = sim.run_until_leader()\n"
        "print(new.id, 'is leader in term', new.current_term)",
    ],
    "cp2_replication.ipynb": [
        SETUP,
        "# NBVAL_CHECK_OUTPUT\nsim = Simulation(nodes=3, seed=8, impl=impl)\nsim.run_until_leader()\n"
        "for i in range(3):\n    sim.client_request(f'put x {i}')\nsim.advance(1000)\n"
        "print([n.commit_index for n in sim.nodes.values()])",
    ],
}


def write_notebooks(folder: Path) -> list:
    """The instructor's notebooks, with reference outputs: run with the reference rules."""
    from nbclient import NotebookClient
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    env_before = os.environ.pop("RAFTLAB_IMPL", None)
    try:
        for name, sources in NOTEBOOKS.items():
            nb = nbformat.v4.new_notebook()
            nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
            nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
            NotebookClient(nb, kernel_name="python3", timeout=60).execute()
            path = folder / name
            nbformat.write(nb, path)
            paths.append(path)
    finally:
        if env_before is not None:
            os.environ["RAFTLAB_IMPL"] = env_before
    return paths


def read_csv(path: Path) -> dict:
    """The gradebook as {student: row}."""
    import csv
    with open(path, newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def points(row: dict, column: str) -> float:
    return float(row[column])


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def load_result(cache: Path, student: str) -> dict:
    return json.loads((cache / "results" / f"{student}.json").read_text())


# --- running `raftlab grade` ---------------------------------------------------------------------

#: The limits every test's grading run uses.
TIGHT = ["--timeout", "5", "--import-timeout", "3", "--run-timeout", "40", "--submission-timeout", "120",
         "--memory", "512", "--nproc", "64", "--max-file-size", "8"]


_claimed: list = []


def uid_base() -> int:
    """A block of 20 box users for this test process alone (xdist workers, and other test
    sessions on the same machine, each claim their own with a lock file)."""
    if not _claimed:
        import fcntl
        import tempfile
        for base in range(64200, 64900, 20):
            fd = os.open(os.path.join(tempfile.gettempdir(), f"raftlab-grade-test-uids-{base}.lock"),
                         os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            if _processes_of(range(base, base + 20)):     # in use by something that took no lock
                os.close(fd)
                continue
            _claimed.extend([base, fd])         # held until this process ends
            break
        else:
            raise RuntimeError("no free block of box users for the tests")
    return _claimed[0]


@dataclass
class Graded:
    """One ``raftlab grade`` run: its exit code, output, and where it wrote."""
    code: int
    stdout: str
    stderr: str
    out: Path
    feedback: Path
    cache: Path

    def feedback_of(self, student: str) -> str:
        return (self.feedback / f"{student}.md").read_text()


def grade_command(subs: Path, work: Path, notebooks: Path, *extra: str, jobs: int = 2) -> list:
    return [sys.executable, "-m", "raftlab", "grade", str(subs), "--out", str(work / "grades.csv"),
            "--feedback", str(work / "feedback"), "--cache", str(work / "cache"),
            "--tests", str(EXERCISE_TESTS), "--notebooks", str(notebooks),
            "--sanitize", str(REPO / "tests" / "nbval_sanitize.cfg"),
            "--check-entry", f"{FAKE_CHECK}:main", "--jobs", str(jobs),
            "--sandbox-uid", str(uid_base()), "--quiet", *TIGHT, *extra]


def run_grade(subs: Path, work: Path, notebooks: Path, *extra: str, jobs: int = 2,
              timeout: float = 400) -> Graded:
    done = subprocess.run(grade_command(subs, work, notebooks, *extra, jobs=jobs), cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)
    return Graded(done.returncode, done.stdout, done.stderr, work / "grades.csv", work / "feedback",
                  work / "cache")


def box_processes() -> list:
    """Processes still running as one of this worker's box users (there must be none)."""
    base = uid_base()
    return _processes_of(range(base, base + 20))


def _processes_of(uids) -> list:
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        uid = int(fields.get("Uid", "0").split()[0])
        if uid in uids and not fields.get("State", "").strip().startswith("Z"):
            found.append((int(name), uid))
    return found


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="boxes with a user of their own need root")
