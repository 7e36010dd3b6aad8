"""Fuzzing the public API and the command line with Hypothesis: random operator calls, often wrong.

The contract (issue 13, and property 4 of the design): every operator method either does its move, or
raises a raftlab error (``OperatorError`` and its kin, ``ConfigError``) and changes nothing: not the
state, not the trace, not the recorded actions.  Whatever happened, the run's saved form replays to the
very same state.  Nothing else (a ``TypeError``, an ``OverflowError``...) may escape.
"""
from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from raftlab import RaftlabError, Simulation

from .helpers import raftlab

#: Values a careless or hostile caller passes where a node, a time, a flag or a command is expected.
JUNK = st.one_of(
    st.sampled_from([None, True, False, 0, 1, 2, 3, 7, -1, -10**9, 10**30, 2.5, float("nan"), float("inf"),
                     "", "n1", "n2", "n3", "n9", "c1", "c2", "c 1", "1", "n1 ", "put x 1", "get x", "jump",
                     (), [], ["n1"], ["n1", "n2"], [["n1"]], ("put", "x", "1"), ("put", None, None),
                     ("put", 1, 2.5), {"a": 1}, b"n1", object()]),
    st.integers(-5, 40),
    st.text(string.printable, max_size=12),
)
TIMES = st.one_of(st.sampled_from([0, 1, 13, 60, 250]), JUNK)
METHODS = ["advance", "step", "crash", "restart", "drop", "deliver", "partition", "isolate", "cut", "reconnect",
           "heal", "set_network", "timeout", "client_request", "set_pre_vote", "set_check_quorum", "rewind"]


def digest(sim: Simulation) -> tuple:
    """Everything an operator call could change."""
    return (sim.to_json(), sim.trace_text(), sim.summary(), [str(e) for e in sim.in_flight()], sim.stats,
            sim.network.sides(), tuple(sorted(sim.network.cut)), sim.config)


def call_args(data, sim: Simulation, name: str) -> tuple[list, dict]:
    """Arguments for ``sim.<name>``: sometimes sensible (a node, a message in flight), often junk."""
    ids = [e.id for e in sim.in_flight()]
    sensible = {
        "advance": lambda: [data.draw(TIMES)],
        "rewind": lambda: [data.draw(st.one_of(st.integers(0, sim.steps), JUNK))],
        "drop": lambda: [data.draw(st.sampled_from(ids) if ids else JUNK)],
        "deliver": lambda: [data.draw(st.sampled_from(ids) if ids else JUNK)],
        "partition": lambda: data.draw(st.lists(st.one_of(st.lists(JUNK, max_size=3), JUNK), max_size=3)),
        "cut": lambda: [data.draw(JUNK), data.draw(JUNK)],
        "client_request": lambda: data.draw(st.lists(JUNK, min_size=1, max_size=3)),
        "heal": lambda: [], "step": lambda: [],
    }
    if name == "set_network":
        keys = data.draw(st.lists(st.sampled_from(["drop", "delay", "duplicate"]), max_size=2, unique=True))
        return [], {k: data.draw(st.one_of(JUNK, st.sampled_from([0.1, 0.0, (5, 20), (1, 1)]))) for k in keys}
    args = sensible.get(name, lambda: [data.draw(JUNK)])()
    return args, {}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_operator_calls_either_work_or_change_nothing(data):
    sim = Simulation(nodes=3, seed=data.draw(st.integers(0, 3)), request_interval=data.draw(st.sampled_from([0, 40])))
    sim.advance(300)
    for _ in range(data.draw(st.integers(1, 14))):
        name = data.draw(st.sampled_from(METHODS))
        args, kwargs = call_args(data, sim, name)
        before = digest(sim)
        try:
            getattr(sim, name)(*args, **kwargs)
        except RaftlabError:
            assert digest(sim) == before, f"{name}{tuple(args)} {kwargs} raised but changed the simulation"
    again = Simulation.from_json(sim.to_json())
    assert digest(again)[:4] == digest(sim)[:4]


CLI_WORDS = st.sampled_from(["simulate", "replay", "campaign", "--nodes", "--seed", "--duration", "--drop",
                             "--delay", "--duplicate", "--election-timeout", "--heartbeat", "--request-interval",
                             "--snapshot-every", "--runs", "--jobs", "--impl", "--save", "--log-level",
                             "--until-step", "--first-seed", "-5", "0", "1", "3", "1/0", "10%", "2.5", "5-1",
                             "1" + "0" * 400, "30-60", "1s", "x", "", "/nonexistent/x.json", "/tmp",
                             "debug", "nan", "inf", "1e9"])


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(CLI_WORDS, min_size=1, max_size=6))
def test_the_command_line_never_shows_a_traceback(words):
    """Any words after ``raftlab``: exit 0, 1 (a safety property broke) or 2 (bad arguments, one line)."""
    if words[0] == "simulate" and "--duration" not in words:
        words = words + ["--duration", "200"]           # keep each accepted run short
    if words[0] == "campaign" and "--runs" not in words:
        words = words + ["--runs", "2", "--duration", "500", "--jobs", "1"]
    r = raftlab(*words, timeout=120)
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode in (0, 1, 2), (words, r.returncode, r.stderr)
    if r.returncode == 2:
        assert r.stderr.strip() and len(r.stderr.strip().splitlines()) <= 2, r.stderr
