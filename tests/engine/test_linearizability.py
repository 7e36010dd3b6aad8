"""The linearizability checker (raftlab/linearizability.py, issue 10 section 1).

Every history called "not linearizable" here is one no correct store could produce: the tests say
why in a comment, and a brute-force oracle (every order of every subset of pending operations)
confirms the checker on small random histories.  Histories of the reference engine -- lossy
network, crashes, partitions, many clients, operations still pending at the end -- are all
linearizable.
"""
from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from raftlab import actions as act
from raftlab.campaign import apply_fault, fault_schedule
from raftlab.errors import SafetyViolation
from raftlab.linearizability import PROPERTY, Verdict, check
from raftlab.sim import Operation, Simulation

ROOT = Path(__file__).resolve().parents[2]


# --- building histories by hand ------------------------------------------------------------------

def put(client, seq, key, value, invoked, completed, result="ok"):
    return Operation(client, seq, ("put", key, value), invoked, completed, result if completed is not None else None)


def append(client, seq, key, value, invoked, completed, result=None):
    return Operation(client, seq, ("append", key, value), invoked, completed, result)


def get(client, seq, key, invoked, completed, result=None):
    return Operation(client, seq, ("get", key), invoked, completed, result)


def forget(op):
    """The same operation, its answer never received (it may have taken effect, or not)."""
    return replace(op, completed=None, result=None)


def as_proved(verdict: Verdict) -> list:
    """The explanation as the history it claims cannot be ordered: operations whose answer the
    proof does not use are pending."""
    return [forget(op) if op.id in verdict.pending else op for op in verdict.operations]


def shows(answer, write) -> bool:
    """Could ``answer`` (a get's or append's result) contain ``write``'s value?"""
    return isinstance(answer, str) and write.command[0] != "get" and write.command[2] in answer


def assert_minimal(verdict: Verdict, barriers: bool = False) -> None:
    """Leaving any one operation out of the explanation makes it linearizable -- except a write whose
    value an answer left in it shows: it is there to say where that value came from (leaving it out
    would turn the story into "a value nobody wrote", which would be false).  With ``barriers``, also
    except a put acknowledged before an answer in it was sent: it may be there to say that writes
    before it were overwritten (the history had some the explanation leaves out)."""
    proof = as_proved(verdict)
    assert check(proof).failed, "the explanation itself must not be linearizable"
    for op in proof:
        rest = [o for o in proof if o is not op]
        answers = [o for o in rest if o.completed is not None and o.command[0] != "put"]
        if any(shows(o.result, op) for o in answers):
            continue
        if barriers and op.command[0] == "put" and op.completed is not None and any(
                op.completed < o.invoked for o in answers):
            continue
        assert check(rest).ok, f"{op} is not needed in the explanation:\n{verdict}"


# --- linearizable histories ----------------------------------------------------------------------

def test_an_empty_history_and_a_sequential_one_are_linearizable():
    assert check([]).ok
    ops = [get("c1", 1, "x", 0, 5, None), put("c1", 2, "x", "1", 10, 20), append("c2", 1, "x", "2", 30, 40, "12"),
           get("c3", 1, "x", 50, 60, "12"), put("c2", 2, "y", "7", 55, 70), get("c1", 3, "y", 80, 90, "7")]
    v = check(ops)
    assert v.ok and not v.failed and not v.unknown
    assert (v.checked, v.keys) == (6, 2)
    assert str(v).startswith("linearizable: 6 operations on 2 keys")


@pytest.mark.parametrize("seen", [None, "1"])
def test_a_get_overlapping_a_put_may_see_either_value(seen):
    ops = [put("c1", 1, "x", "1", 0, 100), get("c2", 1, "x", 10, 20, seen)]
    assert check(ops).ok


@pytest.mark.parametrize("first,second", [("a", "ab"), ("ba", "b")])
def test_overlapping_appends_may_take_effect_in_either_order(first, second):
    ops = [append("c1", 1, "x", "a", 0, 50, first), append("c2", 1, "x", "b", 10, 60, second)]
    assert check(ops).ok


def test_two_reads_may_see_concurrent_writes_in_either_order_once():
    # put 1 and put 2 overlap both gets: put 2, get -> 2, put 1, get -> 1 is a valid order
    ops = [put("c1", 1, "x", "1", 0, 100), put("c2", 1, "x", "2", 0, 100),
           get("c3", 1, "x", 10, 20, "2"), get("c3", 2, "x", 30, 40, "1")]
    assert check(ops).ok


def test_events_in_the_same_millisecond_count_as_concurrent():
    # the put is answered at t=10 and the get sent at t=10: either order is allowed
    assert check([put("c1", 1, "x", "1", 0, 10), get("c2", 1, "x", 10, 20, None)]).ok
    assert check([put("c1", 1, "x", "1", 0, 10), get("c2", 1, "x", 11, 20, None)]).failed


def test_pending_operations_may_have_taken_effect_or_not():
    never = [forget(put("c1", 1, "x", "5", 0, 1)), get("c2", 1, "x", 50, 60, None)]
    took = [forget(put("c1", 1, "x", "5", 0, 1)), get("c2", 1, "x", 50, 60, "5")]
    later = [forget(put("c1", 1, "x", "5", 0, 1)), get("c2", 1, "x", 50, 60, None), get("c2", 2, "x", 70, 80, "5")]
    appended = [put("c1", 1, "x", "1", 0, 10), forget(append("c2", 1, "x", "2", 20, 0)),
                get("c3", 1, "x", 100, 110, "12"), append("c1", 2, "x", "3", 120, 130, "123")]
    for ops in (never, took, later, appended):
        assert check(ops).ok, ops


def test_a_pending_put_explains_a_read_and_nothing_else_does():
    # the only write of '9' was never answered; a get that returns '9' proves it took effect
    ops = [put("c1", 1, "x", "1", 0, 10), forget(put("c2", 1, "x", "9", 20, 0)),
           get("c3", 1, "x", 500, 510, "9"), get("c3", 2, "x", 520, 530, "9")]
    assert check(ops).ok
    # ... but at most once: after x=1 is written again, '9' cannot come back
    ops += [put("c1", 2, "x", "1", 600, 610), get("c3", 3, "x", 620, 630, "9")]
    v = check(ops)
    assert v.failed and v.replay_time == 630


# --- not linearizable: each a history no correct store could produce ------------------------------

def test_a_stale_read():
    # put x=2 was acknowledged at t=300; the get was sent at t=400 and returned the older '1'
    ops = [put("c1", 1, "x", "1", 100, 200), put("c3", 1, "x", "2", 250, 300), get("c2", 1, "x", 400, 450, "1"),
           get("c2", 2, "x", 500, 550, "2")]
    v = check(ops)
    assert v.failed and v.key == "x" and v.replay_time == 450
    assert [op.id for op in v.operations] == [("c1", 1), ("c3", 1), ("c2", 1)]
    assert "c2's get x returned '1' at t=450" in v.explanation
    assert "c3's put x=2 had been acknowledged at t=300" in v.explanation
    assert "no write that could set x back to '1'" in v.explanation
    assert "stale read" in v.explanation and "not lost" in v.explanation
    assert_minimal(v)
    # put x=1 is there as the source of '1': had it been under way until after put x=2, no problem
    assert check([forget(v.operations[0])] + list(v.operations[1:])).ok
    text = str(v)
    assert text.startswith("NOT linearizable: key 'x', wrong by t=450")
    assert "c2#1 get x" in text and "(3 of 4)" in text


def test_a_lost_acknowledged_write():
    # put x=1 was acknowledged; a get sent afterwards finds x never written, and nothing overwrote it
    ops = [put("c1", 1, "x", "1", 0, 10), get("c2", 1, "x", 20, 30, None), get("c2", 2, "x", 40, 50, None)]
    v = check(ops)
    assert v.failed and v.replay_time == 30
    assert [op.id for op in v.operations] == [("c1", 1), ("c2", 1)]
    assert "returned nothing (as if it had never been written)" in v.explanation
    assert "c1's put x=1 had been acknowledged at t=10" in v.explanation
    assert "acknowledged write was lost" in v.explanation
    assert_minimal(v)


def test_an_acknowledged_write_missing_from_later_appends():
    # append 'a' was acknowledged at t=10, yet the append sent at t=20 found x empty
    ops = [append("c1", 1, "x", "a", 0, 10, "a"), append("c2", 1, "x", "b", 20, 30, "b")]
    v = check(ops)
    assert v.failed and len(v.operations) == 2
    assert "c2's append of 'b' to x returned 'b' at t=30 (so it found x empty)" in v.explanation
    assert_minimal(v)


def test_an_append_applied_twice():
    # one append of '1', but x became '11': the retried request was executed twice
    ops = [put("c0", 1, "x", "5", 0, 5), append("c1", 1, "x", "1", 10, 20, "51"), get("c2", 1, "x", 30, 40, "511")]
    v = check(ops)
    assert v.failed and v.replay_time == 40
    assert "append was applied twice" in v.explanation
    assert "holds '1' 2 times, but only 1 append of '1' to x (c1#1)" in v.explanation
    assert_minimal(v)
    # the append's own answer can show it too
    v = check([put("c0", 1, "x", "5", 0, 5), append("c1", 1, "x", "1", 10, 20, "511")])
    assert v.failed and "applied twice" in v.explanation


def test_a_read_of_a_value_never_written():
    ops = [put("c1", 1, "x", "1", 0, 10), get("c2", 1, "x", 20, 30, "9"), put("c1", 2, "y", "9", 0, 10)]
    v = check(ops)
    assert v.failed and [op.id for op in v.operations] == [("c2", 1)]
    assert "no put or append of x sent by then can make that value" in v.explanation
    assert "invented" in v.explanation
    assert_minimal(v)


def test_answers_the_store_never_gives():
    assert "answers every put with 'ok'" in check([put("c1", 1, "x", "1", 0, 10, "nope")]).explanation
    assert "ends with what was appended" in check([append("c1", 1, "x", "2", 0, 10, "13")]).explanation


def test_a_read_from_the_future_breaks_real_time_order():
    # the get was answered '2' at t=10; the only write of '2' was sent at t=20
    ops = [get("c2", 1, "x", 0, 10, "2"), put("c1", 1, "x", "2", 20, 30)]
    v = check(ops)
    assert v.failed and v.replay_time == 10          # wrong as soon as the answer arrived
    assert "c1's put x=2, which it shows, was sent only at t=20" in v.explanation
    assert "real-time order" in v.explanation
    # a pending write cannot take effect before it was sent either
    v = check([get("c2", 1, "x", 0, 10, "2"), forget(put("c1", 1, "x", "2", 20, 0))])
    assert v.failed and "from the future" in v.explanation


def test_a_new_value_then_an_old_one_breaks_real_time_order():
    # put 1 and put 2 overlap; once a get has returned 2 (put 2 is placed) and then one returned 1
    # (put 1 after it), a third get that returns 2 again needs put 2 twice
    ops = [put("c1", 1, "x", "1", 0, 100), put("c2", 1, "x", "2", 0, 100), get("c3", 1, "x", 10, 20, "2"),
           get("c3", 2, "x", 30, 40, "1"), get("c3", 3, "x", 50, 60, "2")]
    v = check(ops)
    assert v.failed and len(v.operations) == 5 and v.replay_time == 60
    assert "cannot be put in one order that respects both real time" in v.explanation
    assert_minimal(v)
    # the same answers with the writes sequential: after put 2 was acknowledged, no read sees 1
    ops = [put("c1", 1, "x", "1", 0, 10), put("c2", 1, "x", "2", 20, 30), get("c3", 1, "x", 25, 40, "2"),
           get("c3", 2, "x", 50, 60, "1")]
    v = check(ops)
    assert v.failed and v.replay_time == 60 and "stale read" in v.explanation


def test_the_explanation_picks_the_key_that_went_wrong_first():
    ops = [put("c1", 1, "y", "1", 0, 10), get("c2", 1, "y", 500, 510, None),
           put("c1", 2, "x", "1", 0, 10), get("c2", 2, "x", 100, 110, None),
           put("c1", 3, "z", "1", 0, 10), get("c2", 3, "z", 20, 30, "1")]
    v = check(ops)
    assert v.failed and v.key == "x" and v.other_keys == ("y",)
    assert "also not linearizable: key 'y'" in str(v)


def test_a_verdict_becomes_a_named_safety_violation():
    v = check([put("c1", 1, "x", "1", 0, 10), get("c2", 1, "x", 20, 30, None)])
    exc = v.as_violation()
    assert isinstance(exc, SafetyViolation) and exc.property == PROPERTY == "Linearizability"
    assert exc.time == 30 and "acknowledged at t=10" in exc.detail
    with pytest.raises(ValueError):
        check([]).as_violation()


def test_until_checks_the_history_as_it_stood_then():
    ops = [put("c1", 1, "x", "1", 0, 10), put("c1", 2, "x", "2", 20, 30), get("c2", 1, "x", 40, 60, "1")]
    assert check(ops).failed
    assert check(ops, until=59).ok          # the wrong answer has not arrived yet
    assert check(ops, until=60).failed


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="not a put, append or get"):
        check([Operation("c1", 1, ("cas", "x", "1", "2"), 0, 10, "ok")])
    with pytest.raises(ValueError, match="before it was sent"):
        check([put("c1", 1, "x", "1", 10, 5)])


# --- the budget and determinism -------------------------------------------------------------------

def pathological(n: int = 24) -> list:
    """n appends of distinct letters, all concurrent, then a get whose answer is no order of them:
    the search has to try every subset before it can say no."""
    letters = [chr(ord("a") + i) for i in range(n)]
    ops = [forget(append(f"c{i}", 1, "x", c, 0, 0)) for i, c in enumerate(letters)]
    return ops + [get("z", 1, "x", 0, 1000, "".join(letters) + "!")]


def test_a_pathological_history_is_unknown_within_the_budget():
    t = time.process_time()
    v = check(pathological(), max_states=20_000)
    assert v.unknown and not v.ok and not v.failed
    assert "could not decide key 'x'" in v.explanation and "20,000 states" in str(v)
    assert time.process_time() - t < 3
    t = time.process_time()
    v = check(pathological(), max_states=10**9, cpu_ms=300)
    assert v.unknown and "300 ms of CPU" in v.explanation
    assert time.process_time() - t < 3


def test_the_verdict_does_not_depend_on_list_order():
    ops = [put("c1", 1, "x", "1", 100, 200), put("c3", 1, "x", "2", 250, 300), get("c2", 1, "x", 400, 450, "1"),
           append("c4", 1, "y", "3", 0, 50, "3"), get("c4", 2, "y", 60, 70, "33"), get("c5", 1, "x", 250, 260, "1")]
    assert str(check(ops)) == str(check(ops[::-1]))
    assert check(ops).ids == check(ops[::-1]).ids


def test_the_verdict_does_not_depend_on_the_hash_seed():
    code = ("from raftlab.sim import Operation as O\nfrom raftlab.linearizability import check\n"
            "ops = [O('c1', 1, ('put', 'x', '1'), 0, 100, 'ok'), O('c2', 1, ('put', 'x', '2'), 0, 100, 'ok'),\n"
            "       O('c3', 1, ('get', 'x'), 10, 20, '2'), O('c3', 2, ('get', 'x'), 30, 40, '1'),\n"
            "       O('c3', 3, ('get', 'x'), 50, 60, '2'), O('c4', 1, ('append', 'y', 'a'), 0, 9, 'aa')]\n"
            "print(check(ops))\n")
    outs = set()
    for seed in ("1", "2", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        outs.add(subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                                text=True, check=True).stdout)
    assert len(outs) == 1 and "NOT linearizable" in outs.pop()


# --- histories of the reference engine --------------------------------------------------------------

def churn(seed: int, duration: int = 20_000, **config) -> Simulation:
    """5 servers, 5 clients, 10% of messages lost, crashes, restarts and partitions every few hundred
    ms; stopped while clients still wait for answers."""
    sim = Simulation(nodes=5, seed=seed, request_interval=20, clients=5, drop=0.1, **config)
    for fault in fault_schedule(seed, 5, duration, every=300):
        if fault.time > sim.now:
            sim.advance(fault.time - sim.now)
        apply_fault(sim, fault)
    sim.advance(duration - sim.now)
    sim.do(act.Partition((("n1", "n2"),)))     # and a last partition, so some requests never finish
    sim.advance(300)
    return sim


@pytest.mark.parametrize("seed,config", [(1, {}), (2, {}), (3, {"pre_vote": True}), (4, {"check_quorum": True}),
                                         (5, {"pre_vote": True, "check_quorum": True})])
def test_reference_histories_are_linearizable(seed, config):
    sim = churn(seed, **config)
    ops = sim.operations
    assert len(ops) > 150 and any(op.completed is None for op in ops)
    assert any(op.command[0] == "get" and op.completed is not None for op in ops)
    assert any(op.attempts > 1 for op in ops)                    # retries happened
    v = check(ops)
    assert v.ok, str(v)
    for t in (3000, 8000, 15_000):                                # and at earlier points of the run
        assert check(ops, until=t).ok


def stale_candidates(ops):
    """(get, old put) pairs where the get's answer changed to the old put's value is one no correct
    store could give: a newer put of the key was sent after the old put was acknowledged and was
    acknowledged before the get was sent, and no other put whose value begins the old value was still
    under way when the newer one was sent (so nothing could make that value again)."""
    done = [op for op in ops if op.completed is not None]
    puts = [op for op in ops if op.command[0] == "put"]
    for victim in done[len(done) // 2:]:
        if victim.command[0] != "get" or victim.result is None:
            continue
        key = victim.command[1]
        for old in puts:
            if old.command[1] != key or old.completed is None or old.command[2] == victim.result:
                continue
            newer = [p for p in puts if p.command[1] == key and p.completed is not None
                     and old.completed < p.invoked and p.completed < victim.invoked]
            sources = [p for p in puts if p is not old and p.command[1] == key
                       and old.command[2].startswith(p.command[2])
                       and (p.completed is None or p.completed >= min(n.invoked for n in newer or [old]))]
            if newer and not sources:
                yield victim, old


def test_a_corrupted_reference_history_is_caught_with_a_small_explanation():
    ops = churn(6).operations
    victim, old = next(stale_candidates(ops))
    bad = [replace(op, result=old.command[2]) if op is victim else op for op in ops]
    v = check(bad)
    assert v.failed and v.key == victim.command[1] and victim.id in v.ids
    assert v.replay_time is not None and v.replay_time >= victim.completed
    assert 2 <= len(v.operations) <= 6 and check(as_proved(v)).failed
    assert f"{victim.client}'s get {victim.command[1]} returned {old.command[2]!r} at t={victim.completed}" \
        in v.explanation


# --- properties --------------------------------------------------------------------------------------

@st.composite
def sequential_runs(draw):
    """A history made by running the store's model one operation at a time (linearization points
    10 ms apart) and giving each operation a random interval around its point; some operations are
    never answered (half of those took effect, half did not)."""
    n = draw(st.integers(1, 14))
    state: dict[str, str] = {}
    ops = []
    for i in range(n):
        verb = draw(st.sampled_from(["put", "append", "get"]))
        key = draw(st.sampled_from(["x", "y"]))
        value = draw(st.sampled_from("123"))
        cmd = (verb, key) if verb == "get" else (verb, key, value)
        point = 10 * (i + 1)
        before, after = draw(st.integers(0, 35)), draw(st.integers(0, 35))
        fate = draw(st.sampled_from(["answered"] * 4 + ["took effect", "lost"]))
        if fate != "lost":
            if verb == "put":
                state[key], result = value, "ok"
            elif verb == "append":
                state[key] = result = state.get(key, "") + value
            else:
                result = state.get(key)
        completed = point + after if fate == "answered" else None
        ops.append(Operation(f"c{i}", 1, cmd, point - before, completed, result if completed is not None else None))
    order = draw(st.permutations(range(n)))
    return [ops[i] for i in order]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sequential_runs(), st.data())
def test_histories_of_a_sequential_store_are_linearizable_and_one_impossible_answer_is_caught(ops, data):
    assert check(ops).ok
    answered = [i for i, op in enumerate(ops) if op.completed is not None]
    if not answered:
        return
    i = data.draw(st.sampled_from(answered))
    op = ops[i]
    # values are made of 1, 2 and 3 only: 'q' is in no value any interleaving can produce
    impossible = {"put": "q", "append": (op.result or "") + "q", "get": "q"}[op.command[0]]
    bad = ops[:i] + [replace(op, result=impossible)] + ops[i + 1:]
    v = check(bad)
    assert v.failed and op.id in v.ids and v.key == op.command[1]
    assert v.replay_time == op.completed
    assert check(as_proved(v)).failed
    assert {"put": "answers every put with 'ok'", "append": "ends with what was appended",
            "get": "can make that value"}[op.command[0]] in v.explanation


def oracle(ops) -> bool:
    """Linearizable by brute force: some subset of the pending operations, in some order with all the
    answered ones, respects real time and gives every answer."""
    answered = [op for op in ops if op.completed is not None]
    pending = [op for op in ops if op.completed is None]
    for k in range(len(pending) + 1):
        for chosen in itertools.combinations(pending, k):
            for order in itertools.permutations(answered + list(chosen)):
                if legal(order):
                    return True
    return False


def legal(order) -> bool:
    state: dict[str, str] = {}
    for i, op in enumerate(order):
        if any(later.completed is not None and later.completed < op.invoked for later in order[i + 1:]):
            return False
        verb, key = op.command[0], op.command[1]
        if verb == "put":
            state[key], result = op.command[2], "ok"
        elif verb == "append":
            state[key] = result = state.get(key, "") + op.command[2]
        else:
            result = state.get(key)
        if op.completed is not None and op.result != result:
            return False
    return True


@st.composite
def small_histories(draw):
    n = draw(st.integers(1, 5))
    ops = []
    for i in range(n):
        verb = draw(st.sampled_from(["put", "append", "get"]))
        value = draw(st.sampled_from("12"))
        cmd = ("get", "x") if verb == "get" else (verb, "x", value)
        invoked = draw(st.integers(0, 40))
        completed = draw(st.one_of(st.none(), st.integers(invoked, invoked + 40)))
        answers = {"put": st.just("ok"), "append": st.sampled_from(["1", "2", "11", "12", "21", "22", "121"]),
                   "get": st.sampled_from([None, "1", "2", "12", "21"])}[verb]
        result = draw(answers) if completed is not None else None
        ops.append(Operation(f"c{i}", 1, cmd, invoked, completed, result))
    return ops


@settings(max_examples=300, deadline=None)
@given(small_histories())
def test_the_checker_agrees_with_brute_force_and_its_explanations_are_sound(ops):
    v = check(ops)
    assert v.ok == oracle(ops)
    if v.failed:
        proof = as_proved(v)
        assert not oracle(proof)                       # the explanation cannot be ordered either
        assert {op.id for op in proof} <= {op.id for op in ops}
        assert v.replay_time == max(op.completed for op in proof if op.completed is not None)
        assert_minimal(v, barriers=True)
