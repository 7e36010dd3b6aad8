"""Fixtures for the grader's tests: an instructor's side, and ``raftlab grade`` in a subprocess.

Everything runs with tight limits (512 MB, a few seconds per test, a few processes) so that
the hostile submissions stay harmless to the machine running the tests.  The exercise tests
are small stand-ins (``fixtures/exercise_tests``) run by a stand-in ``raftlab check``
(``fake_check.py``) with the same interface as the real one.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from .classroom import write_notebooks

# The stand-in exercise tests are data for these tests, not tests of raftlab.
collect_ignore = ["fixtures"]


@pytest.fixture(scope="session")
def checkpoints(tmp_path_factory) -> Path:
    """The instructor's checkpoint notebooks, with the reference's outputs stored."""
    folder = tmp_path_factory.mktemp("checkpoints")
    write_notebooks(folder)
    return folder


@pytest.fixture(scope="session")
def no_notebooks(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("no_notebooks")




@pytest.fixture(scope="session")
def kit_bytecode() -> Path:
    """The kit's compiled reference rules (raftlab/__pycache__/rules.*.pyc), as a submission could find
    them.  Python writes that file on first import unless told not to (PYTHONDONTWRITEBYTECODE, as on
    some machines and CIs), so the routes that read it make sure it is there."""
    import importlib.util
    import py_compile

    import raftlab.rules
    source = raftlab.rules.__file__
    cached = Path(importlib.util.cache_from_source(source))
    if not cached.exists():
        py_compile.compile(source, cfile=str(cached), doraise=True)
    return cached
