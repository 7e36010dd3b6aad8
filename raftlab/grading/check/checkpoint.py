"""Checkpoint notebooks: ``exercises/checkpoints/ex1_election.ipynb`` ... ``ex7_membership.ipynb``.

Each notebook runs a few scenarios with one exercise's functions from the code
being checked (``RAFTLAB_IMPL``: your ``exercises/`` by default, ``reference``,
or a path; see :func:`raftlab.impl.impl_from_env`) and prints short,
deterministic summaries.
Its check cells start with ``# NBVAL_CHECK_OUTPUT`` and hold the reference's
output, so nbval grades them::

    RAFTLAB_IMPL=reference pytest --nbval-lax --nbval-current-env exercises/checkpoints   # passes
    pytest --nbval-lax --nbval-current-env exercises/checkpoints                           # your code

A correct implementation prints exactly what the reference printed: the
simulation draws delays and timeouts by identity (link, node, k-th draw), not by
call order.  A check cell never raises: :func:`shows_errors` prints the problem
(``Exercise 3: ... is not written yet``, a broken safety property, an exception)
so the cells after it still run.

The notebooks are generated from :data:`CHECKPOINTS` below, with the reference's
outputs stored: after editing a scenario, run ``python -m raftlab.grading.check.checkpoint``.
"""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

from ...errors import NodeError, RaftlabError, SafetyViolation
from ...impl import IMPL_ENV, Rules, impl_from_env
from ...messages import format_command
from ...sim import Simulation
from .. import EXERCISES
from .harness import forget_modules, rules_for

__all__ = ["my_rules", "shows_errors", "report", "CHECKPOINTS", "build_notebooks"]


def my_rules(number: int) -> Rules:
    """The rules for ``Simulation(..., impl=my_rules(3))``: exercise ``number``'s functions
    from ``$RAFTLAB_IMPL`` (default: your ``exercises/`` folder), every other rule the
    reference; a function the code does not define counts as unwritten.  Never raises: if
    the code cannot be loaded, each of the exercise's functions raises that error."""
    forget_modules()                  # read the files afresh: you may have edited them
    return rules_for(number, impl_from_env())


@contextmanager
def shows_errors() -> Iterator[None]:
    """Print, rather than raise, what stops a scenario: a stub, a broken safety
    property, an exception in a rule."""
    try:
        yield
    except SafetyViolation as v:
        print(f"SAFETY VIOLATION: {v.property}: {v.detail}")
    except NodeError as exc:
        cause = exc.__cause__
        print(str(cause) if isinstance(cause, NotImplementedError) else f"ERROR: {exc}")
    except NotImplementedError as exc:
        print(exc)
    except (RaftlabError, Exception) as exc:          # noqa: B014 - say which kind
        print(f"ERROR: {type(exc).__name__}: {exc}")


def _what(entry) -> str:
    """An entry's content: its command, or ``config {n1,n2,n3}`` for a configuration entry."""
    return format_command(entry.command) if entry.config is None else f"config {entry.config}"


def _entries(sim: Simulation, name: str, upto: Optional[int] = None) -> str:
    node = sim.node(name)
    log = node.log
    upto = log.last_index if upto is None else upto
    return ", ".join(f"{i}/{log.term_at(i)} {_what(log.entry(i))}"
                     for i in range(log.snapshot_index + 1, upto + 1)) or "-"


def report(sim: Simulation, logs: bool = False) -> None:
    """Print a short, deterministic summary: the leader, each server's role, term,
    commit index and log length (and its log, with ``logs=True``), and the
    committed log of the leader."""
    leader = sim.leader()
    print(f"t={sim.now} ms: leader {leader.id + ' in term ' + str(leader.current_term) if leader else 'none'}")
    for node in sim.nodes.values():
        state = "crashed" if node.crashed else str(node.role)
        line = f"  {node.id} {state:<9} term {node.current_term} commit {node.commit_index} log {node.log.last_index}"
        if logs:
            line += f"  [{_entries(sim, node.id)}]"
        print(line)
    if leader is not None:
        log, upto = leader.log, leader.commit_index
        first = max(log.snapshot_index + 1, upto - 3)
        shown = ", ".join(f"{i}/{log.term_at(i)} {_what(log.entry(i))}"
                          for i in range(first, upto + 1))
        print(f"  committed on {leader.id}: {upto} entries" + (f", the last: {shown}" if shown else ""))
    done = [op for op in sim.operations if op.completed is not None]
    if sim.operations:
        print(f"  clients: {len(done)} of {len(sim.operations)} requests answered"
              + (", the last: " if done else "")
              + ", ".join(f"{op.client}#{op.seq} {format_command(op.command)} -> {op.result!r}"
                          for op in done[-3:]))


# --- the notebooks ----------------------------------------------------------------------------------

_SETUP = """\
from raftlab import Config, Simulation
from raftlab.grading.check.checkpoint import my_rules, report, shows_errors
from raftlab.scenarios import figure8

mine = my_rules({n})      # exercise {n} from your exercises/ (or from $RAFTLAB_IMPL)
print("checking", {names}, "from", __import__("os").environ.get("RAFTLAB_IMPL", "exercises"))"""

#: exercise number -> (introduction, [(what the cell shows, code)]).
CHECKPOINTS: dict[int, tuple[str, list[tuple[str, str]]]] = {
    1: ("Your election code runs three stories. Each prints who leads, in which term, and each server's state.", [
        ("A first election in a healthy cluster of five, then two quiet seconds: one leader, and no term change.",
         """sim = Simulation(nodes=5, seed=1, impl=mine)
leader = sim.run_until_leader(within=3000)
print("elected:", leader.id if leader else None, "at t =", sim.now, "ms")
sim.advance(2000)
report(sim)"""),
        ("Three servers, one of them down: the other two are a majority and must still elect a leader.",
         """sim = Simulation(nodes=3, seed=2, impl=mine)
sim.crash("n1")
leader = sim.run_until_leader(within=3000)
report(sim)"""),
        ("A split vote: n1 and n2 time out at the same moment. A later term must resolve it.",
         """sim = Simulation(nodes=4, seed=3, impl=mine)
sim.timeout("n1")
sim.timeout("n2")
sim.run_until_leader(within=3000)
report(sim)"""),
        ("Five seconds on a lossy network that also duplicates messages, with a client load: "
         "every safety property is checked after every step.",
         """sim = Simulation(Config.preset("lossy", seed=4, duplicate=0.2, request_interval=100), impl=mine)
sim.advance(5000)
report(sim)"""),
    ]),
    2: ("Your term rule and your votes decide who may lead.", [
        ("A leader cut off from the others; when it comes back it must step down for the newer term.",
         """sim = Simulation(nodes=5, seed=1, impl=mine)
old = sim.run_until_leader(within=3000)
sim.isolate(old.id)
sim.advance(1000)
sim.heal()
sim.advance(1000)
print("old leader", old.id, "is now", old.role, "in term", old.current_term)
report(sim)"""),
        ("A server that missed three committed entries asks for votes with a high term: it must lose.",
         """sim = Simulation(nodes=5, seed=2, impl=mine)
leader = sim.run_until_leader(within=3000)
sim.isolate("n5" if leader.id != "n5" else "n4")
for i in range(3):
    sim.client_request(f"put x {i}", node=leader.id)
sim.advance(1000)
sim.crash(leader.id)
sim.heal()
sim.timeout("n5" if leader.id != "n5" else "n4")
sim.advance(2000)
report(sim)"""),
        ("Five seconds on a lossy network that duplicates messages: one vote per term.",
         """sim = Simulation(Config.preset("lossy", seed=4, duplicate=0.2, request_interval=100), impl=mine)
sim.advance(5000)
report(sim)"""),
    ]),
    3: ("Your followers store what the leader sends.", [
        ("Three requests, then a quiet half second: every log holds them, committed.",
         """sim = Simulation(nodes=3, seed=1, impl=mine)
leader = sim.run_until_leader(within=3000)
for i in range(3):
    sim.client_request(f"put x {i}", node=leader.id)
    sim.advance(100)
sim.advance(500)
report(sim, logs=True)"""),
        ("An old leader, cut off with an entry it could not commit, rejoins: its entry is replaced.",
         """sim = Simulation(nodes=5, seed=2, impl=mine)
old = sim.run_until_leader(within=3000)
sim.advance(200)
sim.isolate(old.id)
sim.client_request("put x stale", node=old.id)
sim.advance(1500)
sim.client_request("put x fresh")
sim.advance(500)
sim.heal()
sim.advance(1500)
report(sim, logs=True)"""),
        ("Eight seconds of crashes, partitions and lost messages.",
         """sim = Simulation(Config.preset("lossy", seed=5, request_interval=100), impl=mine)
for t, action in [(1000, "crash n2"), (2500, "restart n2"), (3000, "isolate n1"), (5000, "heal")]:
    sim.advance(t - sim.now)
    verb, name = action.split() if " " in action else (action, None)
    getattr(sim, verb)(*([name] if name else []))
sim.advance(8000 - sim.now)
report(sim)"""),
    ]),
    4: ("Your leader learns what each follower holds, and repairs those that lag.", [
        ("A follower crashed while twenty entries committed; after its restart it catches up.",
         """sim = Simulation(nodes=5, seed=1, impl=mine)
leader = sim.run_until_leader(within=3000)
lagging = "n5" if leader.id != "n5" else "n4"
sim.crash(lagging)
for i in range(20):
    sim.client_request(f"put k{i} {i}", node=leader.id)
    sim.advance(30)
sim.restart(lagging)
sim.advance(1000)
report(sim)"""),
        ("An old leader and one follower hold ten entries nobody else has; after healing they are repaired.",
         """sim = Simulation(nodes=5, seed=2, impl=mine)
old = sim.run_until_leader(within=3000)
sim.advance(200)
buddy = "n1" if old.id != "n1" else "n2"
sim.partition([old.id, buddy])
for i in range(10):
    sim.client_request(f"put a{i} {i}", node=old.id)
sim.advance(1500)
for i in range(5):
    sim.client_request(f"put b{i} {i}")
    sim.advance(50)
sim.heal()
sim.advance(1000)
report(sim)"""),
        ("Five seconds with replies delayed, reordered and duplicated.",
         """sim = Simulation(nodes=5, seed=3, delay=(5, 60), duplicate=0.2, request_interval=80, impl=mine)
sim.advance(5000)
report(sim)"""),
    ]),
    5: ("Your leader decides what is committed. Figure 8 of the paper is the hard case.", [
        ("Figure 8, stages (c) and (d): the term-2 entries are on a majority in (c), yet (d) overwrites them.",
         """for stage in "cd":
    with shows_errors():
        sim = figure8(stage, impl=mine)
        print(f"stage ({stage}):", ", ".join(f"{n.id} commit {n.commit_index}" for n in sim.nodes.values()),
              "| leader", sim.leader().id if sim.leader() else None)"""),
        ("Figure 8, stage (e): an entry of the current term on a majority commits, with everything before it.",
         """sim = figure8("e", impl=mine)
report(sim)"""),
        ("A leader with one follower, cut off from the other three, commits nothing.",
         """sim = Simulation(nodes=5, seed=1, impl=mine)
old = sim.run_until_leader(within=3000)
sim.advance(200)
sim.partition([old.id, "n1" if old.id != "n1" else "n2"])
sim.client_request("put x 1", node=old.id)
sim.advance(1000)
print(old.id, "commit index", old.commit_index, "log", old.log.last_index)"""),
        ("Three servers, one down: requests still commit.",
         """sim = Simulation(nodes=3, seed=2, impl=mine)
sim.crash("n3")
sim.run_until_leader(within=3000)
for i in range(3):
    sim.client_request(f"put x {i}", client=f"c{i + 1}")
sim.advance(1000)
report(sim)"""),
    ]),
    6: ("Your servers take client requests.", [
        ("One client appends a, b and c to a key, waiting for each answer.",
         """sim = Simulation(nodes=5, seed=1, impl=mine)
sim.run_until_leader(within=3000)
for value in "abc":
    sim.client_request(f"append k {value}", client="c1")
    sim.run_until(lambda s: all(op.completed is not None for op in s.operations), within=2000)
report(sim)"""),
        ("Four clients send their requests to the followers.",
         """sim = Simulation(nodes=5, seed=2, impl=mine)
leader = sim.run_until_leader(within=3000)
sim.advance(200)
for i, name in enumerate(n for n in sim.names if n != leader.id):
    sim.client_request(f"put x {i}", node=name, client=f"c{i + 1}")
sim.advance(300)
report(sim)"""),
        ("A leader cut off from everyone gets a request: it must not say it succeeded.",
         """sim = Simulation(nodes=5, seed=3, impl=mine)
old = sim.run_until_leader(within=3000)
sim.advance(200)
sim.isolate(old.id)
sim.client_request("put x lost?", node=old.id, client="c1")
sim.advance(300)
print("answered:", [str(op) for op in sim.operations if op.completed is not None])
report(sim)"""),
        ("Five seconds of a lossy, duplicating network with a steady client load.",
         """sim = Simulation(Config.preset("lossy", seed=4, duplicate=0.2, request_interval=60), impl=mine)
sim.advance(5000)
report(sim)"""),
    ]),
    7: ("Your servers change the cluster's membership: each story prints every server's configuration.", [
        ("A fourth server joins three: a learner first, a voter once it has caught up.",
         """sim = Simulation(nodes=3, seed=1, impl=mine)
sim.run_until(lambda s: s.leader() is not None and s.leader().commit_index >= 1, within=3000)
sim.add_server("n4")
print("just added:", sim.leader().configuration)
sim.advance(1000)
for node in sim.nodes.values():
    print(" ", node.id, node.configuration)
report(sim)"""),
        ("The leader removes itself: it leads until the change is committed, then steps down.",
         """sim = Simulation(nodes=3, seed=2, impl=mine)
sim.run_until(lambda s: s.leader() is not None and s.leader().commit_index >= 1, within=3000)
old = sim.leader()
sim.remove_server(old.id)
print(old.id, "still leads:", old.is_leader, "under", old.configuration)
sim.advance(1500)
for node in sim.nodes.values():
    print(" ", node.id, node.role, node.configuration)
report(sim)"""),
        ("Joint consensus: two servers join, then two others leave, through C_old,new.",
         """sim = Simulation(nodes=3, seed=3, membership="joint", impl=mine)
sim.run_until(lambda s: s.leader() is not None and s.leader().commit_index >= 1, within=3000)
sim.add_server("n4", "n5")
sim.advance(1500)
sim.remove_server("n1", "n2")
sim.advance(1500)
sim.run_until(lambda s: s.leader() is not None, within=3000)
leader = sim.leader()
print("configurations in the leader's log:",
      ", ".join(str(leader.log.entry(i).config) for i in leader.log.config_indexes))
report(sim)"""),
        ("One change at a time, and not before a new leader has committed an entry of its term.",
         """sim = Simulation(nodes=3, seed=4, impl=mine)
leader = sim.run_until_leader(within=3000)
print("new leader may change:", mine.may_change_configuration(leader) is None)
sim.advance(300)
print("after its no-op is committed:", mine.may_change_configuration(leader) is None)
sim.isolate(leader.id)
sim.add_server("n4", via=leader.id)
print("with that change uncommitted:", mine.may_change_configuration(leader) is None)
follower = next(n for n in sim.nodes.values() if n is not leader and n.id != "n4")
print("a follower may change:", mine.may_change_configuration(follower) is None)"""),
    ]),
}


def _cell_code(code: str) -> str:
    """A check cell: the marker nbval looks for, then the scenario inside shows_errors()."""
    body = "\n".join("    " + line if line else line for line in code.splitlines())
    return "# NBVAL_CHECK_OUTPUT\nwith shows_errors():\n" + body


def notebook(number: int):
    """The checkpoint notebook of exercise ``number`` (without outputs), as an nbformat node."""
    import nbformat
    ex = EXERCISES[number]
    intro, checks = CHECKPOINTS[number]
    cells = [nbformat.v4.new_markdown_cell(
        f"# Checkpoint {number}: {ex.title}\n\n{intro}\n\n"
        f"Run every cell (Run > Run All Cells). Each check cell below prints what happened with *your* "
        f"`{'`, `'.join(ex.rules)}` (from `{ex.path}`); the output saved in this notebook is what the "
        f"reference printed. A correct implementation prints exactly the same.\n\n"
        f"To compare automatically: `pytest --nbval-lax --nbval-current-env exercises/checkpoints/{ex.module}.ipynb`"
        f" (a failing cell shows the difference). For the scored tests: `raftlab check {number}`."),
        nbformat.v4.new_code_cell(_SETUP.format(n=number, names=list(ex.rules)))]
    for text, code in checks:
        cells.append(nbformat.v4.new_markdown_cell(text))
        cells.append(nbformat.v4.new_code_cell(_cell_code(code)))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"checkpoint-{number}-{i}"
    return nb


def build_notebooks(folder: Optional[Path] = None) -> list[Path]:
    """Write every checkpoint notebook into ``folder`` (default: the kit's
    ``exercises/checkpoints``), executed with the reference rules so that the
    stored outputs are the reference's."""
    import nbformat
    from nbclient import NotebookClient
    folder = Path(folder) if folder else Path(__file__).resolve().parents[3] / "exercises" / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    saved = os.environ.get(IMPL_ENV)
    os.environ[IMPL_ENV] = "reference"
    try:
        for number in sorted(CHECKPOINTS):
            nb = notebook(number)
            NotebookClient(nb, timeout=120, kernel_name="python3",
                           resources={"metadata": {"path": str(folder)}}).execute()
            path = folder / f"{EXERCISES[number].module}.ipynb"
            nbformat.write(nb, path)
            written.append(path)
    finally:
        if saved is None:
            os.environ.pop(IMPL_ENV, None)
        else:
            os.environ[IMPL_ENV] = saved
    return written


if __name__ == "__main__":
    for path in build_notebooks(Path(sys.argv[1]) if len(sys.argv) > 1 else None):
        print("wrote", path)
