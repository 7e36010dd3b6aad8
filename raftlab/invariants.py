"""The safety properties of Raft (Figure 3 of the paper), checked after every step.

* **Election Safety**: at most one leader can be elected in a given term.
* **Leader Append-Only**: a leader never overwrites or deletes entries in its
  log; it only appends new entries.
* **Log Matching**: if two logs contain an entry with the same index and term,
  then the logs are identical in all entries up through the given index.
* **Leader Completeness**: if a log entry is committed in a given term, then
  that entry will be present in the logs of the leaders for all higher terms.
* **State Machine Safety**: if a server has applied a log entry at a given
  index to its state machine, no other server will ever apply a different log
  entry for the same index.

and two more that make bugs show up early:

* **Committed entries are never lost**: no server deletes an entry that was
  committed, and a server's commit index never moves backwards (a restart
  starts it again from the snapshot).
* **Index order**: ``0 <= last_applied <= commit_index <= last log index``.
* **One change at a time**: a leader never appends a configuration entry while
  an earlier configuration entry in its log is uncommitted (dissertation 4.1:
  "the leader will not begin a new configuration change until the previous one
  is committed"; in the joint phase C_new follows C_old,new only once that is
  committed).  Election Safety above holds whatever the configurations: it is
  checked by term alone.

and one that clients see:

* **Acknowledged writes durable**: a write (``put``, ``append``) a client was told
  succeeded is a committed entry, so (by the properties above) it stays in the
  committed log of every server that later holds its index.  Checked when the
  answer reaches the client.  (Whether the answers themselves are consistent is
  :mod:`raftlab.linearizability`'s question, asked of the whole history.)

The checks are incremental: each step looks only at what that step changed,
as the node's ``Ready`` reports it (entries written, entries removed, entries
applied) plus its role, term and commit index, so their cost does not grow
with the length of the logs.  The checker keeps its own memory (leaders by
term, the committed entries, who applied what); it never writes to a node.

Log Matching is checked by induction: every entry ``(index, term)`` that any
log holds must sit on the same previous term and carry the same command as
every other copy of ``(index, term)``.  If that holds for every entry, two
logs that share ``(index, term)`` share the whole prefix.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

from .errors import SafetyViolation
from .messages import Entry, format_command
from .node import Node, Ready, Role

__all__ = ["SafetyChecker", "PROPERTIES"]

PROPERTIES = ("Election Safety", "Leader Append-Only", "Log Matching", "Leader Completeness",
              "State Machine Safety", "Committed entries never lost", "Index order",
              "Acknowledged writes durable", "Linearizability", "One change at a time")


def _entry(index: int, e: Entry) -> str:
    what = f"config {e.config}" if e.config is not None else format_command(e.command)
    return f"{index}/{e.term} ({what})"


class SafetyChecker:
    """Remembers what the cluster has agreed on so far, and checks each step against it."""

    def __init__(self) -> None:
        self.leaders: dict[int, str] = {}                       # term -> leader
        self.entries: dict[tuple[int, int], tuple] = {}          # (index, term) -> (entry, prev term, holder)
        self.committed: list[Optional[Entry]] = [None]           # index -> committed entry
        self.committed_by: list[str] = [""]
        self.committed_in: list[int] = [0]                      # index -> term of the server that first committed it
        self.applied: list[Optional[tuple[Entry, str]]] = [None]  # index -> (entry, first applier)
        self.commit_seen: dict[str, int] = {}
        self.committed_requests: dict[tuple[str, int], int] = {}   # (client, seq) -> committed index

    def copy(self) -> "SafetyChecker":
        """An independent copy of this memory (for ``Simulation.fork``; what it holds is immutable)."""
        new = SafetyChecker.__new__(SafetyChecker)
        new.leaders, new.entries = dict(self.leaders), dict(self.entries)
        new.committed, new.committed_by = list(self.committed), list(self.committed_by)
        new.committed_in = list(self.committed_in)
        new.applied, new.commit_seen = list(self.applied), dict(self.commit_seen)
        new.committed_requests = dict(self.committed_requests)
        return new

    def after_step(self, node: Node, ready: Ready, role0: Role, term0: int, commit0: int) -> None:
        """Check everything ``node`` changed in the step that just ended (it was ``role0`` in
        ``term0`` with commit index ``commit0`` before it)."""
        if node.role is Role.LEADER:
            self._check_leader(node)
        written_from, removed = ready.log
        if removed is not None:
            self._check_truncation(node, removed, role0, term0)
        if written_from is not None:
            self._check_log_matching(node, written_from)
            if node.role is Role.LEADER and node.log.config_indexes and node.log.config_indexes[-1] >= written_from:
                self._check_one_change(node, written_from)
        if node.commit_index != commit0 or ready.applied:
            self._check_commit(node, ready.applied)
        self._check_order(node)

    def after_answer(self, client: str, seq: int, command: tuple, server: str) -> None:
        """Client ``client`` was told its request ``seq`` succeeded (by ``server``): a write must be
        committed by then (section 8: a leader answers "once the entry has been committed")."""
        if command[0] in ("put", "append") and (client, seq) not in self.committed_requests:
            raise SafetyViolation("Acknowledged writes durable",
                                  f"{server} told {client} that its {format_command(command)} (#{seq}) "
                                  f"succeeded, but no server has committed that entry: a crash now "
                                  f"could lose a write the client was told is done",
                                  nodes=(server,))

    def after_restart(self, node: Node) -> None:
        """A restart starts the commit index again from the snapshot: not a step back."""
        self.commit_seen[node.id] = node.commit_index

    # --- the properties ------------------------------------------------------------
    def _check_leader(self, node: Node) -> None:
        term = node.current_term
        other = self.leaders.get(term)
        if other is None:
            self.leaders[term] = node.id
            self._check_completeness(node)
        elif other != node.id:
            raise SafetyViolation("Election Safety",
                                  f"{other} and {node.id} are both leaders in term {term}",
                                  nodes=(other, node.id))

    def _check_completeness(self, node: Node) -> None:
        # Figure 3 speaks of "the leaders for all higher terms": a late leader of an older term
        # (it won its votes before a newer term committed anything) is not bound by newer commits.
        c = len(self.committed) - 1
        while c > 0 and self.committed_in[c] >= node.current_term:
            c -= 1
        log = node.log
        if c == 0 or c <= log.snapshot_index:
            return
        mine = log.term_at(c) if c <= log.last_index else None
        want = self.committed[c]
        if want is not None and mine != want.term:
            have = f"has term {mine} there" if mine is not None else f"ends at index {log.last_index}"
            raise SafetyViolation("Leader Completeness",
                                  f"{node.id} became leader of term {node.current_term} but lacks "
                                  f"committed entry {_entry(c, want)}: its log {have}",
                                  nodes=(node.id, self.committed_by[c]), index=c)

    def _check_truncation(self, node: Node, removed: tuple[int, int], role0: Role, term0: int) -> None:
        index, term = removed
        if role0 is Role.LEADER and node.role is Role.LEADER and node.current_term == term0:
            raise SafetyViolation("Leader Append-Only",
                                  f"leader {node.id} of term {term0} deleted its entries from index {index}",
                                  nodes=(node.id,), index=index)
        if index < len(self.committed):
            want = self.committed[index]
            if want is not None and want.term == term:
                raise SafetyViolation("Committed entries never lost",
                                      f"{node.id} deleted committed entry {_entry(index, want)} "
                                      f"(and everything after it)",
                                      nodes=(node.id,), index=index)

    def _check_log_matching(self, node: Node, start: int) -> None:
        log = node.log
        start = max(start, log.snapshot_index + 1)
        seen = self.entries
        for index in range(start, log.last_index + 1):
            e = log.entries[index - log.snapshot_index - 1]
            prev = log.term_at(index - 1)
            key = (index, e.term)
            known = seen.get(key)
            if known is None:
                seen[key] = (e, prev, node.id)
            elif known[1] != prev or known[0] != e:
                other_e, other_prev, holder = known
                if known[1] != prev:
                    detail = (f"{node.id} and {holder} both have term {e.term} at index {index}, "
                              f"but at index {index - 1} {node.id} has term {prev} and {holder} has "
                              f"term {other_prev}")
                else:
                    detail = (f"{node.id} and {holder} both have term {e.term} at index {index}, "
                              f"but different commands: {format_command(e.command)} and "
                              f"{format_command(other_e.command)}")
                raise SafetyViolation("Log Matching", detail, nodes=(node.id, holder), index=index)

    def _check_commit(self, node: Node, newly_applied: Sequence[tuple[int, Entry, Any]]) -> None:
        seen = self.commit_seen.get(node.id, 0)
        if node.commit_index < seen:
            raise SafetyViolation("Committed entries never lost",
                                  f"{node.id}'s commit index went back from {seen} to {node.commit_index}",
                                  nodes=(node.id,), index=node.commit_index)
        self.commit_seen[node.id] = node.commit_index
        self._record_committed(node, newly_applied)
        applied = self.applied
        for index, entry, _result in newly_applied:
            if index < len(applied):
                first = applied[index]
                if first is not None and first[0] != entry:
                    raise SafetyViolation("State Machine Safety",
                                          f"{node.id} applied {_entry(index, entry)} at index {index}, "
                                          f"but {first[1]} applied {_entry(index, first[0])} there",
                                          nodes=(node.id, first[1]), index=index)
            else:
                while len(applied) < index:
                    applied.append(None)
                applied.append((entry, node.id))

    def _record_committed(self, node: Node, newly_applied: Sequence[tuple[int, Entry, Any]]) -> None:
        """Remember the entries ``node`` is the first to commit, index by index.  An entry the step
        already compacted into a snapshot is taken from what the step applied; one the checker cannot
        see at all (inside a snapshot the node installed) is remembered as unknown (None)."""
        log = node.log
        committed = self.committed
        top = min(node.commit_index, log.last_index)
        if len(committed) > top:
            return
        just_applied = {index: entry for index, entry, _result in newly_applied}
        for index in range(len(committed), top + 1):
            entry = log.entries[index - log.snapshot_index - 1] if index > log.snapshot_index \
                else just_applied.get(index)
            committed.append(entry)
            self.committed_by.append(node.id)
            self.committed_in.append(node.current_term)
            if entry is not None and entry.client_id is not None:
                self.committed_requests.setdefault((entry.client_id, entry.seq), index)

    def _check_one_change(self, node: Node, written_from: int) -> None:
        log = node.log
        indexes = log.config_indexes
        for k in range(len(indexes) - 1, 0, -1):
            index, earlier = indexes[k], indexes[k - 1]
            if index < written_from:
                return
            if earlier > node.commit_index:
                raise SafetyViolation("One change at a time",
                                      f"leader {node.id} appended configuration {log.entry(index).config} at "
                                      f"index {index} while {log.entry(earlier).config} at index {earlier} "
                                      f"was not committed (commit index {node.commit_index})",
                                      nodes=(node.id,), index=index)

    def _check_order(self, node: Node) -> None:
        last = node.log.last_index
        if not (0 <= node.last_applied <= node.commit_index <= last):
            raise SafetyViolation("Index order",
                                  f"{node.id} has last_applied={node.last_applied}, "
                                  f"commit_index={node.commit_index}, last log index={last}; "
                                  f"need 0 <= last_applied <= commit_index <= last log index",
                                  nodes=(node.id,))
