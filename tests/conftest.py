"""Shared pytest configuration for raftlab's tests."""

# Notebooks under tests/ (for example grading fixtures) are data for tests, not lessons: `make test` runs
# nbval with tests/ on its command line, and this keeps nbval from collecting them as tests of their own.
collect_ignore_glob = ["*.ipynb"]


def pytest_configure(config):
    import time

    config._raftlab_started = time.time()


def pytest_terminal_summary(terminalreporter, config):
    """Print the autograder's kill table, if tests/grading_selftest wrote it during this run."""
    from pathlib import Path

    table = Path(__file__).resolve().parent.parent / "test-artifacts" / "kill_table.txt"
    started = getattr(config, "_raftlab_started", None)
    if started is not None and table.exists() and table.stat().st_mtime >= started:
        terminalreporter.write_sep("=", "autograder kill table (test-artifacts/kill_table.txt)")
        terminalreporter.write_line(table.read_text().rstrip())
