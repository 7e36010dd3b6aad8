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
