"""What grading leaves behind: the claims on box users are lock files in a folder the grader owns
(mode 0700), not loose files in /tmp, and a folder of that name planted by someone else is refused.
(The handout leaving the class grader out is tested in tests/grading_selftest/test_autograder_release.py:
test_the_handout_leaves_out_the_class_grader.)"""
from __future__ import annotations

import os
import stat
import tempfile

import pytest

from raftlab.grading.sandbox.box import claim_uids, uid_lock_folder


@pytest.fixture
def temp(tmp_path, monkeypatch):
    """A temp folder of the test's own, standing in for /tmp."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_uid_claims_live_in_a_folder_of_the_graders_own(temp):
    held = claim_uids([64990, 64991], check=False)
    try:
        assert sorted(p.name for p in temp.iterdir()) == ["raftlab-grade-uids"]     # nothing loose
        folder = temp / "raftlab-grade-uids"
        st = folder.stat()
        assert stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == os.geteuid()
        assert sorted(p.name for p in folder.iterdir()) == ["uid-64990.lock", "uid-64991.lock"]
        with pytest.raises(ValueError, match="uid 64991 is in use by another `raftlab grade`"):
            claim_uids([64991], check=False)
    finally:
        for fd in held:
            os.close(fd)
    again = claim_uids([64991], check=False)          # released with its files closed
    for fd in again:
        os.close(fd)


def test_a_planted_claims_folder_is_refused(temp):
    planted = temp / "raftlab-grade-uids"
    planted.mkdir(mode=0o777)
    planted.chmod(0o777)                          # anyone could add or swap lock files in it
    with pytest.raises(ValueError, match="is not a folder only this user can use"):
        uid_lock_folder()
    planted.rmdir()
    planted.symlink_to(temp)                      # nor a link to somewhere else
    with pytest.raises(ValueError, match="is not a folder only this user can use"):
        claim_uids([64992], check=False)
