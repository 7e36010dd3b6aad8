"""Fixtures of the autograder's self-tests."""
import pytest


@pytest.fixture(autouse=True)
def failures_dir(tmp_path, monkeypatch):
    """Failing runs saved by `raftlab check` go to a folder of this test, not the user's cache."""
    folder = tmp_path / "failures"
    monkeypatch.setenv("RAFTLAB_FAILURES_DIR", str(folder))
    return folder
