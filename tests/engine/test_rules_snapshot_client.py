"""Snapshots and clients, rule by rule, on single nodes fed messages by hand.

Reference: section 7 and Figure 13 (log compaction, InstallSnapshot RPC), section 8
(client interaction: requests go to the leader; a follower rejects or redirects them
with the most recent leader it knows; "the state machine tracks the latest serial
number processed for each client ... if it receives a command whose serial number has
already been executed, it responds immediately without re-executing the request"),
and Figure 2 (All Servers: apply committed entries in order).
"""
from raftlab import (AppendEntries, ClientReply, ClientRequest, Entry, InstallSnapshot,
                     InstallSnapshotReply, Simulation)
from raftlab.rules import take_snapshot
from raftlab.statemachine import KVStore

from .helpers import make_leader, make_node, take, terms


def snapshot_of(entries, index, term):
    """The snapshot a node would take after applying ``entries`` (Entry objects) up to ``index``."""
    kv = KVStore()
    for e in entries[:index]:
        kv.apply(e)
    return kv.snapshot(index, term)


# --- InstallSnapshot, receiver side (Figure 13) -------------------------------------------------

LEADER_ENTRIES = [Entry(1, ("put", "x", "1"), "c1", 1), Entry(1, ("append", "x", "2"), "c1", 2),
                  Entry(2, ("put", "y", "3"), "c2", 1), Entry(2, ("put", "x", "4"), "c1", 3)]


def install(term=2, index=3, last_term=2):
    return InstallSnapshot("n2", "n1", term, "n2", index, last_term,
                           snapshot_of(LEADER_ENTRIES, index, last_term))


def test_install_snapshot_from_a_stale_leader_is_refused():
    """"Reply immediately if term < currentTerm\""""
    node = make_node("n1", term=3, log=(1,))
    node.step(install(term=2), now=1100)
    [r] = take(node)
    assert isinstance(r, InstallSnapshotReply) and r.term == 3 and r.match_index == 0
    assert terms(node) == [1] and node.snapshot is None


def test_install_snapshot_beyond_the_log_replaces_log_and_state_machine():
    """"If existing log entry has same index and term as snapshot's last included entry,
    retain log entries following it ... Discard the entire log; reset state machine using
    snapshot contents\""""
    node = make_node("n1", term=2, log=(1, 1))
    node.step(install(index=3, last_term=2), now=1100)
    assert node.log.snapshot_index == 3 and node.log.snapshot_term == 2 and node.log.entries == []
    assert node.commit_index == node.last_applied == 3
    assert node.state_machine.data == {"x": "12", "y": "3"}
    assert node.state_machine.cached_result("c1", 2) == (True, "12")    # sessions come along
    [r] = take(node)
    assert r.match_index == 3 and r.term == 2
    assert node.leader_id == "n2"


def test_install_snapshot_keeps_a_matching_tail():
    node = make_node("n1", term=2, log=(1, 1, 2, 2, 2))
    tail = [node.log.entry(4), node.log.entry(5)]
    node.step(install(index=3, last_term=2), now=1100)
    assert node.log.snapshot_index == 3 and node.log.entries == tail
    assert node.log.last_index == 5


def test_install_snapshot_discards_a_conflicting_tail():
    node = make_node("n1", term=2, log=(1, 1, 1, 1, 1))
    node.step(install(index=3, last_term=2), now=1100)
    assert node.log.snapshot_index == 3 and node.log.entries == []


def test_an_old_snapshot_never_rolls_back_what_is_committed():
    node = make_node("n1", term=2, log=(1, 1, 2, 2))
    node.commit_index = 4
    node.rules.apply_committed(node)
    data = dict(node.state_machine.data)
    node.step(install(index=3, last_term=2), now=1100)
    assert node.commit_index == node.last_applied == 4 and node.log.snapshot_index == 0
    assert node.state_machine.data == data
    assert take(node)[-1].match_index == 3


def test_a_leader_sends_install_snapshot_when_the_entries_are_compacted():
    leader = make_leader("n1", term=3, log=(1, 1, 2, 2), snapshot_every=0)
    leader.commit_index = 4
    leader.rules.apply_committed(leader)
    take_snapshot(leader)
    assert leader.log.snapshot_index == 4 and leader.log.last_index == 5
    leader.next_index["n2"] = 2
    leader.rules.send_append_entries(leader, "n2")
    [m] = take(leader)
    assert isinstance(m, InstallSnapshot)
    assert (m.last_included_index, m.last_included_term) == (4, 2) and m.data is leader.snapshot
    leader.step(InstallSnapshotReply("n2", "n1", 3, 4), now=1100)
    assert leader.match_index["n2"] == 4 and leader.next_index["n2"] == 5
    leader.step(InstallSnapshotReply("n2", "n1", 3, 2), now=1101)     # a late one
    assert leader.match_index["n2"] == 4


def test_append_entries_that_starts_inside_the_snapshot():
    node = make_node("n1", term=2, log=(1, 1, 2))
    node.commit_index = 3
    node.rules.apply_committed(node)
    take_snapshot(node)
    entries = (Entry(1), Entry(1), Entry(2), Entry(2))
    node.step(AppendEntries("n2", "n1", 2, "n2", 0, 0, entries, 3), now=1100)
    assert node.log.snapshot_index == 3 and node.log.last_index == 4
    assert take(node)[-1].success and node.log.term_at(4) == 2


def test_snapshot_every_n_applied_entries():
    """Section 7: each server snapshots on its own once enough has been applied since the
    last snapshot (here: 3 entries); the snapshot covers everything applied so far."""
    node = make_node("n1", term=1, log=(1,) * 7, snapshot_every=3)
    node.step(AppendEntries("n2", "n1", 1, "n2", 7, 1, (), 2), now=1100)
    assert node.last_applied == 2 and node.log.snapshot_index == 0
    node.step(AppendEntries("n2", "n1", 1, "n2", 7, 1, (), 7), now=1101)
    assert node.log.snapshot_index == 7 and node.snapshot.last_included_index == 7
    node.step(AppendEntries("n2", "n1", 1, "n2", 7, 1, (Entry(1), Entry(1), Entry(1)), 9), now=1102)
    assert node.last_applied == 9 and node.log.snapshot_index == 7
    node.step(AppendEntries("n2", "n1", 1, "n2", 10, 1, (), 10), now=1103)
    assert node.log.snapshot_index == 10 and node.log.entries == []


# --- Clients (section 8) -------------------------------------------------------------------------

def request(dst="n1", client="c1", seq=1, command=("put", "x", "1"), src=None):
    return ClientRequest(src or client, dst, client, seq, command)


def test_a_leader_appends_a_request_and_replicates_it():
    leader = make_leader("n1", term=2)
    leader.step(request(), now=1100)
    e = leader.log.entry(2)
    assert (e.term, e.command, e.client_id, e.seq) == (2, ("put", "x", "1"), "c1", 1)
    assert [(m.dst, len(m.entries)) for m in take(leader)] == [("n2", 2), ("n3", 2)]


def test_a_retried_request_already_in_the_log_is_not_appended_again():
    leader = make_leader("n1", term=2)
    leader.step(request(seq=1), now=1100)
    leader.step(request(seq=1), now=1200)
    assert leader.log.last_index == 2


def test_a_retried_request_already_applied_is_answered_from_the_session():
    """Exactly once: the second copy is not applied again, and gets the first result."""
    leader = make_leader("n1", nodes=1, term=2)
    leader.step(request(command=("append", "x", "a")), now=1100)
    first = [m for m in take(leader) if isinstance(m, ClientReply)]
    assert first and first[0].result == "a"
    leader.step(request(command=("append", "x", "a")), now=1200)
    again = take(leader)
    assert again == [ClientReply("n1", "c1", "c1", 1, True, "a")]
    assert leader.log.last_index == 2 and leader.state_machine.data == {"x": "a"}


def test_a_follower_that_knows_the_leader_forwards_the_request_once():
    node = make_node("n1", term=2)
    node.leader_id = "n3"
    node.step(request(), now=1100)
    assert take(node) == [ClientRequest("n1", "n3", "c1", 1, ("put", "x", "1"))]
    # a request another server forwarded is not forwarded again (no loops): reject with a hint
    node.step(request(src="n2"), now=1101)
    assert take(node) == [ClientReply("n1", "c1", "c1", 1, False, None, "n3")]


def test_a_follower_that_knows_no_leader_rejects_without_a_hint():
    node = make_node("n1", term=2)
    node.step(request(), now=1100)
    assert take(node) == [ClientReply("n1", "c1", "c1", 1, False, None, None)]
    assert node.log.last_index == 0


def test_only_the_leader_answers_clients_when_it_applies():
    follower = make_node("n1", term=1, log=())
    entry = Entry(1, ("put", "x", "1"), "c1", 1)
    follower.step(AppendEntries("n2", "n1", 1, "n2", 0, 0, (entry,), 1), now=1100)
    assert follower.last_applied == 1 and follower.state_machine.data == {"x": "1"}
    assert not any(isinstance(m, ClientReply) for m in take(follower))


def test_exactly_once_in_a_cluster_when_the_answer_is_lost():
    """A client whose answer is lost retries the same (client, seq); the command is
    applied once on every node."""
    sim = Simulation(nodes=3, seed=3)
    leader = sim.run_until_leader(within=2000)
    client, seq = sim.client_request("append x a", node=leader.id)
    assert sim.run_until(lambda s: any(e.kind == "ClientReply" for e in s.in_flight()), within=1000)
    [answer] = [e for e in sim.in_flight() if e.kind == "ClientReply"]
    sim.drop(answer.id)
    op = sim.operations[-1]
    assert op.completed is None
    assert sim.run_until(lambda s: op.completed is not None, within=5000)
    assert op.attempts >= 2 and op.result == "a"
    sim.advance(500)
    for node in sim.nodes.values():
        assert node.state_machine.data == {"x": "a"}
        assert [e.command for e in sim.committed(node.id)].count(("append", "x", "a")) == 1
