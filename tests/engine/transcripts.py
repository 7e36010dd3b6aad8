"""Golden transcripts: the engine's behaviour written down as operator commands and the exact
trace they print, in the style of etcd-io/raft's datadriven tests.

A transcript is a text file in ``tests/engine/testdata/``::

    # Prose: what this transcript shows, in Raft terms.  Lines starting with '#' and blank
    # lines between blocks are kept as they are.

    new nodes=3 seed=1 drop=0
    ----

    timeout n1
    ----
    t=0      operator forced n1's election timeout
    t=0      n1 became candidate at term 1
    ...

Each block is a command line, a line ``----``, then the expected output, up to the next blank
line (or the end of the file).  Output never contains a blank line (an empty output line is
written ``<empty line>``) and has no trailing spaces.

Commands:

* Anything else than the inspection commands below is an operator verb: the name of a public
  method of :class:`raftlab.Simulation` (``step``, ``advance 50``, ``crash n2``, ``deliver 17``,
  ``client_request "put x 1" n3 client=c1``, ``set_pre_vote true``, ``rewind 12``, ...).  The
  runner calls ``getattr(sim, verb)(*args, **kwargs)`` and has no branch for any one verb.
  ``summary`` and ``in_flight`` are such methods too (read-only ones); a public attribute
  that is not a method is printed (``steps``, ``now``).
* ``new KEY=VALUE ...`` starts a new simulation, ``Simulation(Config(**fields))``, with a history
  large enough that no event is ever lost (a transcript may hold several ``new``).
* ``log [NODE ...]``: each node's term, commit index and log (default: every node).
* ``committed [NODE]``: the committed entries ``sim.committed(NODE)`` returns, with their indexes.
* ``kv [NODE ...]``: each node's key-value store (what it applied).
* ``ops``: the clients' operations (``sim.operations``), as the clients saw them.

Arguments: ``"a quoted string"`` is a string; ``|`` separates groups, each passed as a list
(``partition n1 n2 | n3 n4 n5``; a trailing ``|`` closes a lone group); ``key=value`` is a
keyword argument; ``12`` an int, ``0.5`` a float, ``150-300`` a pair of ints, ``true``/``false``
a bool, ``none`` None; any other word (``n2``, ``c1``) a string.

The output of an operator verb is every event the trace gained during the command
(``str(event)``, debug level), then the method's return value unless it is None or a trace
event: a string as it is, a list one item a line, anything else as ``-> value``.  A raftlab
error is printed ``error: MESSAGE``; any other exception (a misspelt verb, wrong arguments) is a
mistake in the transcript and stops it with a :class:`TranscriptError` naming the file and line.

A rewind replaces the trace with the replayed one: the runner then prints ``(the trace was
replaced: ...)`` instead of the replayed events.  A ``new`` that raises (a bad configuration)
prints the error and keeps the previous simulation.  A line starting with ``#`` right after an
output line, with no blank line between, is output, not prose (``in_flight`` prints ``#17 ...``).

Rewriting: ``pytest tests/engine/test_transcripts.py --rewrite-transcripts`` (or
``RAFTLAB_REWRITE=1``) writes the actual output into every block; review the change as a diff.
A rewrite never changes a command: if the engine starts sending other messages, the ids in
``deliver 17`` / ``drop 17`` (or the step in ``rewind 73``) may name other messages, so read the
new output against the prose, not just the diff.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Union

from raftlab import Config, RaftlabError, Simulation

__all__ = ["Block", "TranscriptError", "parse", "parse_command", "render", "Session", "run_transcript",
           "check_file"]

SEPARATOR = "----"
EMPTY_LINE = "<empty line>"
HISTORY = 10_000_000          # events kept in sim.trace: more than any transcript makes


class TranscriptError(Exception):
    """A transcript that cannot be run: bad format, unknown command, wrong arguments."""


@dataclass
class Block:
    line: int                                  # 1-based line number of the command
    command: str
    expected: list[str] = field(default_factory=list)
    actual: Optional[list[str]] = None


Item = Union[str, Block]                       # a prose or blank line kept as it is, or a block


# --- the file format --------------------------------------------------------------------------

def parse(text: str, path: str = "<transcript>") -> list[Item]:
    """Split a transcript into prose lines and command blocks."""
    lines = text.rstrip("\n").split("\n") if text.strip() else []
    items: list[Item] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#") or not line.strip():
            items.append(line)
            i += 1
            continue
        if i + 1 >= len(lines) or lines[i + 1] != SEPARATOR:
            raise TranscriptError(f"{path}:{i + 1}: the command {line!r} must be followed by a line "
                                  f"'{SEPARATOR}' (then its expected output and a blank line)")
        j = i + 2
        while j < len(lines) and lines[j] != "":
            j += 1
        items.append(Block(i + 1, line, lines[i + 2:j]))
        i = j + 1                              # the blank line that ends the block
    return items


def render(items: list[Item], actual: bool = True) -> str:
    """The transcript's text, with each block's actual output (or its expected one)."""
    out: list[str] = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
            continue
        body = item.actual if actual and item.actual is not None else item.expected
        out.extend([item.command, SEPARATOR, *body, ""])
    return "\n".join(out).rstrip("\n") + "\n"


# --- arguments ------------------------------------------------------------------------------

_TOKEN = re.compile(r'"([^"]*)"|\'([^\']*)\'|(\S+)')
_KEYWORD = re.compile(r"^([A-Za-z_]\w*)=(.*)$")


def _value(word: str) -> Any:
    """An unquoted word as a Python value."""
    lowered = word.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    if re.fullmatch(r"-?\d+", word):
        return int(word)
    if re.fullmatch(r"-?\d+\.\d*", word):
        return float(word)
    if re.fullmatch(r"\d+-\d+", word):
        lo, hi = word.split("-")
        return (int(lo), int(hi))
    return word


def parse_command(command: str) -> tuple[str, list, dict]:
    """``verb arg ... key=value ...`` -> (verb, args, kwargs); see the module docstring."""
    words = [(m.group(3), m.group(1) if m.group(1) is not None else m.group(2))
             for m in _TOKEN.finditer(command)]
    if not words or words[0][0] is None:
        raise ValueError("a command starts with an unquoted verb")
    verb = words[0][0]
    groups: list[list] = [[]]
    kwargs: dict[str, Any] = {}
    for plain, quoted in words[1:]:
        if plain is None:
            groups[-1].append(quoted)
        elif plain == "|":
            groups.append([])
        elif _KEYWORD.match(plain):
            key, value = _KEYWORD.match(plain).groups()
            kwargs[key] = _value(value)
        else:
            groups[-1].append(_value(plain))
    if len(groups) == 1:
        return verb, groups[0], kwargs
    if not groups[-1]:
        groups.pop()                           # "a b |": one group
    return verb, groups, kwargs


# --- running ----------------------------------------------------------------------------------

def _show(value: Any) -> list[str]:
    """A method's return value as output lines (see the module docstring)."""
    from raftlab import TraceEvent
    if value is None or isinstance(value, TraceEvent):
        return []
    if isinstance(value, str):
        return value.split("\n")
    if isinstance(value, list):
        return [str(v) for v in value]
    return [f"-> {value}"]


class Session:
    """Runs a transcript's commands one by one against a simulation."""

    def __init__(self) -> None:
        self.sim: Optional[Simulation] = None
        self._seen = 0                         # events of sim.trace already printed
        self._last: Any = None                 # the last of them (to notice a replaced trace)
        self.inspect: dict[str, Callable[..., list[str]]] = {
            "new": self.new, "log": self.log, "committed": self.committed,
            "kv": self.kv, "ops": self.ops}

    def run(self, command: str, where: str) -> list[str]:
        """Run one command line; return its output lines."""
        try:
            verb, args, kwargs = parse_command(command)
        except ValueError as exc:
            raise TranscriptError(f"{where}: {exc}: {command!r}") from None
        if self.sim is None and verb != "new":
            raise TranscriptError(f"{where}: no simulation yet: start the transcript with `new ...`")
        if verb in self.inspect:
            lines = self._call(self.inspect[verb], args, kwargs, where, command)
        else:
            lines = self._operate(verb, args, kwargs, where, command)
        return [line.rstrip() or EMPTY_LINE for line in lines]

    def _operate(self, verb: str, args: list, kwargs: dict, where: str, command: str) -> list[str]:
        method = getattr(self.sim, verb, None) if not verb.startswith("_") else None
        if method is not None and not callable(method) and not args and not kwargs:
            return _show(method)               # a public attribute, read: `steps`, `now`
        if not callable(method):
            known = sorted(set(self.inspect) | {
                n for n in dir(Simulation) if not n.startswith("_") and callable(getattr(Simulation, n))})
            raise TranscriptError(f"{where}: unknown command {verb!r} in {command!r}; "
                                  f"commands: {', '.join(known)}")
        result = self._call(method, args, kwargs, where, command)
        return self._new_events() + result

    def _call(self, fn: Callable, args: list, kwargs: dict, where: str, command: str) -> list[str]:
        try:
            return _show(fn(*args, **kwargs))
        except RaftlabError as exc:
            return self._new_events() + [f"error: {exc}"]
        except TranscriptError:
            raise
        except Exception as exc:
            raise TranscriptError(f"{where}: {command!r} raised {type(exc).__name__}: {exc}") from exc

    def _new_events(self) -> list[str]:
        """The trace lines added since the last call (a rewind replaces the whole trace)."""
        if self.sim is None:
            return []
        trace = self.sim.trace
        lines: list[str] = []
        if self._seen and (len(trace) < self._seen or trace[self._seen - 1] is not self._last):
            lines.append(f"(the trace was replaced: it now holds {len(trace)} replayed events)")
            self._seen = len(trace)
        lines.extend(str(trace[i]) for i in range(self._seen, len(trace)))
        self._seen = len(trace)
        self._last = trace[-1] if trace else None
        return lines

    @property
    def _sim(self) -> Simulation:
        assert self.sim is not None            # run() checks that `new` came first
        return self.sim

    # --- inspection commands (read-only) --------------------------------------------------------
    def new(self, **fields: Any) -> list[str]:
        fields.setdefault("history", HISTORY)
        self.sim = Simulation(Config(**fields))
        self._seen, self._last = 0, None
        return self._new_events()

    def _nodes(self, names: tuple) -> list:
        sim = self._sim
        return [sim.node(n) for n in names] if names else list(sim.nodes.values())

    def log(self, *names: Any) -> list[str]:
        lines = []
        for node in self._nodes(names):
            log = node.log
            shown = [f"{i}:{log.entry(i)}" for i in range(log.snapshot_index + 1, log.last_index + 1)]
            if log.snapshot_index:
                shown.insert(0, f"[snapshot ..{log.snapshot_index}/{log.snapshot_term}]")
            state = "crashed" if node.crashed else str(node.role)
            lines.append(f"{node.id} {state} term={node.current_term} commit={node.commit_index}: "
                         + (" ".join(shown) or "(empty)"))
        return lines

    def committed(self, name: Any = None) -> list[str]:
        """``sim.committed(name)``, each entry with its index; by default the node it picks
        (the leader, else the node with the highest commit index)."""
        sim = self._sim
        node = sim.node(name) if name is not None else (
            sim.leader() or max(sim.nodes.values(), key=lambda n: n.commit_index))
        entries = sim.committed(node.id)
        first = node.commit_index - len(entries) + 1
        return [f"{node.id} commit={node.commit_index}"] + [
            f"  {first + k}:{entry}" for k, entry in enumerate(entries)]

    def kv(self, *names: Any) -> list[str]:
        lines = []
        for node in self._nodes(names):
            data = node.state_machine.data
            shown = " ".join(f"{k}={data[k]!r}" for k in sorted(data)) or "(empty)"
            lines.append(f"{node.id} applied={node.last_applied}: {shown}")
        return lines

    def ops(self) -> list[str]:
        return [str(op) for op in self._sim.operations] or ["(no client operations)"]


def run_transcript(path: Union[str, Path]) -> list[Item]:
    """Run every block of the transcript at ``path``; each block's ``actual`` is filled in."""
    path = Path(path)
    items = parse(path.read_text(), str(path))
    session = Session()
    for item in items:
        if isinstance(item, Block):
            item.actual = session.run(item.command, f"{path}:{item.line}")
    return items


def check_file(path: Union[str, Path], rewrite: bool = False) -> bool:
    """Run a transcript and compare.  With ``rewrite``, write the actual output into the file
    (returns whether it changed); else raise AssertionError with a unified diff on a difference."""
    path = Path(path)
    expected = path.read_text()
    actual = render(run_transcript(path))
    if actual == expected:
        return False
    if rewrite:
        path.write_text(actual)
        return True
    diff = "".join(difflib.unified_diff(expected.splitlines(keepends=True), actual.splitlines(keepends=True),
                                        fromfile=f"{path} (expected)", tofile=f"{path} (actual)"))
    raise AssertionError(f"{path.name}: the engine's output differs from the transcript\n{diff}\n"
                         f"If only the rendering changed, rewrite it and review the diff: "
                         f"pytest tests/engine/test_transcripts.py --rewrite-transcripts")
