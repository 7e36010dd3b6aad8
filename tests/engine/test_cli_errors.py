"""The ``raftlab`` command's answers to bad input, run as a real subprocess.

Reference: the CLI's contract (raftlab/cli.py): bad arguments exit 2 with a one-line
reason that says what is wrong in the user's terms (a duration, a probability, the
timing rule of section 5.2: the heartbeat below the minimum election timeout), and
print nothing else.
"""
import pytest

from .helpers import raftlab


@pytest.mark.parametrize("args, reason", [
    (["--drop", "2"], "'2' is not between 0 and 1"),
    (["--drop", "lots"], "is not a probability"),
    (["--delay", "50-5"], "MIN must not exceed MAX"),
    (["--delay", "5-10-20"], "is not a range MIN-MAX"),
    (["--duration", "soon"], "is not a duration"),
    (["--duration", "1.5ms"], "is not a whole number of milliseconds"),
    (["--nodes", "0"], "a cluster needs at least 1 node"),
    (["--nodes", "three"], "invalid int value"),
    (["--heartbeat", "100", "--election-timeout", "30-60"], "must be below the minimum election timeout"),
    (["--preset", "fast"], "invalid choice: 'fast'"),
    (["--snapshot-every", "-1"], "snapshot_every must be a whole number >= 0"),
    (["--impl", "/nonexistent/rules.py"], "the file does not exist"),
    (["--log-level", "loud"], "invalid choice: 'loud'"),
    (["--frobnicate"], "unrecognized arguments: --frobnicate"),
])
def test_bad_arguments_exit_2_with_one_line(args, reason):
    r = raftlab("simulate", *args)
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("raftlab") and "error:" in lines[0] and reason in lines[0]


def test_no_command_exits_2():
    r = raftlab()
    assert r.returncode == 2 and "required: COMMAND" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_replay_of_a_missing_or_broken_file_exits_2(tmp_path):
    (tmp_path / "broken.json").write_text("{not json")
    for name, reason in (("missing.json", "cannot read the saved run"), ("broken.json", "invalid JSON")):
        r = raftlab("replay", tmp_path / name)
        assert r.returncode == 2 and reason in r.stderr and len(r.stderr.strip().splitlines()) == 1


# --- issue 13: what used to end in a traceback (exit 1) now exits 2 with one line ------------------------

@pytest.fixture
def odd_paths(tmp_path):
    (tmp_path / "empty-folder").mkdir()
    (tmp_path / "some.json").write_text("{}")
    (tmp_path / "binary.json").write_bytes(b"\x00\xff\xfe\x80raftlab")
    (tmp_path / "a-file").write_text("")
    return tmp_path


@pytest.mark.parametrize("words, reason", [
    (["simulate", "--duration", "1" + "0" * 400], "is too long: at most 1,000,000,000 ms"),
    (["simulate", "--delay", "5-1" + "0" * 50], "is too long"),
    (["simulate", "--impl", "{tmp}/empty-folder"], "a folder without __init__.py"),
    (["simulate", "--impl", "{tmp}/some.json"], "name a Python file (.py) or a package folder"),
    (["simulate", "--save", "/nonexistent/dir/run.json"], "cannot save the run to /nonexistent/dir/run.json"),
    (["simulate", "--save", "{tmp}/empty-folder"], "it is a folder; give a file name"),
    (["simulate", "--save", "{tmp}/a-file/run.json"], "cannot save the run to"),
    (["replay", "{tmp}/binary.json"], "the file is not text"),
    (["release", "/proc/x/handout"], "cannot write the handout to /proc/x/handout"),
])
def test_no_traceback_for_bad_paths_and_numbers(odd_paths, words, reason):
    r = raftlab(*[w.replace("{tmp}", str(odd_paths)) for w in words])
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and reason in lines[0], r.stderr


def test_save_is_checked_before_the_run_and_leaves_nothing_behind(tmp_path):
    r = raftlab("simulate", "--duration", "10s", "--save", tmp_path / "missing" / "run.json")
    assert r.returncode == 2 and r.stdout == ""                 # refused at once: no run, no summary
    ok = raftlab("simulate", "--duration", "100", "--save", tmp_path / "run.json", "--impl", "/nonexistent.py")
    assert ok.returncode == 2 and not (tmp_path / "run.json").exists()


def test_a_saved_run_does_not_load_code_by_itself(tmp_path):
    rules = tmp_path / "mine.py"
    rules.write_text("import pathlib\npathlib.Path(__file__).with_name('ran').write_text('yes')\n")
    saved = tmp_path / "run.json"
    assert raftlab("simulate", "--duration", "100", "--impl", rules, "--save", saved).returncode == 0
    (tmp_path / "ran").unlink()
    refused = raftlab("replay", saved)
    assert refused.returncode == 2 and "pass it again" in refused.stderr
    assert not (tmp_path / "ran").exists()                     # the named module was not imported
    assert raftlab("replay", saved, "--impl", rules).returncode == 0
