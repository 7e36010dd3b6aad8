"""Run one untrusted command in a box: its own user, session, limits and folder.

The grader runs every piece of a student's code through :meth:`Sandbox.run`:

* a **private folder** (the box) is the only place the command may write;
* a **user of its own** when the grader runs as root: uid ``base + slot``, one per
  parallel job, so that ``RLIMIT_NPROC`` counts only this box's processes and
  "kill every process of that user" kills exactly what the box left behind.  The
  box can read the venv and the copies the grader made, and write nothing else
  of the instructor's;
* **the instructor's kit hidden** as root, where the machine allows it: the child enters a
  mount namespace of its own in which the checkout holding raftlab is an empty folder (the venv
  it runs bound back; :mod:`.mounts`), then drops to the box's user;
* **resource limits** set in the child before it runs (``RLIMIT_CPU``,
  ``RLIMIT_AS``, ``RLIMIT_NPROC``, ``RLIMIT_FSIZE``, ``RLIMIT_CORE=0``) and a
  **wall-clock timeout**;
* a **new session**: at the end the whole process group is killed, then every
  process still owned by the box's user (or, without root, every process that
  carries the box's marker in its environment), so children left running die;
* **stdout and stderr go to a file** that ``RLIMIT_FSIZE`` caps; only its head and
  tail are kept, and nothing in it is ever used to score;
* **an exam copy of raftlab** for the run (:meth:`Sandbox.exam`): a raftlab module is
  started with :func:`module_argv`, which puts the copy named in ``RAFTLAB_EXAM`` first on
  ``sys.path``, so a box never imports the instructor's raftlab; the copy is lent to this
  box alone and removed after the run, and before each run the box's own folders are
  emptied (:meth:`Sandbox.reset`) and, as root, what its user left in ``/tmp``,
  ``/var/tmp`` and ``/dev/shm`` removed (:meth:`Sandbox.scrub`), so that a run that held
  one exercise's reference leaves nothing of it for the run that grades that exercise.

See docs/grading-threat-model.md for what this defends against and what it does not.
"""
from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import pwd
import resource
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, Optional, Sequence

from ..check import exam as _exam
from . import mounts as _mounts

__all__ = ["Limits", "Identity", "RunResult", "Sandbox", "BoxPython", "SandboxSetupError",
           "prepare_box_python", "running_as_root", "check_free_uids", "claim_uids", "claim_free_uids",
           "kill_user", "module_argv", "box_can_read", "uid_lock_folder", "entry_files", "kit_hiding_problem",
           "DEFAULT_UID_BASE", "LAST_UID", "EXAM_ENV"]

#: First uid of the boxes' users (as root).  Debian reserves 60000-64999 for users created on
#: demand, so nothing should own these; ``raftlab grade --sandbox-uid`` picks another range.
DEFAULT_UID_BASE = 64100
#: The last uid the grader picks by itself (65534 is nobody).
LAST_UID = 64999

_PR_SET_CHILD_SUBREAPER = 36

#: The environment variable naming the exam copy a box's raftlab modules import.
EXAM_ENV = "RAFTLAB_EXAM"
#: ``python -I -c _BOOT MODULE ARGS``: the exam copy in ``$RAFTLAB_EXAM`` first on sys.path, then
#: ``python -m MODULE ARGS``.  (``-m raftlab...`` would import the instructor's raftlab first.)
_BOOT = ("import os, runpy, sys; exam = os.environ.get('RAFTLAB_EXAM'); exam and sys.path.insert(0, exam); "
         "del sys.argv[0]; runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)")
#: World-writable folders a box's user could leave something in for a later run (see Sandbox.scrub).
SHARED_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm")


def module_argv(python: str, module: str, *args: str) -> list:
    """The command that runs ``python -m module args`` in a box, importing raftlab from the
    exam copy named in ``$RAFTLAB_EXAM`` (when set) rather than the instructor's."""
    return [python, "-I", "-c", _BOOT, module, *args]


def running_as_root() -> bool:
    return os.geteuid() == 0


@dataclass(frozen=True)
class Limits:
    """How much one run in a box may use."""
    wall: float = 240.0      #: seconds of wall-clock time for the whole run
    cpu: int = 240           #: seconds of CPU time, per process (RLIMIT_CPU)
    memory_mb: int = 2048    #: address space, per process (RLIMIT_AS)
    nproc: int = 256         #: processes and threads of the box's user (RLIMIT_NPROC)
    fsize_mb: int = 64       #: the largest file a process may write (RLIMIT_FSIZE)
    output_kb: int = 32      #: how much of stdout+stderr is kept (half head, half tail)

    def __post_init__(self):
        for name in ("wall", "cpu", "memory_mb", "nproc", "fsize_mb", "output_kb"):
            if getattr(self, name) <= 0:
                raise ValueError(f"sandbox limit {name} must be positive, not {getattr(self, name)!r}")


@dataclass(frozen=True)
class Identity:
    """The unprivileged user a box runs as (root only)."""
    uid: int
    gid: int

    @classmethod
    def for_slot(cls, slot: int, base: int = DEFAULT_UID_BASE) -> "Identity":
        return cls(base + slot, base + slot)


def check_free_uids(uids: Iterable[int]) -> None:
    """Refuse uids that belong to a real account or already run processes: killing
    "every process of the box's user" must never hit anything else."""
    for uid in uids:
        try:
            name = pwd.getpwuid(uid).pw_name
        except KeyError:
            pass
        else:
            raise ValueError(f"uid {uid} belongs to the account {name!r}: the grader needs uids of "
                             f"their own for its boxes (choose another range with --sandbox-uid)")
        if _pids_of_user(uid):
            raise ValueError(f"processes of uid {uid} are running: is another `raftlab grade` running? "
                             f"(choose another range with --sandbox-uid)")


def claim_uids(uids: Iterable[int], check: bool = True) -> list:
    """Lock ``uids`` for this process (``flock`` on one small file per uid in the temp folder),
    so that two graders on one machine never share a box user.  Returns the open files: the
    claim lasts as long as they stay open.  Raises ValueError if a uid is taken or (``check``)
    unusable: an account's, or running processes."""
    uids = list(uids)
    held = []
    try:
        for uid in uids:
            path = os.path.join(uid_lock_folder(), f"uid-{uid}.lock")
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            held.append(fd)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise ValueError(f"uid {uid} is in use by another `raftlab grade` (choose another range "
                                 f"with --sandbox-uid)") from None
        if check:
            check_free_uids(uids)
    except BaseException:
        for fd in held:
            os.close(fd)
        raise
    return held


def uid_lock_folder() -> str:
    """The folder of the grader's uid claims: ``raftlab-grade-uids`` in the temp folder, the
    grader's own (mode 0700), so its lock files neither litter /tmp nor can be planted there by
    another user.  Raises ValueError if that name is taken by something else."""
    path = os.path.join(tempfile.gettempdir(), "raftlab-grade-uids")
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
        raise ValueError(f"{path} is not a folder only this user can use (it holds the grader's uid claims): "
                         f"remove it and run again")
    return path


def claim_free_uids(count: int, first: int = DEFAULT_UID_BASE, last: int = LAST_UID) -> tuple:
    """The first block of ``count`` consecutive free uids from ``first``: (first uid, claim)."""
    base = first
    while base + count - 1 <= last:
        try:
            return base, claim_uids(range(base, base + count))
        except ValueError:
            base += count
    raise ValueError(f"no {count} free uids between {first} and {last} for the boxes' users "
                     f"(choose a range with --sandbox-uid, or fewer --jobs)")


def kill_user(uid: int) -> int:
    """Kill every process of ``uid`` (a box's user); returns how many there were."""
    return len(_stop_then_kill(lambda: _pids_of_user(uid)))


@dataclass
class RunResult:
    """What one run in a box did.  ``output`` is for people, never for scores."""
    argv: list
    returncode: Optional[int]
    timed_out: bool
    wall: float
    output: str
    output_bytes: int
    leftovers: int = 0          #: processes still running after the command ended (all killed)
    limits: Limits = field(default_factory=Limits)

    @property
    def signal_name(self) -> Optional[str]:
        if self.returncode is not None and self.returncode < 0:
            try:
                return signal.Signals(-self.returncode).name
            except ValueError:
                return f"signal {-self.returncode}"
        return None

    def describe_end(self) -> str:
        """How the run ended, in words."""
        if self.timed_out:
            return f"was stopped after {self.limits.wall:g} s (wall-clock limit)"
        sig = self.signal_name
        if sig == "SIGXCPU":
            return f"was stopped by the CPU-time limit ({self.limits.cpu} s)"
        if sig == "SIGKILL":
            return "was killed (SIGKILL), usually for using too much memory"
        if sig:
            return f"was ended by {sig}"
        return f"exited with code {self.returncode}"


_set_dumpable = _exam.set_dumpable


_subreaper_lock = threading.Lock()
_subreaper_on = False


def _become_subreaper() -> None:
    """Orphans of the boxes become our children (not init's), so their zombies are reaped
    here: an unreaped zombie still counts against its user's RLIMIT_NPROC."""
    global _subreaper_on
    with _subreaper_lock:
        if _subreaper_on:
            return
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        except (OSError, AttributeError):
            pass
        _subreaper_on = True


def _proc_entries() -> list:
    try:
        return [int(n) for n in os.listdir("/proc") if n.isdigit()]
    except OSError:
        return []


def _status_fields(pid: int) -> dict:
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            text = f.read(4096).decode("ascii", "replace")
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        out[key] = value.split()
    return out


def _pids_of_user(uid: int, *, include_zombies: bool = False) -> list:
    pids = []
    for pid in _proc_entries():
        st = _status_fields(pid)
        if st.get("Uid", [None])[0] == str(uid):
            if include_zombies or st.get("State", ["?"])[0] != "Z":
                pids.append(pid)
    return pids


def _pids_with_marker(marker: bytes) -> list:
    pids = []
    me = os.getpid()
    for pid in _proc_entries():
        if pid == me:
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = f.read(1 << 16)
        except OSError:
            continue
        if marker in env.split(b"\0"):
            pids.append(pid)
    return pids


def _reap_children_of_user(uid: int) -> None:
    me = str(os.getpid())
    for pid in _proc_entries():
        st = _status_fields(pid)
        if st.get("PPid", [None])[0] == me and st.get("Uid", [None])[0] == str(uid):
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


def _waitable(uid: int) -> bool:
    """Whether ``uid`` still has a live process, or a zombie that is ours to reap (a zombie
    whose parent is another process -- init, after a crash of an earlier grader -- is not)."""
    me = str(os.getpid())
    for pid in _pids_of_user(uid, include_zombies=True):
        st = _status_fields(pid)
        if st.get("State", ["?"])[0] != "Z" or st.get("PPid", [None])[0] == me:
            return True
    return False


def _stop_then_kill(find: Callable[[], list], rounds: int = 50) -> set:
    """SIGSTOP everything ``find`` returns until nothing new turns up (a stopped process
    cannot fork), then SIGKILL it all.  Returns the processes found."""
    seen: set = set()
    for _ in range(rounds):
        pids = [p for p in find() if p not in seen]
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass
            seen.add(pid)
    for pid in sorted(seen):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return seen


class Sandbox:
    """One box: a private folder under ``root`` and, as root, a user of its own.

    ``identity`` None means "run as the grader's own user" (no root): the limits,
    the session, the private folder and the timeout still apply, but the command
    can read and change whatever the grader's user can.
    """

    def __init__(self, root: Path, identity: Optional[Identity], limits: Limits = Limits(),
                 python: Optional["BoxPython"] = None, reveal: Sequence = ()):
        if identity is not None and not running_as_root():
            raise PermissionError("only root can run a box as another user")
        self.root = Path(root)
        self.identity = identity
        self.limits = limits
        self.python = python or BoxPython(sys.executable, {})
        #: As root (where the machine allows it): the mount namespace every run starts in, with the
        #: instructor's kit hidden (see :mod:`.mounts`); ``reveal`` names files in the kit the runs
        #: are given by path (a ``--check-entry`` file).  None: the box sees the machine's files.
        self.view: Optional[_mounts.KitView] = None
        if identity is not None:
            self.view = _kit_view(self.python, (self.root, self.root.parent, *reveal))
        self.token = secrets.token_hex(8)
        self._marker = f"RAFTLAB_SANDBOX={self.token}".encode()
        self._lock = threading.Lock()
        self._procs: list = []
        self._closed = False
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)
        # The only folder the command may write to.
        self.home = self.root / "box"
        self.home.mkdir(exist_ok=True)
        for sub in ("home", "tmp", "out"):
            (self.home / sub).mkdir(exist_ok=True)
        self.give(self.home, recursive=True)
        os.chmod(self.home, 0o700)
        # The working directory is empty and read-only: nothing a run leaves there can be
        # imported by a later one (Python may put the working directory on sys.path).
        self.cwd = self.root / "cwd"
        self.cwd.mkdir(exist_ok=True)
        os.chmod(self.cwd, 0o555)
        self._logs = self.root / "logs"
        self._logs.mkdir(exist_ok=True)
        os.chmod(self._logs, 0o700)
        self._runs = 0
        if identity is not None:
            _become_subreaper()

    # --- files --------------------------------------------------------------------------
    def give(self, path: Path, recursive: bool = False) -> None:
        """Make ``path`` (a folder or file the grader created) writable by the box."""
        paths = [Path(path)]
        if recursive and Path(path).is_dir():
            paths += sorted(Path(path).rglob("*"))
        for p in paths:
            if p.is_symlink():
                continue
            if self.identity is not None:
                os.chown(p, self.identity.uid, self.identity.gid)
            os.chmod(p, 0o755 if p.is_dir() else 0o644)

    @staticmethod
    def seal(path: Path) -> None:
        """Make a tree the grader copied read-only for the box (it stays the grader's)."""
        path = Path(path)
        for p in [path, *sorted(path.rglob("*"))] if path.is_dir() else [path]:
            if p.is_symlink():
                continue
            os.chmod(p, 0o555 if p.is_dir() else 0o444)

    def lend(self, path: Path) -> None:
        """Let this box -- and, as root, no other box -- read the tree at ``path`` (it stays the
        grader's: owner root, group the box's, no access for others)."""
        path = Path(path)
        for p in [path, *sorted(path.rglob("*"))] if path.is_dir() else [path]:
            if p.is_symlink():
                continue
            if self.identity is not None:
                os.chown(p, 0, self.identity.gid)
                os.chmod(p, 0o750 if p.is_dir() else 0o640)
            else:
                os.chmod(p, 0o755 if p.is_dir() else 0o644)

    @contextlib.contextmanager
    def exam(self, numbers: Iterable[int]) -> Iterator[dict]:
        """An exam copy of raftlab without the reference of exercises ``numbers`` (none: a whole
        copy), lent to this box for one run: yields the environment that makes the run import it
        (``RAFTLAB_EXAM``; start raftlab modules with :func:`module_argv`), then removes it."""
        folder = Path(tempfile.mkdtemp(prefix="exam-", dir=self.root))
        try:
            _exam.build(folder / "copy", numbers)
            self.lend(folder)
            yield {EXAM_ENV: str(folder / "copy")}
        finally:
            _rmtree(folder)

    def reset(self) -> None:
        """Empty the box's own folders (its home, temp and output folders) before a run, so that
        nothing one run left there reaches the next; then remove what its user left in the shared
        folders (:meth:`scrub`)."""
        with self._lock:
            for sub in ("home", "tmp", "out"):
                _rmtree(self.home / sub)
                (self.home / sub).mkdir()
            self.give(self.home, recursive=True)
            os.chmod(self.home, 0o700)
        self.scrub()

    def scrub(self, folders: Sequence[str] = SHARED_FOLDERS) -> int:
        """As root: remove every file and folder the box's user owns in the world-writable
        ``folders`` (looking into world-writable folders below them too); returns how many."""
        if self.identity is None:
            return 0
        return sum(_remove_owned(Path(f), self.identity.uid) for f in folders if os.path.isdir(f))

    def env(self, extra: Optional[Mapping[str, str]] = None) -> dict:
        """A clean environment for a command in this box (nothing inherited from the grader)."""
        home = self.home / "home"
        bindir = str(Path(self.python.executable).parent)
        env = {
            **self.python.env,
            "PATH": f"{bindir}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(home),
            "TMPDIR": str(self.home / "tmp"),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "MALLOC_ARENA_MAX": "2",          # far less address space per thread (RLIMIT_AS)
            # For Python processes started without -I (raftlab check starts pytest so): no
            # user site-packages (HOME is writable, so a run could plant a .pth there), no
            # working directory on sys.path, no bytecode written.
            "PYTHONNOUSERSITE": "1",
            "PYTHONSAFEPATH": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "RAFTLAB_SANDBOX": self.token,
        }
        if extra:
            env.update(extra)
        return env

    # --- running ------------------------------------------------------------------------
    def _preexec(self) -> Callable[[], None]:
        """What the child does before it runs the command: as root, enter the box's mount
        namespace (the kit hidden) and drop to the box's user -- ``setgroups([])``, ``setgid``,
        ``setuid``, in that order, here rather than through Popen's ``user=``, which switches
        before this runs and so before the mounts -- then set the limits."""
        lim = self.limits
        nproc = lim.nproc
        if self.identity is None:
            # Without a user of its own the box shares the count with the grader's user.
            nproc += len(_pids_of_user(os.getuid()))
        settings = [
            (resource.RLIMIT_CPU, (lim.cpu, lim.cpu + 5)),   # SIGXCPU first, SIGKILL 5 s later
            (resource.RLIMIT_AS, (lim.memory_mb << 20,) * 2),
            (resource.RLIMIT_NPROC, (nproc, nproc)),
            (resource.RLIMIT_FSIZE, (lim.fsize_mb << 20,) * 2),
            (resource.RLIMIT_CORE, (0, 0)),
        ]

        drop = _become(self.identity, self.view)

        def apply() -> None:  # runs in the child, before exec
            drop()
            for res, value in settings:
                resource.setrlimit(res, value)
        return apply

    def run(self, argv: Sequence[str], *, env: Mapping[str, str], cwd: Optional[Path] = None,
            wall: Optional[float] = None, pipe_env: Optional[str] = None,
            on_pipe: Optional[Callable[[bytes], None]] = None, pipe_cap: int = 4 << 20) -> RunResult:
        """Run ``argv`` in the box and clean up everything it started.

        With ``pipe_env``, the child gets the write end of a pipe whose number is in that
        environment variable; what it writes (up to ``pipe_cap`` bytes) is handed to
        ``on_pipe`` as it arrives.  It is a channel no other process of the box inherits.
        """
        if self._closed:
            raise RuntimeError("this box is closed")
        wall = self.limits.wall if wall is None else min(wall, self.limits.wall)
        self._runs += 1
        log_path = self._logs / f"run{self._runs}.log"
        env = dict(env)
        read_fd = write_fd = None
        pass_fds: tuple = ()
        if pipe_env:
            read_fd, write_fd = os.pipe()
            env[pipe_env] = str(write_fd)
            pass_fds = (write_fd,)
        started = time.monotonic()
        proc = self._start(argv, env, cwd, log_path, pass_fds)
        reader = None
        if write_fd is not None:
            os.close(write_fd)
            reader = threading.Thread(target=_drain, args=(read_fd, on_pipe, pipe_cap), daemon=True)
            reader.start()
        timed_out = False
        try:
            proc.wait(timeout=wall)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            leftovers = self._kill_all(proc)
            proc.wait()
            with self._lock:
                if proc in self._procs:
                    self._procs.remove(proc)
        if reader is not None:
            reader.join(timeout=10)
        output, size = _head_and_tail(log_path, self.limits.output_kb << 10)
        return RunResult(argv=list(argv), returncode=proc.returncode, timed_out=timed_out,
                         wall=time.monotonic() - started, output=output, output_bytes=size,
                         leftovers=leftovers, limits=self.limits)

    def _start(self, argv: Sequence[str], env: dict, cwd: Optional[Path], log_path: Path,
               pass_fds: tuple) -> subprocess.Popen:
        """Start ``argv`` as the box's user, in a new session, under the limits, output to ``log_path``."""
        with open(log_path, "wb") as log:
            with self._lock:
                proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=subprocess.STDOUT, cwd=str(cwd or self.cwd),
                                        env=env, start_new_session=True, close_fds=True,
                                        pass_fds=pass_fds, preexec_fn=self._preexec())
                self._procs.append(proc)
        return proc

    def _kill_all(self, proc: Optional[subprocess.Popen]) -> int:
        """Kill the run's process group, then whatever else the box still runs.  Returns how
        many processes other than ``proc`` itself were still running."""
        main = {proc.pid} if proc is not None else set()
        if self.identity is not None:
            uid = self.identity.uid
            find = lambda: _pids_of_user(uid)  # noqa: E731
        else:
            marker = self._marker
            find = lambda: _pids_with_marker(marker)  # noqa: E731
        running = set(find())
        if proc is not None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        found = _stop_then_kill(find)
        if self.identity is not None:
            if proc is not None:
                proc.wait()         # reap our own child first: its exit status is ours to read
            deadline = time.monotonic() + 5
            while _waitable(uid) and time.monotonic() < deadline:
                _reap_children_of_user(uid)
                time.sleep(0.01)
        return len((running | found) - main)

    def kill(self) -> None:
        """Kill everything running in this box now (e.g. on Ctrl-C); callable from any thread."""
        with self._lock:
            procs = list(self._procs)
        for proc in procs:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self._kill_all(None)

    def close(self, keep: bool = False) -> None:
        """Kill what is left and remove the box's folder (unless ``keep``)."""
        if self._closed:
            return
        self._closed = True
        self._kill_all(None)
        if not keep:
            _rmtree(self.root)


class SandboxSetupError(RuntimeError):
    """The boxes cannot work on this machine (the message says what to change)."""


@dataclass(frozen=True)
class BoxPython:
    """The interpreter the boxes run, and what its environment needs."""
    executable: str
    env: dict


#: Parts of the standard library a box never needs (and the base's own site-packages).
_STDLIB_SKIP = {"site-packages", "test", "idlelib", "tkinter", "turtledemo"}


def prepare_box_python(work_root: Path, identity: Optional[Identity],
                       probe: str = "import pytest, nbval, ipykernel") -> BoxPython:
    """An interpreter with this venv's packages that the box's user can run.

    Usually that is simply ``sys.executable``.  But a venv only links to the Python it was
    made from, and when that Python lives where other users cannot go (pyenv under /root,
    as here), the box's user cannot start it.  Then the grader builds a small venv of its
    own under ``work_root``: hard links to the base interpreter and standard library
    (copies across file systems) and a link to this venv's site-packages.
    """
    plain = BoxPython(sys.executable, {})
    if identity is None or _box_can_run(plain, identity, probe):
        return plain
    runtime = _link_runtime(Path(work_root) / "python")
    if _box_can_run(runtime, identity, probe):
        return runtime
    raise SandboxSetupError(
        f"the boxes' user (uid {identity.uid}) cannot run this venv's Python even from a private "
        f"copy of the interpreter at {runtime.executable}: make the venv ({sys.prefix}) and the "
        f"raftlab source ({Path(__file__).resolve().parents[2]}) readable by all users, or run "
        f"`raftlab grade --same-user` (weaker isolation: see docs/grading-threat-model.md).\n"
        + _box_error(runtime, identity, probe))


def _box_run(py: BoxPython, identity: Identity, code: str) -> subprocess.CompletedProcess:
    """Run ``code`` as a box's user would: in the boxes' view of the files (the kit hidden, where
    the machine allows it), as ``identity``."""
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/nonexistent", **py.env}
    return subprocess.run([py.executable, "-I", "-c", code], preexec_fn=_become(identity, _kit_view(py, ())),
                          env=env, cwd="/", stdin=subprocess.DEVNULL, capture_output=True, timeout=60)


def _become(identity: Optional[Identity], view: Optional[_mounts.KitView]) -> Callable[[], None]:
    """For a child: enter ``view`` (as root), then become ``identity`` with no supplementary
    groups.  Without an identity: nothing."""
    def become() -> None:
        if view:
            _mounts.enter(view)
        if identity is not None:
            os.setgroups([])
            os.setgid(identity.gid)
            os.setuid(identity.uid)
    return become


def kit_hiding_problem() -> Optional[str]:
    """None if the boxes start with the instructor's kit hidden (root, and a machine that lets it
    make mount namespaces), else why they do not."""
    return _mounts.problem()


def _kit_view(py: BoxPython, needed: Iterable) -> Optional[_mounts.KitView]:
    """The view of the files a box running ``py`` gets, as root: the kit hidden, and shown again
    inside it what the box needs -- ``needed``, the interpreter and the venv it runs (a venv
    inside the checkout is bound back).  None where mount namespaces cannot be made."""
    if not running_as_root() or _mounts.problem() is not None:
        return None
    import sysconfig
    paths = sysconfig.get_paths()
    exe = Path(py.executable)
    runtime = [exe.parent.parent, Path(os.path.realpath(exe)).parent.parent, Path(sys.prefix),
               Path(sys.base_prefix), Path(sys.exec_prefix), Path(paths["purelib"]), Path(paths["platlib"])]
    runtime += [Path(p) for p in py.env.get("LD_LIBRARY_PATH", "").split(":") if p]
    return _mounts.kit_view([*runtime, *needed])


def entry_files(spec: str) -> tuple:
    """The file a ``--check-entry`` of the form ``/path/to/file.py:function`` names (the boxes
    load it by path, so it must stay visible to them), or nothing for ``module:function``."""
    target = spec.rpartition(":")[0]
    return (Path(target).resolve(),) if target.endswith(".py") else ()


def _box_can_run(py: BoxPython, identity: Identity, probe: str) -> bool:
    try:
        return _box_run(py, identity, probe).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _box_error(py: BoxPython, identity: Identity, probe: str) -> str:
    try:
        done = _box_run(py, identity, probe)
        return done.stderr.decode("utf-8", "replace")[-2000:]
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{type(exc).__name__}: {exc}"


def _link(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _link_runtime(root: Path) -> BoxPython:
    base = Path(sys.base_prefix)
    ver = f"python{sys.version_info.major}.{sys.version_info.minor}"
    root.mkdir(parents=True, exist_ok=True)
    (root / "base" / "bin").mkdir(parents=True, exist_ok=True)
    (root / "base" / "lib").mkdir(parents=True, exist_ok=True)
    real_exe = os.path.realpath(sys.executable)
    exe = root / "base" / "bin" / ver
    if not exe.exists():
        _link(real_exe, str(exe))
    for entry in os.scandir(base / "lib"):       # libpythonX.Y.so when Python is a shared build
        if entry.is_file(follow_symlinks=False) and ".so" in entry.name:
            dst = root / "base" / "lib" / entry.name
            if not dst.exists():
                _link(entry.path, str(dst))
    src_lib = base / "lib" / ver
    dst_lib = root / "base" / "lib" / ver
    for dirpath, dirnames, filenames in os.walk(src_lib):
        rel = os.path.relpath(dirpath, src_lib)
        if rel == ".":
            dirnames[:] = [d for d in dirnames if d not in _STDLIB_SKIP]
        os.makedirs(dst_lib / rel, exist_ok=True)
        for name in filenames:
            dst = dst_lib / rel / name
            if not dst.exists():
                _link(os.path.join(dirpath, name), str(dst))
    (dst_lib / "site-packages").mkdir(exist_ok=True)
    venv = root / "venv"
    (venv / "bin").mkdir(parents=True, exist_ok=True)
    (venv / "lib" / ver).mkdir(parents=True, exist_ok=True)
    (venv / "pyvenv.cfg").write_text(f"home = {root / 'base' / 'bin'}\n"
                                     f"include-system-site-packages = false\n"
                                     f"version = {'.'.join(map(str, sys.version_info[:3]))}\n")
    link = venv / "bin" / "python"
    if not link.is_symlink():
        link.symlink_to(exe)
    site = venv / "lib" / ver / "site-packages"
    if not site.is_symlink():
        import sysconfig
        site.symlink_to(sysconfig.get_paths()["purelib"])
    for dirpath, _dirs, _files in os.walk(root):
        os.chmod(dirpath, 0o755)
    return BoxPython(str(link), {"LD_LIBRARY_PATH": str(root / "base" / "lib")})


def _remove_owned(folder: Path, uid: int) -> int:
    """Remove the entries of ``folder`` owned by ``uid``; look into the world-writable folders
    among the others (where ``uid`` may have made entries too).  Never follows links."""
    count = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if st.st_uid == uid:
            if stat.S_ISDIR(st.st_mode):
                _rmtree(Path(entry.path))
            else:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
            count += 1
        elif stat.S_ISDIR(st.st_mode) and st.st_mode & stat.S_IWOTH:
            count += _remove_owned(Path(entry.path), uid)
    return count


def box_can_read(py: "BoxPython", identity: Optional[Identity], path: Path) -> bool:
    """Whether a box's user can read the file ``path`` (without root: always)."""
    if identity is None:
        return True
    try:
        return _box_run(py, identity, f"open({str(path)!r}, 'rb').read(1)").returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _drain(fd: int, on_pipe: Optional[Callable[[bytes], None]], cap: int) -> None:
    total = 0
    with os.fdopen(fd, "rb", buffering=0) as f:
        while True:
            chunk = f.read(65536)
            if not chunk:
                return
            if total < cap and on_pipe is not None:
                on_pipe(chunk[:cap - total])
            total += len(chunk)


def _head_and_tail(path: Path, keep: int) -> tuple:
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            if size <= keep:
                data = f.read()
                return data.decode("utf-8", "replace"), size
            head = f.read(keep // 2)
            f.seek(size - keep // 2)
            tail = f.read()
    except OSError:
        return "", 0
    cut = size - len(head) - len(tail)
    text = (head.decode("utf-8", "replace") + f"\n[... {cut} bytes of output not kept ...]\n"
            + tail.decode("utf-8", "replace"))
    return text, size


def _rmtree(path: Path) -> None:
    def onerror(func, p, exc_info):
        # A box may leave read-only folders behind: make them writable and retry.
        try:
            os.chmod(os.path.dirname(p), stat.S_IRWXU)
            os.chmod(p, stat.S_IRWXU)
            func(p)
        except OSError:
            pass
    shutil.rmtree(path, onerror=onerror)
