"""The similarity report (raftlab/grading/grade/similarity.py): a copy of the reference is flagged,
two solutions written apart are not, the handout's stubs do not count, and the report is the same
under any PYTHONHASHSEED.  (The report inside a `raftlab grade` run -- the gradebook's column and
the pages -- is tested in test_grade_delegation.py.)"""
from __future__ import annotations

import csv
import inspect
import io
import re
import subprocess
import sys

import pytest

from raftlab import rules
from raftlab.grading.grade.report import csv_text
from raftlab.grading.grade.similarity import (REFERENCE, build_report, exercise_code, exercise_page, folder_code,
                                              reference_code, stub_code)
from raftlab.rules import EXERCISE_RULES

from .classroom import REPO

NUMBERS = sorted(EXERCISE_RULES)
ALTERNATIVE = (REPO / "tests" / "grading_selftest" / "alternative_solution.py").read_text()


def renamed(code: str) -> str:
    """``code`` with its variables renamed, the way a copier hides a copy."""
    return re.sub(r"\bm\b", "msg", re.sub(r"\bnode\b", "server", code))


def alternative() -> dict:
    return {n: exercise_code(ALTERNATIVE, EXERCISE_RULES[n]) for n in NUMBERS}


def test_a_copy_of_the_reference_is_flagged_and_an_independent_solution_is_not():
    copy = {n: renamed(reference_code(n)) for n in NUMBERS}
    report = build_report({"copier": copy, "independent": alternative()}, NUMBERS, threshold=0.8)
    figures = {n: (report.reference_share(n, "copier"), report.reference_share(n, "independent")) for n in NUMBERS}
    print("exercise: (copied reference, independent solution) share found in the reference:", figures)
    for n in NUMBERS:
        assert figures[n][0] >= 0.95, n
        assert figures[n][1] < 0.6, n
        pair = report.pair(n, "copier", "independent")
        assert pair is None or pair.score < 0.6
    assert report.flags["copier"] == [f"ex{n}: 100% like the reference" for n in NUMBERS]
    assert "independent" not in report.flags
    # The same two, threshold lowered below the independent solution's share: now it is flagged
    # (the column is a threshold on these figures, nothing else).
    low = build_report({"copier": copy, "independent": alternative()}, NUMBERS, threshold=0.2)
    assert "independent" in low.flags


def test_two_students_who_copy_from_each_other_are_both_flagged():
    mine = alternative()
    yours = {n: renamed(code) for n, code in mine.items()}
    report = build_report({"ann": mine, "bob": yours}, [3], threshold=0.8)
    pair = report.pair(3, "ann", "bob")
    assert pair is not None and pair.share_a == pair.share_b == 1.0
    assert report.flags == {"ann": ["ex3: 100% like bob"], "bob": ["ex3: 100% like ann"]}


def test_the_handouts_stubs_are_boilerplate():
    stubs = {n: stub_code(n) for n in NUMBERS}
    assert all("NotImplementedError" in stubs[n] for n in NUMBERS)
    report = build_report({"ann": stubs, "bob": dict(stubs)}, [1], threshold=0.8)
    assert report.flags == {} and report.short[1] == ["ann", "bob"]
    # The control: were the stubs not boilerplate, two untouched handouts would match entirely.
    without = build_report({"ann": stubs, "bob": dict(stubs)}, [1], threshold=0.8, stubs={1: ""})
    assert without.flags == {"ann": ["ex1: 100% like bob"], "bob": ["ex1: 100% like ann"]}


def test_a_copy_hidden_in_a_helper_is_still_compared(tmp_path):
    body = inspect.getsource(rules.handle_append_entries).replace("def handle_append_entries", "def _helper")
    source = f"import os\n\n\n{body}\n\ndef handle_append_entries(node, m):\n    return _helper(node, m)\n"
    folder = tmp_path / "exercises"
    folder.mkdir()
    (folder / "ex3_append_entries.py").write_text(source)
    (folder / "broken.py").write_text("def (:\n")
    code = folder_code(folder, [3])[3]
    assert "def _helper" in code and "import os" not in code
    report = build_report({"hider": {3: code}}, [3])
    assert report.reference_share(3, "hider") >= 0.95


def test_the_gradebook_column_shows_the_flags_and_nothing_else():
    cal = type("Cal", (), {"exercises": [{"number": 3}], "notebooks": []})()
    rows = [{"student": "ann", "total": 3, "max": 3, "status": "ok", "exercises": [{"number": 3, "points": 3}]},
            {"student": "bob", "total": 3, "max": 3, "status": "ok", "exercises": [{"number": 3, "points": 3}]}]
    text = csv_text(rows, cal, {"ann": "ex3: 100% like the reference", "bob": ""})
    got = {r["student"]: r for r in csv.DictReader(io.StringIO(text))}
    assert got["ann"]["similarity"] == "ex3: 100% like the reference" and got["ann"]["ex3"] == "3"
    assert got["bob"]["similarity"] == ""


def test_a_threshold_outside_zero_to_one_is_refused():
    for bad in (0, 1.5):
        with pytest.raises(ValueError, match="the similarity threshold must be a share between 0 and 1"):
            build_report({}, [1], threshold=bad)


REPORT_SCRIPT = """
import re, sys
from raftlab.grading.grade.similarity import build_report, exercise_code, exercise_page, reference_code
from raftlab.rules import EXERCISE_RULES
alt = open(sys.argv[1]).read()
codes = {"alt": {n: exercise_code(alt, EXERCISE_RULES[n]) for n in EXERCISE_RULES},
         "copy": {n: re.sub(r"\\bnode\\b", "srv", reference_code(n)) for n in EXERCISE_RULES}}
report = build_report(codes, sorted(EXERCISE_RULES), threshold=0.3)
print("".join(exercise_page(report, n) for n in report.numbers))
"""


def test_the_report_is_the_same_under_any_hash_seed():
    pages = []
    for seed in ("1", "2"):
        done = subprocess.run([sys.executable, "-c", REPORT_SCRIPT, str(REPO / "tests" / "grading_selftest" /
                                                                       "alternative_solution.py")],
                              env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        pages.append(done.stdout)
    assert pages[0] == pages[1] and "<mark>" in pages[0] and "alt and the reference" in pages[0]


def test_the_page_escapes_what_students_wrote():
    code = 'def handle_append_entries(node, m):\n    """</pre><script>alert(1)</script>"""\n' + "    x = 1\n" * 40
    report = build_report({"<b>eve</b>": {3: code}, "mal": {3: code}}, [3], threshold=0.5,
                          references={3: ""}, stubs={3: ""})
    page = exercise_page(report, 3)
    assert "<script>" not in page and "&lt;script&gt;" in page and "<b>eve" not in page
    assert REFERENCE not in page


def test_a_cell_names_a_few_alike_submissions_and_counts_the_rest():
    mine = alternative()
    codes = {name: {3: mine[3]} for name in ("ann", "bob", "cy", "dee", "eve", "fay")}
    report = build_report(codes, [3], threshold=0.8)
    assert report.column("ann") == "ex3: 100% like bob, cy, dee and 2 more"
    assert report.column("fay") == "ex3: 100% like ann, bob, cy and 2 more"
