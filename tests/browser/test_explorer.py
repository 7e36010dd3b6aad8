"""The Explorer in a real JupyterLab: it renders, its buttons reach the kernel, and the picture follows.

Serves tests/browser/notebooks/ (small notebooks that show an Explorer: explorer.ipynb, history.ipynb
with the clients' history view, and membership.ipynb for adding a server) from a Lab of its own: the
session's `lab_server` serves the lessons folder.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from . import jlab
from .jlab import assert_no_widget_errors, clear_all_outputs, open_notebook, run_all_cells, screenshot

NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"
EXPLORER = ".raftlab-explorer"


@pytest.fixture(scope="module")
def explorer_lab(browser, tmp_path_factory):
    """A JupyterLab serving a temporary copy of tests/browser/notebooks/."""
    root = tmp_path_factory.mktemp("explorer-root") / "notebooks"
    shutil.copytree(NOTEBOOKS, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    with jlab.running_lab(root, tmp_path_factory.mktemp("explorer-state")) as url:
        yield url


def _open(page, url: str) -> None:
    """Open the notebook with the file browser folded away (more room for the Explorer), run it."""
    page.set_viewport_size({"width": 1280, "height": 1900})   # the whole panel fits: screenshots show it all
    open_notebook(page, url, "explorer.ipynb")
    current = page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
    if current.count():
        current.first.click()
    clear_all_outputs(page)
    run_all_cells(page, timeout=120)


def _shoot(page, name: str) -> None:
    """A screenshot of the page and one of the Explorer alone (all of it, even below the fold)."""
    page.locator(EXPLORER).scroll_into_view_if_needed()
    screenshot(page, name)
    page.locator(EXPLORER).screenshot(path=str(jlab.ARTIFACTS / f"{name}-panel.png"))


def _set_theme(page, theme: str) -> None:
    """Settings > Theme > ``theme``; wait until the page wears it."""
    page.locator(".lm-MenuBar-itemLabel:text-is('Settings')").click()
    page.locator("li.lm-Menu-item", has_text="Theme").first.hover()
    page.get_by_role("menuitem", name=theme, exact=True).click()
    page.wait_for_selector(f"body[data-jp-theme-name='{theme}']", state="attached", timeout=20_000)


def _src(page) -> str:
    return page.locator(f"{EXPLORER} img.raftlab-figure").get_attribute("src") or ""


def _events(page) -> str:
    return page.locator(f"{EXPLORER} .raftlab-event-log").inner_text()


def _wait_for_new_picture(page, old_src: str, timeout: float = 20) -> str:
    page.wait_for_function(
        """([sel, old]) => { const img = document.querySelector(sel);
                             return img && img.src && img.src !== old && img.complete && img.naturalWidth > 0; }""",
        arg=[f"{EXPLORER} img.raftlab-figure", old_src], timeout=timeout * 1000)
    return _src(page)


def _button(page, text: str):
    """The Explorer's button whose label is exactly ``text``."""
    return page.locator(f"{EXPLORER} button.jupyter-button").filter(
        has_text=re.compile(rf"^\s*{re.escape(text)}\s*$")).first


def test_explorer_renders_and_its_buttons_drive_the_simulation(explorer_lab, page):
    from playwright.sync_api import expect  # here: without playwright the fixtures skip (or fail on CI)

    _open(page, explorer_lab)

    explorer = page.locator(EXPLORER)
    expect(explorer).to_be_visible(timeout=30_000)
    figure = page.locator(f"{EXPLORER} img.raftlab-figure")
    expect(figure).to_be_visible()
    page.wait_for_function(
        "sel => { const img = document.querySelector(sel); return img && img.complete && img.naturalWidth > 0; }",
        arg=f"{EXPLORER} img.raftlab-figure", timeout=20_000)
    assert_no_widget_errors(page)
    _shoot(page, "explorer-initial")

    # Step: one event; the picture and the event log change.
    first_src, first_events = _src(page), _events(page)
    _button(page, "Step").click()
    second_src = _wait_for_new_picture(page, first_src)
    page.wait_for_function("([sel, old]) => document.querySelector(sel).innerText !== old",
                           arg=[f"{EXPLORER} .raftlab-event-log", first_events], timeout=20_000)
    _shoot(page, "explorer-after-step")

    # Crash the server picked in the server dropdown (n1): the log says so, the picture changes.
    page.locator(f"{EXPLORER} .widget-dropdown select").first.select_option("n2")
    _button(page, "Crash").click()
    expect(page.locator(f"{EXPLORER} .raftlab-event-log")).to_contain_text("n2 crashed", timeout=20_000)
    _wait_for_new_picture(page, second_src)
    expect(page.locator(f"{EXPLORER} .raftlab-safety")).to_contain_text("safe")

    # Crashing it again is refused with a message in the panel, not an error in the notebook.
    _button(page, "Crash").click()
    expect(page.locator(f"{EXPLORER} .raftlab-status")).to_contain_text("already crashed", timeout=20_000)
    assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0

    assert_no_widget_errors(page)
    _shoot(page, "explorer-crashed")

    # The same panel in JupyterLab's dark theme (figures and tables keep their own light background).
    _set_theme(page, "JupyterLab Dark")
    page.wait_for_timeout(500)                  # let the theme's colours settle before the picture
    _shoot(page, "explorer-dark")
    _set_theme(page, "JupyterLab Light")        # the server's settings outlive this page: put them back


def test_explorer_plays_and_pauses(explorer_lab, page):
    """ipywidgets.Play ticks in the browser; each tick advances the simulation and redraws."""
    from playwright.sync_api import expect

    _open(page, explorer_lab)
    title = page.locator(f"{EXPLORER} .raftlab-title")
    expect(title).to_contain_text("t = ", timeout=30_000)
    before = title.inner_text()
    play = page.locator(f"{EXPLORER} .widget-play button").first
    play.click()
    page.wait_for_function("([sel, old]) => document.querySelector(sel).innerText !== old",
                           arg=[f"{EXPLORER} .raftlab-title", before], timeout=20_000)
    page.locator(f"{EXPLORER} .widget-play button").nth(1).click()      # pause
    assert_no_widget_errors(page)
    _shoot(page, "explorer-playing")


def test_explorer_shows_the_clients_history_and_goes_to_where_it_went_wrong(explorer_lab, page):
    """The "history" view (tests/browser/notebooks/history.ipynb): a stale read is named under the picture,
    "Go to the step before it went wrong" rewinds to just before the bad answer (the history is then fine),
    and Step brings the answer back (and the verdict with it)."""
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 1280, "height": 1900})
    open_notebook(page, explorer_lab, "history.ipynb")
    clear_all_outputs(page)
    run_all_cells(page, timeout=120)

    verdict = page.locator(f"{EXPLORER} .raftlab-history")
    expect(verdict).to_contain_text("NOT linearizable", timeout=30_000)
    expect(verdict).to_contain_text("c5#1 get x")
    page.wait_for_function(
        "sel => { const img = document.querySelector(sel); return img && img.complete && img.naturalWidth > 0; }",
        arg=f"{EXPLORER} img.raftlab-figure", timeout=20_000)
    legend = page.locator(f"{EXPLORER} img.raftlab-legend")
    page.wait_for_function("img => img.complete && img.naturalHeight > 60", arg=legend.element_handle())
    assert_no_widget_errors(page)
    _shoot(page, "explorer-history")

    title = page.locator(f"{EXPLORER} .raftlab-title")
    end = int(re.search(r"step (\d+)", title.inner_text()).group(1))
    old_src = _src(page)
    _button(page, "Go to the step before it went wrong").click()
    expect(verdict).to_contain_text("linearizable", timeout=20_000)
    expect(verdict).not_to_contain_text("NOT")
    expect(page.locator(f"{EXPLORER} .raftlab-status")).to_contain_text("Press Step")
    back = int(re.search(r"step (\d+)", title.inner_text()).group(1))
    assert back < end
    _wait_for_new_picture(page, old_src)
    expect(_button(page, "Go to the step before it went wrong")).to_be_hidden()

    _button(page, "Step").click()
    expect(title).to_contain_text(f"step {back + 1}", timeout=20_000)
    expect(verdict).to_contain_text("NOT linearizable")
    expect(page.locator(f"{EXPLORER} .raftlab-event-log")).to_contain_text("c5 got #1 get x")
    assert_no_widget_errors(page)
    _shoot(page, "explorer-history-answer")


def test_explorer_adds_a_server_that_joins_as_a_learner_then_becomes_a_voter(explorer_lab, page):
    """Membership (tests/browser/notebooks/membership.ipynb, a 3-server cluster ready for a change): the name
    box proposes n4; Add server starts it, and the leader's configuration, shown beside the buttons and in
    its log, has n4 as a learner; after Advance (1000 ms) n4 has caught up and is a voter, and the server
    pickers list it."""
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 1280, "height": 1900})
    open_notebook(page, explorer_lab, "membership.ipynb")
    clear_all_outputs(page)
    run_all_cells(page, timeout=120)

    configuration = page.locator(f"{EXPLORER} .raftlab-membership")
    expect(configuration).to_contain_text("{n1,n2,n3} (the cluster's first)", timeout=30_000)
    name = page.locator(f"{EXPLORER} .raftlab-new-server input")
    expect(name).to_have_value("n4")
    page.wait_for_function(
        "sel => { const img = document.querySelector(sel); return img && img.complete && img.naturalWidth > 0; }",
        arg=f"{EXPLORER} img.raftlab-figure", timeout=20_000)
    assert_no_widget_errors(page)

    old_src = _src(page)
    _button(page, "Add server").click()
    expect(configuration).to_contain_text("{n1,n2,n3}+learner n4", timeout=20_000)
    expect(configuration).to_contain_text("not committed yet")
    expect(page.locator(f"{EXPLORER} .raftlab-log-entries")).to_contain_text("config {n1,n2,n3}+learner n4")
    expect(page.locator(f"{EXPLORER} .raftlab-event-log")).to_contain_text(
        "appended configuration {n1,n2,n3}+learner n4")
    expect(name).to_have_value("n5")                 # the next free name
    _wait_for_new_picture(page, old_src)
    assert page.locator(f"{EXPLORER} .raftlab-status").inner_text().strip() == ""
    _shoot(page, "explorer-membership-learner")

    old_src = _src(page)
    _button(page, "Advance").click()
    expect(configuration).to_contain_text("{n1,n2,n3,n4}", timeout=20_000)
    expect(configuration).not_to_contain_text("learner")
    expect(configuration).to_contain_text("(committed)")
    expect(page.locator(f"{EXPLORER} .raftlab-log-entries")).to_contain_text("config {n1,n2,n3,n4}")
    _wait_for_new_picture(page, old_src)
    servers = page.locator(f"{EXPLORER} .widget-dropdown select").first
    assert servers.locator("option").all_inner_texts() == ["n1", "n2", "n3", "n4"]

    # Adding n4 again is refused with a message in the panel, not an error in the notebook.
    name.fill("n4")
    name.press("Enter")
    _button(page, "Add server").click()
    expect(page.locator(f"{EXPLORER} .raftlab-status")).to_contain_text("n4 is already in the configuration",
                                                                         timeout=20_000)
    assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
    assert_no_widget_errors(page)
    _shoot(page, "explorer-membership-voter")
