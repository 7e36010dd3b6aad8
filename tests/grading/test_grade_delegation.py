"""Delegation to the reference earns nothing in `raftlab grade`, by every route, and copying the
reference's source is flagged in the similarity column (never deducted).

Each route below is an exercise 3 that calls the reference handle_append_entries instead of
being one.  Where the reference is there (this process: the control) each route reaches it and
replicates like it; graded, each scores 0 for exercise 3 -- the run that grades exercise 3
imports an exam copy of raftlab that holds no reference of it -- and full marks for exercises 1
and 2, which are the reference's source.  (`raftlab check` run by the instructor on the same
routes: tests/grading_selftest/test_exam_copy.py and test_autograder_release.py.  The routes
already in the hostile class -- `from raftlab import rules`, importing the reference function,
stashing it between runs -- are in test_grade_hostile_files.py.)
"""
from __future__ import annotations

import inspect
import os
import re
from pathlib import Path

import pytest

from raftlab import Simulation, rules
from raftlab.grading.grade.similarity import exercise_code
from raftlab.grading.sandbox.box import kit_hiding_problem

from .classroom import FILES, HEADER, REPO, box_processes, needs_root, read_csv, run_grade, squash, write_submission

ROUTES = {
    "node_rules": '''def handle_append_entries(node, m):
    # another rule the node runs is the reference's: its module holds this one too
    return node.rules.update_term.__globals__["handle_append_entries"](node, m)
''',
    "gc": '''import gc as _gc
import types as _types


def handle_append_entries(node, m):
    for obj in _gc.get_objects():
        if (isinstance(obj, _types.FunctionType) and obj.__name__ == "handle_append_entries"
                and obj.__module__ == "raftlab.rules"):
            return obj(node, m)
''',
    "inspect": '''import inspect as _inspect

import raftlab.rules as _rules

_copy = {"__name__": "raftlab.copied_rules", "__package__": "raftlab"}
exec(compile(_inspect.getsource(_rules), "copied rules", "exec"), _copy)


def handle_append_entries(node, m):
    return _copy["handle_append_entries"](node, m)
''',
    "reload_from_disk": '''import importlib.util as _util

import raftlab.rules as _rules

_spec = _util.spec_from_file_location("raftlab.reloaded_rules", _rules.__file__)
_again = _util.module_from_spec(_spec)
_spec.loader.exec_module(_again)


def handle_append_entries(node, m):
    return _again.handle_append_entries(node, m)
''',
    # The handout's withheld module (the kit graded here has none: the import must not cost the file).
    "withheld_module": '''try:
    from raftlab import _withheld
except ImportError:
    _withheld = None


def handle_append_entries(node, m):
    return _withheld.handle_append_entries(node, m)
''',
    "decompressed": '''import base64 as _b64, zlib as _zlib
_code = {"__name__": "raftlab.unpacked", "__package__": "raftlab"}
try:
    from raftlab import _withheld
    exec(_zlib.decompress(_b64.b85decode(_withheld._CODE)).decode(), _code)
except ImportError:
    pass


def handle_append_entries(node, m):
    return _code["handle_append_entries"](node, m)
''',
}

#: Where the instructor's kit is: a submission finds it through the editable install's finder in
#: site-packages (imported at start-up), or knows it (the grader's ``raftlab.__file__``).
FIND_KIT = f"""import os as _os, sys as _sys
_kit = {str(REPO)!r}
for _name, _module in list(_sys.modules.items()):
    if _name.startswith("__editable__") and "raftlab" in getattr(_module, "MAPPING", {{}}):
        _kit = _os.path.dirname(_module.MAPPING["raftlab"])
_found = {{"__name__": "raftlab.from_disk", "__package__": "raftlab"}}
"""

#: An exercise 3 that runs the reference read from the kit's files by path (or says it found none).
USE_FOUND = """

def handle_append_entries(node, m):
    if "handle_append_entries" not in _found:
        raise NotImplementedError("Exercise 3: nothing read from the kit")
    return _found["handle_append_entries"](node, m)
"""

FROM_DISK = {
    "read_by_path": FIND_KIT + """try:
    _path = _os.path.join(_kit, "raftlab", "rules.py")
    exec(compile(open(_path).read(), _path, "exec"), _found)
except OSError:
    pass
""" + USE_FOUND,
    "pycache": FIND_KIT + """import marshal as _marshal
try:
    with open(_os.path.join(_kit, "raftlab", "__pycache__", f"rules.{_sys.implementation.cache_tag}.pyc"), "rb") as _f:
        exec(_marshal.loads(_f.read()[16:]), _found)
except OSError:
    pass
""" + USE_FOUND,
    "second_solution": FIND_KIT + """try:
    _path = _os.path.join(_kit, "tests", "grading_selftest", "alternative_solution.py")
    exec(compile(open(_path).read(), _path, "exec"), _found)
except OSError:
    pass
""" + USE_FOUND,
    "git_objects": FIND_KIT + """import subprocess as _subprocess
_git = _subprocess.run(["git", "-c", "safe.directory=*", "--git-dir", _os.path.join(_kit, ".git"), "show",
                        "HEAD:raftlab/rules.py"], capture_output=True, stdin=_subprocess.DEVNULL)
if _git.returncode == 0:
    exec(compile(_git.stdout.decode(), "git", "exec"), _found)
""" + USE_FOUND,
}
ROUTES.update(FROM_DISK)

#: Reached from this process, where the reference is there (the handout's withheld routes are
#: shown to reach it in tests/grading_selftest/test_autograder_release.py).
IN_PROCESS = ("node_rules", "gc", "inspect", "reload_from_disk")

#: Exercise 3 as the reference's source, with the names changed: a copy.
COPIED = HEADER.format(title="ex3") + re.sub(r"\bm\b", "msg", re.sub(r"\bnode\b", "server", inspect.getsource(
    rules.handle_append_entries)))


def independent_solution(filename: str) -> str:
    """The rules of ``filename`` from the second correct solution the self-tests use (written
    apart from the reference)."""
    source = (REPO / "tests" / "grading_selftest" / "alternative_solution.py").read_text()
    imports = "from raftlab import AppendEntriesReply, Entry, RequestVote, RequestVoteReply, Role\n\n"
    return HEADER.format(title=filename) + imports + exercise_code(source, FILES[filename])


def replicates(module: Path) -> bool:
    """The fixture's first exercise 3 test, in this process: the route's handle_append_entries
    replicates three commands to every node."""
    sim = Simulation(nodes=3, seed=6, impl=str(module))
    sim.run_until_leader(within=5000)
    for i in range(3):
        sim.client_request(f"put x {i}")
    sim.advance(1000)
    return [n.commit_index for n in sim.nodes.values()] == [4, 4, 4]


@pytest.mark.parametrize("route", IN_PROCESS + tuple(FROM_DISK))
def test_each_route_reaches_the_reference_where_it_is_there(tmp_path, route):
    module = tmp_path / f"{route}.py"
    module.write_text(ROUTES[route])
    assert replicates(module)
    stub = tmp_path / "stub.py"
    stub.write_text("def handle_append_entries(node, m):\n    raise NotImplementedError('Exercise 3')\n")
    with pytest.raises(Exception, match="raised NotImplementedError"):
        replicates(stub)


@pytest.fixture(scope="module")
def graded(tmp_path_factory, no_notebooks):
    work = tmp_path_factory.mktemp("delegation")
    subs = work / "submissions"
    subs.mkdir()
    for route, code in ROUTES.items():
        write_submission(subs / route, {"ex3_append_entries.py": HEADER.format(title="ex3") + code})
    write_submission(subs / "copied", {"ex3_append_entries.py": COPIED})
    write_submission(subs / "independent", {f: independent_solution(f) for f in FILES})
    result = run_grade(subs, work, no_notebooks, "--similarity-threshold", "80",
                       "--similarity-report", str(work / "pages"))
    assert result.code == 0, result.stderr
    return result, read_csv(result.out), work


def exercises(row) -> tuple:
    return tuple(float(row[f"ex{n}"]) for n in (1, 2, 3))


@needs_root
@pytest.mark.parametrize("route", sorted(ROUTES))
def test_each_route_to_the_reference_earns_nothing_in_grade(graded, route):
    result, rows, _ = graded
    assert exercises(rows[route]) == (3, 3, 0), rows[route]
    if route in IN_PROCESS:
        assert ("the reference handle_append_entries is withheld while exercise 3 is graded"
                in squash(result.feedback_of(route)))
    if route in FROM_DISK:      # the route ran, and found the kit hidden from the box
        why = kit_hiding_problem()
        if why is not None and not os.environ.get("CI"):     # CI grades as root where it can hide it
            pytest.skip(f"the boxes cannot hide the kit here: {why}")
        assert "nothing read from the kit" in squash(result.feedback_of(route)), result.feedback_of(route)


@needs_root
def test_copying_the_reference_scores_what_it_does_and_is_flagged(graded):
    _, rows, _ = graded
    assert exercises(rows["copied"]) == (3, 3, 3)            # flagged, never deducted
    assert "ex3: 100% like the reference" in rows["copied"]["similarity"]


@needs_root
def test_an_independent_correct_solution_scores_full_marks_and_is_not_flagged(graded):
    _, rows, _ = graded
    assert exercises(rows["independent"]) == (3, 3, 3)
    assert rows["independent"]["similarity"] == ""
    # The delegating routes' exercise 3 holds too little code of its own to be judged; their
    # exercises 1 and 2 are the reference's source (as every correct submission of this class is).
    # The routes that read the kit share their finding code, so their exercise 3 is like each other's
    # (written by one hand), never like the reference.
    for route in ROUTES:
        ex3 = [part for part in rows[route]["similarity"].split("; ") if part.startswith("ex3:")]
        if route in FROM_DISK:
            assert "the reference" not in "".join(ex3), rows[route]
        else:
            assert ex3 == [], rows[route]
        assert "ex1: 100% like the reference" in rows[route]["similarity"]


@needs_root
def test_the_similarity_pages_name_the_copied_pair_and_show_the_fragments(graded):
    result, _, work = graded
    page = (work / "pages" / "ex3.html").read_text()
    assert "<h2>copied and the reference: 100% / 100%</h2>" in page
    assert "<mark>" in page and "server.log" in page
    index = (work / "pages" / "index.html").read_text()
    assert re.search(r"<li>copied: [^<]*ex3: 100% like the reference", index) and "<li>independent" not in index
    assert (work / "pages" / "ex3.html").stat().st_mode & 0o077 == 0    # students' code: the instructor's only
    assert "similarity report in" in result.stderr


@needs_root
def test_nothing_a_submission_started_is_left_running(graded):
    assert box_processes() == []
