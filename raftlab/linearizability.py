"""Is what the clients saw linearizable?  A checker for the key-value store's client history.

The log invariants of Figure 3 say nothing about what a client observes.  A cluster can keep every
one of them and still answer a read from a stale copy, or acknowledge a write that is then lost.
Linearizability is the promise a client can check on its own: **the store behaves as if each
operation took effect at a single instant, one at a time, somewhere between the moment the client
sent it and the moment the answer came back** (Herlihy & Wing 1990).

The rules this module checks, for one client history (``sim.operations``):

1. Find one order of all operations -- a *linearization* -- in which each answer is exactly what
   raftlab's store (:class:`raftlab.statemachine.KVStore`) gives when run in that order:
   ``put k v`` answers ``'ok'``; ``append k v`` answers the key's whole new value (the old value,
   ``''`` if none, then ``v``); ``get k`` answers the value, or ``None`` if ``k`` was never written.
2. The order must respect real time: if operation A was answered before operation B was sent, A
   comes first.  Times are whole virtual milliseconds, so two events in the same millisecond count
   as concurrent (either order is allowed).
3. An operation that was never answered (``completed is None``) may have taken effect at any
   instant after it was sent, or never (at most once: the store's client sessions see to that).
   Its answer, if it had one, is unknown, so nothing is checked about it.

How it searches (and why it is fast enough):

* **Per key** (Horn & Kroening's P-compositionality, as Porcupine does): put, append and get each
  touch one key, so the history is linearizable exactly when each key's sub-history is.  Each key is
  checked on its own, and a small search per key replaces one huge search.
* **Wing & Gong's backtracking search** (Wing & Gong, "Testing and verifying concurrent objects",
  J. Parallel and Distributed Computing 17, 1993): keep the calls and returns in time order; pick an
  operation that could go next (no unplaced operation returned before it was called), run it on the
  model; if the answer matches, place it and go on, else try the next; when a return is reached
  whose operation is not placed yet, undo the last choice (backtrack).
* **Lowe's memoization** (Lowe, "Testing for linearizability", Concurrency and Computation:
  Practice and Experience 29(4), 2017; used by Porcupine, github.com/anishathalye/porcupine): the
  future of the search depends only on *which* operations are placed and on the key's value, so
  each ``(set of placed operations, value)`` is explored once.  Without it the search is
  exponential on the histories of a busy cluster; with it a history of thousands of operations per
  key takes milliseconds.
* **A budget**: the problem is NP-complete (Gibbons & Korach 1997), so ``max_states`` (and
  optionally ``cpu_ms``) bound the search; past it the verdict is "unknown", never a guess.

When a key is not linearizable the checker also finds a *minimal explanation*, as Knossos
(github.com/jepsen-io/knossos) reports the operations it could not place:

* the earliest time by which the history was already wrong (histories are prefix-closed: cut the
  history at a time, unanswered operations becoming pending, and search for the first cut that
  fails), which is the point of the run to replay;
* then a greedy shrink of that key's operations (delta debugging: halves, quarters, ... single
  operations): leave operations out, or forget an append's answer (treat it as pending), while what
  is left still cannot be ordered.  Only *sound* steps are taken, so that the few operations left
  are a proof about the whole history: a get can always be left out, but a write only when no
  answer left could show its value (none contains it, or an answered put left in the explanation
  overwrote it in between) -- otherwise the leftovers could blame a read for "a value nobody wrote"
  when somebody did.  For the same reason the explanation keeps, for each value an answer shows,
  the put that wrote its beginning, and a put that proves an older write was overwritten.  Apart
  from those, leaving out any one of its operations makes it linearizable.

Using it: ``check(sim.operations)`` at the end of a run, or at any moment of it (a history that is
wrong now stays wrong however it goes on, and pending operations are allowed for), or
``check(ops, until=t)`` for the history as it stood at time ``t``.  A failed verdict names the
key, the operations (``verdict.ids`` to highlight them), the explanation and ``replay_time``;
``verdict.as_violation()`` is the :class:`~raftlab.errors.SafetyViolation` to raise.

    >>> from raftlab.sim import Operation
    >>> ops = [Operation("c1", 1, ("put", "x", "1"), 0, 10, "ok"),
    ...        Operation("c2", 1, ("put", "x", "2"), 20, 30, "ok"),
    ...        Operation("c3", 1, ("get", "x"), 40, 50, "1")]
    >>> verdict = check(ops)
    >>> verdict.ok, verdict.key, verdict.replay_time
    (False, 'x', 50)
"""
from __future__ import annotations

import time
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Any, Iterable, NamedTuple, Optional, Protocol, Sequence

from .errors import SafetyViolation
from .messages import format_command

__all__ = ["check", "Verdict", "PROPERTY", "OperationLike"]

#: The property's name, as the simulation names the Figure 3 properties in violations.
PROPERTY = "Linearizability"

PUT, APPEND, GET = 0, 1, 2
_VERBS = {"put": PUT, "append": APPEND, "get": GET}
_NEVER = 1 << 62            # the return time of an operation that was never answered
_MAX_TRIALS = 2_000         # sub-histories the shrinker may search before it stops early


class OperationLike(Protocol):
    """What the checker reads of an operation (:class:`raftlab.sim.Operation` has it all)."""
    client: str
    seq: int
    command: tuple
    invoked: int
    completed: Optional[int]
    result: Any


# --- the verdict ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    """The checker's answer.  ``status`` is ``"ok"``, ``"failed"`` (not linearizable) or
    ``"unknown"`` (the budget ran out first).  When failed: ``key`` is the key whose history
    cannot be ordered, ``operations`` the few operations that prove it (the caller's own objects),
    ``pending`` the ids among them whose answer the proof does not use (never answered, or answered
    but only their start time matters), ``explanation`` what went wrong in Raft terms, and
    ``replay_time`` the virtual time by which the history was already wrong (the last answer in
    ``operations``): rewind there to watch it happen."""
    status: str
    checked: int = 0                       # operations in the history that was checked
    keys: int = 0                          # how many keys they touch
    states: int = 0                        # search configurations explored, all keys together
    key: Optional[str] = None
    operations: tuple = ()
    pending: frozenset = field(default_factory=frozenset)
    explanation: str = ""
    replay_time: Optional[int] = None
    minimal: bool = True                   # False if the shrinker ran out of budget first
    other_keys: tuple = ()                 # further keys that are not linearizable either

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    @property
    def unknown(self) -> bool:
        return self.status == "unknown"

    @property
    def ids(self) -> list[tuple[str, int]]:
        """The ``(client, seq)`` ids of the explanation's operations (to highlight them)."""
        return [(op.client, op.seq) for op in self.operations]

    def as_violation(self) -> SafetyViolation:
        """The failure as a :class:`~raftlab.errors.SafetyViolation` named ``Linearizability``, its
        time the replay time (the simulation's ``_halt`` fills in step, recent events and run)."""
        if not self.failed:
            raise ValueError(f"no violation to report: the verdict is {self.status!r}")
        return SafetyViolation(PROPERTY, self.explanation, time=self.replay_time)

    def __str__(self) -> str:
        if self.ok:
            return (f"linearizable: {self.checked:,} operations on {self.keys} key"
                    f"{'' if self.keys == 1 else 's'} ({self.states:,} search states)")
        if self.unknown:
            return f"unknown: {self.explanation}"
        lines = [f"NOT linearizable: key {self.key!r}, wrong by t={self.replay_time} "
                 f"(rewind there to replay it)", self.explanation,
                 f"the operations that cannot be ordered ({len(self.operations)} of {self.checked:,}"
                 f"{'' if self.minimal else '; the shrinker ran out of budget, it may not be minimal'}):"]
        lines += [f"  {_line(op, op_id in self.pending, self.replay_time)}"
                  for op, op_id in zip(self.operations, self.ids, strict=True)]
        if self.other_keys:
            lines.append(f"also not linearizable: key{'s' if len(self.other_keys) > 1 else ''} "
                         + ", ".join(repr(k) for k in self.other_keys))
        return "\n".join(lines)


def _line(op: OperationLike, pending: bool, replay_time: Optional[int]) -> str:
    head = f"{op.client}#{op.seq} {format_command(tuple(op.command))}"
    if op.completed is None:
        return f"{head:<24} t={op.invoked}..  never answered (may have taken effect, or not)"
    tail = f"t={op.invoked}..{op.completed} -> {op.result!r}"
    if pending and replay_time is not None and op.completed > replay_time:
        tail += f"  (not answered yet at t={replay_time})"
    elif pending:
        tail += "  (only its start matters here)"
    return f"{head:<24} {tail}"


# --- the history, per key ---------------------------------------------------------------------

class _Op(NamedTuple):
    """One operation as the search sees it.  ``done``: answered, and the answer is checked."""
    kind: int
    value: str               # what a put or append writes ('' for a get)
    result: Any
    done: bool
    inv: int
    ret: int                 # _NEVER when not answered
    seen: Any                # the value an answered get or append found (None: never written)
    src: Any                 # the caller's operation


def _make_op(op: OperationLike, until: Optional[int]) -> Optional[tuple[str, _Op]]:
    """``(key, _Op)``, or None if ``op`` was sent after ``until``."""
    cmd = tuple(op.command) if isinstance(op.command, (tuple, list)) else ()
    kind = _VERBS.get(cmd[0]) if cmd else None
    if kind is None or len(cmd) != (2 if kind == GET else 3):
        raise ValueError(f"{op.client}#{op.seq}: {cmd!r} is not a put, append or get of the key-value store")
    if op.completed is not None and op.completed < op.invoked:
        raise ValueError(f"{op.client}#{op.seq}: answered at t={op.completed}, before it was sent at t={op.invoked}")
    if until is not None and op.invoked > until:
        return None
    done = op.completed is not None and (until is None or op.completed <= until)
    value = str(cmd[2]) if kind != GET else ""
    ret = op.completed if done and op.completed is not None else _NEVER
    seen = op.result
    if kind == APPEND and isinstance(op.result, str) and op.result.endswith(value):
        seen = op.result[:len(op.result) - len(value)]
    return str(cmd[1]), _Op(kind, value, op.result if done else None, done, op.invoked, ret,
                            seen if done else None, op)


def _order(op: _Op) -> tuple:
    """A total order that depends only on what the operations are (never on list order)."""
    s = op.src
    return (op.inv, op.ret, str(s.client), s.seq, tuple(map(str, s.command)), repr(s.result))


def _split(operations: Iterable[OperationLike], until: Optional[int]) -> tuple[dict[str, list[_Op]], int]:
    by_key: dict[str, list[_Op]] = {}
    count = 0
    for op in operations:
        made = _make_op(op, until)
        if made is not None:
            by_key.setdefault(made[0], []).append(made[1])
            count += 1
    for ops in by_key.values():
        ops.sort(key=_order)
    return by_key, count


def _prefix(ops: Sequence[_Op], t: int) -> list[_Op]:
    """The history as it stood at time ``t``: later operations gone, later answers not yet given."""
    return [op if op.ret <= t else op._replace(done=False, result=None, ret=_NEVER, seen=None)
            for op in ops if op.inv <= t]


# --- the search ---------------------------------------------------------------------------------

class _Budget:
    """``max_states`` per search, and an optional CPU deadline for the whole check."""

    def __init__(self, max_states: int, cpu_ms: Optional[float]):
        self.max_states = max_states
        self.cpu_ms = cpu_ms
        self.deadline = None if cpu_ms is None else time.process_time() + cpu_ms / 1000
        self.states = 0
        self.trials = 0
        self.ran_out = False

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.process_time() > self.deadline


def _entries(ops: Sequence[_Op]) -> tuple[list[int], list[bool], list[int]]:
    """The calls and returns in time order (a call before a return in the same millisecond), as
    entries 1..n of a doubly linked list: for each entry its operation, whether it is a call, and
    for a call the entry of its return (0 if the operation was never answered)."""
    events = sorted([(op.inv, 0, i) for i, op in enumerate(ops)] +
                    [(op.ret, 1, i) for i, op in enumerate(ops) if op.done])
    op_of, is_call, ret_at = [0], [False], [0] * len(ops)
    for k, (_, kind, i) in enumerate(events, 1):
        op_of.append(i)
        is_call.append(kind == 0)
        if kind:
            ret_at[i] = k
    match = [ret_at[op_of[k]] if is_call[k] else 0 for k in range(len(op_of))]
    return op_of, is_call, match


def _apply(op: _Op, state: Any) -> tuple[bool, Any]:
    """Run ``op`` on the store's model of one key: (does its answer match?, the key's new value)."""
    if op.kind == PUT:
        return not op.done or op.result == "ok", op.value
    if op.kind == APPEND:
        new = (state or "") + op.value
        return not op.done or op.result == new, new
    return not op.done or op.result == state, state


class _Search:
    """Wing & Gong's search over one key's history, with Lowe's memoization.

    The calls and returns sit in a doubly linked list (``nxt``/``prv``); placing an operation lifts
    its call and return out of the list, backtracking puts them back (Knuth's dancing links).  The
    set of placed operations is kept as ``low`` (every operation before it, in call order, is
    placed) and ``rel``, a bit mask of the placed ones from ``low`` on: small, whatever the length
    of the history, so a configuration ``(rel, low, value)`` is cheap to remember."""

    def __init__(self, ops: Sequence[_Op]):
        self.ops = ops
        self.op_of, self.is_call, self.match = _entries(ops)
        self.tail = len(self.op_of)
        self.nxt = list(range(1, self.tail + 1))
        self.prv = list(range(-1, self.tail))
        self.seen: set = set()                              # configurations explored

    def lift(self, entry: int) -> None:
        nxt, prv = self.nxt, self.prv
        for x in (entry, self.match[entry]):
            if x:
                nxt[prv[x]] = nxt[x]
                prv[nxt[x]] = prv[x]

    def unlift(self, entry: int) -> None:
        nxt, prv = self.nxt, self.prv
        for x in (self.match[entry], entry):
            if x:
                nxt[prv[x]] = x
                prv[nxt[x]] = x

    def run(self, budget: _Budget) -> Optional[bool]:
        ops, op_of, is_call, nxt = self.ops, self.op_of, self.is_call, self.nxt
        left = sum(op.done for op in ops)                   # answered operations not yet placed
        seen = self.seen
        stack: list[tuple[int, Any, int, int]] = []         # (call entry placed, value, rel, low) before it
        state: Any = None                                   # the key's value; None: never written
        rel, low = 0, 0
        entry = nxt[0]
        while entry != self.tail:
            if not is_call[entry]:                          # an unplaced operation returned: backtrack
                if not stack:
                    return False
                entry, state, rel, low = stack.pop()
                left += ops[op_of[entry]].done
                self.unlift(entry)
                entry = nxt[entry]
                continue
            i = op_of[entry]
            good, new = _apply(ops[i], state)
            if good:
                r, n = rel | (1 << (i - low)), low
                if r & 1:
                    shift = (~r & (r + 1)).bit_length() - 1
                    r, n = r >> shift, n + shift
                if (r, n, new) not in seen:
                    seen.add((r, n, new))
                    if len(seen) > budget.max_states or (len(seen) & 4095 == 0 and budget.out_of_time()):
                        budget.ran_out = True
                        return None
                    stack.append((entry, state, rel, low))
                    state, rel, low = new, r, n
                    left -= ops[i].done
                    if not left:
                        return True
                    self.lift(entry)
                    entry = nxt[0]
                    continue
            entry = nxt[entry]
        return True                          # only unanswered operations are left: they never happened


def _linearizable(ops: Sequence[_Op], budget: _Budget) -> Optional[bool]:
    """True, False, or None (out of budget)."""
    if not any(op.done for op in ops):
        return True
    if budget.out_of_time():
        budget.ran_out = True
        return None
    search = _Search(ops)
    try:
        return search.run(budget)
    finally:
        budget.states += len(search.seen)


# --- the public entry point ---------------------------------------------------------------------

def check(operations: Iterable[OperationLike], *, max_states: int = 500_000, cpu_ms: Optional[float] = None,
          until: Optional[int] = None) -> Verdict:
    """Is this client history linearizable for raftlab's key-value store?

    ``operations``: ``sim.operations`` or any objects with ``client, seq, command, invoked,
    completed, result``; their order in the list does not matter.  ``max_states``: the most search
    configurations per key (and per sub-history the shrinker tries); ``cpu_ms``: optionally, a CPU
    time budget for the search (the explanation gets the same again).  ``until``: check the history
    as it stood at that virtual time (operations sent later left out, answers given later not yet
    received) -- the verdict of a simulation rewound to ``until``.

    Returns a :class:`Verdict`: ok, failed (with a minimal explanation) or unknown."""
    if max_states < 1:
        raise ValueError(f"max_states must be at least 1, got {max_states!r}")
    by_key, count = _split(operations, until)
    budget = _Budget(max_states, cpu_ms)
    failed, unknown = [], []
    for key in sorted(by_key):
        answer = _linearizable(by_key[key], budget)
        if answer is False:
            failed.append(key)
        elif answer is None:
            unknown.append(key)
    if failed:
        return _failure(by_key, failed, _Budget(max_states, cpu_ms), budget.states, count)
    if unknown:
        key = unknown[0]
        limit = f"{max_states:,} states per key" + (f" or {cpu_ms:g} ms of CPU" if cpu_ms is not None else "")
        text = (f"could not decide key {key!r} ({len(by_key[key]):,} operations) within {limit}: the "
                f"search is exponential in the worst case; raise max_states or check a shorter history"
                + (f" (also undecided: {', '.join(map(repr, unknown[1:]))})" if unknown[1:] else ""))
        return Verdict("unknown", count, len(by_key), budget.states, key=key, explanation=text)
    return Verdict("ok", count, len(by_key), budget.states)


def _failure(by_key: dict[str, list[_Op]], failed: list[str], budget: _Budget, states: int,
             count: int) -> Verdict:
    """Explain the key that went wrong first (ties: the first key in sorted order)."""
    cuts = {key: _first_failure(by_key[key], budget) for key in failed}
    key = min(failed, key=lambda k: (cuts[k][0], k))
    t, prefix = cuts[key]
    core = _Shrinker(prefix, budget).run()
    replay = max(op.ret for op in core if op.done)            # == t: the cut before it is linearizable
    relaxed = [op for op in core if not op.done and op.src.completed is not None and op.src.completed <= t]
    pending = frozenset((op.src.client, op.src.seq) for op in core if not op.done)
    text = _explain(key, core, by_key[key], bool(relaxed))
    return Verdict("failed", count, len(by_key), states + budget.states, key=key,
                   operations=tuple(op.src for op in core), pending=pending, explanation=text,
                   replay_time=replay, minimal=not budget.ran_out, other_keys=tuple(k for k in failed if k != key))


# --- the minimal explanation --------------------------------------------------------------------

def _fails(ops: Sequence[_Op], budget: _Budget) -> bool:
    """Is ``ops`` certainly not linearizable?  (Out of budget counts as no.)"""
    budget.trials += 1
    if budget.trials > _MAX_TRIALS:
        budget.ran_out = True
        return False
    return _linearizable(ops, budget) is False


def _first_failure(ops: list[_Op], budget: _Budget) -> tuple[int, list[_Op]]:
    """The earliest answer time ``t`` such that the history cut at ``t`` is not linearizable
    (binary search: a history whose cut is wrong is wrong), and that cut."""
    times = sorted({op.ret for op in ops if op.done})
    lo, hi = 0, len(times) - 1        # the cut at times[-1] fails, since the whole history does
    while lo < hi:
        mid = (lo + hi) // 2
        if _fails(_prefix(ops, times[mid]), budget):
            hi = mid
        else:
            lo = mid + 1
    return times[hi], _prefix(ops, times[hi])


class _Observers:
    """The answered gets and appends of a sub-history, indexed to ask quickly: could any of them
    have seen the effect of write ``w``?"""

    def __init__(self, kept: Sequence[_Op]):
        self.obs = sorted((op for op in kept if op.done and op.kind != PUT and isinstance(op.seen, str)),
                          key=lambda o: o.inv)
        self.inv = [o.inv for o in self.obs]
        self.latency = max((o.ret - o.inv for o in self.obs), default=0)
        puts = sorted((op for op in kept if op.done and op.kind == PUT), key=lambda p: p.inv)
        self.put_inv = [p.inv for p in puts]
        self.min_ret = [p.ret for p in puts] + [_NEVER]     # min_ret[j]: earliest answer of puts[j:]
        for j in range(len(puts) - 1, -1, -1):
            self.min_ret[j] = min(self.min_ret[j], self.min_ret[j + 1])
        first_sent: dict[str, int] = {}
        for p in kept:
            if p.kind == PUT:
                first_sent[p.value] = min(p.inv, first_sent.get(p.value, _NEVER))
        self.tail = [self._appended(o, first_sent) for o in self.obs]

    def _appended(self, o: _Op, first_sent: dict[str, int]) -> str:
        """The part of ``o``'s value that appends may have written: after the shortest value of a
        kept put that could have come before ``o`` (the whole value if the key may have been empty)."""
        if self.min_ret[0] >= o.inv:            # no kept put surely came before o: maybe no put at all
            return o.seen
        for n in range(1, len(o.seen) + 1):
            if first_sent.get(o.seen[:n], _NEVER) <= o.ret:
                return o.seen[n:]
        return ""

    def see(self, w: _Op) -> bool:
        """True if a kept answer could show ``w``'s value: an answer that came after ``w`` was sent,
        not separated from ``w`` by an answered put (sent after ``w`` was answered and answered
        before that get or append was sent), whose value starts with the put's value, or has the
        appended text after the value of a put that came before it."""
        limit = _NEVER if not w.done else self.min_ret[bisect_right(self.put_inv, w.ret)]
        lo = bisect_left(self.inv, w.inv - self.latency)
        hi = bisect_right(self.inv, limit)
        for k in range(lo, hi):
            o = self.obs[k]
            if o.ret >= w.inv and (o.seen.startswith(w.value) if w.kind == PUT else w.value in self.tail[k]):
                return True
        return False


class _Shrinker:
    """Greedy, sound shrinking of a history that cannot be ordered.

    Two kinds of step keep "if what is left cannot be ordered, neither can the history" true:
    *forgetting* an append's answer (it becomes pending: a weaker claim), and *leaving out* an
    operation: a get always, a write only when no answer left could show its value, either because
    no value left contains it or because an answered put left in between overwrote it.  The writes
    left out are remembered, and every step must keep them all invisible."""

    def __init__(self, ops: Sequence[_Op], budget: _Budget):
        self.cand = [op for op in ops if op.done or op.kind != GET]   # unanswered gets show nothing
        self.removed: list[_Op] = []
        self.budget = budget

    def plan(self, cand: Sequence[_Op], chosen: Iterable[int]) -> set[int]:
        """The largest part of ``chosen`` that can be left out of ``cand`` while every write left
        out so far stays invisible (only leaving out an answered put can make one visible again)."""
        drop = set(chosen)
        while True:
            view = _Observers([op for j, op in enumerate(cand) if j not in drop])
            keep = [j for j in sorted(drop) if cand[j].kind != GET and view.see(cand[j])]
            if keep:
                drop.difference_update(keep)
                continue
            puts = [j for j in sorted(drop) if cand[j].done and cand[j].kind == PUT]
            if not puts or not any(view.see(w) for w in self.removed):
                return drop
            drop.difference_update(puts)     # keep the answered puts that hide earlier writes

    def attempt(self, cand: list[_Op], drop: set[int]) -> bool:
        trial = [op for j, op in enumerate(cand) if j not in drop]
        if not _fails(trial, self.budget):
            return False
        self.removed += [cand[j] for j in sorted(drop) if cand[j].kind != GET]
        self.cand = trial
        return True

    def drop_chunks(self, chunk: int) -> None:
        """Delta debugging: leave out chunks (halves, quarters, ... single operations) while the rest
        still cannot be ordered; end with a pass of single operations that changes nothing."""
        chunk = max(1, chunk)
        while True:
            i, changed = 0, False
            while i < len(self.cand):
                drop = self.plan(self.cand, range(i, min(i + chunk, len(self.cand))))
                if drop and self.attempt(self.cand, drop):
                    changed = True
                else:
                    i += chunk
            if chunk == 1 and not changed:
                return
            chunk = max(1, chunk // 2)

    def relax_appends(self) -> bool:
        """Forget answered appends' answers (each becomes "sent at t, took effect then or later, or
        never"; left out too if nothing can show it) while the rest still cannot be ordered.  An
        append's answer shows the value it found, so forgetting it may let more writes go.  (Puts
        keep their answers: forgetting one never lets anything else go.)"""
        changed, i = False, 0
        while i < len(self.cand):
            op = self.cand[i]
            if op.done and op.kind == APPEND:
                trial = list(self.cand)
                trial[i] = op._replace(done=False, result=None, ret=_NEVER, seen=None)
                if self.attempt(trial, self.plan(trial, [i])):
                    changed = True
                    continue
            i += 1
        return changed

    def run(self) -> list[_Op]:
        self.drop_chunks(len(self.cand) // 2)
        while self.relax_appends():
            self.drop_chunks(1)
        return sorted(self.cand + self.sources(), key=_order)

    def sources(self) -> list[_Op]:
        """For each answer left, the put whose value it begins with, if a later put hid that put and
        it was left out: put back, so the explanation says where the value came from (still sound:
        adding a hidden write back cannot make the explanation linearizable)."""
        back: dict[int, _Op] = {}
        for o in self.cand:
            if o.done and o.kind != PUT and isinstance(o.seen, str):
                writers = [w for w in self.cand + self.removed if w.kind == PUT and w.inv <= o.ret
                           and o.seen.startswith(w.value)]
                best = max(writers, key=lambda x: (len(x.value), x.ret, x.inv), default=None)
                if best is not None and best not in self.cand:
                    back[id(best)] = best
        return list(back.values())


# --- saying what went wrong ---------------------------------------------------------------------

def _who(op: _Op, key: str) -> str:
    verb = {PUT: f"put {key}={op.value}", APPEND: f"append of {op.value!r} to {key}", GET: f"get {key}"}
    return f"{op.src.client}'s {verb[op.kind]}"


def _found(op: _Op, key: str) -> str:
    """What an answered get or append saw, in words."""
    if op.kind == GET:
        shown = "nothing (as if it had never been written)" if op.seen is None else repr(op.seen)
        return f"{_who(op, key)} returned {shown} at t={op.ret}"
    found = f"{key} empty" if op.seen in ("", None) else f"{key}={op.seen!r}"
    return f"{_who(op, key)} returned {op.result!r} at t={op.ret} (so it found {found})"


def _explain(key: str, core: list[_Op], history: list[_Op], relaxed: bool) -> str:
    observers = sorted((op for op in core if op.done and op.kind != PUT), key=lambda o: -o.ret)
    for diagnose in (_bad_answer, _never_written, _applied_twice, _missing_write):
        text = diagnose(key, core, observers, history)
        if text:
            return text
    note = (" (an answered write marked 'only its start matters' may have taken effect at any time "
            "after it was sent)" if relaxed else "")
    return (f"These {len(core)} operations on {key} cannot be put in one order that respects both real "
            f"time (an operation answered before another was sent comes first) and the store's rules{note}: "
            f"each answer can be explained on its own, but not all of them together.")


def _bad_answer(key: str, core: list[_Op], observers: list[_Op], history: list[_Op]) -> str:
    """An answer no store could give, whatever the order."""
    for op in core:
        if not op.done:
            continue
        if op.kind == PUT and op.result != "ok":
            return (f"{_who(op, key)} was answered {op.result!r} at t={op.ret}, but the store answers "
                    f"every put with 'ok': no correct server sent that answer.")
        if op.kind == APPEND and not (isinstance(op.result, str) and op.result.endswith(op.value)):
            return (f"{_who(op, key)} was answered {op.result!r} at t={op.ret}, but an append answers "
                    f"the key's new value, which ends with what was appended.")
        if op.kind == GET and not (op.result is None or isinstance(op.result, str)):
            return f"{_who(op, key)} was answered {op.result!r} at t={op.ret}: a get answers text or None."
    return ""


class _GiveUp(Exception):
    """The value is too long to take apart: say nothing specific about it."""


def _tiles(text: str, pieces: Sequence[str], once: bool) -> Optional[list[str]]:
    """Split ``text`` into appended values taken from ``pieces`` (each at most once if ``once``);
    return the split, or None if there is none."""
    counts: dict[str, int] = {}
    for p in pieces:
        if p:
            counts[p] = counts.get(p, 0) + 1
    failed: set = set()

    def go(pos: int) -> Optional[list[str]]:
        if pos == len(text):
            return []
        memo = (pos, tuple(sorted(counts.items()))) if once else pos
        if memo in failed:
            return None
        if len(failed) > 20_000:
            raise _GiveUp
        for p in sorted(counts):
            if counts[p] and text.startswith(p, pos):
                counts[p] -= once
                rest = go(pos + len(p))
                counts[p] += once
                if rest is not None:
                    return [p] + rest
        failed.add(memo)
        return None
    return go(0)


def _derive(value: str, writes: Sequence[_Op], once: bool, empty_ok: bool,
            after: bool = False) -> Optional[tuple[Optional[_Op], list[str]]]:
    """How ``value`` could be made from ``writes``: the put whose value it starts with (None: the
    key was empty, allowed if ``empty_ok``) and the appended values after it.  With ``after``, only
    appends not answered before that put was sent may follow it."""
    puts = sorted((w for w in writes if w.kind == PUT and value.startswith(w.value)), key=lambda w: -len(w.value))
    bases: list[Optional[_Op]] = [None] if empty_ok else []
    for base in bases + list(puts):
        try:
            split = _tiles(value[len(base.value) if base is not None else 0:], _usable(writes, base, after), once)
        except _GiveUp:
            return None, []              # perhaps it can be made: claim nothing
        if split is not None:
            return base, split
    return None


def _usable(writes: Sequence[_Op], base: Optional[_Op], after: bool) -> list[str]:
    return [w.value for w in writes if w.kind == APPEND and not (after and base and w.ret < base.inv)]


def _empty_ok(o: _Op, writes: Iterable[_Op]) -> bool:
    """Could the key still be empty when ``o`` ran?  Not if a put was answered before ``o`` was sent."""
    return not any(w.kind == PUT and w.done and w.ret < o.inv for w in writes)


def _writes(ops: Iterable[_Op], but: _Op) -> list[_Op]:
    return [w for w in ops if w.kind != GET and w.src is not but.src]


def _made(o: _Op) -> str:
    """The value an answered get or append vouches for: a get's answer, or an append's whole new
    value (which must be made by the writes, the append itself included)."""
    return o.result if o.kind == APPEND else o.seen


def _never_written(key: str, core: list[_Op], observers: list[_Op], history: list[_Op]) -> str:
    """A value that no write sent by then can make: invented, or read from the future."""
    for o in observers:
        value = _made(o)
        if not value:
            continue
        writes = [w for w in history if w.kind != GET]
        sent = [w for w in writes if w.inv <= o.ret]
        if _derive(value, sent, once=False, empty_ok=_empty_ok(o, writes)) is not None:
            continue
        later = [w for w in writes if w.inv > o.ret and _shows(value, w)]
        if later and _derive(value, writes, once=False, empty_ok=_empty_ok(o, writes)) is not None:
            w = later[0]
            return (f"{_found(o, key)}, but no client had asked for that value by then: {_who(w, key)}, "
                    f"which it shows, was sent only at t={w.inv}.  A server answered with a value from the "
                    f"future: real-time order is broken (a read must not see a write that was not yet sent).")
        return _invented(key, o, value, sent, core)
    return ""


def _invented(key: str, o: _Op, value: str, sent: list[_Op], core: list[_Op]) -> str:
    text = f"{_found(o, key)}: no put or append of {key} sent by then can make that value."
    before = [w for w in core if w.kind == PUT and w.done and w.ret < o.inv] or \
             [w for w in sent if w.kind == PUT and w.done and w.ret < o.inv]
    put = max(before, key=lambda w: w.ret, default=None)
    if put is not None and _derive(value, sent, once=False, empty_ok=True) is not None:
        verb = "get" if o.kind == GET else "append"
        text = (f"{_found(o, key)}, but {_who(put, key)} had been acknowledged at t={put.ret}, before the {verb} "
                f"was sent at t={o.inv}, so the value must begin with what some put of {key} wrote, and no put "
                f"sent by then wrote a beginning of {value!r}.")
    return text + "  A server invented it, or answered from the wrong key or a corrupted state machine."


def _applied_twice(key: str, core: list[_Op], observers: list[_Op], history: list[_Op]) -> str:
    """A value that needs some append applied more than once (after the put it begins with)."""
    for o in observers:
        value = _made(o)
        writes = [w for w in core if w.kind != GET]
        empty_ok = _empty_ok(o, writes)
        if not value or _derive(value, writes, True, empty_ok, after=True) is not None:
            continue
        made = _derive(value, writes, False, empty_ok, after=True)
        if made is None:
            continue
        base, split = made
        since = "" if base is None else f" after {_who(base, key)} (sent at t={base.inv})"
        for piece in sorted(set(split)):
            sent = [w for w in writes if w.kind == APPEND and w.value == piece
                    and not (base and w.ret < base.inv)]
            if split.count(piece) > len(sent):
                who = ", ".join(f"{w.src.client}#{w.src.seq}" for w in sent) or "no client"
                return (f"{_found(o, key)}: that value holds {piece!r} {split.count(piece)} times, but only "
                        f"{len(sent)} append{'s' if len(sent) != 1 else ''} of {piece!r} to {key} ({who}) "
                        f"could have taken effect{since}.  An append was applied twice: a retried request (same "
                        f"client, same seq) must be answered from the store's client session, not applied again.")
    return ""


def _missing_write(key: str, core: list[_Op], observers: list[_Op], history: list[_Op]) -> str:
    """An answer that misses a write acknowledged before the operation was even sent."""
    for o in observers:
        sources = [p for p in _writes(core, o) if p.kind == PUT and _shows(o.seen, p)]
        missed = [w for w in _writes(core, o) if w.done and w.ret < o.inv and not _shows(o.seen, w)
                  and all(_before(p, w, core) for p in sources)]
        if not missed:
            continue
        w = max(missed, key=lambda m: (m.ret, m.inv))
        back = "" if o.seen in (None, "") else f", and no write that could set {key} back to {o.seen!r} came after it"
        src = max(sources, key=lambda p: (len(p.value), p.ret), default=None)
        origin = "" if src is None else (f" ({'the value' if src.value == o.seen else 'a value that begins with what'} "
                                         f"{_who(src, key)} wrote, acknowledged at t={src.ret})")
        text = (f"{_found(o, key)}{origin}, but {_who(w, key)} had been acknowledged at t={w.ret}, before the "
                f"{'get' if o.kind == GET else 'append'} was sent at t={o.inv}{back}.  ")
        later = [x for x in history if x.done and x.kind != PUT and x.inv > o.ret and _shows(x.seen, w)]
        if w.kind == PUT and later and sum(q.kind == PUT and q.value == w.value for q in history) == 1:
            x = later[0]
            return text + (f"The write was not lost ({x.src.client}'s {'get' if x.kind == GET else 'append'} "
                           f"at t={x.ret} sees it): this answer came from a copy of the state machine that had "
                           f"not applied it yet -- a stale read.  A Raft server may answer a read only once it "
                           f"knows it is still the leader with an up-to-date commit index (the read goes through "
                           f"the log, or ReadIndex with a heartbeat round, dissertation section 6.4).")
        return text + ("Either the acknowledged write was lost (answered before its entry was committed, or the "
                       "committed entry was overwritten later) or this answer came from a stale copy of the "
                       "state machine (a stale read).")
    return ""


def _before(p: _Op, w: _Op, core: list[_Op]) -> bool:
    """Must put ``p`` come before write ``w``?  Yes if it was answered before ``w`` was sent, or if
    ``w`` is an answered append that found ``p``'s value (and no other put wrote that value)."""
    if p.ret < w.inv:
        return True
    unique = sum(q.kind == PUT and q.value == p.value for q in core) == 1
    return w.kind == APPEND and w.done and unique and _shows(w.seen, p)


def _shows(seen: Any, w: _Op) -> bool:
    """Could a value ``seen`` contain write ``w``'s effect?"""
    if not isinstance(seen, str):
        return False
    return seen.startswith(w.value) if w.kind == PUT else w.value in seen
