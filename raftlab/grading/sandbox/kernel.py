"""The Jupyter kernel the grader runs checkpoint notebooks in (``-f CONNECTION_FILE``).

It is started like every raftlab module in a box (:func:`~raftlab.grading.sandbox.box.module_argv`),
so it imports raftlab from the run's exam copy.  It is ipykernel, plus the integrity guard: the
engine's modules are fingerprinted before the first cell runs, and after every cell the guard
looks again.  If a
submission replaced part of the engine (say ``raftlab.impl.resolve_rules``, to run the
reference rules instead of its own), every later cell prints a line saying so on
stderr; the check cells' outputs then differ from the reference outputs, so they
earn nothing.  The grader reads results from nbval, never from this kernel.
"""
from __future__ import annotations

import os
import sys
import traceback

from . import guard

__all__ = ["main", "START_LOG_ENV"]

#: Where the kernel writes why it could not start (nbval sends a kernel's stderr to /dev/null,
#: and the grader must tell a kernel that never started from a submission's failure).
START_LOG_ENV = "RAFTLAB_GRADER_KERNEL_LOG"


def _after_cell(result=None) -> None:
    for text, _where in guard.record("after a notebook cell"):
        print(f"raftlab grader: the engine was changed while the notebook ran: {text}",
              file=sys.stderr)


def _start_failed() -> None:
    path = os.environ.get(START_LOG_ENV)
    if path:
        try:
            with open(path, "a") as f:
                f.write(f"kernel pid {os.getpid()} could not start:\n{traceback.format_exc()[-2000:]}\n")
        except OSError:
            pass


def main() -> None:
    # No debugger in a grading kernel (ipykernel works without debugpy, and starts faster).
    sys.modules.setdefault("debugpy", None)  # type: ignore[arg-type]
    try:
        guard.take_snapshot(guard.KERNEL_MODULES, with_builtins=False)
        from ipykernel.kernelapp import IPKernelApp
        app = IPKernelApp.instance()
        app.initialize(sys.argv[1:])
        app.shell.events.register("post_run_cell", _after_cell)  # type: ignore[union-attr]
    except BaseException:
        _start_failed()
        raise
    app.start()


if __name__ == "__main__":
    main()
