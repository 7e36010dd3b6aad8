"""The replicated state machine: a tiny key-value store (put / get / append).

Entries are applied in log order, exactly once each.  The store also keeps
a *session* per client: the last request sequence number it applied and that
request's result, so a retried request (same client id and sequence) returns
the first result instead of being applied twice (section 6.3 of Ongaro's
thesis).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from .errors import OperatorError
from .membership import Configuration
from .messages import Entry

__all__ = ["KVStore", "Snapshot", "CommandError", "check_command"]


class CommandError(OperatorError):
    """A client command the key-value store does not understand (an operator error:
    ``client_request`` raises it and changes nothing)."""


#: The longest key and value a client command may carry (a command is a log entry every server stores).
MAX_KEY, MAX_VALUE = 64, 1024
_USAGE = "use ('put', key, value), ('append', key, value) or ('get', key), or 'put x 1' as one string"


def check_command(command: Any) -> tuple:
    """Return ``command`` as a tuple of strings or raise :class:`CommandError`.

    Accepted: ``("put", key, value)``, ``("append", key, value)``, ``("get", key)``, or the same as a
    string: ``"put x 3"``, ``"append x 4"``, ``"get x"``.  A key is a word (no spaces, at most
    ``MAX_KEY`` characters); a value is printable text of at most ``MAX_VALUE`` characters.  Keys and
    values may be given as whole numbers (``("put", "x", 3)``); anything else (None, 2.5, True, an
    object) is refused."""
    if isinstance(command, str):
        if len(command) > 3 * MAX_VALUE:
            raise CommandError(f"that command is {len(command):,} characters long: a key may have at most "
                               f"{MAX_KEY} and a value at most {MAX_VALUE}")
        command = tuple(command.split())
    if isinstance(command, list):
        command = tuple(command)
    ok = (isinstance(command, tuple) and command and
          ((command[0] in ("put", "append") and len(command) == 3) or
           (command[0] == "get" and len(command) == 2)))
    if not ok:
        shown = repr(command) if len(repr(command)) <= 80 else repr(command)[:77] + "..."
        raise CommandError(f"unknown command {shown}: {_USAGE}")
    parts = tuple(_text(x, "key" if i == 1 else "value") for i, x in enumerate(command[1:], 1))
    return (command[0],) + parts


def _text(x: Any, what: str) -> str:
    if isinstance(x, int) and not isinstance(x, bool):
        x = str(x)
    if not isinstance(x, str):
        raise CommandError(f"a {what} is text or a whole number, not {type(x).__name__} {x!r:.40}: {_USAGE}")
    limit = MAX_KEY if what == "key" else MAX_VALUE
    if not x or len(x) > limit or not x.isprintable() or (what == "key" and any(c.isspace() for c in x)):
        raise CommandError(f"a {what} is 1 to {limit} printable characters"
                           f"{' with no spaces' if what == 'key' else ''}, got {x!r:.40}")
    return x


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A compacted prefix of the log: the state after applying entries up to
    ``last_included_index`` (whose term is ``last_included_term``), and the configuration in force
    there (section 7: the snapshot "includes ... the latest configuration as of the last included
    index"; None: the cluster's initial one)."""
    last_included_index: int
    last_included_term: int
    data: tuple  # (sorted key/value pairs, sorted client sessions)
    config: Optional[Configuration] = None

    def __str__(self) -> str:
        return f"Snapshot(last={self.last_included_index}/{self.last_included_term} keys={len(self.data[0])})"


class KVStore:
    __slots__ = ("data", "sessions", "applied_count")

    def __init__(self) -> None:
        self.data: dict[str, str] = {}
        self.sessions: dict[str, tuple[int, Any]] = {}
        self.applied_count = 0

    def copy(self) -> "KVStore":
        """An independent copy (for ``Simulation.fork``)."""
        new = KVStore.__new__(KVStore)
        new.data, new.sessions, new.applied_count = dict(self.data), dict(self.sessions), self.applied_count
        return new

    def cached_result(self, client_id: Optional[str], seq: int) -> tuple[bool, Any]:
        """(True, result) if this client's request ``seq`` was already applied."""
        if client_id is None:
            return False, None
        last = self.sessions.get(client_id)
        if last is not None and seq <= last[0]:
            return True, last[1] if seq == last[0] else None
        return False, None

    def apply(self, entry: Entry) -> Any:
        """Apply one committed entry and return its result."""
        self.applied_count += 1
        done, result = self.cached_result(entry.client_id, entry.seq)
        if done:
            return result
        cmd = entry.command
        if cmd is None:          # a no-op, or a configuration entry (the log, not the store, keeps those)
            return None
        op, key = cmd[0], cmd[1]
        if op == "put":
            self.data[key] = cmd[2]
            result = "ok"
        elif op == "append":
            self.data[key] = self.data.get(key, "") + cmd[2]
            result = self.data[key]
        else:
            result = self.data.get(key)
        if entry.client_id is not None:
            self.sessions[entry.client_id] = (entry.seq, result)
        return result

    def snapshot(self, index: int, term: int, config: Optional[Configuration] = None) -> Snapshot:
        return Snapshot(index, term, (tuple(sorted(self.data.items())),
                                      tuple(sorted(self.sessions.items()))), config)

    @classmethod
    def restore(cls, snapshot: Optional[Snapshot]) -> "KVStore":
        kv = cls()
        if snapshot is not None:
            kv.data = dict(snapshot.data[0])
            kv.sessions = dict(snapshot.data[1])
        return kv
