"""Random fault campaigns: many seeded runs with crashes, partitions and lost
messages, the safety checker on, and a shrinker for failing runs.

A campaign is how you find a bug you did not think of (DSLabs' random search,
Jepsen's nemesis): each run draws a fault schedule from its seed, so any failure
replays exactly; :func:`minimize` then removes faults from the schedule while the
run still fails, leaving a short counterexample to study in the Explorer.

    >>> result = run_one(seed=3, duration=2000)
    >>> result.ok
    True
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Iterable, NamedTuple, Optional, Sequence

from . import actions as act
from .config import Config
from .errors import NodeError, OperatorError, SafetyViolation
from .sim import Simulation

__all__ = ["Fault", "RunResult", "apply_fault", "fault_schedule", "change_schedule", "run_one", "run_campaign",
           "minimize"]


class Fault(NamedTuple):
    """An operator action to take at ``time`` ms (through ``sim.do``, like any other)."""
    time: int
    action: act.Action

    def __str__(self) -> str:
        return f"t={self.time} {self.action}"


def fault_schedule(seed: int, nodes: int, duration: int, every: int = 300) -> list[Fault]:
    """A random but reproducible list of faults, about one every ``every`` ms:
    crashes and restarts, partitions and heals, client requests.  The network
    is healed and every node restarted at 80% of ``duration``, so that the end
    of the run can show whether the cluster recovers."""
    rng = random.Random(f"{seed}:faults")
    names = [f"n{i}" for i in range(1, nodes + 1)]
    faults: list[Fault] = []
    crashed: list[str] = []
    t = 0
    quiet = int(duration * 0.8)
    while True:
        t += 1 + int(rng.random() * 2 * every)
        if t >= quiet:
            break
        r = rng.random()
        if r < 0.25 and len(crashed) < (nodes - 1) // 2 + 1:
            victim = names[int(rng.random() * nodes)]
            if victim not in crashed:
                crashed.append(victim)
                faults.append(Fault(t, act.Crash(victim)))
        elif r < 0.45 and crashed:
            faults.append(Fault(t, act.Restart(crashed.pop(int(rng.random() * len(crashed))))))
        elif r < 0.6:
            k = 1 + int(rng.random() * (nodes // 2))
            order = sorted(names, key=lambda _: rng.random())
            faults.append(Fault(t, act.Partition((tuple(sorted(order[:k])),))))
        elif r < 0.7:
            faults.append(Fault(t, act.Heal()))
        else:
            faults.append(Fault(t, act.ClientRequest(f"put k{int(rng.random() * 5)} {t}")))
    faults.append(Fault(quiet, act.Heal()))
    for victim in crashed:
        faults.append(Fault(quiet, act.Restart(victim)))
    return faults


def change_schedule(seed: int, nodes: int, duration: int, every: int = 600) -> list[Fault]:
    """Membership changes at random, about one every ``every`` ms until 80% of ``duration``: add a new
    server (``n6``, ``n7``...) or remove one of the servers so far.  Drawn from their own stream, so
    the seed's other faults stay the same; a change the cluster refuses when its time comes (no leader,
    a change in progress, the last voter) is skipped like any refused fault."""
    rng = random.Random(f"{seed}:changes")
    names = [f"n{i}" for i in range(1, nodes + 1)]
    changes: list[Fault] = []
    t = 0
    while True:
        t += 1 + int(rng.random() * 2 * every)
        if t >= int(duration * 0.8):
            return changes
        if rng.random() < 0.5 and len(names) < 99:
            names.append(f"n{len(names) + 1}")
            changes.append(Fault(t, act.AddServer((names[-1],))))
        else:
            changes.append(Fault(t, act.RemoveServer((names[int(rng.random() * len(names))],))))


@dataclass
class RunResult:
    seed: int
    ok: bool
    steps: int
    time: int
    faults: list
    problem: str = ""            # the violated property or the error
    detail: str = ""
    run: Optional[dict] = None   # the saved run (to_json) of a failing run
    leader: Optional[str] = None
    committed: int = 0
    duration: int = 0            # the simulated time the run was planned for

    def __str__(self) -> str:
        if self.ok:
            return f"seed {self.seed}: ok ({self.steps} events, leader {self.leader}, {self.committed} committed)"
        return f"seed {self.seed}: {self.problem}: {self.detail} ({len(self.faults)} faults)"


def apply_fault(sim: Simulation, fault: Fault) -> bool:
    """Take one fault's action with ``sim.do``; skip it quietly (and return False) if the simulation
    refuses it as it stands (restarting a node that is up, crashing one that is down)."""
    try:
        sim.do(fault.action)
    except OperatorError:
        return False
    return True


def run_one(seed: int, config: Optional[Config] = None, impl: Any = None, duration: int = 5000,
            faults: Optional[Sequence[Fault]] = None, changes: bool = False) -> RunResult:
    """One run: the given (or the seed's) fault schedule on a cluster, checks on; at the end, the
    clients' history must be linearizable too.  ``changes``: the seed's membership changes too
    (:func:`change_schedule`)."""
    config = (config or Config(request_interval=100)).replace(seed=seed, check_safety=True, history=50)
    if faults is None:
        faults = fault_schedule(seed, config.nodes, duration)
        if changes:
            faults = sorted(faults + change_schedule(seed, config.nodes, duration), key=lambda f: f.time)
    faults = list(faults)
    sim = Simulation(config, impl=impl)
    try:
        for fault in faults:
            if fault.time > sim.now:
                sim.advance(fault.time - sim.now)
            apply_fault(sim, fault)
        if duration > sim.now:
            sim.advance(duration - sim.now)
        if sim.check_history().failed and sim.violation is not None:
            raise sim.violation
    except SafetyViolation as v:
        return RunResult(seed, False, sim.steps, sim.now, faults, v.property, v.detail, v.run,
                         duration=duration)
    except NodeError as e:
        return RunResult(seed, False, sim.steps, sim.now, faults, "Error", str(e), sim.to_json(),
                         duration=duration)
    leader = sim.leader()
    return RunResult(seed, True, sim.steps, sim.now, faults, leader=leader.id if leader else None,
                     committed=max(n.commit_index for n in sim.nodes.values()), duration=duration)


def _run_star(args):
    return run_one(*args)


def run_campaign(seeds: Iterable[int], config: Optional[Config] = None, impl: Any = None,
                 duration: int = 5000, jobs: int = 1, progress: bool = False,
                 changes: bool = False) -> list[RunResult]:
    """Run one seeded run per seed (in ``jobs`` processes); results in seed order.  ``changes``: with
    random membership changes (:func:`change_schedule`)."""
    tasks = [(s, config, impl, duration, None, changes) for s in seeds]
    it: Iterable[RunResult]
    if jobs <= 1:
        it = map(_run_star, tasks)
        pool = None
    else:
        import multiprocessing
        pool = multiprocessing.get_context("fork").Pool(jobs)
        it = pool.imap(_run_star, tasks, chunksize=max(1, len(tasks) // (jobs * 8)))
    if progress:
        from tqdm import tqdm
        it = tqdm(it, total=len(tasks), unit="run")
    try:
        return list(it)
    finally:
        if pool is not None:
            pool.close()
            pool.join()


def minimize(result: RunResult, config: Optional[Config] = None, impl: Any = None,
             duration: Optional[int] = None) -> RunResult:
    """Shrink a failing run's fault schedule: drop faults one at a time (and in
    halves first) while the run still fails with the same property.  Returns the
    smallest failing run found (delta debugging, greedy)."""
    if result.ok:
        raise ValueError("minimize() needs a failing run")
    # the shrunk schedule may fail later than the original did: give it the whole planned time
    duration = duration or result.duration or max(result.time, 1)
    best = result
    faults = list(result.faults)

    def fails(candidate: list) -> Optional[RunResult]:
        r = run_one(result.seed, config, impl, duration, candidate)
        return r if (not r.ok and r.problem == result.problem) else None

    chunk = max(1, len(faults) // 2)
    while chunk >= 1:
        i = 0
        while i < len(faults):
            candidate = faults[:i] + faults[i + chunk:]
            r = fails(candidate)
            if r is not None:
                faults, best = candidate, r
            else:
                i += chunk
        chunk //= 2
    return best
