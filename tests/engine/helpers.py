"""Small helpers shared by the engine tests: single nodes fed messages by hand, and
snapshots of a whole simulation for before/after comparisons."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from raftlab import Entry, Node, Role
from raftlab.impl import resolve_rules
from raftlab.node import NodeConfig

#: the fixed election timeout a hand-made node draws (so deadlines are predictable)
TIMEOUT = 200


def make_node(name: str = "n1", nodes: int = 3, term: int = 0, log=(), voted_for=None,
              impl=None, now: int = 1000, **config) -> Node:
    """A follower ``name`` in a cluster of ``nodes``, in ``term``, whose log holds
    entries of the given terms (``log=(1, 1, 2)``: index 1 and 2 of term 1, index 3 of
    term 2).  Its election timeouts are always ``TIMEOUT`` ms."""
    node = Node(name, [f"n{i}" for i in range(1, nodes + 1)], NodeConfig(**config),
                resolve_rules(impl), lambda: TIMEOUT)
    node.current_term = term
    node.voted_for = voted_for
    for i, t in enumerate(log, start=1):
        node.log.append(Entry(t, ("put", "k", str(i))))
    node.log.take_changes()                   # the log it starts with is not news
    node.now = now
    node.rules.reset_election_timer(node)
    return node


def make_leader(name: str = "n1", nodes: int = 3, term: int = 1, log=(), **kw) -> Node:
    """A leader of ``term`` (it has appended its no-op; its first AppendEntries are discarded)."""
    node = make_node(name, nodes, term=term, log=log, voted_for=name, **kw)
    node.become_leader()
    assert node.role is Role.LEADER
    node.outbox.clear()
    node.notes.clear()
    node.log.take_changes()
    return node


def terms(node_or_log) -> list[int]:
    """The terms of a log's entries, index 1 first."""
    log = getattr(node_or_log, "log", node_or_log)
    return [e.term for e in log.entries]


def take(node: Node) -> list:
    """The messages ``node`` queued, removed from its outbox."""
    out = list(node.outbox)
    node.outbox.clear()
    return out


def state(sim) -> tuple:
    """Everything an operator action could change, to compare before and after."""
    net = sim.network
    return (json.dumps(sim.to_json(), sort_keys=True), sim.summary(), sim.steps, sim.now,
            [e.id for e in sim.in_flight()], len(sim.trace), len(sim.actions),
            (net.sent, net.delivered, net.dropped, net.duplicated),
            None if net.groups is None else sorted(net.groups.items()), sorted(net.cut),
            {c: (cl.seq, cl.pending is not None) for c, cl in sim.clients.items()},
            len(sim.operations))


def deliver_all_but(sim, keep) -> None:
    """Deliver every message in flight (and the ones they cause) except those whose id
    is in ``keep``, which stay in flight."""
    keep = set(keep)
    while True:
        ready = [e for e in sim.in_flight() if e.id not in keep]
        if not ready:
            return
        sim.deliver(ready[0].id)


def committed_commands(sim, name) -> list:
    """The client commands in ``name``'s committed log (no-ops left out)."""
    return [e.command for e in sim.committed(name) if e.command is not None]


def live(sim) -> list:
    return [n for n in sim.nodes.values() if not n.crashed]


def assert_committed_logs_agree(sim) -> int:
    """No two nodes hold different committed entries at one index (snapshots aside).
    Returns the highest commit index seen."""
    seen = {}
    for node in sim.nodes.values():
        log = node.log
        for index in range(log.snapshot_index + 1, min(node.commit_index, log.last_index) + 1):
            e = log.entry(index)
            other = seen.setdefault(index, (e.term, e.command, node.id))
            assert other[:2] == (e.term, e.command), \
                f"index {index}: {node.id} committed {e}, {other[2]} committed t{other[0]}:{other[1]}"
    return max((n.commit_index for n in sim.nodes.values()), default=0)


_SCRIPT = Path(sys.executable).parent / "raftlab"
RAFTLAB = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "raftlab"]


def raftlab(*args, cwd=None, timeout: int = 120) -> subprocess.CompletedProcess:
    """Run the ``raftlab`` command (the venv's console script) as a subprocess."""
    return subprocess.run([*RAFTLAB, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd)
