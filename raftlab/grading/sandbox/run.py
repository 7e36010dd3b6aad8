"""Start ``raftlab check`` inside a box, under the grader's integrity guard.

    RAFTLAB_GRADER_VERDICT=V.jsonl RAFTLAB_EXAM=COPY python -I -c BOOT raftlab.grading.sandbox.run \
        [--entry raftlab.cli:main] -- check N ARGS...

(``BOOT``: see :func:`raftlab.grading.sandbox.box.module_argv`; raftlab is imported from the
exam copy ``COPY``, without exercise N's reference.)

The guard's snapshot is taken here, before anything of the student's is imported;
after the check returns, this process's verdict (clean, or what changed) is appended
to ``V.jsonl`` and the process ends at once with ``os._exit``, so no exit handler a
submission registered runs after the grader's last look.  ``raftlab check`` runs the
tests in a pytest process of its own: the guard, as a pytest plugin there
(``PYTEST_PLUGINS``), appends that process's verdict to the same file.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys

from ..check.exam import set_dumpable
from . import guard

__all__ = ["main"]


def _load_entry(spec: str):
    """``package.module:function`` or ``/path/to/file.py:function``."""
    target, _, func = spec.rpartition(":")
    if target.endswith(".py"):
        name = "raftlab_grader_entry"
        module_spec = importlib.util.spec_from_file_location(name, target)
        if module_spec is None or module_spec.loader is None:
            raise ImportError(f"cannot load {target}")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module
        module_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(target)
        name = target
    return name, getattr(module, func)


def main(argv=None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" not in argv:
        sys.exit("usage: python -m raftlab.grading.sandbox.run [--entry MOD:FUNC] -- ARGS")
    own, rest = argv[:argv.index("--")], argv[argv.index("--") + 1:]
    options = dict(zip(own[::2], own[1::2], strict=False))
    entry_name, entry = _load_entry(options.get("--entry", "raftlab.cli:main"))
    set_dumpable(False)          # the tests this process starts run student code as the same user
    for name in ("raftlab.cli", "raftlab.grading.check.score"):
        try:
            importlib.import_module(name)        # so that the snapshot covers them too
        except Exception:
            pass
    guard.take_snapshot(guard.ENGINE_MODULES + ("raftlab.cli", "raftlab.grading.check.score", entry_name))
    code, note = 1, ""
    try:
        result = entry(rest)
        code = result if isinstance(result, int) else 0
        note = f"returned {result!r}"
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
        note = f"raised SystemExit({exc.code!r})"
    except BaseException as exc:  # the verdict must be written whatever happened
        note = f"raised {type(exc).__name__}: {str(exc)[:500]}"
    guard.write_verdict("check", exit_code=code, note=note)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    import os
    os._exit(code if 0 <= code < 256 else 1)


if __name__ == "__main__":
    main()
