"""The integrity guard: it notices a submission replacing parts of the engine or of pytest, and
nothing else (pytest's own plugins patch pytest, fixtures undo their changes, data changes).
Each case runs in a fresh Python process: the guard keeps its snapshot in module state."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from .classroom import REPO

SETUP = """
import builtins, json, sys
from raftlab.grading.sandbox import guard
guard.take_snapshot()
saved = dict(vars(builtins))
"""
REPORT = """
found = guard.findings()
vars(builtins).update(saved)       # so that json works again in this script
print(json.dumps(found))
"""


def findings(code: str) -> list:
    script = SETUP + textwrap.dedent(code) + REPORT
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_nothing_changed_nothing_found():
    assert findings("import raftlab.sim\nsim = raftlab.sim.Simulation(seed=1)\nsim.run_until_leader()") == []


def test_data_may_change_while_functions_stay():
    assert findings("import raftlab.grading.check.harness as h\nh._loaded['x'] = 1\nh._problems.append('p')\n"
                    "import raftlab.rules\nraftlab.rules.SOMETHING = 3") == []


@pytest.mark.parametrize("patch, expected", [
    ("import raftlab.impl\nraftlab.impl.resolve_rules = lambda *a, **k: None",
     "raftlab.impl.resolve_rules was replaced"),
    ("import raftlab.invariants\nraftlab.invariants.SafetyChecker.after_step = lambda *a: None",
     "raftlab.invariants.SafetyChecker.after_step was replaced"),
    ("import raftlab.rules\nraftlab.rules.handle_append_entries.__code__ = (lambda node, m: None).__code__",
     "raftlab.rules.handle_append_entries was replaced"),
    ("import types\nsys.modules['raftlab.invariants'] = types.ModuleType('raftlab.invariants')",
     "the module raftlab.invariants was replaced or removed"),
    ("builtins.isinstance = lambda *a: True", "the builtin isinstance was replaced"),
])
def test_replacing_the_engine_is_found(patch, expected):
    assert expected in findings(patch)


def run_pytest_with_guard(tmp_path, test_source: str) -> list:
    (tmp_path / "test_it.py").write_text(textwrap.dedent(test_source))
    verdict = tmp_path / "verdict.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "RAFTLAB_"))}
    env.update(PYTEST_PLUGINS="raftlab.grading.sandbox.guard", RAFTLAB_GRADER_VERDICT=str(verdict))
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
                    str(tmp_path / "test_it.py")], env=env, cwd=tmp_path, capture_output=True, timeout=120)
    return [json.loads(line) for line in verdict.read_text().splitlines()]


def test_as_a_pytest_plugin_the_guard_allows_what_pytest_and_fixtures_undo(tmp_path):
    # pytest's own plugins (hypothesis, legacypath) patch pytest when they load: not a finding;
    # monkeypatch undoes its change at teardown: not a finding either.
    verdicts = run_pytest_with_guard(tmp_path, """
        import raftlab.impl
        def test_patched_for_one_test(monkeypatch):
            monkeypatch.setattr(raftlab.impl, "resolve_rules", lambda *a, **k: None)
        def test_after():
            pass
    """)
    assert [(v["where"], v["clean"], v["findings"]) for v in verdicts] == [("pytest", True, [])]


def test_as_a_pytest_plugin_the_guard_says_which_test_left_a_change(tmp_path):
    verdicts = run_pytest_with_guard(tmp_path, """
        import _pytest.runner
        def test_first():
            pass
        def test_sneaky():
            _pytest.runner.call_and_report = lambda *a, **k: None
        def test_last():
            pass
    """)
    assert len(verdicts) == 1 and verdicts[0]["clean"] is False
    assert verdicts[0]["findings"][0] == ("_pytest.runner.call_and_report was replaced "
                                          "(after the test test_it.py::test_sneaky)")
