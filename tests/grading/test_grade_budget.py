"""An exercise (a notebook) whose tests (cells) keep running out of time stops early: after
--max-timeouts of them, the rest are skipped with the reason, instead of each waiting for its
own time limit.  Both plugins are run here by pytest directly, on a few looping tests."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import nbformat


def pytest_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "RAFTLAB_"))}
    env.update(extra)
    return env


def test_the_tests_of_an_exercise_stop_after_the_allowed_time_outs(tmp_path):
    (tmp_path / "test_ex3_loops.py").write_text(textwrap.dedent("""
        def test_a():
            while True: pass
        def test_b():
            while True: pass
        def test_c():
            while True: pass
        def test_d():
            assert True
    """))
    (tmp_path / "test_ex4_fine.py").write_text("def test_e():\n    assert True\n")
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", "--timeout", "1",
                           "--rootdir", str(tmp_path), str(tmp_path)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120,
                          env=pytest_env(PYTEST_PLUGINS="raftlab.grading.sandbox.budget",
                                         RAFTLAB_GRADER_MAX_TIMEOUTS="2"))
    summary = done.stdout.strip().splitlines()[-1]
    assert "2 failed, 1 passed, 2 skipped" in summary, done.stdout
    assert "not run: 2 tests of exercise 3 had already run out of time" in done.stdout
    assert "test_ex4_fine.py::test_e PASSED" in subprocess.run(  # exercise 4 is not concerned
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-v", "--timeout", "1", "--rootdir",
         str(tmp_path), str(tmp_path)], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env=pytest_env(PYTEST_PLUGINS="raftlab.grading.sandbox.budget", RAFTLAB_GRADER_MAX_TIMEOUTS="2")).stdout


def test_the_cells_of_a_notebook_stop_after_the_allowed_time_outs(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cells = ["x = 1", "# NBVAL_CHECK_OUTPUT\nwhile True: pass", "# NBVAL_CHECK_OUTPUT\nwhile True: pass",
             "# NBVAL_CHECK_OUTPUT\nprint(x)"]
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.cells[3].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    for i, cell in enumerate(nb.cells):
        cell.execution_count = i + 1
    nbformat.write(nb, tmp_path / "loops.ipynb")
    read, write = os.pipe()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                                 "-p", "raftlab.grading.sandbox.nbplugin", "--nbval-lax", "--nbval-current-env",
                                 "--nbval-cell-timeout", "2", "--rootdir", str(tmp_path),
                                 str(tmp_path / "loops.ipynb")], cwd=tmp_path, pass_fds=(write,),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=pytest_env(RAFTLAB_GRADER_FD=str(write), RAFTLAB_GRADER_MAX_TIMEOUTS="1"))
        os.close(write)
        with os.fdopen(read, "rb") as pipe:
            events = [json.loads(line) for line in pipe.read().splitlines()]
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    results = {e["cell"]: e for e in events if e["event"] == "cell"}
    assert [results[n]["passed"] for n in range(4)] == [True, False, False, False]
    assert "Timeout of 2 seconds exceeded" in results[1]["message"]
    # cell 3 would pass (x is 1), but the budget of one time-out was spent: not run
    assert results[2]["message"].startswith("not run: 1 cells of loops.ipynb had already run out of time")
    assert results[3]["message"].startswith("not run: 1 cells of loops.ipynb")
    assert events[-1] == {"event": "done"}
