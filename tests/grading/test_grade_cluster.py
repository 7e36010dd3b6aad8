"""`raftlab grade --scheduler ADDRESS`: each submission graded on a Dask cluster -- here a
LocalCluster of two worker processes on this machine -- gives the gradebook the local pool gives,
uses the same cache (a second run grades nothing again), and leaves nothing running."""
from __future__ import annotations

import json

import pytest

from .classroom import (DELEGATES, box_processes, load_result, needs_root, read_csv, run_grade,
                        write_submission)

distributed = pytest.importorskip("distributed")

pytestmark = needs_root


def build(subs):
    write_submission(subs / "ada")
    write_submission(subs / "bob", {"ex2_request_vote.py": "def handle_request_vote(node, m:\n"})
    write_submission(subs / "cy", {"ex3_append_entries.py": DELEGATES})
    write_submission(subs / "dee", {"ex1_elections.py": None})


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as lc:
        yield lc


@pytest.fixture(scope="module")
def classes(tmp_path_factory, no_notebooks, cluster):
    work = tmp_path_factory.mktemp("cluster")
    subs = work / "submissions"
    subs.mkdir()
    build(subs)
    local = run_grade(subs, work / "local", no_notebooks, jobs=2)
    remote = run_grade(subs, work / "remote", no_notebooks, "--scheduler", cluster.scheduler_address, jobs=2)
    again = run_grade(subs, work / "remote", no_notebooks, "--scheduler", cluster.scheduler_address, jobs=2)
    for run in (local, remote, again):
        assert run.code == 0, run.stderr
    return local, remote, again


def test_the_cluster_writes_the_gradebook_the_local_pool_writes(classes):
    local, remote, _ = classes
    assert local.out.read_text() == remote.out.read_text()
    rows = read_csv(remote.out)
    assert [float(rows[s]["total"]) for s in ("ada", "bob", "cy", "dee")] == [9, 6, 6, 6]
    assert "grading on the Dask cluster at tcp://" in remote.stderr and "2 worker(s)" in remote.stderr


def test_each_submission_was_graded_by_a_worker_in_its_boxes(classes, cluster):
    _, remote, _ = classes
    workers = set(cluster.scheduler_info["workers"])
    for student in ("ada", "bob", "cy", "dee"):
        result = load_result(remote.cache, student)
        assert result["worker"] in workers
        assert result["timings"], result          # the probe and the check runs happened, in boxes
    feedback = remote.feedback_of("cy")
    assert "withheld while exercise 3 is graded" in " ".join(feedback.split())


def test_a_second_run_on_the_cluster_grades_nothing_again(classes):
    _, remote, again = classes
    assert "4 submissions: 0 graded now, 4 unchanged since the last run" in again.stderr
    assert again.out.read_text() == remote.out.read_text()


def test_an_address_where_no_scheduler_answers_is_a_clear_error(tmp_path, no_notebooks):
    subs = tmp_path / "submissions"
    write_submission(subs / "ada")
    done = run_grade(subs, tmp_path, no_notebooks, "--scheduler", "tcp://127.0.0.1:9", jobs=1, timeout=200)
    assert done.code == 2 and "no Dask scheduler answers at tcp://127.0.0.1:9" in done.stderr, done.stderr


def test_nothing_a_submission_started_is_left_running(classes):
    assert box_processes() == []
