"""Exercise 3: AppendEntries on the follower (sections 5.3, 5.4): handle_append_entries."""
import pytest

from raftlab import AppendEntries, AppendEntriesReply, Entry, Role
from raftlab.grading.check.harness import (cluster, deliver_all, describe, expect, fault_campaign, make_node,
                                           take_sent, terms)

pytestmark = pytest.mark.exercise(3)


def entries(prev, *entry_terms):
    """Entries for indexes prev+1, prev+2, ... with the given terms (commands as make_node writes them)."""
    return tuple(Entry(t, ("put", "x", str(prev + i))) for i, t in enumerate(entry_terms, 1))


def append(node, term, prev, prev_term, new=(), commit=0, leader="n2"):
    """``leader`` sends ``node`` an AppendEntries; returns the one reply ``node`` sent."""
    m = AppendEntries(leader, node.id, term, leader, prev, prev_term, new, commit)
    node.step(m, node.now)
    replies = take_sent(node, AppendEntriesReply)
    expect(len(replies) == 1 and replies[0].dst == leader,
           f"{node.id} answered {m} with {len(replies)} replies ({'; '.join(map(str, replies)) or 'none'}); "
           f"expected exactly one AppendEntriesReply to {leader}")
    return replies[0]


@pytest.mark.points(2)
def test_rejects_append_entries_from_an_older_term(rules):
    node = make_node(rules, term=5, log=[1, 1])
    deadline = node.election_deadline
    reply = append(node, 4, 2, 1, entries(2, 4))
    expect(not reply.success and reply.term == 5,
           f"n1 (term 5) answered an AppendEntries of term 4 with {reply}: reply false with its own term "
           f"(Figure 2, AppendEntries rule 1), so the stale leader learns it is out of date")
    expect(terms(node) == [1, 1] and node.leader_id is None and node.election_deadline == deadline,
           f"an AppendEntries from an old leader (term 4) changed n1, now {describe(node)}: a stale "
           f"leader's message must change nothing, not even the election timer")


@pytest.mark.points(2)
def test_a_heartbeat_restarts_the_timer_and_names_the_leader(rules):
    node = make_node(rules, term=3, log=[1, 3])
    node.election_deadline = node.now + 3
    draw = node.draws.next
    reply = append(node, 3, 2, 3)
    expect(reply.success and reply.match_index == 2,
           f"n1 answered a heartbeat (prev=2/3, which it holds) with {reply}; expected success, match=2")
    expect(node.election_deadline == node.now + draw,
           f"n1 heard from n2, the leader of term 3, at t={node.now} but its election timer still fires at "
           f"t={node.election_deadline}: a valid AppendEntries restarts it, or followers start elections "
           f"while the leader is alive")
    expect(node.leader_id == "n2" and node.last_heard_from_leader == node.now,
           f"after a heartbeat from n2 at t={node.now}, n1 has leader_id={node.leader_id!r} and "
           f"last_heard_from_leader={node.last_heard_from_leader}; expected 'n2' and {node.now}")


@pytest.mark.points(1)
def test_a_candidate_steps_down_for_a_leader_of_its_term(rules):
    node = make_node(rules, role=Role.CANDIDATE, term=4, log=[1])
    reply = append(node, 4, 1, 1)
    expect(node.role is Role.FOLLOWER and node.leader_id == "n2" and reply.success,
           f"n1, a candidate in term 4, got an AppendEntries from n2, the leader of term 4, and is now "
           f"{describe(node)} (leader {node.leader_id}): a candidate that hears from a leader of its term "
           f"becomes its follower (section 5.2)")


@pytest.mark.points(2)
def test_rejects_when_the_log_is_too_short(rules):
    node = make_node(rules, term=2, log=[1, 1])
    reply = append(node, 2, 4, 1, entries(4, 2), commit=5)
    expect(not reply.success, "n1 has no entry at index 4 (its log is [1/1 2/1]) but accepted "
                              "AppendEntries(prev=4/1): reply false (Figure 2, AppendEntries rule 2)")
    expect(terms(node) == [1, 1] and node.commit_index == 0,
           f"a rejected AppendEntries changed n1: now {describe(node)}")


@pytest.mark.points(2)
def test_rejects_when_the_previous_term_differs(rules):
    node = make_node(rules, term=3, log=[1, 1, 2, 2])
    reply = append(node, 3, 4, 3, entries(4, 3))
    expect(not reply.success, "n1 holds 4/2 but accepted AppendEntries(prev=4/3): the entry at prevLogIndex "
                              "must have term prevLogTerm, or the logs differ before it (Log Matching)")
    expect(terms(node) == [1, 1, 2, 2], f"a rejected AppendEntries changed n1's log to {terms(node)}")


@pytest.mark.points(1)
def test_a_rejection_tells_the_leader_where_to_go_back_to(rules):
    short = make_node(rules, term=2, log=[1, 1])
    reply = append(short, 2, 4, 1)
    expect(reply.conflict_term is None and reply.conflict_index == 3,
           f"n1's log ends at index 2, and it rejected prev=4/1 with {reply}; expected conflict_term=None, "
           f"conflict_index=3 (the first index it lacks)")
    differs = make_node(rules, term=3, log=[1, 1, 2, 2])
    reply = append(differs, 3, 4, 3)
    expect(reply.conflict_term == 2 and reply.conflict_index == 3,
           f"n1 holds term 2 at index 4 (from index 3 on) and rejected prev=4/3 with {reply}; expected "
           f"conflict_term=2, conflict_index=3 (the first index of that term), so the leader can skip the "
           f"whole term (end of section 5.3)")


@pytest.mark.points(1)
def test_an_empty_log_accepts_the_first_entries(rules):
    node = make_node(rules, term=1)
    reply = append(node, 1, 0, 0, entries(0, 1, 1))
    expect(terms(node) == [1, 1] and reply.success and reply.match_index == 2,
           f"n1 (empty log) got AppendEntries(prev=0/0 entries=[1/1 2/1]) and answered {reply}, log now "
           f"{terms(node)}; expected log [1, 1] and success with match=2")


@pytest.mark.points(2)
def test_appends_new_entries_after_prev(rules):
    node = make_node(rules, term=2, log=[1, 1])
    reply = append(node, 2, 2, 1, entries(2, 2, 2))
    expect(terms(node) == [1, 1, 2, 2], f"n1 had [1/1 2/1], got AppendEntries(prev=2/1 entries=[3/2 4/2]) and "
                                        f"now holds {describe(node)}; expected terms [1, 1, 2, 2]: the first "
                                        f"new entry goes at prevLogIndex + 1")
    expect(reply.success and reply.match_index == 4, f"n1 answered {reply}; expected success with match=4 "
                                                     f"(prevLogIndex + number of entries)")


@pytest.mark.points(2)
def test_a_conflict_deletes_the_entry_and_all_that_follow(rules):
    node = make_node(rules, term=3, log=[1, 1, 2, 2])
    reply = append(node, 3, 2, 1, entries(2, 3))
    expect(terms(node) == [1, 1, 3],
           f"n1 had [1/1 2/1 3/2 4/2], the leader of term 3 sent entry 3/3, and n1 now holds terms "
           f"{terms(node)}; expected [1, 1, 3]: 3/2 conflicts with 3/3, so 3/2 and everything after it go "
           f"(Figure 2, AppendEntries rule 3)")
    expect(reply.success and reply.match_index == 3, f"n1 answered {reply}; expected success with match=3")


@pytest.mark.points(2)
def test_a_stale_append_entries_deletes_nothing(rules):
    node = make_node(rules, term=1, log=[1, 1, 1, 1], commit_index=4)
    reply = append(node, 1, 1, 1, entries(1, 1), commit=2)
    expect(terms(node) == [1, 1, 1, 1],
           f"n1 held [1/1 2/1 3/1 4/1] (all committed); a late AppendEntries(prev=1/1 entries=[2/1]) arrived "
           f"and n1 now holds {terms(node)}: entries it already has are not conflicts, so a reordered "
           f"message must delete nothing (it would lose committed entries)")
    expect(reply.success and reply.match_index == 2, f"n1 answered {reply}; expected success with match=2")


@pytest.mark.points(2)
def test_commit_index_follows_the_leader_up_to_the_new_entries(rules):
    node = make_node(rules, term=1)
    append(node, 1, 0, 0, entries(0, 1, 1), commit=5)
    expect(node.commit_index == 2,
           f"n1 received entries 1-2 with leaderCommit=5 and set commit_index={node.commit_index}; expected "
           f"2 = min(leaderCommit, index of last new entry): it holds nothing beyond index 2")


@pytest.mark.points(1)
def test_commit_index_only_covers_entries_known_to_match(rules):
    node = make_node(rules, term=3, log=[1, 1, 2, 2])
    append(node, 3, 2, 1, commit=4)
    expect(node.commit_index == 2,
           f"n1 holds [1/1 2/1 3/2 4/2]; a heartbeat (prev=2/1, leaderCommit=4) only shows entries 1-2 match "
           f"the leader's, but n1 set commit_index={node.commit_index}; expected 2 (its 3/2 and 4/2 may be "
           f"entries of an old leader that the new one will overwrite)")


@pytest.mark.points(1)
def test_commit_index_never_moves_back(rules):
    node = make_node(rules, term=1, log=[1, 1, 1], commit_index=3)
    append(node, 1, 1, 1, commit=2)
    expect(node.commit_index == 3,
           f"n1 had committed up to index 3; a late AppendEntries with leaderCommit=2 moved its commit_index "
           f"to {node.commit_index}: a commit index never moves back")


# --- scenarios ----------------------------------------------------------------------------------------

@pytest.mark.points(2)
def test_entries_reach_every_follower(impl):
    for seed in range(1, 4):
        sim = cluster(impl, nodes=5, seed=seed)
        leader = sim.run_until_leader(within=3000)
        expect(leader is not None, f"seed {seed}: no leader after 3000 ms:\n{sim.summary()}")
        for i in range(3):
            sim.client_request(f"put x {i}", node=leader.id)
            sim.advance(100)
        sim.advance(500)
        want = terms(leader)
        for node in sim.nodes.values():
            expect(terms(node) == want and node.commit_index == len(want) == 4,
                   f"seed {seed}: after 3 requests and 800 ms, {describe(node)}; the leader holds "
                   f"{describe(leader)}: every follower should hold and commit the leader's 4 entries")


@pytest.mark.points(2)
def test_a_healthy_leader_keeps_its_term(impl):
    for seed in range(1, 4):
        sim = cluster(impl, nodes=5, seed=seed)
        leader = sim.run_until_leader(within=3000)
        expect(leader is not None, f"seed {seed}: no leader after 3000 ms:\n{sim.summary()}")
        term = leader.current_term
        sim.advance(3000)
        expect(sim.leader() is leader and all(n.current_term == term for n in sim.nodes.values()),
               f"seed {seed}: nothing failed, yet 3000 ms after {leader.id} became leader of term {term} there "
               f"were new elections (do heartbeats restart the followers' election timers?):\n{sim.summary()}")


@pytest.mark.points(3)
def test_a_reordered_append_entries_keeps_committed_entries(impl):
    sim = cluster(impl, nodes=3, seed=1)
    leader = sim.run_until_leader(within=3000)
    expect(leader is not None, f"no leader after 3000 ms:\n{sim.summary()}")
    sim.advance(200)
    follower = next(n for n in sim.nodes.values() if n is not leader)

    def deliver_all_but(held):
        while True:
            ready = [e for e in sim.in_flight() if e.id != held]
            if not ready:
                return
            sim.deliver(ready[0].id)

    sim.client_request("put a 1", node=leader.id)
    deliver_all(sim, "ClientRequest")
    held = next(e for e in sim.in_flight() if e.kind == "AppendEntries" and e.dst == follower.id
                and e.message.entries)
    deliver_all_but(held.id)                 # the other follower stores it; the leader commits it
    for cmd in ("put b 2", "put c 3"):       # later AppendEntries reach the follower before the held one
        sim.client_request(cmd, node=leader.id)
        deliver_all_but(held.id)
    first_new = held.message.prev_log_index + 1
    expect(terms(follower) == terms(leader) and follower.commit_index > first_new,
           f"every message but one was delivered, yet {describe(follower)} does not hold the log of "
           f"{describe(leader)} with more than index {first_new} committed")
    before, commit = terms(follower), follower.commit_index
    sim.deliver(held.id)                     # now the old AppendEntries arrives
    expect(terms(follower) == before and follower.commit_index == commit,
           f"the held-back {held.message} finally reached {follower.id}, which then held "
           f"{describe(follower)} instead of its committed log {before}: a stale AppendEntries must not "
           f"delete or uncommit entries")
    sim.advance(500)


@pytest.mark.points(2)
def test_an_old_leaders_uncommitted_entries_are_overwritten(impl):
    for seed in range(1, 4):
        sim = cluster(impl, nodes=5, seed=seed)
        old = sim.run_until_leader(within=3000)
        expect(old is not None, f"seed {seed}: no leader after 3000 ms:\n{sim.summary()}")
        sim.advance(200)
        sim.isolate(old.id)
        sim.client_request("put x stale", node=old.id)     # it can never commit
        new = sim.run_until(lambda s: any(n.is_leader and n is not old for n in s.nodes.values()), within=3000)
        expect(new, f"seed {seed}: no new leader among the other four within 3000 ms:\n{sim.summary()}")
        new = next(n for n in sim.nodes.values() if n.is_leader and n is not old)
        sim.client_request("put x fresh", node=new.id)
        sim.advance(500)
        sim.heal()
        sim.advance(1500)
        leader = sim.leader()
        for node in sim.nodes.values():
            expect(terms(node) == terms(leader) and node.commit_index == leader.commit_index,
                   f"seed {seed}: 1500 ms after the old leader {old.id} rejoined, {describe(node)} while "
                   f"the leader holds {describe(leader)}: its stale entries should have been replaced")


@pytest.mark.points(3)
def test_append_entries_under_faults(impl):
    fault_campaign(impl, range(1, 9))
