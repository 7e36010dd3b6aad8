"""Exercise 6, edge cases that mutation testing (make mutants, docs/mutants.md) showed the other tests missed:
every message a server sends about a client request names the right sender, client and request (section 8), and a
retry is found wherever it sits in the uncommitted part of the leader's log."""
import pytest

from raftlab import ClientReply, ClientRequest, Entry, Role
from raftlab.grading.check.harness import describe, expect, make_node, take_sent

pytestmark = pytest.mark.exercise(6)

PUT = ("put", "y", "7")


def request(node, seq=1, command=PUT):
    node.step(ClientRequest("c1", node.id, "c1", seq, command), node.now)


def sent_text(sent):
    return "; ".join(map(str, sent)) or "nothing"


@pytest.mark.points(1)
def test_a_retry_of_an_applied_request_is_answered_in_full(rules):
    node = make_node(rules, role=Role.LEADER, term=3, log=[1, 3], commit_index=2)
    node.state_machine.apply(Entry(3, PUT, "c1", 1))        # request #1 was applied before
    request(node)
    replies = take_sent(node, ClientReply)
    expect(len(replies) == 1 and (replies[0].src, replies[0].dst, replies[0].client_id, replies[0].seq,
                                  replies[0].success, replies[0].result) == ("n1", "c1", "c1", 1, True, "ok"),
           f"c1 retried request #1, already applied with result 'ok'; n1 answered {sent_text(replies)}; expected "
           f"one ClientReply from n1 to c1 naming client c1, request 1, success, result 'ok'")


@pytest.mark.points(1)
def test_a_retry_is_found_anywhere_in_the_uncommitted_log(rules):
    node = make_node(rules, role=Role.LEADER, term=3, log=[1, 3], commit_index=2)
    node.log.append(Entry(3, PUT, "c1", 1))                 # index 3: request #1, not committed yet
    node.log.append(Entry(3, ("put", "z", "1"), "c1", 2))   # index 4: request #2, not committed yet
    request(node, seq=1)                                     # the client retries #1
    copies = [i for i in range(1, node.log.last_index + 1) if node.log.entry(i).seq == 1
              and node.log.entry(i).client_id == "c1"]
    expect(copies == [3],
           f"c1's request #1 is at index 3 (uncommitted, request #2 after it); c1 retried #1 and n1's log now "
           f"holds it at indexes {copies}: {describe(node)}; look at every uncommitted entry, not some of them")


@pytest.mark.points(1)
def test_a_forwarded_request_comes_from_the_follower(rules):
    node = make_node(rules, "n3", term=3, log=[1, 3], leader_id="n1")
    request(node)
    sent = take_sent(node)
    expect(len(sent) == 1 and isinstance(sent[0], ClientRequest)
           and (sent[0].src, sent[0].dst, sent[0].client_id, sent[0].seq) == ("n3", "n1", "c1", 1),
           f"n3, a follower of n1, forwarded c1's request #1 as {sent_text(sent)}; expected a ClientRequest from "
           f"n3 to n1 (the network carries a message on the link from its sender: a partition that cuts n3 "
           f"from n1 must stop it)")


@pytest.mark.points(1)
def test_a_refusal_names_the_request(rules):
    node = make_node(rules, "n3", term=3, log=[1, 3])
    request(node, seq=4)
    sent = take_sent(node)
    expect(len(sent) == 1 and isinstance(sent[0], ClientReply)
           and (sent[0].src, sent[0].dst, sent[0].client_id, sent[0].seq) == ("n3", "c1", "c1", 4)
           and sent[0].success is False,
           f"n3 knows no leader and answered c1's request #4 with {sent_text(sent)}; expected a ClientReply from "
           f"n3 to c1 naming client c1, request 4, success=False exactly (the client matches answers to its "
           f"requests by these)")
