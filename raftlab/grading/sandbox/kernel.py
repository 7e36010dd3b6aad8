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

import sys

from . import guard

__all__ = ["main"]


def _after_cell(result=None) -> None:
    for text, _where in guard.record("after a notebook cell"):
        print(f"raftlab grader: the engine was changed while the notebook ran: {text}",
              file=sys.stderr)


def main() -> None:
    # No debugger in a grading kernel (ipykernel works without debugpy, and starts faster).
    sys.modules.setdefault("debugpy", None)  # type: ignore[arg-type]
    guard.take_snapshot(guard.KERNEL_MODULES, with_builtins=False)
    from ipykernel.kernelapp import IPKernelApp
    app = IPKernelApp.instance()
    app.initialize(sys.argv[1:])
    app.shell.events.register("post_run_cell", _after_cell)  # type: ignore[union-attr]
    app.start()


if __name__ == "__main__":
    main()
