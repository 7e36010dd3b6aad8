"""Exercise 3, edge cases that mutation testing (make mutants, docs/mutants.md) showed the other tests missed:
every field of a rejection, on each of its three paths (Figure 2, AppendEntries RPC, receiver rules 1 and 2, with
the conflict hint of section 5.3).  A leader reads ``success`` and ``term`` of the reply it gets; the network
routes it by ``src`` and ``dst``; the hint tells it where to go back to."""
import pytest

from raftlab import AppendEntries, AppendEntriesReply
from raftlab.grading.check.harness import expect, make_node, take_sent

pytestmark = pytest.mark.exercise(3)


def rejection(node, term, prev, prev_term):
    """n2 (leader of ``term``) sends ``node`` a heartbeat at prev/prev_term; returns every reply ``node`` sent."""
    node.step(AppendEntries("n2", node.id, term, "n2", prev, prev_term, (), 0), node.now)
    return take_sent(node, AppendEntriesReply)


def contract_fields(reply):
    return (reply.src, reply.dst, reply.term, reply.success, reply.conflict_term, reply.conflict_index)


@pytest.mark.points(1)
def test_a_stale_leader_is_refused_by_name_and_term(rules):
    node = make_node(rules, term=5, log=[1, 1])
    replies = rejection(node, 4, 2, 1)
    expect(len(replies) == 1 and (replies[0].src, replies[0].dst, replies[0].term) == ("n1", "n2", 5)
           and replies[0].success is False,
           f"n1 (term 5) got an AppendEntries of term 4 from n2 and answered "
           f"{'; '.join(map(str, replies)) or 'nothing'}; expected one AppendEntriesReply from n1 to n2 with "
           f"term=5 and success=False exactly (Figure 2, AppendEntries rule 1): the reply names its sender, "
           f"and success is a bool, not None")


@pytest.mark.points(1)
def test_a_rejection_for_a_short_log_is_complete(rules):
    node = make_node(rules, term=3, log=[1, 1])
    replies = rejection(node, 3, 4, 1)
    want = ("n1", "n2", 3, False, None, 3)
    expect(len(replies) == 1 and contract_fields(replies[0]) == want and replies[0].success is False,
           f"n1's log ends at index 2; n2 (term 3) sent prev=4/1 and n1 answered "
           f"{'; '.join(map(str, replies)) or 'nothing'}; expected src n1, dst n2, term 3, success=False, "
           f"conflict_term=None, conflict_index=3 (its last index + 1)")


@pytest.mark.points(1)
def test_a_rejection_for_a_different_term_is_complete(rules):
    node = make_node(rules, term=3, log=[1, 2, 2])
    replies = rejection(node, 3, 3, 3)
    want = ("n1", "n2", 3, False, 2, 2)
    expect(len(replies) == 1 and contract_fields(replies[0]) == want and replies[0].success is False,
           f"n1 holds term 2 at index 3 (its run of term 2 starts at index 2); n2 (term 3) sent prev=3/3 and "
           f"n1 answered {'; '.join(map(str, replies)) or 'nothing'}; expected src n1, dst n2, term 3, "
           f"success=False, conflict_term=2, conflict_index=2")
