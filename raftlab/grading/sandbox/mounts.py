"""Hide the grading kit from a box: a mount namespace of its own (root only, Linux).

The boxes import exam copies of raftlab, never the instructor's, but the instructor's kit is
still on disk: ``raftlab/rules.py`` and its ``__pycache__``, the bug catalogue, the self-tests'
second solution and the ``.git`` objects all hold the reference, and the editable install's
finder in site-packages names the folder.  A submission that opens them by path and runs what
it reads would earn the reference's marks.  So, as root, every process of a box starts in a
private mount namespace where the kit's folders are covered by an empty read-only tmpfs:

1. ``unshare(CLONE_NEWNS)``: the child gets its own copy of the mount table;
2. ``mount --make-rprivate /``: nothing it mounts leaks back to the machine;
3. an empty tmpfs over each folder of :attr:`KitView.hidden`;
4. each path the box needs that lies inside one of them (the venv it runs, its own folder) is
   bound back from the real one, then the tmpfs is made read-only.

:func:`kit_view` says what to hide and show; :func:`enter` does it in the child (before it
drops to the box's user); :func:`problem` says once whether this machine allows it (a container
without ``CAP_SYS_ADMIN`` does not: the grader then warns and the boxes see the kit).
"""
from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import sysconfig
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

__all__ = ["KitView", "kit_folders", "kit_view", "enter", "problem"]

_CLONE_NEWNS = 0x00020000
_MS_RDONLY = 1
_MS_NOSUID = 2
_MS_NODEV = 4
_MS_REMOUNT = 32
_MS_BIND = 4096
_MS_REC = 16384
_MS_PRIVATE = 1 << 18

#: The raftlab package this grader runs (``raftlab/grading/sandbox/mounts.py`` -> ``raftlab/``).
PACKAGE = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class KitView:
    """What a box's mount namespace hides, and what it shows again inside what it hides.

    ``hidden``: folders covered by an empty read-only tmpfs (the kit).  ``shown``: folders or
    files inside them that the box needs, bound back from the real ones (outermost first)."""
    hidden: tuple
    shown: tuple

    def __bool__(self) -> bool:
        return bool(self.hidden)


def _is_site_packages(folder: Path) -> bool:
    paths = sysconfig.get_paths()
    installs = {os.path.realpath(paths["purelib"]), os.path.realpath(paths["platlib"])}
    return str(folder) in installs or folder.name in ("site-packages", "dist-packages")


def _kit_root(package: Path) -> Path:
    """The folder to hide for a raftlab package at ``package``: the checkout holding it (with
    tests/ and .git), or the package alone when it is installed in site-packages."""
    parent = package.parent
    return package if _is_site_packages(parent) else parent


def _git_folders(root: Path) -> list:
    """The repository of a checkout at ``root`` when it lives elsewhere (``.git`` is a file in a
    worktree or a submodule: ``gitdir: PATH``, whose ``commondir`` names the shared objects)."""
    dot_git = root / ".git"
    if not dot_git.is_file():
        return []
    found = []
    try:
        line = dot_git.read_text().strip()
    except OSError:
        return []
    if line.startswith("gitdir:"):
        gitdir = (root / line[len("gitdir:"):].strip()).resolve()
        found.append(gitdir)
        try:
            common = (gitdir / "commondir").read_text().strip()
            found.append((gitdir / common).resolve())
        except OSError:
            pass
    return found


def _editable_targets() -> list:
    """Where an editable install's finder (setuptools' ``__editable__...finder`` modules, imported
    at start-up by their ``.pth``) says raftlab lives."""
    targets = []
    for name, module in list(sys.modules.items()):
        mapping = getattr(module, "MAPPING", None)
        if name.startswith("__editable__") and isinstance(mapping, dict) and "raftlab" in mapping:
            targets.append(Path(os.path.realpath(mapping["raftlab"])))
    return targets


def kit_folders() -> list:
    """Every folder of the instructor's kit a box has no business reading: the checkout holding
    this raftlab (its ``raftlab/``, ``tests/`` and ``.git``), the repository if it lives elsewhere,
    and the checkout the editable install's finder points at if that is another one."""
    roots: list = []
    for package in [PACKAGE, *_editable_targets()]:
        root = _kit_root(package)
        for folder in [root, *_git_folders(root)]:
            if folder not in roots:
                roots.append(folder)
    return roots


def _inside(path: Path, folder: Path) -> bool:
    return path != folder and folder in path.parents


def kit_view(needed: Iterable, hidden: Optional[Iterable] = None) -> KitView:
    """The view of a box that needs the paths ``needed`` (its folder, the Python it runs...):
    hide ``hidden`` (default: :func:`kit_folders`), and bind back each needed path inside a
    hidden folder.  A hidden folder that is itself needed, or nested in another, is not hidden
    on its own."""
    real_needed = {Path(os.path.realpath(p)) for p in needed}
    folders = [Path(os.path.realpath(h)) for h in (kit_folders() if hidden is None else hidden)]
    folders = [h for h in folders if h.exists() and h != Path("/") and h not in real_needed]
    folders = sorted({h for h in folders if not any(_inside(h, other) for other in folders)},
                     key=lambda p: (len(p.parts), str(p)))
    shown = {n for n in real_needed if n.exists() and any(_inside(n, h) for h in folders)}
    shown = {n for n in shown if not any(_inside(n, other) for other in shown)}
    return KitView(tuple(str(h) for h in folders),
                   tuple(sorted((str(n) for n in shown), key=lambda s: (len(Path(s).parts), s))))


_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.unshare.argtypes = [ctypes.c_int]


def _call(what: str, result: int) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: Optional[str], target: str, fstype: Optional[str], flags: int,
           data: Optional[str] = None) -> None:
    _call(f"mount {target}", _libc.mount(source and source.encode(), target.encode(),
                                         fstype and fstype.encode(), flags, data and data.encode()))


def enter(view: KitView) -> None:
    """In a box's child, as root, before it drops to the box's user: a mount namespace of its
    own in which every folder of ``view.hidden`` is an empty read-only tmpfs, with the paths
    of ``view.shown`` bound back.  Raises OSError if the kernel refuses any step (the child must
    then not run: the caller's process start fails)."""
    _call("unshare(CLONE_NEWNS)", _libc.unshare(_CLONE_NEWNS))
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)          # nothing leaks back to the machine
    # A handle on each shown path before its folder is covered; bound back through /proc.
    handles = [os.open(p, os.O_PATH | os.O_CLOEXEC) for p in view.shown]
    try:
        for folder in view.hidden:
            _mount("tmpfs", folder, "tmpfs", _MS_NOSUID | _MS_NODEV, "size=64k,mode=0755")
        for path, fd in zip(view.shown, handles, strict=True):
            if os.path.isdir(f"/proc/self/fd/{fd}"):
                os.makedirs(path, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o444))
            _mount(f"/proc/self/fd/{fd}", path, None, _MS_BIND | _MS_REC)
        for folder in view.hidden:
            _mount(None, folder, None, _MS_REMOUNT | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)
    finally:
        for fd in handles:
            os.close(fd)


_problem_lock = threading.Lock()
_problem: dict = {}


def problem() -> Optional[str]:
    """None if this process can give a child a mount namespace with a folder hidden (root, and a
    kernel and container that allow it), else why not.  Tried once, in a child."""
    with _problem_lock:
        if "answer" not in _problem:
            _problem["answer"] = _try()
        return _problem["answer"]


def _try() -> Optional[str]:
    if os.geteuid() != 0:
        return "the grader does not run as root"
    folder = Path(__file__).resolve().parent
    view = KitView((str(folder),), ())
    probe = "import os, sys; sys.exit(1 if os.listdir(sys.argv[1]) else 0)"
    try:
        done = subprocess.run([sys.executable, "-I", "-S", "-c", probe, str(folder)], preexec_fn=lambda: enter(view),
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"a mount namespace could not be made ({type(exc).__name__}: {exc})"
    if done.returncode != 0:
        return "a folder covered in a mount namespace was still visible"
    return None
