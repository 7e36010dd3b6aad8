"""Drive a real JupyterLab in headless Chromium: start a server, open a notebook, run it, look at it.

The selectors were checked against JupyterLab 4.6 (see shared/RECIPES.md). Every helper waits for a state
of the page, never for a fixed time, and fails with a message saying what it was waiting for.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Iterator

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"

# The notebook shown in the main area (others opened earlier stay in the DOM, hidden).
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"
KERNEL_IDLE = ".jp-Notebook-ExecutionIndicator[data-status='idle']"
WIDGET_ERROR = "Error displaying widget"

_EXECUTED = re.compile(r"^\[\d+\]:?$")
_KERNEL_READY = re.compile(r"^(?!No Kernel).+ \| Idle$")  # the status bar's "Python 3 (ipykernel) | Idle"


# --- the server ------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def isolated_env(state_dir: Path) -> dict[str, str]:
    """The environment for a Lab whose settings, workspaces, kernels' runtime files and caches stay in
    state_dir, so that a test neither reads nor writes the user's own Jupyter, IPython or matplotlib state."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER_", "JPY_"))}
    dirs = {
        "JUPYTER_CONFIG_DIR": "jupyter-config",
        "JUPYTER_DATA_DIR": "jupyter-data",
        "JUPYTER_RUNTIME_DIR": "jupyter-runtime",
        "IPYTHONDIR": "ipython",
        "MPLCONFIGDIR": "matplotlib",
        "XDG_CONFIG_HOME": "xdg-config",
        "XDG_CACHE_HOME": "xdg-cache",
        "XDG_DATA_HOME": "xdg-data",
    }
    for var, name in dirs.items():
        path = state_dir / name
        path.mkdir(parents=True, exist_ok=True)
        env[var] = str(path)
    env["JUPYTER_PLATFORM_DIRS"] = "1"  # the new path layout; silences jupyter_core's migration warning
    # No "Would you like to get notified about official Jupyter news?" toast over the screenshots.
    settings = state_dir / "jupyter-config/lab/user-settings/@jupyterlab/apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    return env


@contextlib.contextmanager
def running_lab(root_dir: Path, state_dir: Path, startup_timeout: float = 90) -> Iterator[str]:
    """Run `jupyter lab` (from the interpreter running the tests) on 127.0.0.1 with no token, serving
    root_dir; yield its base URL; stop it by its PID on exit. Its log goes to state_dir/lab.log."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
        "--ServerApp.token=", "--ServerApp.password=",
        f"--ServerApp.root_dir={root_dir}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log_path = state_dir / "lab.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=root_dir, env=isolated_env(state_dir),
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C on pytest must not reach the server before we stop it
        )
    try:
        _wait_until_up(url, proc, log_path, startup_timeout)
        yield url
    finally:
        _stop(proc)


def _wait_until_up(url: str, proc: subprocess.Popen, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with code {proc.returncode}:\n{_tail(log_path)}")
        try:
            with urllib.request.urlopen(f"{url}/api/status", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"jupyter lab did not answer {url}/api/status within {timeout} s:\n{_tail(log_path)}")


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM lets the server shut its kernels down; if it hangs, kill the session it leads."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# --- the page --------------------------------------------------------------------------------------------

def open_notebook(page, url: str, nb_path: str, timeout: float = 60) -> None:
    """Open nb_path (relative to the server's root) in a fresh Lab workspace and wait until its kernel
    is connected and idle.

    The toolbar's execution indicator alone is not enough: it already says "idle" while the status bar
    says "No Kernel | Initializing" and only some cells are rendered, and a Run All then runs nothing.
    """
    page.goto(f"{url}/lab/tree/{urllib.parse.quote(nb_path)}?reset", timeout=timeout * 1000)
    page.locator(".jp-StatusBar-TextItem", has_text=_KERNEL_READY).wait_for(timeout=timeout * 1000)
    page.locator(f"{NOTEBOOK} {KERNEL_IDLE}").wait_for(timeout=timeout * 1000)


def _menu(page, menu: str, command: str) -> None:
    page.locator(f".lm-MenuBar-itemLabel:text-is('{menu}')").click()
    page.locator(f"li.lm-Menu-item[data-command='{command}']:not(.lm-mod-disabled)").click()


def clear_all_outputs(page, timeout: float = 10) -> None:
    """Edit > Clear Outputs of All Cells, so that "every cell ran" cannot be true before anything runs."""
    _menu(page, "Edit", "editmenu:clear-all")
    page.wait_for_function(
        """sel => [...document.querySelectorAll(sel + ' .jp-CodeCell .jp-InputPrompt')]
                  .every(p => !/\\d/.test(p.textContent))""",
        arg=NOTEBOOK, timeout=timeout * 1000,
    )


_STATE_JS = """sel => {
  const nb = document.querySelector(sel);
  if (!nb) return null;
  const cells = [...nb.querySelectorAll('.jp-CodeCell')].map((cell, i) => ({
    index: i,
    prompt: (cell.querySelector('.jp-InputPrompt')?.textContent || '').trim(),
    empty: (cell.querySelector('.jp-InputArea-editor')?.textContent || '').trim() === '',
    error: [...cell.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
             .map(e => e.textContent.trim()).join('\\n').slice(-800),
  }));
  return {idle: !!nb.querySelector("%s"), cells};
}""" % KERNEL_IDLE.replace('"', '\\"')


def run_all_cells(page, timeout: float = 120) -> list[str]:
    """Run > Run All Cells; wait until the kernel is idle with no cell queued; return the code cells'
    prompts. Raises AssertionError naming each non-empty code cell that did not run (Lab stops a run at
    the first error; empty code cells never get a number), with the error text it shows."""
    _menu(page, "Run", "runmenu:run-all")
    deadline = time.monotonic() + timeout
    settled_since = None
    state = None
    while time.monotonic() < deadline:
        state = page.evaluate(_STATE_JS, NOTEBOOK)
        cells = [c for c in state["cells"] if not c["empty"]]
        if state["idle"] and all(_EXECUTED.match(c["prompt"]) for c in cells):
            break
        # Lab stops at a failing cell: idle, nothing queued, and staying so, means the run is over.
        if state["idle"] and not any("*" in c["prompt"] for c in cells):
            settled_since = settled_since or time.monotonic()
            if time.monotonic() - settled_since > 3:
                break
        else:
            settled_since = None
        time.sleep(0.25)
    else:
        raise AssertionError(f"cells still running after {timeout} s: {state and state['cells']}")
    not_run = [c for c in state["cells"] if not c["empty"] and not _EXECUTED.match(c["prompt"])]
    if not_run:
        details = "\n".join(f"  code cell {c['index']}: prompt {c['prompt']!r} {c['error']}" for c in not_run)
        errors = "\n".join(c["error"] for c in state["cells"] if c["error"])
        raise AssertionError(f"not every code cell ran:\n{details}\nerror output in the notebook:\n{errors}")
    return [c["prompt"] for c in state["cells"]]


def assert_no_widget_errors(page) -> None:
    """ipywidgets shows "Error displaying widget: ..." when the Lab extension or the model is missing."""
    errors = page.get_by_text(WIDGET_ERROR)
    count = errors.count()
    assert count == 0, f"{count} x {errors.first.inner_text()!r}"


def screenshot(page, name: str) -> Path:
    """Save a screenshot of the whole page as test-artifacts/<name>.png at the repo root; return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
