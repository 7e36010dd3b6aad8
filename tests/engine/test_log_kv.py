"""The replicated log's verbs and the key-value state machine.

Reference: Figure 2 (the log is 1-based; "log[]: log entries; each entry contains
command for state machine, and term when entry was received by leader (first index
is 1)"), section 5.3 (the consistency check needs the term at prevLogIndex, 0 for an
empty prefix), section 5.4.1 (the up-to-date comparison), section 7 (compaction: the
snapshot replaces a committed prefix and keeps the last included index and term),
section 8 (a client's serial numbers make a retried command apply once).
"""
import pytest

from raftlab import Entry, Log
from raftlab.log import LogError
from raftlab.statemachine import CommandError, KVStore, check_command


def log_of(*terms, snapshot=(0, 0)) -> Log:
    return Log([Entry(t, ("put", "k", str(i))) for i, t in enumerate(terms, snapshot[0] + 1)], *snapshot)


# --- reading ------------------------------------------------------------------------------------

def test_an_empty_log():
    log = Log()
    assert (log.last_index, log.last_term, len(log)) == (0, 0, 0)
    assert log.term_at(0) == 0 and log.term_at(1) is None
    assert not log.has(0) and not log.has(1)
    with pytest.raises(LogError, match="no entry at index 1"):
        log.entry(1)


@pytest.mark.parametrize("index, want", [(0, 0), (1, 1), (3, 2), (4, 3), (5, None), (-1, None)])
def test_term_at(index, want):
    assert log_of(1, 2, 2, 3).term_at(index) == want


def test_term_at_with_a_snapshot():
    log = log_of(3, 4, snapshot=(5, 2))
    assert [log.term_at(i) for i in (4, 5, 6, 7, 8)] == [None, 2, 3, 4, None]
    assert (log.last_index, log.last_term) == (7, 4)
    assert not log.has(5) and log.has(6) and log.has(7)
    assert log.entry(6).term == 3 and log[7].term == 4
    with pytest.raises(LogError, match="holds 6..7"):
        log.entry(5)


@pytest.mark.parametrize("start, limit, want", [(1, None, [1, 2, 2, 3]), (3, None, [2, 3]),
                                                 (2, 2, [2, 2]), (5, None, []), (4, 9, [3])])
def test_entries_from(start, limit, want):
    assert [e.term for e in log_of(1, 2, 2, 3).entries_from(start, limit)] == want


def test_entries_from_inside_the_snapshot_is_an_error():
    with pytest.raises(LogError, match="compacted"):
        log_of(3, snapshot=(5, 2)).entries_from(5)


@pytest.mark.parametrize("term, at, want", [(2, 4, 2), (2, 2, 2), (2, 3, 2), (3, 6, 5), (1, 1, 1)])
def test_first_index_of_term(term, at, want):
    # the run of `term` containing index `at`, as far back as it goes
    assert log_of(1, 2, 2, 2, 3, 3).first_index_of_term(term, at) == want


@pytest.mark.parametrize("term, want", [(1, 1), (2, 4), (3, 6), (4, None), (0, None)])
def test_last_index_of_term(term, want):
    assert log_of(1, 2, 2, 2, 3, 3).last_index_of_term(term) == want


@pytest.mark.parametrize("other_last, want", [
    ((3, 2), True),    # identical last entry
    ((4, 2), True),    # same term, longer
    ((2, 2), False),   # same term, shorter
    ((1, 3), True),    # later term, shorter
    ((9, 1), False),   # earlier term, longer
    ((0, 0), False),   # empty
])
def test_is_up_to_date(other_last, want):
    """Section 5.4.1: later last term wins; equal last terms: the longer log wins."""
    assert log_of(1, 1, 2).is_up_to_date(*other_last) is want


def test_an_empty_log_is_as_up_to_date_as_another_empty_log():
    assert Log().is_up_to_date(0, 0)


# --- writing -------------------------------------------------------------------------------------

def test_append_returns_the_new_index():
    log = log_of(1)
    assert log.append(Entry(2)) == 2 and log.last_term == 2


def test_truncate_from_deletes_the_entry_and_all_that_follow():
    log = log_of(1, 1, 2, 2)
    log.truncate_from(3)
    assert [e.term for e in log] == [1, 1]
    assert log.take_changes().removed == (3, 2)   # what the step removed: first index and its term
    log.truncate_from(9)                     # beyond the end: nothing to delete
    assert log.last_index == 2


def test_truncating_into_the_snapshot_is_an_error():
    log = log_of(3, snapshot=(5, 2))
    with pytest.raises(LogError, match="in the snapshot"):
        log.truncate_from(5)
    assert log.last_index == 6


def test_compact_keeps_the_last_included_index_and_term():
    log = log_of(1, 1, 2, 2, 3)
    log.compact(3)
    assert (log.snapshot_index, log.snapshot_term) == (3, 2)
    assert [e.term for e in log] == [2, 3] and log.last_index == 5
    assert log.term_at(3) == 2                       # the consistency check still works at the edge
    log.compact(2)                                   # already compacted: nothing happens
    assert log.snapshot_index == 3
    with pytest.raises(LogError, match="ends at 5"):
        log.compact(6)


@pytest.mark.parametrize("keep_tail, snap, want_entries, want_last", [
    (True, (3, 2), [2, 3], 5),     # the snapshot's last entry matches: keep what follows
    (True, (3, 1), [], 3),         # it does not match: discard everything
    (False, (3, 2), [], 3),
    (True, (7, 4), [], 7),         # beyond the log
])
def test_reset_to_snapshot(keep_tail, snap, want_entries, want_last):
    log = log_of(1, 1, 2, 2, 3)
    log.reset_to_snapshot(*snap, keep_tail=keep_tail)
    assert (log.snapshot_index, log.snapshot_term) == snap
    assert [e.term for e in log] == want_entries and log.last_index == want_last


def test_copy_is_independent():
    log = log_of(1, 2)
    copy = log.copy()
    copy.append(Entry(3))
    copy.truncate_from(2)
    assert [e.term for e in log] == [1, 2] and copy.last_index == 1


def test_repr_names_index_and_term():
    assert repr(log_of(1, 2)) == "Log(1/1 2/2)"
    assert repr(log_of(3, snapshot=(5, 2))) == "Log([snapshot..5/2] 6/3)"


# --- the key-value store --------------------------------------------------------------------------

@pytest.mark.parametrize("command, want", [
    ("put x 1", ("put", "x", "1")),
    (("append", "x", 2), ("append", "x", "2")),
    (["get", "x"], ("get", "x")),
])
def test_check_command_accepts(command, want):
    assert check_command(command) == want


@pytest.mark.parametrize("command", ["", "jump x 1", "put x", "get", "get x y", ("put",), 42, None,
                                     ("put", "x", "1", "2")])
def test_check_command_rejects(command):
    with pytest.raises(CommandError, match="unknown command"):
        check_command(command)


def test_put_get_append():
    kv = KVStore()
    results = [kv.apply(Entry(1, cmd)) for cmd in [("get", "x"), ("put", "x", "1"), ("append", "x", "2"),
                                                   ("append", "y", "3"), ("get", "x"), None]]
    assert results == [None, "ok", "12", "3", "12", None]
    assert kv.data == {"x": "12", "y": "3"} and kv.applied_count == 6


def test_a_client_command_is_applied_once():
    """Section 8: a command whose serial number was already executed returns the first result."""
    kv = KVStore()
    first = kv.apply(Entry(1, ("append", "x", "a"), "c1", 1))
    again = kv.apply(Entry(2, ("append", "x", "a"), "c1", 1))
    assert first == again == "a" and kv.data == {"x": "a"}
    assert kv.apply(Entry(2, ("append", "x", "b"), "c1", 2)) == "ab"
    # an even older request is not applied either (its result is no longer kept)
    assert kv.apply(Entry(2, ("append", "x", "z"), "c1", 1)) is None and kv.data == {"x": "ab"}
    # sessions are per client
    assert kv.apply(Entry(2, ("append", "x", "c"), "c2", 1)) == "abc"
    assert kv.cached_result("c1", 2) == (True, "ab")
    assert kv.cached_result("c1", 3) == (False, None)
    assert kv.cached_result(None, 0) == (False, None)


def test_snapshot_and_restore_round_trip():
    kv = KVStore()
    for i, cmd in enumerate([("put", "b", "1"), ("put", "a", "2"), ("append", "b", "3")], start=1):
        kv.apply(Entry(1, cmd, "c1", i))
    snap = kv.snapshot(3, 1)
    assert snap.data[0] == (("a", "2"), ("b", "13"))           # sorted: the same bytes every run
    again = KVStore.restore(snap)
    assert again.data == kv.data and again.sessions == kv.sessions
    assert KVStore.restore(None).data == {}
    again.apply(Entry(2, ("put", "a", "9"), "c1", 4))
    assert kv.data["a"] == "2"                                  # the snapshot is not shared
