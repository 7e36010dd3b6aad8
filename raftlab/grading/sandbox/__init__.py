"""The box a submission's code runs in, and what runs inside it (``raftlab grade`` only).

* :mod:`~raftlab.grading.sandbox.box`      -- a box: its own user, limits, private folder, wall-clock
  timeout, every process killed at the end; the exam copy each run imports raftlab from.
* :mod:`~raftlab.grading.sandbox.mounts`   -- as root, a box's own mount namespace, with the instructor's kit hidden.
* :mod:`~raftlab.grading.sandbox.probe`    -- import a submission's files one by one and say how each went.
* :mod:`~raftlab.grading.sandbox.files`    -- the rules of a submission whose package does not import.
* :mod:`~raftlab.grading.sandbox.run`      -- start ``raftlab check`` in a box, under the integrity guard.
* :mod:`~raftlab.grading.sandbox.guard`    -- the integrity guard: notice a submission patching the engine
  or pytest (also a pytest plugin).
* :mod:`~raftlab.grading.sandbox.budget`   -- pytest plugin: an exercise whose tests keep timing out stops.
* :mod:`~raftlab.grading.sandbox.kernel`   -- the Jupyter kernel the checkpoint notebooks run in, guarded.
* :mod:`~raftlab.grading.sandbox.nbplugin` -- pytest plugin: each notebook cell's result, on a private pipe.

This package imports nothing itself: the modules that run in a box start fast.
"""
