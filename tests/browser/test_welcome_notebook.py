"""The welcome lesson runs in a real JupyterLab, and its Explorer renders and talks to the kernel."""

from .jlab import NOTEBOOK, assert_no_widget_errors, clear_all_outputs, open_notebook, run_all_cells, screenshot


def test_welcome_notebook_runs_and_its_explorer_answers(lab_server, page):
    from playwright.sync_api import expect  # here: without playwright the fixtures skip (or fail on CI)

    open_notebook(page, lab_server, "00_welcome.ipynb")
    clear_all_outputs(page)
    run_all_cells(page, timeout=120)

    explorer = page.locator(f"{NOTEBOOK} .raftlab-explorer")
    expect(explorer).to_have_count(1)
    title = explorer.locator(".widget-html").first
    expect(title).to_contain_text("t = 0 ms")
    expect(title).to_contain_text("step 0")
    # The lesson's first "Try this": one Step fires n4's election timer at t=190 (seed 1).
    explorer.locator("button.jupyter-button:text-is('Step')").click()
    expect(title).to_contain_text("step 1")
    expect(title).to_contain_text("t = 190 ms")

    assert_no_widget_errors(page)
    screenshot(page, "welcome")
