"""Every lesson runs top to bottom in a real JupyterLab, and every Explorer in it renders and answers.

One test per lesson (00_welcome has its own, in test_welcome_notebook.py): open the notebook, clear the
stored outputs, Run All, then check that
- every code cell ran (a cell error stops Lab's Run All, and run_all_cells names the cell and its error);
- no cell wrote to stderr (nbval would fail on that too);
- every Explorer the notebook stores an output for is on the page, with its picture drawn;
- every stored figure is drawn again as an image;
- nothing shows "Error displaying widget";
- the first Explorer answers: pressing Step moves its simulation one step (a round trip to the kernel);
- in the lessons of PRINTS_COMPARED, Lab's fresh run printed exactly the lines the notebook stores (the
  story the prose quotes: who led which term, which safety property broke, which change was refused).
"""

from __future__ import annotations

import json
import re

import pytest

from .jlab import (NOTEBOOK, REPO_ROOT, assert_no_widget_errors, clear_all_outputs, open_notebook,
                   run_all_cells, screenshot)

LESSONS = sorted(p.name for p in (REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")
                 if not p.name.startswith("00_"))


#: Lessons whose printed text is deterministic whole (no timings, no addresses): the browser run must print
#: the same lines as the stored outputs.
PRINTS_COMPARED = {"09_membership_changes.ipynb"}


def stored_stdout(name: str) -> list[str]:
    """Every non-blank line the notebook file stores as printed output (stdout), in order."""
    nb = json.loads((REPO_ROOT / "notebooks" / name).read_text())
    text = "".join("".join(out.get("text", "")) for cell in nb["cells"] for out in cell.get("outputs", [])
                   if out.get("output_type") == "stream" and out.get("name") == "stdout")
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def stored_outputs(name: str) -> tuple[int, int]:
    """(Explorers, figures) among the outputs stored in the notebook file."""
    nb = json.loads((REPO_ROOT / "notebooks" / name).read_text())
    explorers = figures = 0
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "".join(data.get("text/plain", "")).startswith("Explorer("):
                explorers += 1
            if "image/png" in data:
                figures += 1
    return explorers, figures


def test_every_lesson_is_tested():
    assert len(LESSONS) == 10, f"expected lessons 01..10 in notebooks/, found {LESSONS}"


@pytest.mark.parametrize("name", LESSONS)
def test_lesson_runs_in_jupyterlab(lab_server, page, name):
    from playwright.sync_api import expect  # here: without playwright the fixtures skip (or fail on CI)

    explorers, figures = stored_outputs(name)
    open_notebook(page, lab_server, name)
    clear_all_outputs(page)
    run_all_cells(page, timeout=180)

    nb = page.locator(NOTEBOOK)
    stderr = nb.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    assert stderr.count() == 0, f"{name}: a cell wrote to stderr: {stderr.first.inner_text()[:500]}"

    panels = nb.locator(".raftlab-explorer")
    expect(panels).to_have_count(explorers)
    for i in range(explorers):
        picture = panels.nth(i).locator(".raftlab-figure").first
        picture.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 100", arg=picture.element_handle())
    drawn = nb.locator(".jp-RenderedImage img")     # matplotlib figures (widgets draw theirs elsewhere)
    assert drawn.count() == figures, f"{name}: {drawn.count()} figures drawn, {figures} stored"
    assert_no_widget_errors(page)

    if name in PRINTS_COMPARED:
        printed = nb.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stdout']")
        fresh = [line.rstrip() for text in printed.all_text_contents() for line in text.splitlines()
                 if line.strip()]
        assert fresh == stored_stdout(name), f"{name}: Lab printed other lines than the notebook stores"

    if explorers:
        panel = panels.first
        title = panel.locator(".widget-html").first
        before = int(re.search(r"step (\d+)", title.inner_text()).group(1))
        panel.locator("button.jupyter-button:text-is('Step')").click()
        expect(title).to_contain_text(f"step {before + 1}")
        assert_no_widget_errors(page)
    screenshot(page, f"lesson-{name.removesuffix('.ipynb')}")


def test_notebooks_match_their_sources():
    """The committed notebooks are built from tools/lessons/*.py; a hand edit to either side shows here."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_notebooks", REPO_ROOT / "tools" / "build_notebooks.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    sources = sorted(build.SOURCES.glob("[0-9][0-9]_*.py"))
    assert len(sources) == 11, f"expected lessons 00..10 in tools/lessons/, found {[s.name for s in sources]}"
    problems = [p for s in sources for p in build.check(s)]
    assert not problems, "\n".join(problems)
