"""``raftlab grade`` with an injected fault: the Jupyter kernels of checkpoint notebooks do not start.

    python tests/grading/kernel_faults.py FAILS grade ARGS...

runs the grader's own command line in this process, after making the first ``FAILS`` checkpoint
notebook runs of submissions (not the reference's calibration) start a kernel that exits at once,
as a kernel did on a busy Dask worker.  (A test of how the grader answers a failure of its own
machine; nothing of this is part of raftlab.)
"""
from __future__ import annotations

import sys
import threading

from raftlab.cli import main
from raftlab.grading.grade import runner

FAIL_ENV = "RAFTLAB_TEST_KERNEL_EXITS"
# Prepended to the kernel's start code: with FAIL_ENV set, say so where the grader looks, then exit.
_EXIT_AT_START = (f"import os as _o, sys as _s\n"
                  f"if _o.environ.get({FAIL_ENV!r}):\n"
                  f"    open(_o.environ[{runner.START_LOG_ENV!r}], 'a').write('injected fault: this kernel exits at start\\n')\n"
                  f"    _s.exit(3)\n")


def inject(fails: int) -> None:
    left = [fails]
    lock = threading.Lock()
    prepare, nbval_env = runner.SubmissionGrader._prepare, runner.SubmissionGrader._nbval_env

    def _prepare(self):
        prepare(self)
        spec = self.grader / "jupyter" / "kernels" / runner.KERNEL_NAME / "kernel.json"
        data = runner.json.loads(spec.read_text())
        data["argv"][3] = _EXIT_AT_START + data["argv"][3]        # [python, -I, -c, CODE, ...]
        spec.chmod(0o644)
        spec.write_text(runner.json.dumps(data))
        spec.chmod(0o444)

    def _nbval_env(self, impl, exam_env):
        env = nbval_env(self, impl, exam_env)
        with lock:
            if impl != "reference" and left[0] > 0:
                left[0] -= 1
                env[FAIL_ENV] = "1"
        return env

    runner.SubmissionGrader._prepare = _prepare            # type: ignore[method-assign]
    runner.SubmissionGrader._nbval_env = _nbval_env        # type: ignore[method-assign]


if __name__ == "__main__":
    inject(int(sys.argv[1]))
    sys.exit(main(sys.argv[2:]))
