"""Shared helpers of the autograder's self-tests."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Optional, Union

from raftlab.grading import EXERCISES
from raftlab.rules import EXERCISE_RULES

ROOT = Path(__file__).resolve().parents[2]
STUBS = ROOT / "exercises"
ALTERNATIVE = Path(__file__).with_name("alternative_solution.py")
ALL_RULES = [name for number in sorted(EXERCISE_RULES) for name in EXERCISE_RULES[number]]

#: The top-level keys and types of ``raftlab check --json`` (grade.py depends on them).
SCHEMA = {"impl": str, "total": float, "max": float, "exercises": list, "errors": list}
EXERCISE_SCHEMA = {"number": int, "title": str, "points": float, "max": float, "tests": list}
TEST_SCHEMA = {"name": str, "points": float, "max": float, "passed": bool, "explanation": str, "replay": str}


def assert_schema(data: dict) -> None:
    """``data`` has exactly the keys and types of the --json schema."""
    def check(obj, schema, where):
        assert set(obj) == set(schema), f"{where}: keys {sorted(obj)} != {sorted(schema)}"
        for key, kind in schema.items():
            ok = isinstance(obj[key], kind) or (kind is float and isinstance(obj[key], int)
                                                and not isinstance(obj[key], bool))
            assert ok, f"{where}.{key} is {type(obj[key]).__name__}, not {kind.__name__}"
    check(data, SCHEMA, "result")
    assert all(isinstance(e, str) for e in data["errors"])
    for ex in data["exercises"]:
        check(ex, EXERCISE_SCHEMA, f"exercise {ex.get('number')}")
        for t in ex["tests"]:
            check(t, TEST_SCHEMA, f"exercise {ex['number']} test {t.get('name')}")


def submission(folder: Path, overrides: Optional[dict] = None, name: str = "submission") -> Path:
    """A student package in ``folder/name``: a correct solution of every rule (the alternative
    solution's, written out: importing the reference earns nothing under ``raftlab check``),
    except the exercises in ``overrides`` (number -> ``"stub"`` for the kit's stub, or the
    path of a module defining that exercise's functions, e.g. a bug)."""
    pkg = folder / name
    pkg.mkdir(parents=True)
    overrides = overrides or {}
    kept = [n for n in ALL_RULES if not any(n in EXERCISE_RULES[k] for k in overrides)]
    shutil.copy(ALTERNATIVE, pkg / "_solution.py")
    lines = [f"from ._solution import {', '.join(kept)}"] if kept else []
    for number, source in sorted(overrides.items()):
        module = EXERCISES[number].module
        shutil.copy(STUBS / f"{module}.py" if source == "stub" else Path(source), pkg / f"{module}.py")
        lines.append(f"from .{module} import {', '.join(EXERCISE_RULES[number])}")
    (pkg / "__init__.py").write_text("\n".join(lines) + "\n")
    return pkg


def run_cli(*args: str, cwd: Union[str, Path] = ROOT, env: Optional[dict] = None) -> subprocess.CompletedProcess:
    """``python -m raftlab ARGS`` in a subprocess."""
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "raftlab", *args], cwd=cwd, env=full_env, text=True,
                          capture_output=True, stdin=subprocess.DEVNULL, timeout=600)


def nbval(notebooks: list[Path], impl: Union[str, Path], junit: Path) -> dict[str, dict[int, bool]]:
    """Run ``pytest --nbval-lax --nbval-current-env`` on ``notebooks`` with
    ``RAFTLAB_IMPL=impl``; return notebook name -> {cell number: passed}."""
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "-o", "addopts=",
           "--nbval-lax", "--nbval-current-env", f"--junitxml={junit}", *map(str, notebooks)]
    env = dict(os.environ, RAFTLAB_IMPL=str(impl))
    env.pop("PYTEST_ADDOPTS", None)
    proc = subprocess.run(cmd, cwd=ROOT, env=env, text=True, capture_output=True, stdin=subprocess.DEVNULL,
                          timeout=900)
    assert proc.returncode in (0, 1), f"nbval did not run (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    results: dict[str, dict[int, bool]] = {}
    for case in ET.parse(junit).iter("testcase"):
        notebook = case.get("classname", "").split(".")[-2] + ".ipynb"
        cell = int(case.get("name", "").split()[-1])
        failed = case.find("failure") is not None or case.find("error") is not None
        results.setdefault(notebook, {})[cell] = not failed
    return results
