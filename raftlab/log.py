"""The replicated log: 1-based, with an optional snapshot prefix (section 7).

Index ``i`` of the log is ``entries[i - snapshot_index - 1]``.  Entries up to
``snapshot_index`` have been compacted into a snapshot; only the term of the
last compacted entry (``snapshot_term``) is kept, for the AppendEntries
consistency check.

Like etcd-io/raft's *unstable* log, it remembers what changed since it was
last persisted: the lowest index written and the first entry removed.  The
node hands that over in each step's ``Ready`` (:meth:`take_changes`); the safety
checker reads it there, so it looks only at what a step changed.

It also keeps what a server needs to find its configuration (section 6: "a
server always uses the latest configuration in its log"): the indexes of its
configuration entries as they are appended, truncated and compacted
(``config_indexes``), and the configuration in force at the snapshot
(``snapshot_config``).  Which configuration a server uses is a rule
(``rules.current_configuration``, exercise 7), not the log's to decide.
"""
from __future__ import annotations

from typing import Iterable, NamedTuple, Optional

from .membership import Configuration
from .messages import Entry

__all__ = ["Log", "LogError", "LogChanges", "NO_CHANGES"]


class LogChanges(NamedTuple):
    """What one step did to a log: the lowest index written (``None``: nothing written) and the
    ``(index, term)`` of the first entry removed (``None``: nothing removed)."""
    written_from: Optional[int]
    removed: Optional[tuple[int, int]]

    def __str__(self) -> str:
        return f"written from {self.written_from}, removed {self.removed}"


#: A step that wrote and removed nothing.
NO_CHANGES = LogChanges(None, None)


class LogError(IndexError):
    """A request for an index the log does not hold."""


class Log:
    __slots__ = ("entries", "snapshot_index", "snapshot_term", "_written_from", "_removed",
                 "config_indexes", "snapshot_config")

    def __init__(self, entries: Iterable[Entry] = (), snapshot_index: int = 0, snapshot_term: int = 0,
                 snapshot_config: Optional[Configuration] = None):
        self.entries: list[Entry] = list(entries)
        self.snapshot_index = snapshot_index
        self.snapshot_term = snapshot_term
        self._written_from: Optional[int] = snapshot_index + 1 if self.entries else None
        self._removed: Optional[tuple[int, int]] = None
        #: the indexes of the configuration entries in ``entries``, in order
        self.config_indexes: list[int] = [i for i, e in enumerate(self.entries, snapshot_index + 1)
                                          if e.config is not None]
        #: the configuration in force at ``snapshot_index`` (None: the cluster's initial one)
        self.snapshot_config = snapshot_config

    def take_changes(self) -> LogChanges:
        """What was written and removed since the last call (and forget it)."""
        if self._written_from is None and self._removed is None:
            return NO_CHANGES
        changes = LogChanges(self._written_from, self._removed)
        self._written_from = self._removed = None
        return changes

    # --- reading -------------------------------------------------------------
    @property
    def configuration_index(self) -> int:
        """The index of the latest configuration entry in this log, committed or not (the snapshot's
        index if the configuration came with the snapshot; 0 if the log never held one)."""
        if self.config_indexes:
            return self.config_indexes[-1]
        return self.snapshot_index if self.snapshot_config is not None else 0

    def _configuration_at(self, index: int) -> Optional[Configuration]:
        """The latest configuration at or before ``index`` (``index`` >= ``snapshot_index``)."""
        for i in reversed(self.config_indexes):
            if i <= index:
                return self.entries[i - self.snapshot_index - 1].config
        return self.snapshot_config

    @property
    def last_index(self) -> int:
        return self.snapshot_index + len(self.entries)

    @property
    def last_term(self) -> int:
        return self.entries[-1].term if self.entries else self.snapshot_term

    def __len__(self) -> int:
        """The index of the last entry (compacted entries count)."""
        return self.snapshot_index + len(self.entries)

    def has(self, index: int) -> bool:
        """True if the entry at ``index`` is still stored (not compacted, not beyond the end)."""
        return self.snapshot_index < index <= self.last_index

    def term_at(self, index: int) -> Optional[int]:
        """The term of the entry at ``index``; 0 for index 0; the snapshot's term at
        ``snapshot_index``; ``None`` if the log has no such entry (past the end,
        or compacted away)."""
        offset = index - self.snapshot_index - 1
        if offset == -1:
            return self.snapshot_term
        if 0 <= offset < len(self.entries):
            return self.entries[offset].term
        return None

    def term(self, index: int) -> int:
        """The term at ``index``, which the log must hold: an entry's term, the snapshot's
        term at ``snapshot_index``, 0 at index 0.  Anywhere else: a :class:`LogError`."""
        term = self.term_at(index)
        if term is None:
            raise LogError(f"the log has no term at index {index} "
                           f"(it holds {self.snapshot_index}..{self.last_index})")
        return term

    def entry(self, index: int) -> Entry:
        offset = index - self.snapshot_index - 1
        if not 0 <= offset < len(self.entries):
            raise LogError(f"the log has no entry at index {index} "
                           f"(it holds {self.snapshot_index + 1}..{self.last_index})")
        return self.entries[offset]

    def __getitem__(self, index: int) -> Entry:
        return self.entry(index)

    def entries_from(self, index: int, limit: Optional[int] = None) -> tuple:
        """Entries ``index, index+1, ...`` (at most ``limit`` of them), as a tuple."""
        start = index - self.snapshot_index - 1
        if start < 0:
            raise LogError(f"entries from index {index} were compacted into the snapshot "
                           f"(snapshot_index={self.snapshot_index})")
        stop = None if limit is None else start + limit
        return tuple(self.entries[start:stop])

    def first_index_of_term(self, term: int, at_or_before: int) -> int:
        """The first index of the run of ``term`` that contains ``at_or_before``."""
        i = at_or_before
        while i - 1 > self.snapshot_index and self.term_at(i - 1) == term:
            i -= 1
        return i

    def last_index_of_term(self, term: int) -> Optional[int]:
        """The last index holding an entry of ``term``, or None."""
        for i in range(self.last_index, self.snapshot_index, -1):
            t = self.entries[i - self.snapshot_index - 1].term
            if t == term:
                return i
            if t < term:
                return None
        return None

    def is_up_to_date(self, last_log_index: int, last_log_term: int) -> bool:
        """Is a log ending at ``last_log_index/last_log_term`` at least as up-to-date as this one?

        Section 5.4.1: "If the logs have last entries with different terms, then the
        log with the later term is more up-to-date. If the logs end with the same
        term, then whichever log is longer is more up-to-date."
        """
        return (last_log_term, last_log_index) >= (self.last_term, self.last_index)

    # --- writing -------------------------------------------------------------
    def _touch(self, index: int) -> None:
        if self._written_from is None or index < self._written_from:
            self._written_from = index

    def append(self, entry: Entry) -> int:
        """Append one entry at the end; return its index."""
        self.entries.append(entry)
        if entry.config is not None:
            self.config_indexes.append(self.last_index)
        self._touch(self.last_index)
        return self.last_index

    def truncate_from(self, index: int) -> None:
        """Delete the entry at ``index`` and all that follow it (Figure 2,
        AppendEntries rule 3: only ever on a conflict)."""
        if index <= self.snapshot_index:
            raise LogError(f"cannot truncate from index {index}: entries up to "
                           f"{self.snapshot_index} are in the snapshot and committed")
        if index > self.last_index:
            return
        if self._removed is None or index < self._removed[0]:
            self._removed = (index, self.entry(index).term)
        del self.entries[index - self.snapshot_index - 1:]
        while self.config_indexes and self.config_indexes[-1] >= index:
            self.config_indexes.pop()       # a truncated configuration entry no longer counts
        self._touch(index)

    def compact(self, upto: int) -> None:
        """Drop entries up to ``upto`` (inclusive) into the snapshot prefix."""
        if upto <= self.snapshot_index:
            return
        if upto > self.last_index:
            raise LogError(f"cannot compact up to {upto}: the log ends at {self.last_index}")
        term = self.entry(upto).term
        self.snapshot_config = self._configuration_at(upto)
        self.config_indexes = [i for i in self.config_indexes if i > upto]
        del self.entries[: upto - self.snapshot_index]
        self.snapshot_index, self.snapshot_term = upto, term
        if self._written_from is not None and self._written_from <= upto:
            self._written_from = upto + 1 if self.entries else None

    def reset_to_snapshot(self, index: int, term: int, keep_tail: bool,
                          config: Optional[Configuration] = None) -> None:
        """Install a snapshot ending at ``index/term`` (whose configuration is ``config``): keep the
        entries after it if ``keep_tail`` (they match), else discard the whole log (section 7)."""
        if keep_tail and self.term_at(index) == term:
            self.compact(index)
            return
        first = max(index, self.snapshot_index) + 1
        if first <= self.last_index and (self._removed is None or first < self._removed[0]):
            # entries up to index are covered by the snapshot; those after it are discarded
            self._removed = (first, self.entry(first).term)
        self.entries = []
        self.config_indexes = []
        self.snapshot_config = config
        self.snapshot_index, self.snapshot_term = index, term
        self._written_from = None

    def copy(self) -> "Log":
        log = Log(self.entries, self.snapshot_index, self.snapshot_term, self.snapshot_config)
        log._written_from, log._removed = self._written_from, self._removed
        return log

    def __iter__(self):
        return iter(self.entries)

    def __repr__(self) -> str:
        head = f"[snapshot..{self.snapshot_index}/{self.snapshot_term}] " if self.snapshot_index else ""
        body = " ".join(f"{i}/{e.term}" for i, e in enumerate(self.entries, self.snapshot_index + 1))
        return f"Log({head}{body})"
