"""Take what the grader needs from one submission (a folder or a zip), and nothing else.

Only regular ``.py`` files and notebooks are taken, from the submission's ``exercises/``
folder, within size limits; symbolic links, paths that lead outside the submission,
the submission's own test-configuration files (``conftest.py``, ``pytest.ini``,
``sitecustomize.py``...) and copies of tests are left behind, each with a note that
says so.  Nothing here runs the student's code: :func:`scan` only parses it.
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable, Iterator, Optional

from ... import rules as reference
from ...impl import defined_rules
from .. import parse_python

__all__ = ["Staged", "Scan", "discover", "stage", "scan", "MAX_FILE_BYTES", "MAX_TOTAL_BYTES"]

MAX_FILE_BYTES = 1 << 20           #: a .py file larger than this is not taken
MAX_NOTEBOOK_BYTES = 8 << 20       #: nor a notebook larger than this
MAX_TOTAL_BYTES = 32 << 20         #: nor anything once this much was taken
MAX_ENTRIES = 2000                 #: entries looked at, at most, in one submission

#: Files that configure Python or pytest: a submission's own are never used.
CONFIG_NAMES = {"conftest.py", "sitecustomize.py", "usercustomize.py", "pytest.ini", "tox.ini",
                "setup.cfg", "pyproject.toml", ".pytest.ini", "setup.py"}
_SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints", "__MACOSX", ".git", ".hg", ".svn", ".venv",
              "venv", "node_modules"}
#: Imports worth telling the instructor about (nothing is refused for them).
_WATCHED_IMPORTS = {"raftlab.rules": "the reference rules", "raftlab.impl": "the rule loader",
                    "raftlab.invariants": "the safety checks", "raftlab.grading": "the grader",
                    "pytest": "pytest", "_pytest": "pytest's internals", "pluggy": "pytest's plugin system",
                    "ctypes": "ctypes", "builtins": "the builtins"}


@dataclass
class Staged:
    """What was taken from one submission."""
    name: str
    source: str
    folder: Optional[Path] = None         #: the staged ``exercises/`` (None: nothing usable)
    files: list = field(default_factory=list)        #: staged paths, relative to ``folder``
    notes: list = field(default_factory=list)        #: what was left behind, and why
    problems: list = field(default_factory=list)     #: why the submission cannot be graded
    digest: str = ""


@dataclass
class Scan:
    """What parsing (not running) the staged ``.py`` files tells."""
    syntax_errors: dict = field(default_factory=dict)   #: file -> "line N: message"
    defines: dict = field(default_factory=dict)         #: file -> rule names it defines
    reference_imports: dict = field(default_factory=dict)  #: file -> rule names taken from raftlab.rules
    notes: list = field(default_factory=list)

    def files_for(self, number: int) -> list:
        """The top-level files that define a rule of exercise ``number``."""
        wanted = set(reference.EXERCISE_RULES[number])
        return sorted(f for f, names in self.defines.items() if wanted & set(names))


def discover(submissions: Path) -> list:
    """``(student, path)`` for each folder or ``.zip`` in ``submissions``, sorted by name."""
    found = {}
    for entry in sorted(Path(submissions).iterdir(), key=lambda p: p.name):
        if entry.name.startswith("."):
            continue
        if entry.is_symlink():
            name = entry.name
        elif entry.is_dir():
            name = entry.name
        elif entry.suffix.lower() == ".zip" and entry.is_file():
            name = entry.stem
        else:
            continue
        if name in found:
            name = entry.name
        found[name] = entry
    return sorted(found.items())


def _rel_ok(rel: str) -> Optional[PurePosixPath]:
    rel = rel.replace("\\", "/")
    path = PurePosixPath(rel)
    if not rel or path.is_absolute() or ".." in path.parts or ":" in path.parts[0]:
        return None
    return path


def _walk_folder(root: Path, notes: list) -> Iterator[tuple]:
    """``(relative path, reader)`` for the regular files under ``root``; never follows a link."""
    count = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        rel_dir = Path(dirpath).relative_to(root)
        for d in sorted(dirnames):
            if os.path.islink(os.path.join(dirpath, d)):
                notes.append(f"ignored {(rel_dir / d).as_posix()}: a symbolic link (only regular files are taken)")
        dirnames[:] = sorted(d for d in dirnames
                             if d not in _SKIP_DIRS and not os.path.islink(os.path.join(dirpath, d)))
        for name in sorted(filenames):
            count += 1
            if count > MAX_ENTRIES:
                notes.append(f"stopped looking after {MAX_ENTRIES} files")
                return
            full = os.path.join(dirpath, name)
            rel = (rel_dir / name).as_posix()
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                notes.append(f"ignored {rel}: a symbolic link (only regular files are taken)")
                continue
            if not stat.S_ISREG(st.st_mode):
                continue
            yield PurePosixPath(rel), st.st_size, _file_reader(full)


def _file_reader(path: str) -> Callable[[int], bytes]:
    def read(limit: int) -> bytes:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError("not a regular file")
            with os.fdopen(fd, "rb", closefd=False) as f:
                return f.read(limit + 1)
        finally:
            os.close(fd)
    return read


def _walk_zip(archive: zipfile.ZipFile, notes: list) -> Iterator[tuple]:
    for count, info in enumerate(archive.infolist()):
        if count >= MAX_ENTRIES:
            notes.append(f"stopped looking after {MAX_ENTRIES} archive entries")
            return
        if info.is_dir():
            continue
        rel = _rel_ok(info.filename)
        if rel is None:
            notes.append(f"ignored the archive entry {info.filename!r}: its path leads outside the submission")
            continue
        if any(part in _SKIP_DIRS for part in rel.parts[:-1]):
            continue
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            notes.append(f"ignored {rel.as_posix()}: a symbolic link (only regular files are taken)")
            continue
        if stat.S_IFMT(mode) and not stat.S_ISREG(mode):     # many zips carry no file type at all
            continue

        def read(limit: int, info=info) -> bytes:
            with archive.open(info) as f:      # reads at most limit+1 bytes: a zip bomb stays small
                return f.read(limit + 1)
        yield rel, info.file_size, read


def _exercises_root(paths: list) -> Optional[PurePosixPath]:
    """The submission's ``exercises/`` folder: the shallowest folder of that name holding
    ``.py`` files, else the shallowest folder holding ``.py`` files."""
    py_dirs = sorted({p.parent for p in paths if p.suffix == ".py" and p.name not in CONFIG_NAMES},
                     key=lambda d: (len(d.parts), d.as_posix()))
    for d in py_dirs:
        if d.name == "exercises":
            return d
    for d in py_dirs:
        if "tests" not in d.parts:
            return d
    return None


def _is_test_copy(rel: PurePosixPath) -> bool:
    return ("tests" in rel.parts[:-1] or rel.name.startswith("test_") or rel.name.endswith("_test.py"))


def stage(name: str, source: Path, dest: Path) -> Staged:
    """Copy what grading needs from ``source`` (a folder or a ``.zip``) into ``dest``."""
    source = Path(source)
    staged = Staged(name=name, source=source.name)
    archive = None
    try:
        if source.is_symlink():
            staged.problems.append(f"{source.name} is a symbolic link: submissions must be real folders or zips")
            return _finish(staged)
        if source.is_dir():
            entries = list(_walk_folder(source, staged.notes))
        else:
            try:
                archive = zipfile.ZipFile(source)
                entries = list(_walk_zip(archive, staged.notes))
            except (zipfile.BadZipFile, OSError, ValueError) as exc:
                staged.problems.append(f"the archive {source.name} cannot be read ({exc})")
                return _finish(staged)
        root = _exercises_root([rel for rel, _, _ in entries])
        for rel, _, _ in entries:
            if rel.name in CONFIG_NAMES:
                staged.notes.append(f"ignored {rel.as_posix()}: a submission cannot configure how the grader "
                                    f"runs Python or pytest")
        if root is None:
            staged.problems.append("no exercise files (.py) were found in the submission")
            return _finish(staged)
        _take(entries, root, Path(dest), staged)
        if not any(f.endswith(".py") for f in staged.files):
            staged.problems.append("no exercise files (.py) could be taken from the submission")
    finally:
        if archive is not None:
            archive.close()
    return _finish(staged)


def _read_capped(rel: PurePosixPath, size: int, read, notes: list) -> Optional[bytes]:
    """The bytes of one entry, or None (with a note) if it is too large or cannot be read."""
    cap = MAX_FILE_BYTES if rel.suffix == ".py" else MAX_NOTEBOOK_BYTES
    if size > cap:
        notes.append(f"ignored {rel.as_posix()}: larger than {cap >> 20} MB")
        return None
    try:
        data = read(cap)
    except (OSError, zipfile.BadZipFile, RuntimeError, EOFError, ValueError) as exc:
        notes.append(f"ignored {rel.as_posix()}: it cannot be read ({exc})")
        return None
    if len(data) > cap:
        notes.append(f"ignored {rel.as_posix()}: larger than {cap >> 20} MB")
        return None
    return data


def _take(entries: list, root: PurePosixPath, folder: Path, staged: Staged) -> None:
    """Copy the ``.py`` files and notebooks under ``root`` into ``folder``, within the limits,
    leaving configuration files and copies of tests behind."""
    ignored_tests, total = [], 0
    folder.mkdir(parents=True, exist_ok=True)
    for rel, size, read in entries:
        if rel.suffix not in (".py", ".ipynb") or rel.name in CONFIG_NAMES:
            continue
        try:
            inner = rel.relative_to(root)
        except ValueError:
            if rel.suffix == ".py" and _is_test_copy(rel):
                ignored_tests.append(rel.as_posix())
            continue
        if rel.suffix == ".py" and _is_test_copy(inner):
            ignored_tests.append(rel.as_posix())
            continue
        data = _read_capped(rel, size, read, staged.notes)
        if data is None:
            continue
        total += len(data)
        if total > MAX_TOTAL_BYTES:
            staged.notes.append(f"stopped taking files after {MAX_TOTAL_BYTES >> 20} MB")
            break
        if rel.suffix == ".ipynb":
            _check_notebook(rel, data, staged.notes)
        target = folder / inner
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as f:
            f.write(data)
        staged.files.append(inner.as_posix())
    if ignored_tests:
        shown = ", ".join(ignored_tests[:5]) + (" ..." if len(ignored_tests) > 5 else "")
        staged.notes.append(f"ignored the submission's own tests ({shown}): the grader runs its own copy")
    staged.folder = folder


def _check_notebook(rel: PurePosixPath, data: bytes, notes: list) -> None:
    try:
        nb = json.loads(data.decode("utf-8"))
        if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
            raise ValueError("it has no list of cells")
    except (ValueError, UnicodeDecodeError) as exc:
        notes.append(f"{rel.as_posix()} is not a valid notebook ({str(exc)[:120]}); the grader runs the "
                     f"instructor's copy of each graded notebook, so this did not change any score")


def _finish(staged: Staged) -> Staged:
    h = hashlib.sha256()
    h.update(json.dumps([staged.problems, staged.notes]).encode())
    if staged.folder is not None:
        for rel in sorted(staged.files):
            h.update(rel.encode() + b"\0")
            h.update((staged.folder / rel).read_bytes())
            h.update(b"\0")
    staged.digest = h.hexdigest()
    return staged


def scan(staged: Staged) -> Scan:
    """Parse the top-level ``.py`` files of the staged folder (never runs them)."""
    result = Scan()
    if staged.folder is None:
        return result
    rules = set(reference.ALL_RULES)
    for rel in sorted(staged.files):
        if "/" in rel or not rel.endswith(".py"):
            continue
        source = (staged.folder / rel).read_bytes()
        try:
            tree = parse_python(source, filename=rel)
        except (SyntaxError, ValueError) as exc:
            line = getattr(exc, "lineno", None)
            result.syntax_errors[rel] = (f"line {line}: " if line else "") + str(getattr(exc, "msg", exc))
            continue
        defined, borrowed = defined_rules(tree), set[str]()
        for statement in tree.body:
            if isinstance(statement, ast.ImportFrom) and statement.module == "raftlab.rules" and not statement.level:
                borrowed.update(a.asname or a.name for a in statement.names if (a.asname or a.name) in rules)
        result.defines[rel] = sorted(defined)
        if borrowed:
            result.reference_imports[rel] = sorted(borrowed)
        for node in ast.walk(tree):
            modules = []
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules = [node.module]
            for module in modules:
                for watched, what in _WATCHED_IMPORTS.items():
                    if module == watched or module.startswith(watched + "."):
                        note = f"{rel} imports {module} ({what})"
                        if note not in result.notes:
                            result.notes.append(note)
    return result
