"""Log replication, rule by rule, on single nodes fed messages by hand.

Reference: Figure 2 (AppendEntries RPC receiver implementation, rules 1-5; Rules for
Servers, Leaders), section 5.3 (log replication, the consistency check, the faster
back-off at its end, Figure 7), section 5.4.2 and Figure 8 (a leader commits only
entries of its own term by counting replicas).  Messages can arrive late, twice or
out of order, so several rows feed a node a stale message and check it changes
nothing it should not.
"""
import pytest

from raftlab import AppendEntries, AppendEntriesReply, Entry, Role

from .helpers import TIMEOUT, make_leader, make_node, take, terms


def ae(term=2, prev=(0, 0), entries=(), commit=0, src="n2", dst="n1"):
    """An AppendEntries from leader ``src``; ``entries`` are given by their terms."""
    return AppendEntries(src, dst, term, src, prev[0], prev[1],
                         tuple(Entry(t, ("put", "k", f"new{t}")) for t in entries), commit)


# --- AppendEntries, receiver side (Figure 2) -----------------------------------------------------

@pytest.mark.parametrize("log, msg, ok, want_log, reply_fields", [
    # 1. "Reply false if term < currentTerm (5.1)"
    ((1, 2), ae(term=1, prev=(2, 2)), False, (1, 2), dict(term=2, conflict_term=None, conflict_index=0)),
    # 2. "Reply false if log doesn't contain an entry at prevLogIndex whose term matches prevLogTerm"
    #    - the log is too short: tell the leader where it ends
    ((1, 2), ae(prev=(5, 2), entries=(2,)), False, (1, 2), dict(conflict_term=None, conflict_index=3)),
    #    - a different term there: name it and the first index of that term
    ((1, 1, 1, 1), ae(prev=(4, 2), entries=(2,)), False, (1, 1, 1, 1),
     dict(conflict_term=1, conflict_index=1)),
    ((1, 2, 2, 2), ae(prev=(4, 3)), False, (1, 2, 2, 2), dict(conflict_term=2, conflict_index=2)),
    # 4. "Append any new entries not already in the log"
    ((), ae(prev=(0, 0), entries=(1, 2)), True, (1, 2), dict(match_index=2)),
    ((1, 2), ae(prev=(2, 2), entries=(2, 2)), True, (1, 2, 2, 2), dict(match_index=4)),
    # a heartbeat matching the log changes nothing; match_index is prevLogIndex + len(entries)
    ((1, 2, 2), ae(prev=(2, 2)), True, (1, 2, 2), dict(match_index=2)),
    # 3. "If an existing entry conflicts with a new one (same index but different terms), delete
    #    the existing entry and all that follow it"
    ((1, 1, 1, 1), ae(prev=(1, 1), entries=(1, 2)), True, (1, 1, 2), dict(match_index=3)),
    ((1, 1, 1), ae(prev=(0, 0), entries=(2,)), True, (2,), dict(match_index=1)),
    # ... but only on a conflict: entries already there (a stale or reordered message) stay,
    # and so does everything after them
    ((1, 2, 2, 2), ae(prev=(1, 1), entries=(2,)), True, (1, 2, 2, 2), dict(match_index=2)),
    ((1, 2, 2, 2), ae(prev=(0, 0), entries=(1, 2, 2)), True, (1, 2, 2, 2), dict(match_index=3)),
    ((1, 2, 2, 2), ae(prev=(1, 1)), True, (1, 2, 2, 2), dict(match_index=1)),
])
def test_append_entries(log, msg, ok, want_log, reply_fields):
    node = make_node("n1", term=2, log=log)
    before = [node.log.entry(i) for i in range(1, node.log.last_index + 1)]
    node.step(msg, now=1100)
    [reply] = take(node)
    assert isinstance(reply, AppendEntriesReply) and reply.dst == "n2"
    assert reply.success is ok
    assert tuple(terms(node)) == want_log
    for name, value in reply_fields.items():
        assert getattr(reply, name) == value, name
    # an entry is only ever replaced after a conflict: every index up to the first change
    # still holds the very same entry object (not a copy rewritten with the leader's command)
    same = 0
    while same < min(len(before), node.log.last_index) and node.log.entry(same + 1) is before[same]:
        same += 1
    first_change = next((i for i, (a, b) in enumerate(zip(log, want_log)) if a != b),
                        min(len(log), len(want_log)))
    assert same == first_change


def test_a_rejected_stale_leader_does_not_reset_the_timer_or_the_leader():
    node = make_node("n1", term=3, now=1000)
    node.step(ae(term=2), now=1100)
    assert node.election_deadline == 1000 + TIMEOUT and node.leader_id is None


def test_a_valid_append_entries_resets_the_timer_and_records_the_leader():
    node = make_node("n1", term=2, log=(1,), now=1000)
    node.step(ae(term=2, prev=(5, 2)), now=1100)                  # even when the check fails
    assert node.election_deadline == 1100 + TIMEOUT and node.leader_id == "n2"
    assert node.last_heard_from_leader == 1100


def test_append_entries_of_a_higher_term_adopts_it_and_clears_the_vote():
    node = make_node("n1", term=2, voted_for="n3")
    node.step(ae(term=4), now=1100)
    assert (node.current_term, node.voted_for, node.role) == (4, None, Role.FOLLOWER)


# --- 5. commitIndex on the follower -----------------------------------------------------------

@pytest.mark.parametrize("log, commit_before, msg, commit_after", [
    # "set commitIndex = min(leaderCommit, index of last new entry)"
    ((1, 1, 1, 1, 1), 0, ae(term=1, prev=(1, 1), entries=(1,), commit=5), 2),
    # a heartbeat: the last new entry is prevLogIndex; entries after it are not yet checked
    ((1, 1, 1, 1, 1), 0, ae(term=1, prev=(3, 1), commit=5), 3),
    ((1, 1, 1), 0, ae(term=1, prev=(3, 1), commit=2), 2),
    # never decreases: an older AppendEntries with a smaller leaderCommit, or a shorter prefix
    ((1, 1, 1, 1), 3, ae(term=1, prev=(4, 1), commit=1), 3),
    ((1, 1, 1, 1), 3, ae(term=1, prev=(1, 1), entries=(1,), commit=4), 3),
    # a rejected AppendEntries never moves commitIndex
    ((1, 1), 1, ae(term=1, prev=(3, 1), commit=3), 1),
])
def test_follower_commit_index(log, commit_before, msg, commit_after):
    node = make_node("n1", term=1, log=log)
    node.commit_index = commit_before
    node.step(msg, now=1100)
    assert node.commit_index == commit_after
    assert node.last_applied == commit_after        # and it applies what is committed


def test_a_reordered_append_entries_never_deletes_entries_or_the_commit():
    """Two AppendEntries of one leader arrive in the wrong order: the older one (with fewer
    entries and a smaller leaderCommit) changes nothing."""
    node = make_node("n1", term=1, log=(1,))
    older = ae(term=1, prev=(1, 1), entries=(1,), commit=1)
    newer = AppendEntries("n2", "n1", 1, "n2", 1, 1, older.entries + (Entry(1, ("put", "k", "3")),), 3)
    node.step(newer, now=1100)
    assert terms(node) == [1, 1, 1] and node.commit_index == 3
    node.step(older, now=1101)
    assert terms(node) == [1, 1, 1] and node.commit_index == 3
    assert node.log.entry(3).command == ("put", "k", "3")
    assert take(node)[-1].match_index == 2          # it answers for what that message carried


# --- The leader handles replies (Figure 2, Leaders; section 5.3) ---------------------------------

def reply(src="n2", term=4, success=True, match=0, conflict_term=None, conflict_index=0):
    return AppendEntriesReply(src, "n1", term, success, match, conflict_term, conflict_index)


@pytest.mark.parametrize("replies, want_next, want_match", [
    # "If successful: update nextIndex and matchIndex for follower"
    ([reply(match=5)], 6, 5),
    # a late or duplicated success with a smaller match never moves matchIndex backwards
    ([reply(match=5), reply(match=3)], 6, 5),
    ([reply(match=5), reply(match=5)], 6, 5),
    # a reply from another term is ignored
    ([reply(term=2, match=5)], 5, 0),
    # "If AppendEntries fails because of log inconsistency: decrement nextIndex and retry".
    # The follower's log (1 1 1) is too short: go back to where it ends
    ([reply(success=False, conflict_index=4)], 4, 0),
    # the follower (1 1 1 1 1) has term 1 at index 4: skip to after the leader's last term-1 entry
    ([reply(success=False, conflict_term=1, conflict_index=1)], 3, 0),
    # the follower (1 3 3 3) has a term the leader never had: skip the follower's whole run of it
    ([reply(success=False, conflict_term=3, conflict_index=2)], 2, 0),
    # a stale rejection never pulls nextIndex at or below matchIndex
    ([reply(match=4), reply(success=False, conflict_index=1)], 5, 4),
    # nextIndex never goes below 1
    ([reply(success=False, conflict_index=0)], 1, 0),
])
def test_leader_reply_handling(replies, want_next, want_match):
    leader = make_leader("n1", term=4, log=(1, 1, 2, 2))        # + its no-op: 1 1 2 2 4
    assert leader.next_index["n2"] == 5
    for r in replies:
        leader.step(r, now=1100)
    assert leader.next_index["n2"] == want_next
    assert leader.match_index["n2"] == want_match


def test_after_a_rejection_the_leader_retries_at_once_from_the_new_next_index():
    leader = make_leader("n1", term=4, log=(1, 1, 2, 2))
    leader.step(reply(success=False, conflict_term=1, conflict_index=1), now=1100)
    [retry] = take(leader)
    assert isinstance(retry, AppendEntries) and retry.dst == "n2"
    assert (retry.prev_log_index, retry.prev_log_term) == (2, 1)
    assert [e.term for e in retry.entries] == [2, 2, 4]


def test_fast_back_off_skips_a_whole_conflicting_term_per_round_trip():
    """Figure 7, follower (f): it holds 3 entries of term 2 and 5 of term 3 that the leader of
    term 8 never had.  Going back one entry per round trip would take 8 rejections; skipping a
    whole term per rejection takes 2, and the logs then match."""
    leader = make_leader("n1", nodes=2, term=8, log=(1, 1, 1, 4, 4, 5, 5, 6, 6, 6))
    follower = make_node("n2", nodes=2, term=8, log=(1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3))
    leader.rules.send_append_entries(leader, "n2")
    rejections = 0
    for _ in range(20):
        msgs = take(leader)
        if not msgs:
            break
        for m in msgs:
            follower.step(m, now=1100)
        for r in take(follower):
            rejections += not r.success
            leader.step(r, now=1101)
    assert rejections == 2
    assert terms(follower) == terms(leader) == [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 8]
    assert leader.match_index["n2"] == 11


def test_a_leader_ignores_replies_once_it_is_no_longer_leader():
    leader = make_leader("n1", term=3, log=(1,))
    leader.step(reply(term=4, success=False), now=1100)       # a higher term: step down
    assert leader.role is Role.FOLLOWER and leader.current_term == 4
    leader.step(reply(term=4, match=2), now=1101)
    assert take(leader) == [] and leader.commit_index == 0


# --- The commit rule (Figure 2, Leaders; section 5.4.2, Figure 8) -------------------------------

@pytest.mark.parametrize("nodes, term, log, matches, commit_before, commit_after", [
    # "a majority of matchIndex[i] >= N, and log[N].term == currentTerm"
    (5, 2, (1, 2, 2), {"n2": 3, "n3": 3}, 0, 3),        # the leader counts itself: 3 of 5
    (5, 2, (1, 2, 2), {"n2": 3}, 0, 0),                  # 2 of 5
    (5, 2, (1, 2, 2), {"n2": 3, "n3": 2}, 0, 2),         # the highest index on a majority
    (4, 2, (1, 2, 2), {"n2": 3}, 0, 0),                  # 2 of 4 is not a majority
    (4, 2, (1, 2, 2), {"n2": 3, "n3": 3}, 0, 3),
    # Figure 8 (c): index 2 (term 2) is on a majority, but the leader's term is 4: no commit
    (5, 4, (1, 2, 4), {"n2": 2, "n3": 2}, 1, 1),
    # Figure 8 (e): once its own term-4 entry is on a majority, everything up to it commits
    (5, 4, (1, 2, 4), {"n2": 3, "n3": 3}, 1, 3),
    # never backwards
    (3, 2, (1, 2, 2), {"n2": 1}, 3, 3),
])
def test_commit_rule(nodes, term, log, matches, commit_before, commit_after):
    # a leader whose log is exactly `log` (its no-op included)
    node = make_node("n1", nodes=nodes, term=term, log=log, voted_for="n1")
    node.become_leader()
    node.log.truncate_from(node.log.last_index)          # drop the no-op just added: `log` is the whole log
    node.commit_index = node.last_applied = commit_before
    node.match_index.update(matches)
    node.rules.advance_commit_index(node)
    assert node.commit_index == commit_after


def test_only_a_leader_commits_by_counting():
    node = make_node("n1", nodes=3, term=2, log=(2, 2))
    node.match_index = {"n2": 2, "n3": 2}
    node.rules.advance_commit_index(node)
    assert node.commit_index == 0
