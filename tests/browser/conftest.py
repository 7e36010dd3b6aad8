"""Fixtures for tests that drive a real JupyterLab in headless Chromium.

Every test in tests/browser/ gets the `browser` marker (deselect them with `-m "not browser"`). Without
Chromium or the playwright package they are skipped, except on CI (CI=true), where that is a failure: a CI
run that silently skipped its browser tests would prove nothing.

    def test_something(lab_server, page):
        jlab.open_notebook(page, lab_server, "00_welcome.ipynb")
        ...

`lab_server` serves a temporary copy of notebooks/ for the whole session. To serve another folder, use
`jlab.running_lab(folder, state_dir)` in a fixture of your own.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

from . import jlab

CHROMIUM = os.environ.get("RAFTLAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items):
    # This hook sees every collected item, not only those below this folder: filter by path.
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


def _missing_requirement() -> str | None:
    if not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium; never `playwright install`)"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (make venv installs it)"
    return None


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium (Debian's, not Playwright's download) for the session."""
    reason = _missing_requirement()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run on CI: {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def lab_server(browser, tmp_path_factory):
    """Base URL of a JupyterLab serving a temporary copy of notebooks/, with no token and its state kept in
    a temporary folder. Depends on `browser` so that it is not started when the browser tests are skipped."""
    root = tmp_path_factory.mktemp("lab-root") / "notebooks"
    shutil.copytree(jlab.REPO_ROOT / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    with jlab.running_lab(root, tmp_path_factory.mktemp("lab-state")) as url:
        yield url


@pytest.fixture
def page(browser, request):
    """A fresh browser context and page per test; on failure, a screenshot test-artifacts/<test>-failed.png."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        jlab.screenshot(page, f"{request.node.name}-failed")
    context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report
