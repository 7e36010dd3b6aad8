"""Headless drawing: matplotlib's Agg backend, and every pyplot figure closed after each test."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from raftlab import Role  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def eager_vote_counting(node, m):
    """A buggy handle_request_vote_reply: becomes leader on the first granted vote (no majority)."""
    if node.role is Role.CANDIDATE and m.term == node.current_term and m.vote_granted:
        node.become_leader()


def rule_that_raises(node, m):
    """A handle_request_vote that crashes, like an unfinished exercise."""
    raise ValueError("not finished")
