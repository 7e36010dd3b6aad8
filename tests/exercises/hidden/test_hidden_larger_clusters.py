"""Hidden tests: students do not see these (``raftlab release`` leaves tests/exercises/hidden/ out).

Graded like the others (``raftlab check`` runs every test under its --tests folder), so a
student's score from the instructor's copy can differ from the one they saw at home: say so
in the course rules.  These run larger clusters than the public tests.
"""
import pytest

from raftlab.grading.check.harness import fault_campaign


@pytest.mark.exercise(3)
@pytest.mark.points(2)
def test_hidden_seven_servers_append_entries_under_faults(impl):
    fault_campaign(impl, range(101, 105), nodes=7, duration=6000)


@pytest.mark.exercise(5)
@pytest.mark.points(2)
def test_hidden_seven_servers_commit_one_entry_at_a_time(impl):
    fault_campaign(impl, range(101, 105), nodes=7, duration=6000, max_entries=1)
