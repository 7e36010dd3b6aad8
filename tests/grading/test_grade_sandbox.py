"""The box every piece of student code runs in: its user, limits, timeout, output cap, and the
killing of everything it started.  Each test runs a few lines of Python in a box with tight
limits (a few seconds, 512 MB, a few processes), so the machine is never at risk."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from raftlab.grading.sandbox.box import (EXAM_ENV, Identity, Limits, Sandbox, check_free_uids, module_argv,
                                         prepare_box_python)

from .classroom import box_processes, needs_root, uid_base

TIGHT = Limits(wall=8, cpu=8, memory_mb=512, nproc=24, fsize_mb=2, output_kb=4)


@pytest.fixture(scope="module")
def work():
    """A folder the boxes' users can reach (pytest's own tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="raftlab-grade-test-"))
    os.chmod(folder, 0o711)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def box_python(work):
    identity = Identity.for_slot(0, uid_base()) if os.geteuid() == 0 else None
    return prepare_box_python(work, identity)


@pytest.fixture
def box(work, box_python, request):
    identity = Identity.for_slot(1, uid_base()) if os.geteuid() == 0 else None
    sandbox = Sandbox(work / request.node.name[:40], identity, TIGHT, box_python)
    yield sandbox
    sandbox.close()


def run(box: Sandbox, code: str, **kwargs):
    return box.run([box.python.executable, "-I", "-c", code], env=box.env(), **kwargs)


@needs_root
def test_the_box_runs_as_a_user_of_its_own_without_groups(box):
    result = run(box, "import os; print(os.getuid(), os.geteuid(), os.getgid(), os.getgroups())")
    uid = box.identity.uid
    assert result.output.split() == [str(uid), str(uid), str(uid), "[]"]


@needs_root
def test_the_box_cannot_write_the_instructors_files(box, tmp_path):
    precious = tmp_path / "grades.csv"
    precious.write_text("alice,13\n")
    code = f"open({str(precious)!r}, 'w').write('alice,100')"
    result = run(box, code)
    assert "PermissionError" in result.output
    assert precious.read_text() == "alice,13\n"
    result = run(box, f"open({str(Path(sys.prefix) / 'pyvenv.cfg')!r}, 'a').write('x')")
    assert "PermissionError" in result.output


@needs_root
def test_the_box_writes_its_own_folder_and_nothing_it_plants_in_the_working_directory(box):
    result = run(box, "import os, tempfile\n"
                      "with tempfile.NamedTemporaryFile(dir=os.environ['TMPDIR']) as f:\n"
                      "    print('tmp ok')\n"
                      "try:\n"
                      "    open('pytest.py', 'w')\n"
                      "except PermissionError:\n"
                      "    print('cwd read-only')")
    assert result.output.split("\n")[:2] == ["tmp ok", "cwd read-only"]


def test_children_left_running_are_killed_even_in_a_new_session(box):
    before = time.monotonic()
    result = run(box, "import os, subprocess, time\n"
                      "subprocess.Popen(['sleep', '300'])\n"
                      "os.system('setsid sleep 301 &')\n"
                      "if os.fork() == 0:\n"                      # a daemon: double fork, new session
                      "    os.setsid()\n"
                      "    if os.fork() == 0:\n"
                      "        os.execvp('sleep', ['sleep', '302'])\n"
                      "    os._exit(0)\n"
                      "time.sleep(0.3)")
    assert result.returncode == 0
    assert result.leftovers == 3
    assert time.monotonic() - before < TIGHT.wall
    assert not _sleepers_with_token(box.token)
    if box.identity is not None:
        assert box_processes() == []


def _sleepers_with_token(token: str) -> list:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if f"RAFTLAB_SANDBOX={token}".encode() in f.read().split(b"\0"):
                    found.append(int(pid))
        except OSError:
            pass
    return found


def test_an_endless_loop_is_stopped_by_the_wall_clock(box):
    started = time.monotonic()
    result = run(box, "import subprocess\nsubprocess.Popen(['sleep', '300'])\nwhile True: pass", wall=2)
    assert result.timed_out and time.monotonic() - started < 6
    assert "wall-clock limit" in result.describe_end()
    assert not _sleepers_with_token(box.token)


def test_cpu_time_is_limited(work, box_python):
    identity = Identity.for_slot(2, uid_base()) if os.geteuid() == 0 else None
    sandbox = Sandbox(work / "cpu", identity, Limits(wall=20, cpu=1, memory_mb=512, nproc=24), box_python)
    try:
        result = sandbox.run([box_python.executable, "-I", "-c", "while True: pass"], env=sandbox.env())
    finally:
        sandbox.close()
    assert not result.timed_out
    assert result.signal_name == "SIGXCPU"
    assert result.describe_end() == "was stopped by the CPU-time limit (1 s)"


def test_memory_is_limited(box):
    result = run(box, "x = bytearray(4 * 2**30)")
    assert "MemoryError" in result.output


def test_output_is_capped_and_only_its_ends_are_kept(box):
    result = run(box, "import sys\nprint('first line')\nwhile True: print('spam ' * 200)")
    # RLIMIT_FSIZE stops the flood at 2 MB (the next write fails, which ends the program);
    # only 4 KB of it is kept
    assert result.output_bytes == 2 << 20
    assert not result.timed_out and result.returncode != 0
    assert len(result.output) < 6000
    assert result.output.startswith("first line")
    assert "bytes of output not kept" in result.output


@needs_root
def test_a_fork_bomb_is_contained_and_the_box_works_afterwards(box):
    result = run(box, "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
                 wall=3)
    assert result.timed_out
    assert 0 < result.leftovers <= TIGHT.nproc
    assert box_processes() == []
    assert run(box, "print('fine')").output.strip() == "fine"


@needs_root
def test_uids_of_real_accounts_or_busy_uids_are_refused():
    with pytest.raises(ValueError, match="belongs to the account 'root'"):
        check_free_uids([0])
    with pytest.raises(ValueError, match="belongs to the account 'nobody'"):
        check_free_uids([65534])


@needs_root
@pytest.mark.parametrize("dumpable", [True, False])
def test_a_non_dumpable_process_hides_its_descriptors_from_its_own_user(box_python, dumpable):
    """How the notebook runner keeps its result pipe from the kernel it starts (same user)."""
    uid = uid_base() + 3
    env = {"PATH": "/usr/bin:/bin", **box_python.env}
    child = subprocess.Popen([box_python.executable, "-I", "-c",
                              "import time\nfrom raftlab.grading.sandbox.box import _set_dumpable\n"
                              f"assert _set_dumpable({dumpable})\nprint('ready', flush=True)\n"
                              "time.sleep(30)"],
                             stdout=subprocess.PIPE, text=True, user=uid, group=uid, extra_groups=[],
                             env=env, cwd="/")
    try:
        assert child.stdout.readline().strip() == "ready"
        probe = subprocess.run(["ls", f"/proc/{child.pid}/fd"], capture_output=True, text=True,
                               user=uid, group=uid, extra_groups=[], cwd="/")
        assert (probe.returncode == 0) is dumpable
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()


@needs_root
def test_a_run_imports_raftlab_from_its_exam_copy_which_no_other_box_can_read(box, work, box_python):
    other = Sandbox(work / "other-box", Identity.for_slot(2, uid_base()), TIGHT, box_python)
    try:
        with box.exam([3]) as exam_env:
            copy = Path(exam_env[EXAM_ENV])
            (copy / "whoami.py").write_text(
                "import inspect, raftlab, raftlab.rules\nfrom raftlab.grading.check.exam import withheld_here\n"
                "print(raftlab.__file__, withheld_here(), 'withheld' in inspect.getsource(raftlab.rules))\n")
            box.lend(copy)
            result = box.run(module_argv(box.python.executable, "whoami"), env=box.env(exam_env))
            assert result.output.split() == [str(copy / "raftlab" / "__init__.py"), "(3,)", "True"], result.output
            theirs = other.run([other.python.executable, "-I", "-c", f"import os; os.listdir({str(copy)!r})"],
                               env=other.env())
            assert "PermissionError" in theirs.output
        assert not copy.exists()                   # lent for one run, then removed
    finally:
        other.close()


@needs_root
def test_before_a_run_the_box_is_emptied_and_its_users_files_in_tmp_removed(box):
    token = f"raftlab-scrub-test-{os.getpid()}"
    plant = (f"import os\nfor d in (os.environ['HOME'], '/tmp', '/dev/shm'):\n"
             f"    open(os.path.join(d, {token!r}), 'w').write('x')\n"
             f"os.mkdir('/tmp/{token}-dir'); open('/tmp/{token}-dir/inner', 'w').write('x')")
    assert run(box, plant).returncode == 0
    assert Path("/tmp", token).exists() and (box.home / "home" / token).exists()
    mine = Path("/tmp", f"{token}-mine")
    mine.write_text("the grader's own")                 # not the box user's: stays
    try:
        box.reset()
        assert not (box.home / "home" / token).exists() and (box.home / "home").is_dir()
        assert not Path("/tmp", token).exists() and not Path("/dev/shm", token).exists()
        assert not Path("/tmp", f"{token}-dir").exists() and mine.exists()
        assert run(box, "import os; open(os.path.join(os.environ['HOME'], 'x'), 'w')").returncode == 0
    finally:
        mine.unlink()


#: The instructor's kit on disk, as a submission could name it: the reference rules, their bytecode,
#: the bug catalogue, the self-tests' second solution, and the repository's objects.
KIT = Path(__file__).resolve().parents[2]
KIT_FILES = [KIT / "raftlab" / "rules.py",
             KIT / "raftlab" / "__pycache__" / f"rules.{sys.implementation.cache_tag}.pyc",
             KIT / "raftlab" / "grading" / "bugs", KIT / "tests" / "grading_selftest" / "alternative_solution.py",
             KIT / ".git" / "HEAD"]


def hides_the_kit():
    """Skip where this machine cannot make mount namespaces -- except in CI (CI=true), which
    grades as root on a machine that can: there the kit must be hidden."""
    from raftlab.grading.sandbox.box import kit_hiding_problem
    why = kit_hiding_problem()
    if why is not None and not os.environ.get("CI"):
        pytest.skip(f"the boxes cannot hide the kit here: {why}")
    assert why is None, why


READ_KIT = ("import os, subprocess, sys\n"
            "for path in sys.argv[1:]:\n"
            "    try:\n"
            "        print('read' if (os.listdir(path) if os.path.isdir(path) else open(path, 'rb').read(1)) "
            "else 'empty')\n"
            "    except OSError as exc:\n"
            "        print(type(exc).__name__)\n"
            "git = subprocess.run(['git', '-c', 'safe.directory=*', '--git-dir', sys.argv[-1].rsplit('/', 1)[0],\n"
            "                      'show', 'HEAD:raftlab/rules.py'], capture_output=True)\n"
            "print('git read' if b'def handle_append_entries' in git.stdout else 'git failed')\n"
            "import pytest, nbval\n"             # the venv (inside the kit here) still runs
            "print('ran')\n")


@needs_root
def test_a_box_cannot_read_the_kit_by_path_yet_runs_the_venv(box):
    hides_the_kit()
    assert all(p.exists() for p in KIT_FILES)
    result = box.run([box.python.executable, "-I", "-c", READ_KIT, *map(str, KIT_FILES)], env=box.env())
    assert result.output.split("\n")[:7] == ["FileNotFoundError"] * 5 + ["git failed", "ran"], result.output
    assert box.view is not None and str(KIT) in box.view.hidden


@needs_root
def test_where_the_kit_cannot_be_hidden_a_box_reads_it_as_before(work, box_python, monkeypatch):
    """The control: the same reads, in a box that starts without a mount namespace (what a
    machine that cannot make one gets), reach every file of the kit."""
    from raftlab.grading.sandbox import mounts
    monkeypatch.setattr(mounts, "problem", lambda: "not on this machine (the test says so)")
    seen = Sandbox(work / "kit-visible", Identity.for_slot(1, uid_base()), TIGHT, box_python)
    try:
        assert seen.view is None
        result = seen.run([seen.python.executable, "-I", "-c", READ_KIT, *map(str, KIT_FILES)], env=seen.env())
        assert result.output.split("\n")[:7] == ["read"] * 5 + ["git read", "ran"], result.output
    finally:
        seen.close()


@needs_root
def test_the_box_drops_to_its_user_after_entering_its_view(box):
    """The switch of user happens in the child after the mounts: the box is its own user, with no
    groups, cannot undo the view (no privilege to unmount) and cannot write what is shown again."""
    hides_the_kit()
    code = ("import ctypes, os, sys\n"
            "libc = ctypes.CDLL(None, use_errno=True)\n"
            f"print(os.getuid(), os.getgid(), os.getgroups(), libc.umount2({str(KIT).encode()!r}, 2), "
            "libc.unshare(0x00020000))\n"
            "try:\n"
            "    open(os.path.join(sys.prefix, 'pyvenv.cfg'), 'a')\n"
            "except OSError as exc:\n"
            "    print(type(exc).__name__)\n")
    result = box.run([box.python.executable, "-I", "-c", code], env=box.env())
    uid = box.identity.uid
    assert result.output.split("\n")[:2] == [f"{uid} {uid} [] -1 -1", "PermissionError"], result.output
