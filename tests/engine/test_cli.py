"""The ``raftlab`` command, run as a real subprocess the way a student runs it.

Reference: the CLI's contract (raftlab/cli.py): exit 0 on success, 1 when a safety
property broke (printing the property and a command that replays the run), 2 on bad
arguments with a one-line reason; ``--save`` writes the run and ``raftlab replay``
reproduces it.  The buggy implementation used here (tests/engine/data/buggy_commit.py)
commits without a majority, which breaks Leader Completeness (Figure 3, section 5.4)
as soon as a leader that committed alone is replaced.
"""
import json
import re
import shlex
from pathlib import Path

import pytest

from .helpers import raftlab

BUGGY = Path(__file__).parent / "data" / "buggy_commit.py"


def summary(stdout: str) -> str:
    """The summary block at the end of a run's output."""
    block = stdout[stdout.index("summary after"):]
    return "\n".join(line for line in block.splitlines() if "saved the run" not in line)


@pytest.fixture(scope="module")
def default_run():
    return raftlab("simulate")


def test_default_run_prints_the_summary(default_run):
    r = default_run
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert r.stdout.startswith("raftlab: 5 nodes, seed 1, 10000 ms, drop 0.33")
    s = summary(r.stdout)
    assert s.startswith("summary after 10000 ms") and "leader: n" in s
    assert len([line for line in s.splitlines() if line.startswith("  n")]) == 5
    assert "client requests:" in s


def test_the_same_command_prints_the_same_run(default_run):
    assert raftlab("simulate").stdout == default_run.stdout


@pytest.mark.parametrize("args, header", [
    (["--duration", "1.5s", "--delay", "5-50", "--drop", "1/3", "--no-pre-vote", "--nodes", "3",
      "--seed", "4", "--election-timeout", "150-300", "--heartbeat", "50"],
     "raftlab: 3 nodes, seed 4, 1500 ms, drop 0.33, duplicate 0.00, delay 5-50 ms, election timeout "
     "150-300 ms, heartbeat 50 ms, pre-vote off, rules: reference"),
    (["--duration", "700ms", "--drop", "10%", "--duplicate", "0.05", "--pre-vote", "--delay", "20"],
     "raftlab: 5 nodes, seed 1, 700 ms, drop 0.10, duplicate 0.05, delay 20-20 ms, election timeout "
     "30-60 ms, heartbeat 10 ms, pre-vote on, rules: reference"),
])
def test_options(args, header):
    r = raftlab("simulate", *args, "--log-level", "warning")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == header
    nodes = int(header.split()[1])
    duration = header.split(", ")[2]
    s = summary(r.stdout)
    assert s.startswith(f"summary after {duration} ")
    assert len([line for line in s.splitlines() if re.match(r"  n\d+: ", line)]) == nodes


def test_snapshot_every():
    r = raftlab("simulate", "--snapshot-every", "50", "--duration", "10s")
    assert r.returncode == 0, r.stderr
    assert "took a snapshot up to index 50" in r.stdout and "summary after 10000 ms" in r.stdout
    default = raftlab("simulate")
    assert "took a snapshot up to index 50" not in default.stdout    # the seed preset snapshots every 100
    assert "took a snapshot up to index 100" in default.stdout


def test_log_levels():
    debug = raftlab("simulate", "--duration", "1s", "--log-level", "debug").stdout
    info = raftlab("simulate", "--duration", "1s", "--log-level", "info").stdout
    warning = raftlab("simulate", "--duration", "1s", "--log-level", "warning").stdout
    message = re.compile(r"^t=\d+ +n\d->n\d (AppendEntries|RequestVote)", re.M)
    lost = re.compile(r"^t=\d+ +n\d->n\d .* lost: lost by the network$", re.M)
    # debug: every message between servers, and the ones the network lost
    assert message.search(debug) and lost.search(debug)
    # info: elections, leaders, commits, clients; no messages between servers
    for text in ("became candidate", "became leader at term", "committed up to index", "c1 sent #1"):
        assert text in info and text in debug
    assert not message.search(info) and not lost.search(info)
    # warning: the summary only
    assert "became leader" not in warning and "summary after 1000 ms" in warning
    assert summary(debug) == summary(info) == summary(warning)


def test_a_buggy_implementation_exits_1_with_the_property_and_a_replay_command(tmp_path):
    args = ["simulate", "--impl", BUGGY, "--no-pre-vote", "--drop", "0.5", "--log-level", "warning"]
    r = raftlab(*args, cwd=tmp_path)
    assert r.returncode == 1
    err = r.stderr.strip().splitlines()
    assert err[0].startswith("SAFETY VIOLATION: Leader Completeness: ")
    assert "became leader of term" in err[0] and "lacks committed entry" in err[0]
    assert err[1].startswith("replay: raftlab simulate ")
    assert "summary after" in r.stdout                  # the state where it stopped
    # the printed command replays the same violation
    replay = shlex.split(err[1][len("replay: "):])
    assert replay[0] == "raftlab"
    again = raftlab(*replay[1:], cwd=tmp_path)
    assert again.returncode == 1 and again.stderr == r.stderr and again.stdout == r.stdout


def test_the_reference_rules_pass_where_the_buggy_ones_fail():
    r = raftlab("simulate", "--no-pre-vote", "--drop", "0.5", "--log-level", "warning")
    assert r.returncode == 0 and r.stderr == ""


def test_save_then_replay_reproduces_the_summary(tmp_path):
    run = tmp_path / "run.json"
    r = raftlab("simulate", "--duration", "3s", "--delay", "5-50", "--save", run)
    assert r.returncode == 0, r.stderr
    assert f"saved the run to {run}" in r.stdout and run.exists()
    replayed = raftlab("replay", run)
    assert replayed.returncode == 0, replayed.stderr
    assert summary(replayed.stdout) == summary(r.stdout)
    until = raftlab("replay", run, "--until-step", "100", "--log-level", "warning")
    assert until.returncode == 0 and "(100 events)" in until.stdout


def test_replaying_a_saved_violation_shows_it_again(tmp_path):
    run = tmp_path / "bad.json"
    raftlab("simulate", "--impl", BUGGY, "--no-pre-vote", "--drop", "0.5", "--log-level", "warning",
            "--save", run)
    refused = raftlab("replay", run)              # the run names code that is not the reference or exercises
    assert refused.returncode == 2 and "pass it again" in refused.stderr and str(BUGGY) in refused.stderr
    r = raftlab("replay", run, "--impl", BUGGY)
    assert r.returncode == 1
    assert r.stderr.startswith("Leader Completeness violated: ")


def test_replay_prints_the_same_events_as_the_run(tmp_path):
    run = tmp_path / "run.json"
    original = raftlab("simulate", "--duration", "3s", "--save", run).stdout
    replayed = raftlab("replay", run).stdout
    events = [line for line in original.splitlines() if line.startswith("t=")]
    assert len(events) > 100
    assert [line for line in replayed.splitlines() if line.startswith("t=")] == events


# --- raftlab campaign ----------------------------------------------------------------------------------

def test_a_campaign_of_correct_rules_passes():
    r = raftlab("campaign", "--runs", "6", "--duration", "2s", "--jobs", "2")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("raftlab campaign: 6 runs (seeds 0..5) x 2000 ms, 5 nodes")
    assert "6 ok, 0 failed" in r.stdout
    assert "6/6" in r.stderr                                   # the progress bar


def test_a_campaign_lists_the_failing_seeds_and_how_to_replay_them(tmp_path):
    r = raftlab("campaign", "--runs", "4", "--duration", "3s", "--jobs", "1", "--impl", str(BUGGY),
                "--minimize", "--save", str(tmp_path / "failures"), "--no-progress")
    assert r.returncode == 1, r.stderr
    failing = re.findall(r"^seed (\d+): Leader Completeness: ", r.stdout, re.M)
    assert failing and f"{4 - len(failing)} ok, {len(failing)} failed" in r.stdout
    replays = re.findall(r"^  replay: raftlab (.*)$", r.stdout, re.M)
    saved = re.findall(r"^  saved: raftlab replay (.*)$", r.stdout, re.M)
    assert all(f"--impl {BUGGY}" in line for line in saved)
    assert len(replays) == len(saved) == len(failing)
    again = raftlab(*shlex.split(replays[0]))                   # the printed command fails the same way
    assert again.returncode == 1 and f"seed {failing[0]}: Leader Completeness" in again.stdout
    shown = raftlab("replay", *shlex.split(saved[0]), "--log-level", "warning")
    assert shown.returncode == 1 and "Leader Completeness violated" in shown.stderr


def test_a_campaign_with_membership_changes_says_so_and_its_replay_keeps_them():
    ok = raftlab("campaign", "--runs", "4", "--duration", "3s", "--jobs", "1", "--changes", "--membership", "joint",
                 "--no-progress")
    assert ok.returncode == 0, ok.stderr
    assert "membership changes (joint)" in ok.stdout.splitlines()[0] and "4 ok, 0 failed" in ok.stdout
    bad = raftlab("campaign", "--runs", "4", "--duration", "3s", "--jobs", "1", "--changes", "--impl", str(BUGGY),
                  "--no-progress")
    assert bad.returncode == 1, bad.stderr
    replays = re.findall(r"^  replay: raftlab (.*)$", bad.stdout, re.M)
    assert replays and all("--changes" in line for line in replays)
    again = raftlab(*shlex.split(replays[0]))
    seed = re.search(r"--first-seed (\d+)", replays[0]).group(1)
    assert again.returncode == 1 and f"seed {seed}: " in again.stdout


@pytest.mark.parametrize("args, reason", [
    (("--runs", "0"), "--runs must be at least 1"),
    (("--membership", "sideways"), "invalid choice: 'sideways'"),
    (("--jobs", "0"), "--jobs must be at least 1"),
    (("--impl", "no/such/rules.py"), "no implementation at"),
    (("--heartbeat", "500"), "must be below the minimum election timeout"),
])
def test_campaign_bad_arguments_exit_2(args, reason):
    r = raftlab("campaign", *args)
    assert r.returncode == 2 and reason in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_campaign_checks_where_it_saves_before_running(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    r = raftlab("campaign", "--runs", "50", "--save", str(blocker / "sub"))
    assert r.returncode == 2 and "cannot save runs in" in r.stderr and "ok," not in r.stdout


# --- raftlab explore ---------------------------------------------------------------------------------------

def test_explore_finds_nothing_wrong_with_the_reference_within_a_small_depth():
    r = raftlab("explore", "--depth", "3")
    assert r.returncode == 0, r.stderr
    assert re.match(r"none within depth 3: [\d,]+ states searched", r.stdout)


def test_explore_returns_the_shortest_bad_run_and_saves_it(tmp_path):
    vote_twice = Path(__file__).parents[2] / "raftlab" / "grading" / "bugs" / "ex2_vote_twice.py"
    saved = tmp_path / "bad.json"
    r = raftlab("explore", "--impl", vote_twice, "--save", saved)
    assert r.returncode == 1, r.stderr
    assert r.stdout.startswith("Election Safety broken after 6 choices")
    assert f"saved: raftlab replay {saved} --impl {vote_twice}" in r.stdout
    shown = raftlab("replay", saved, "--impl", vote_twice, "--log-level", "warning")
    assert shown.returncode == 1 and shown.stderr.startswith("Election Safety violated")


def test_explore_goal_by_goal_finds_the_figure8_bug_and_searches_on_from_a_saved_run(tmp_path):
    bug = Path(__file__).parents[2] / "raftlab" / "grading" / "bugs" / "ex5_commit_old_term.py"
    saved = tmp_path / "figure8.json"
    r = raftlab("explore", "--impl", bug, "--max-entries", "1", "--choices", "deliver,timeout", "--requests", "0",
                "--crashes", "0", "--depth", "10", "--goal", "logs-diverge", "--goal", "old-uncommitted",
                "--goal", "entry-at-risk", "--save", saved)
    assert r.returncode == 1, r.stderr
    assert r.stdout.startswith("Leader Completeness broken after 18 choices [goal by goal, legs of 6 + 4 + 4 + 4")
    data = json.loads(saved.read_text())
    data["actions"], data["steps"] = data["actions"][:14], 14
    start = tmp_path / "start.json"
    start.write_text(json.dumps(data))
    again = raftlab("explore", "--impl", bug, "--start", start, "--choices", "deliver,timeout", "--requests", "0",
                    "--crashes", "0", "--depth", "6")
    assert again.returncode == 1, again.stderr
    assert again.stdout.startswith("Leader Completeness broken after 4 choices (")


def test_explore_random_walks_say_the_run_is_not_a_shortest_one():
    vote_twice = Path(__file__).parents[2] / "raftlab" / "grading" / "bugs" / "ex2_vote_twice.py"
    r = raftlab("explore", "--impl", vote_twice, "--order", "random", "--depth", "12", "--choices", "deliver,timeout")
    assert r.returncode == 1, r.stderr
    assert re.match(r"Election Safety broken after \d+ choices \[random walks, a run of \d+ choices shortened",
                    r.stdout)


@pytest.mark.parametrize("args, reason", [(("--depth", "0"), "--depth must be at least 1"),
                                          (("--impl", "no/such.py"), "no implementation at"),
                                          (("--save", "/nonexistent/x.json"), "cannot save the run"),
                                          (("--order", "sideways"), "unknown order 'sideways'"),
                                          (("--goal", "nowhere"), "unknown goal 'nowhere'"),
                                          (("--choices", "deliver,teleport"), "unknown choice(s) ['teleport']"),
                                          (("--start", "/nonexistent/run.json"), "run.json"),
                                          (("--timeouts", "-1"), "--timeouts must be at least 0")])
def test_explore_bad_arguments_exit_2(args, reason):
    r = raftlab("explore", *args)
    assert r.returncode == 2 and reason in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
