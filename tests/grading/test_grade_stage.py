"""What the grader takes from a submission, before any of it runs: only regular .py files and
notebooks from its exercises/ folder, within limits, never through a link or out of an archive."""
from __future__ import annotations

import os
import zipfile

import pytest

from raftlab.grading.grade.stage import MAX_FILE_BYTES, discover, scan, stage

from .classroom import FILES, reference_source, write_submission, zip_folder


def staged_files(staged):
    return sorted(staged.files)


def test_a_folder_submission_is_staged_with_its_exercises_folder_as_the_root(tmp_path):
    write_submission(tmp_path / "alice", extra={"notes.txt": "hello", "exercises/checkpoints/cp.ipynb":
                                                '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'})
    staged = stage("alice", tmp_path / "alice", tmp_path / "out")
    assert staged.problems == [] and staged.notes == []
    assert staged_files(staged) == sorted(["__init__.py", *FILES, "checkpoints/cp.ipynb"])
    assert (tmp_path / "out" / "ex1_elections.py").read_text() == reference_source("ex1_elections.py")


def test_a_zip_of_a_folder_is_staged_the_same_way(tmp_path):
    write_submission(tmp_path / "src")
    zip_folder(tmp_path / "src", tmp_path / "alice.zip")
    staged = stage("alice", tmp_path / "alice.zip", tmp_path / "out")
    folder = stage("alice", tmp_path / "src", tmp_path / "out2")
    assert staged_files(staged) == staged_files(folder)
    assert staged.digest == folder.digest            # the same content, the same key in the cache


def test_a_bare_folder_of_exercise_files_is_its_own_root(tmp_path):
    for name in FILES:
        (tmp_path / "bob" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "bob" / name).write_text(reference_source(name))
    staged = stage("bob", tmp_path / "bob", tmp_path / "out")
    assert staged_files(staged) == sorted(FILES)


def test_the_digest_changes_with_the_content_and_nothing_else(tmp_path):
    write_submission(tmp_path / "a")
    first = stage("a", tmp_path / "a", tmp_path / "o1").digest
    os.utime(tmp_path / "a" / "exercises" / "ex1_elections.py", (0, 0))        # a new mtime only
    assert stage("a", tmp_path / "a", tmp_path / "o2").digest == first
    (tmp_path / "a" / "exercises" / "ex1_elections.py").write_text("# changed\n")
    assert stage("a", tmp_path / "a", tmp_path / "o3").digest != first


def test_archive_entries_that_leave_the_submission_are_never_written(tmp_path):
    write_submission(tmp_path / "src")
    zip_folder(tmp_path / "src", tmp_path / "evil.zip", extra_entries={
        "../outside.py": b"x = 1", "exercises/../../outside2.py": b"x = 2", "/etc/evil.py": b"x = 3",
        "C:/windows.py": b"x = 4", "exercises\\..\\..\\backslash.py": b"x = 5"})
    out = tmp_path / "deep" / "out"
    staged = stage("evil", tmp_path / "evil.zip", out)
    assert sorted(p.name for p in tmp_path.rglob("*.py") if "src" not in p.parts
                  and "out" not in p.parts) == []
    assert staged_files(staged) == sorted(["__init__.py", *FILES])
    assert sum("its path leads outside the submission" in n for n in staged.notes) == 5


def test_links_in_a_folder_or_an_archive_are_not_followed(tmp_path):
    write_submission(tmp_path / "sub", {"ex1_elections.py": None})
    os.symlink("/etc/passwd", tmp_path / "sub" / "exercises" / "ex1_elections.py")
    os.symlink("/etc", tmp_path / "sub" / "exercises" / "etc")
    staged = stage("sub", tmp_path / "sub", tmp_path / "out")
    assert "ex1_elections.py" not in staged.files
    assert "ignored exercises/ex1_elections.py: a symbolic link (only regular files are taken)" in staged.notes
    assert "ignored exercises/etc: a symbolic link (only regular files are taken)" in staged.notes
    write_submission(tmp_path / "plain", {"ex1_elections.py": None})
    zip_folder(tmp_path / "plain", tmp_path / "links.zip",
               extra_entries={"exercises/ex1_elections.py": ("symlink", "/etc/passwd")})
    staged = stage("links", tmp_path / "links.zip", tmp_path / "out2")
    assert "ex1_elections.py" not in staged.files
    assert not (tmp_path / "out2" / "ex1_elections.py").exists()


def test_a_link_as_the_whole_submission_is_refused(tmp_path):
    write_submission(tmp_path / "real")
    os.symlink(tmp_path / "real", tmp_path / "linked")
    staged = stage("linked", tmp_path / "linked", tmp_path / "out")
    assert staged.problems == ["linked is a symbolic link: submissions must be real folders or zips"]


def test_configuration_files_and_copies_of_the_tests_are_left_behind(tmp_path):
    write_submission(tmp_path / "s", {"conftest.py": "x = 1", "sitecustomize.py": "x = 1",
                                      "test_mine.py": "def test_x(): pass"},
                     extra={"pytest.ini": "[pytest]\n", "pyproject.toml": "", "conftest.py": "",
                            "tests/exercises/test_ex1.py": "def test(): pass",
                            "exercises/usercustomize.py": "x = 1"})
    staged = stage("s", tmp_path / "s", tmp_path / "out")
    assert staged_files(staged) == sorted(["__init__.py", *FILES])
    for name in ("pytest.ini", "pyproject.toml", "conftest.py", "exercises/conftest.py",
                 "exercises/sitecustomize.py", "exercises/usercustomize.py"):
        assert f"ignored {name}: a submission cannot configure how the grader runs Python or pytest" \
            in staged.notes
    assert any("exercises/test_mine.py" in n and "tests/exercises/test_ex1.py" in n for n in staged.notes)


def test_oversized_files_and_zip_bombs_are_not_taken(tmp_path):
    big = "# " + "x" * (MAX_FILE_BYTES + 10) + "\n"
    write_submission(tmp_path / "s", {"ex1_elections.py": big})
    staged = stage("s", tmp_path / "s", tmp_path / "out")
    assert "ex1_elections.py" not in staged.files
    assert "ignored exercises/ex1_elections.py: larger than 1 MB" in staged.notes
    # A zip that claims a small size for a huge entry is read no further than the limit.
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("exercises/ex1_elections.py", b"#" * (64 << 20))
        z.writestr("exercises/ex2_request_vote.py", reference_source("ex2_request_vote.py"))
    staged = stage("bomb", bomb, tmp_path / "out2")
    assert staged.files == ["ex2_request_vote.py"]
    assert not (tmp_path / "out2" / "ex1_elections.py").exists()


def test_a_broken_archive_or_an_empty_submission_cannot_be_graded(tmp_path):
    (tmp_path / "bad.zip").write_bytes(b"not a zip at all")
    assert stage("bad", tmp_path / "bad.zip", tmp_path / "o1").problems[0].startswith(
        "the archive bad.zip cannot be read")
    (tmp_path / "empty").mkdir()
    assert stage("empty", tmp_path / "empty", tmp_path / "o2").problems == [
        "no exercise files (.py) were found in the submission"]


def test_discover_lists_folders_and_zips_by_student_name(tmp_path):
    for name in ("bob", "alice", ".hidden"):
        (tmp_path / name).mkdir()
    (tmp_path / "carol.zip").write_bytes(b"")
    (tmp_path / "readme.txt").write_text("")
    assert [s for s, _ in discover(tmp_path)] == ["alice", "bob", "carol"]


def test_scan_reads_definitions_syntax_errors_and_borrowed_rules_without_running_anything(tmp_path):
    write_submission(tmp_path / "s", {
        "ex1_elections.py": "raise SystemExit('never run')\n" + reference_source("ex1_elections.py"),
        "ex2_request_vote.py": "def handle_request_vote(node, m:\n",
        "ex3_append_entries.py": "from raftlab.rules import handle_append_entries\nimport _pytest.runner\n"})
    result = scan(stage("s", tmp_path / "s", tmp_path / "out"))
    assert result.defines["ex1_elections.py"] == sorted(FILES["ex1_elections.py"])
    assert result.syntax_errors["ex2_request_vote.py"].startswith("line 1: ")
    assert result.reference_imports == {"ex3_append_entries.py": ["handle_append_entries"]}
    assert result.files_for(1) == ["ex1_elections.py"] and result.files_for(3) == []
    assert "ex3_append_entries.py imports _pytest.runner (pytest's internals)" in result.notes


@pytest.mark.parametrize("text", ['{"cells": 3}', "[1, 2]", "\xff\xfe garbage", ""])
def test_a_corrupt_notebook_is_noted_not_fatal(tmp_path, text):
    write_submission(tmp_path / "s", extra={"exercises/checkpoints/ex1.ipynb": text})
    staged = stage("s", tmp_path / "s", tmp_path / "out")
    assert staged.problems == []
    assert any(n.startswith("exercises/checkpoints/ex1.ipynb is not a valid notebook") for n in staged.notes)
