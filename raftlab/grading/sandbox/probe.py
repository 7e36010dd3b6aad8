"""Import a submission's files one by one, inside a box, and say how each went.

    python -I -c BOOT raftlab.grading.sandbox.probe FOLDER OUT.jsonl --timeout S [--skip a.py,b.py]
                                                    [--stop-package-on-error 1]

(started with :func:`~raftlab.grading.sandbox.box.module_argv`, in an exam copy of raftlab
without any exercise's reference: importing a file runs its code.)

One JSON line per event goes to ``OUT.jsonl`` as it happens: ``start`` before a file is
imported, then ``ok`` (with the rule names it defines) or ``error``; then the same for
the package (``__init__.py``), then ``done``.  A ``start`` with nothing after it means
the import hung or ended the process; the grader then starts a new probe that skips
that file.  The grader uses these lines only to choose how to run the tests and to
explain a failure -- never to score: a submission could write anything here.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import traceback
from pathlib import Path

__all__ = ["main"]


class ImportTimeout(BaseException):
    """Importing one file took longer than the probe allows."""


def _on_alarm(signum, frame):
    raise ImportTimeout()


def _where(exc: BaseException, folder: str) -> str:
    """The last line of the student's own code in the traceback, as ``file:line``."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{Path(exc.filename).name}:{exc.lineno}"
    found = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.startswith(folder):
            found = f"{Path(frame.filename).name}:{frame.lineno}"
    return found


def _summary(exc: BaseException, folder: str) -> str:
    if isinstance(exc, ImportTimeout):
        return "timeout"
    if isinstance(exc, SystemExit):
        return f"SystemExit({exc.code!r}): it calls sys.exit() while it is imported"
    if isinstance(exc, ModuleNotFoundError) and exc.name and exc.name.startswith(("raftlab_impl_",
                                                                                 "raftlab_submission_")):
        # the package (or a file) imports a file of the submission that is not there
        return f"it imports {exc.name.partition('.')[2] or exc.name}, and there is no such file"
    if isinstance(exc, SyntaxError):
        text = (exc.text or "").strip()
        return f"SyntaxError: {exc.msg}" + (f": {text[:120]}" if text else "")
    return f"{type(exc).__name__}: {str(exc)[:300]}"


def main(argv=None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    folder, out_path = args[0], args[1]
    opts = dict(zip(args[2::2], args[3::2], strict=False))
    timeout = float(opts.get("--timeout", "10"))
    skip = set(filter(None, opts.get("--skip", "").split(",")))
    stop_package = opts.get("--stop-package-on-error") == "1"     # the package imports every file
    from ... import rules as reference
    from ...impl import import_file, import_spec

    fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def emit(**event) -> None:
        os.write(fd, (json.dumps(event) + "\n").encode())

    signal.signal(signal.SIGALRM, _on_alarm)
    names = sorted(p.name for p in Path(folder).glob("*.py") if p.name != "__init__.py")
    targets = [n for n in names if n not in skip]
    if (Path(folder) / "__init__.py").exists() and "__init__.py" not in skip:
        targets.append("__init__.py")
    failed = False
    for name in targets:
        if name == "__init__.py" and failed and stop_package:
            break
        emit(file=name, event="start")
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            module = import_spec(folder) if name == "__init__.py" else import_file(folder, name)
            signal.setitimer(signal.ITIMER_REAL, 0)
            defined = sorted(n for n in reference.ALL_RULES if callable(getattr(module, n, None)))
            emit(file=name, event="ok", rules=defined)
        except BaseException as exc:  # a submission can raise anything, SystemExit included
            signal.setitimer(signal.ITIMER_REAL, 0)
            cause = exc.__cause__ if exc.__cause__ is not None else exc
            emit(file=name, event="error", error=_summary(cause, folder), where=_where(cause, folder))
            failed = True
    emit(event="done")
    os.close(fd)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
