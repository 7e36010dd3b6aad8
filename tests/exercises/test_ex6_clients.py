"""Exercise 6: clients (section 8; section 6.3 of Ongaro's thesis): handle_client_request."""
import pytest

from raftlab import AppendEntries, ClientReply, ClientRequest, Entry, Role
from raftlab.grading.check.harness import (cluster, describe, expect, fault_campaign, make_node, settled, take_sent,
                                           terms)

pytestmark = pytest.mark.exercise(6)

PUT = ("put", "y", "7")


def request(node, seq=1, command=PUT, src="c1", client="c1"):
    node.step(ClientRequest(src, node.id, client, seq, command), node.now)


def leader(rules):
    """n1, leader of term 3 in a cluster of 5, log [1/1 2/3], both entries committed and applied."""
    node = make_node(rules, role=Role.LEADER, term=3, log=[1, 3], commit_index=2)
    return node


@pytest.mark.points(2)
def test_the_leader_appends_the_command_and_replicates_it(rules):
    node = leader(rules)
    request(node)
    want = Entry(3, PUT, "c1", 1)
    expect(node.log.last_index == 3 and node.log.entry(3) == want,
           f"n1, leader of term 3, got c1's request #1 (put y=7) and now holds {describe(node)}, last entry "
           f"{node.log.entry(node.log.last_index)!r}; expected a new entry 3 = {want!r} (the current term, "
           f"the command, and the client's id and sequence number)")
    sent = [m for m in take_sent(node, AppendEntries) if m.entries and m.entries[-1] == want]
    expect(sorted(m.dst for m in sent) == ["n2", "n3", "n4", "n5"],
           f"n1 appended c1's request but sent AppendEntries carrying it to {sorted(m.dst for m in sent)}; "
           f"replicate it to every follower at once (node.rules.broadcast_append_entries(node))")


@pytest.mark.points(2)
def test_the_leader_answers_only_after_the_commit(rules):
    node = leader(rules)
    request(node)
    replies = take_sent(node, ClientReply)
    expect(not replies,
           f"n1 answered {'; '.join(map(str, replies))} as soon as c1's request arrived: the leader answers "
           f"when the entry is committed and applied, or a crash could lose a request the client saw succeed")


@pytest.mark.points(2)
def test_a_retried_request_is_appended_once(rules):
    node = leader(rules)
    request(node)
    request(node)                       # the client timed out and sent it again
    copies = [i for i in range(1, node.log.last_index + 1) if node.log.entry(i).client_id == "c1"]
    expect(len(copies) == 1,
           f"c1 sent request #1 twice (a retry); n1's log now holds it at indexes {copies}: a request already "
           f"in the log is not appended again (it will be answered when applied)")


@pytest.mark.points(2)
def test_a_retry_of_an_applied_request_gets_the_first_answer(rules):
    node = leader(rules)
    node.state_machine.apply(Entry(3, PUT, "c1", 1))        # request #1 was applied before
    request(node)
    replies = take_sent(node, ClientReply)
    expect(node.log.last_index == 2,
           f"c1's request #1 was already applied, but n1 appended it again: {describe(node)}; answer a retry "
           f"from the client's session instead (section 6.3 of the thesis)")
    expect(len(replies) == 1 and replies[0].success and replies[0].result == "ok" and replies[0].dst == "c1",
           f"c1 retried request #1, already applied with result 'ok'; n1 answered "
           f"{'; '.join(map(str, replies)) or 'nothing'}; expected one successful ClientReply to c1 with 'ok' "
           f"(node.state_machine.cached_result)")


@pytest.mark.points(2)
def test_a_follower_forwards_to_the_leader(rules):
    node = make_node(rules, "n3", term=3, log=[1, 3], leader_id="n1")
    request(node)
    sent = take_sent(node)
    forwarded = [m for m in sent if isinstance(m, ClientRequest) and m.dst == "n1"]
    expect(len(forwarded) == 1 and (forwarded[0].client_id, forwarded[0].seq, forwarded[0].command)
           == ("c1", 1, PUT) and len(sent) == 1,
           f"n3, a follower of n1, got c1's request and sent {'; '.join(map(str, sent)) or 'nothing'}; "
           f"expected to forward it once to the leader n1 (same client, sequence number and command)")
    expect(terms(node) == [1, 3], f"n3, a follower, changed its own log to {terms(node)}: only the leader "
                                  f"appends client commands")


@pytest.mark.points(1)
def test_a_follower_without_a_leader_says_so(rules):
    node = make_node(rules, "n3", term=3, log=[1, 3])
    request(node)
    sent = take_sent(node)
    expect(len(sent) == 1 and isinstance(sent[0], ClientReply) and not sent[0].success
           and sent[0].dst == "c1" and sent[0].leader_hint is None,
           f"n3 knows no leader; it answered c1's request with {'; '.join(map(str, sent)) or 'nothing'}; "
           f"expected one ClientReply to c1 with success=False (so the client tries elsewhere)")
    expect(terms(node) == [1, 3], f"n3, a follower, appended the command to its own log: {terms(node)}")


@pytest.mark.points(1)
def test_a_forwarded_request_is_not_forwarded_again(rules):
    node = make_node(rules, "n3", term=3, log=[1, 3], leader_id="n2")
    request(node, src="n4")             # n4 forwarded it here, believing n3 leads
    sent = take_sent(node)
    expect(len(sent) == 1 and isinstance(sent[0], ClientReply) and sent[0].dst == "c1"
           and not sent[0].success and sent[0].leader_hint == "n2",
           f"n4 forwarded c1's request to n3, which believes n2 leads; n3 sent "
           f"{'; '.join(map(str, sent)) or 'nothing'}; expected a ClientReply to c1 with success=False and "
           f"leader_hint n2 (forward only requests that came straight from the client, or two followers "
           f"with stale ideas could bounce it forever)")


# --- scenarios ----------------------------------------------------------------------------------------

@pytest.mark.points(2)
def test_clients_get_the_right_answers(impl):
    for seed in range(1, 4):
        sim = cluster(impl, nodes=5, seed=seed)
        expect(sim.run_until_leader(within=3000), f"seed {seed}: no leader after 3000 ms:\n{sim.summary()}")
        for value in "abc":
            sim.client_request(f"append k {value}", client="c1")
            ok = sim.run_until(lambda s: all(op.completed is not None for op in s.operations), within=2000)
            expect(ok, f"seed {seed}: c1's request 'append k {value}' got no answer within 2000 ms:\n"
                       f"{sim.summary()}")
        results = [op.result for op in sim.operations]
        expect(results == ["a", "ab", "abc"],
               f"seed {seed}: c1 appended a, b, c to k and got back {results}; expected ['a', 'ab', 'abc']")


@pytest.mark.points(2)
def test_requests_to_followers_reach_the_leader(impl):
    for seed in range(1, 4):
        sim = cluster(impl, nodes=5, seed=seed)
        leader_ = sim.run_until_leader(within=3000)
        expect(leader_ is not None, f"seed {seed}: no leader after 3000 ms:\n{sim.summary()}")
        sim.advance(200)
        for i, node in enumerate(n for n in sim.nodes.values() if n is not leader_):
            sim.client_request(f"put x {i}", node=node.id, client=f"c{i + 1}")
        ok = sim.run_until(settled, within=300)
        expect(ok, f"seed {seed}: 4 clients sent requests to the followers; 300 ms later not all are answered "
                   f"(a follower that knows the leader forwards the request):\n{sim.summary()}")


@pytest.mark.points(2)
def test_a_cut_off_leader_acknowledges_nothing(impl):
    for seed in range(1, 4):
        sim = cluster(impl, nodes=5, seed=seed)
        old = sim.run_until_leader(within=3000)
        expect(old is not None, f"seed {seed}: no leader after 3000 ms:\n{sim.summary()}")
        sim.advance(200)
        sim.isolate(old.id)
        sim.client_request("put x lost?", node=old.id, client="c1")
        sim.advance(100)
        op = sim.operations[-1]
        expect(op.completed is None,
               f"seed {seed}: {old.id}, cut off from every other server, told c1 its 'put x lost?' succeeded at "
               f"t={op.completed}: it cannot have been committed (a majority never saw it)")


@pytest.mark.points(3)
def test_clients_under_faults(impl):
    fault_campaign(impl, range(1, 9), drop=0.1, duplicate=0.2)
