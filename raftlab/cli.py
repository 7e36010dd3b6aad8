"""The ``raftlab`` command.

    raftlab simulate [options]     run a cluster in the terminal (the seed program's main job)
    raftlab replay RUN.json        replay a saved run and print its events
    raftlab campaign [options]     many seeded runs with random faults; the failing seeds and how to replay them
    raftlab explore [options]      every schedule of a small cluster, breadth first: the shortest bad run
    raftlab check [N ...]          score your exercises            (raftlab.grading.check)
    raftlab grade SUBMISSIONS      grade a whole class             (raftlab.grading.grade)
    raftlab release OUT_DIR        write the student handout       (raftlab.grading.release)

Exit codes: 0 success; 1 a safety property broke (or a check failed); 2 bad arguments.
"""
from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import re
import shlex
import sys
from fractions import Fraction
from typing import NoReturn, Optional, Sequence

from .actions import MAX_MS, SERVER_NAME
from .config import MEMBERSHIP, PRESETS, Config
from .errors import ConfigError, NodeError, OperatorError, RaftlabError, SafetyViolation

__all__ = ["main", "parse_duration", "parse_range"]

#: Subcommands that live in other modules: name -> module with ``register(subparsers)``.
EXTERNAL_COMMANDS = {
    "check": "raftlab.grading.check",
    "grade": "raftlab.grading.grade",
    "release": "raftlab.grading.release",
}

_UNITS = {"ms": 1, "s": 1000, "m": 60_000, "min": 60_000}




def parse_duration(text: str) -> int:
    """``"250"`` or ``"250ms"`` -> 250; ``"10s"`` -> 10000; ``"1.5s"`` -> 1500; ``"2m"`` -> 120000."""
    m = re.fullmatch(r"\s*(\d+)(?:\.(\d+))?\s*(ms|s|m|min)?\s*", str(text)[:1000])
    if not m:
        raise argparse.ArgumentTypeError(f"{str(text)[:40]!r} is not a duration (try 250, 250ms, 10s or 2m)")
    whole, frac, unit = m.group(1).lstrip("0") or "0", (m.group(2) or "").rstrip("0"), _UNITS[m.group(3) or "ms"]
    if len(whole) > 12 or len(frac) > 12:
        raise argparse.ArgumentTypeError(f"{str(text)[:40]!r} is too long: at most {MAX_MS:,} ms "
                                         f"(about 11 days of simulated time), in whole milliseconds")
    value = Fraction(int(whole + frac), 10 ** len(frac)) * unit
    if value.denominator != 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of milliseconds")
    if value > MAX_MS:
        raise argparse.ArgumentTypeError(f"{str(text)[:40]!r} is too long: at most {MAX_MS:,} ms "
                                         f"(about 11 days of simulated time)")
    return int(value)


def parse_range(text: str) -> tuple[int, int]:
    """``"30-60"``, ``"30ms-60ms"``, ``"0.1s-0.3s"`` -> (MIN, MAX) in ms; ``"15"`` -> (15, 15)."""
    parts = str(text).split("-")
    if len(parts) == 1:
        v = parse_duration(parts[0])
        return v, v
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"{text!r} is not a range MIN-MAX (e.g. 5-50 or 30ms-60ms)")
    lo, hi = parse_duration(parts[0]), parse_duration(parts[1])
    if hi < lo:
        raise argparse.ArgumentTypeError(f"{text!r}: MIN must not exceed MAX")
    return lo, hi


def parse_probability(text: str) -> float:
    """``"0.33"``, ``"33%"`` or ``"1/3"``."""
    s = str(text).strip()
    try:
        if s.endswith("%"):
            p = float(s[:-1]) / 100
        elif "/" in s:
            a, b = s.split("/")
            p = float(a) / float(b)
        else:
            p = float(s)
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a probability (try 0.1, 10% or 1/3)") from None
    if not 0 <= p <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not between 0 and 1")
    return p


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def _add_simulate(sub) -> None:
    p = sub.add_parser("simulate", help="run a cluster with a lossy network and client load",
                       description="Run a Raft cluster in simulated time and print what happens. "
                                   "Times are in ms unless given a unit (10s, 250ms).")
    p.add_argument("--preset", choices=sorted(PRESETS), default="seed",
                   help="starting configuration (default: seed, the original program's settings)")
    p.add_argument("--seed", type=int, default=1, help="random seed: the same seed replays the same run")
    p.add_argument("--duration", type=parse_duration, default=10_000, help="simulated time (default 10s)")
    _add_cluster_options(p)
    p.add_argument("--log-level", choices=["debug", "info", "warning"], default="info",
                   help="debug: every message; info: elections, leaders, commits; warning: summary only")
    p.add_argument("--save", metavar="RUN.json", help="save the run (seed, config, actions) to replay later")
    p.add_argument("--change", action="append", default=[], metavar="TIME:add|remove:SERVER",
                   help="a membership change at TIME (repeat it): 500:add:n6 adds a server (a learner, then "
                        "a voter once caught up), 900:remove:n1 removes one; a change the leader refuses "
                        "when its time comes (no leader, another change in progress) is tried again later")
    p.set_defaults(func=_simulate)


def _add_cluster_options(p) -> None:
    """The options that shape a cluster, shared by ``simulate`` and ``campaign``."""
    p.add_argument("--nodes", type=int, help="cluster size (default 5)")
    p.add_argument("--drop", type=parse_probability, help="probability a message is lost (0.33, 33%%, 1/3)")
    p.add_argument("--duplicate", type=parse_probability, help="probability a message is duplicated")
    p.add_argument("--delay", type=parse_range, help="network delay MIN-MAX (e.g. 0-15)")
    p.add_argument("--election-timeout", type=parse_range, help="election timeout MIN-MAX (e.g. 30-60)")
    p.add_argument("--heartbeat", type=parse_duration, help="heartbeat interval")
    p.add_argument("--request-interval", type=parse_duration, help="a client request every ... (0: none)")
    p.add_argument("--pre-vote", action=argparse.BooleanOptionalAction, default=None,
                   help="use pre-vote (thesis 9.6)")
    p.add_argument("--check-quorum", action=argparse.BooleanOptionalAction, default=None,
                   help="leaders step down without a majority (thesis 6.2)")
    p.add_argument("--snapshot-every", type=int, help="snapshot every N applied entries (0: never)")
    p.add_argument("--membership", choices=MEMBERSHIP, default=None,
                   help="how the membership changes: single (default: one server at a time), joint "
                        "(C_old,new then C_new) or unsafe-direct (only to see it fail)")
    p.add_argument("--no-safety-checks", action="store_true", help="skip the safety checks (faster)")
    p.add_argument("--impl", default=None,
                   help="rules to run: 'reference' (default), 'exercises', or a path to your module")


def _add_replay(sub) -> None:
    p = sub.add_parser("replay", help="replay a saved run and print its events",
                       description="Replay a run saved with --save or Simulation.save().")
    p.add_argument("run", help="the saved run (JSON)")
    p.add_argument("--impl", default=None, help="rules to replay with (default: those saved in the run)")
    p.add_argument("--until-step", type=int, default=None, help="stop after this step")
    p.add_argument("--log-level", choices=["debug", "info", "warning"], default="info")
    p.set_defaults(func=_replay)


def _add_campaign(sub) -> None:
    p = sub.add_parser("campaign", help="many seeded runs with random faults, safety checked",
                       description="Run one cluster per seed under a random schedule of crashes, restarts, "
                                   "partitions and client requests (drawn from the seed), with every safety "
                                   "property checked, and list the seeds that broke one with how to replay "
                                   "them. Times are in ms unless given a unit.")
    p.add_argument("--runs", type=int, default=100, help="how many runs (seeds) (default 100)")
    p.add_argument("--first-seed", type=int, default=0, help="the first seed (default 0)")
    p.add_argument("--duration", type=parse_duration, default=5000, help="simulated time per run (default 5s)")
    p.add_argument("--preset", choices=sorted(PRESETS), default="teaching",
                   help="starting configuration (default: teaching)")
    _add_cluster_options(p)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="runs at once, in separate processes (default: the number of cores)")
    p.add_argument("--changes", action="store_true",
                   help="random membership changes too: add a server (n6, n7...) or remove one, about one "
                        "every 600 ms (see --membership)")
    p.add_argument("--minimize", action="store_true",
                   help="shrink each failing run's fault schedule to the fewest faults that still fail")
    p.add_argument("--save", metavar="DIR", help="save each failing run to DIR/seed-N.json for raftlab replay")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_campaign)


def _add_explore(sub) -> None:
    p = sub.add_parser("explore", help="search every schedule of a small cluster for the shortest bad run",
                       description="Breadth-first search over the choices of a small cluster (which message is "
                                   "delivered, which timer fires, a crash, a restart, a client request), each "
                                   "distinct state once (servers that differ only by name count once), every "
                                   "safety property checked: the shortest run that breaks one, or 'none within "
                                   "depth N'.  For deeper bugs: --timeouts and --choices narrow the tree, --start "
                                   "searches from a saved run, --goal searches goal by goal (e.g. the stages of "
                                   "Figure 8), --order random walks at random (then shortens the run).")
    p.add_argument("--impl", default=None, help="rules to search: 'reference' (default), 'exercises' or a path")
    p.add_argument("--nodes", type=int, default=3, help="cluster size (default 3)")
    p.add_argument("--depth", type=int, default=6, help="at most this many choices (default 6)")
    p.add_argument("--max-states", type=int, default=100_000, help="stop after this many states (default 100,000)")
    p.add_argument("--seconds", type=float, default=None, help="stop after this many seconds (default: no limit)")
    p.add_argument("--requests", type=int, default=1, help="client requests at most (default 1)")
    p.add_argument("--crashes", type=int, default=1, help="crashes at most (default 1)")
    p.add_argument("--timeouts", type=int, default=None, help="election timeouts at most (default: no limit)")
    p.add_argument("--choices", default=None, metavar="KIND,...",
                   help="kinds of choice to make, from deliver,drop,timeout,heartbeat,crash,restart,request "
                        "(default: all but drop, which never helps to break safety)")
    p.add_argument("--order", default="bfs", metavar="ORDER",
                   help="bfs (default: a shortest bad run), dfs, or random (random walks of --depth choices)")
    p.add_argument("--seed", type=int, default=0, help="the cluster's seed, and the random walks' (default 0)")
    p.add_argument("--max-entries", type=int, default=None,
                   help="at most this many entries per AppendEntries (Figure 8 needs 1 on 3 servers)")
    p.add_argument("--pre-vote", action="store_true", help="servers use pre-vote")
    p.add_argument("--check-quorum", action="store_true", help="leaders check their quorum")
    p.add_argument("--start", metavar="RUN.json", help="search from where this saved run ends (made by explore)")
    p.add_argument("--goal", action="append", default=None, metavar="NAME",
                   help="search to this goal first, then on from there (repeat for several): "
                        "logs-diverge, old-uncommitted, entry-at-risk")
    p.add_argument("--no-symmetry", action="store_true", help="count states that differ only by names apart")
    p.add_argument("--save", metavar="RUN.json", help="save the bad run, for raftlab replay or Explorer.from_file")
    p.set_defaults(func=_explore)


def _explore(args) -> int:
    bad = next((f"--{n.replace('_', '-')} must be at least {lo}" for n, lo in
                (("nodes", 1), ("depth", 1), ("max_states", 1), ("requests", 0), ("crashes", 0),
                 ("timeouts", 0), ("max_entries", 1)) if getattr(args, n) is not None and getattr(args, n) < lo), None)
    try:
        if bad:
            raise ConfigError(bad)
        if args.save:
            _check_output_file(args.save)
        from .explore import SAFETY_CHOICES, explore
        options = dict(depth=args.depth, max_states=args.max_states, requests=args.requests, crashes=args.crashes,
                       timeouts=args.timeouts, order=args.order, seed=args.seed, seconds=args.seconds,
                       symmetry=not args.no_symmetry,
                       choices=SAFETY_CHOICES if args.choices is None else tuple(args.choices.split(",")))
        if args.goal:
            options["goal"] = list(args.goal)
        config = {k: v for k, v in (("max_entries", args.max_entries), ("pre_vote", args.pre_vote or None),
                                    ("check_quorum", args.check_quorum or None)) if v is not None}
        if args.start:
            if config:
                raise ConfigError("--start runs the saved run's configuration: leave out --max-entries, "
                                  "--pre-vote and --check-quorum")
            from .run import Run
            result = explore(start=Run.load(args.start, impl=args.impl), **options)
        else:
            result = explore(args.impl, nodes=args.nodes, **options, **config)
    except (RaftlabError, ValueError, OSError) as exc:
        print(f"raftlab explore: error: {exc}", file=sys.stderr)
        return 2
    print(result)
    if not result.found:
        return 0
    if args.save:
        result.save(args.save)
        print(f"  saved: raftlab replay {shlex.quote(args.save)}{_impl_option(args.impl)}")
    return 1


def _config_from_args(args) -> Config:
    changes = {"seed": getattr(args, "seed", 0)}
    for field in ("nodes", "drop", "duplicate", "delay", "election_timeout", "heartbeat",
                  "request_interval", "pre_vote", "check_quorum", "snapshot_every"):
        value = getattr(args, field)
        if value is not None:
            changes[field] = value
    if getattr(args, "membership", None) is not None:
        changes["membership"] = args.membership
    if args.no_safety_checks:
        changes["check_safety"] = False
    # the CLI prints every 100 ms of simulated time: keep enough events for any 100 ms
    return Config.preset(args.preset, **changes, history=50_000)


def _print_events(sim, level: str, start: int) -> int:
    """Print the events from step ``start`` on; return the next step to print from."""
    fresh = []
    for ev in reversed(sim.trace):
        if ev.step < start:
            break
        fresh.append(ev)
    for ev in reversed(fresh):
        if level == "debug" or ev.level == "info":
            print(ev)
    return sim.steps + 1


def parse_changes(specs: Sequence[str], nodes: int) -> list[tuple[int, str, str]]:
    """``["500:add:n6", "900:remove:n1"]`` -> ``[(500, "add", "n6"), (900, "remove", "n1")]``, in time order,
    checked against the cluster as the changes leave it (a ConfigError for a change that cannot be)."""
    parsed = []
    for spec in specs:
        parts = str(spec).split(":")
        if len(parts) != 3:
            raise ConfigError(f"--change {spec!r}: write TIME:add:SERVER or TIME:remove:SERVER (e.g. 500:add:n6)")
        try:
            time = parse_duration(parts[0])
        except argparse.ArgumentTypeError as exc:
            raise ConfigError(f"--change {spec!r}: {exc}; write TIME:add:SERVER or TIME:remove:SERVER") from None
        kind, name = parts[1], parts[2]
        if kind not in ("add", "remove"):
            raise ConfigError(f"--change {spec!r}: a change is add or remove, not {kind!r}")
        if not SERVER_NAME.fullmatch(name):
            raise ConfigError(f"--change {spec!r}: a server is named like n6 (n and a number from 1 to 99)")
        parsed.append((time, kind, name))
    parsed.sort(key=lambda c: c[0])
    members = {f"n{i}" for i in range(1, nodes + 1)}
    for time, kind, name in parsed:
        if kind == "add" and name in members:
            raise ConfigError(f"--change {time}:add:{name}: {name} is already in the cluster then")
        if kind == "remove" and name not in members:
            raise ConfigError(f"--change {time}:remove:{name}: {name} is not in the cluster then")
        if kind == "remove" and members == {name}:
            raise ConfigError(f"--change {time}:remove:{name}: that would leave the cluster with no voters")
        (members.add if kind == "add" else members.discard)(name)
    return parsed


def _try_changes(sim, pending: list, waiting: set, level: str) -> None:
    """Make the changes that are due, in order, printing what they did; one the cluster refuses now
    waits (and holds back the later ones)."""
    while pending and pending[0][0] <= sim.now:
        time, kind, name = pending[0]
        last = sim.trace[-1] if sim.trace else None
        try:
            (sim.add_server if kind == "add" else sim.remove_server)(name)
            if level != "warning":
                fresh = []
                for ev in reversed(sim.trace):
                    if ev is last:
                        break
                    fresh.append(ev)
                for ev in reversed(fresh):
                    print(ev)
        except OperatorError as exc:
            if pending[0] not in waiting:
                waiting.add(pending[0])
                print(f"t={sim.now:<6} change {kind} {name} waits: {exc}")
            return
        pending.pop(0)


def _drive(sim, until: int, level: str, changes: Sequence[tuple[int, str, str]] = ()) -> Optional[BaseException]:
    """Run to time ``until`` in slices, printing events as they happen (and making ``changes`` on time)."""
    printed_from = 0
    pending, waiting = list(changes), set()    # type: ignore[var-annotated]
    try:
        while sim.now < until:
            if pending:
                _try_changes(sim, pending, waiting, level)
            step = min(100, until - sim.now)
            if pending and pending[0][0] > sim.now:
                step = min(step, pending[0][0] - sim.now)
            sim.advance(step)
            if level != "warning":
                printed_from = _print_events(sim, level, printed_from)
    except (SafetyViolation, NodeError) as exc:
        if level != "warning":
            _print_events(sim, level, printed_from)
        return exc
    return None


def _print_summary(sim, verdict=None) -> None:
    stats = sim.stats
    leader = sim.leader()
    changed = any(n.log.configuration_index for n in sim.nodes.values())   # the log ever held one
    print()
    print(f"summary after {sim.now} ms ({stats['steps']} events), seed {sim.initial_config.seed}:")
    print(f"  leader: {leader.id + ' in term ' + str(leader.current_term) if leader else 'none'}")
    for node in sim.nodes.values():
        state = "crashed" if node.crashed else str(node.role)
        print(f"  {node.id}: {state:<13} term {node.current_term:<3} commit index {node.commit_index:<5} "
              f"log length {node.log.last_index}" + (f"  configuration {node.configuration}" if changed else ""))
    print(f"  messages: {stats['sent']} sent, {stats['delivered']} delivered, {stats['dropped']} dropped, "
          f"{stats['duplicated']} duplicated")
    print(f"  client requests: {stats['client_requests']} sent, {stats['client_completed']} answered")
    if verdict is not None:
        print(f"  clients' history: {str(verdict).splitlines()[0]}")


def _report_failure(exc: BaseException, sim, replay_cmd: str) -> int:
    print(file=sys.stderr)
    if isinstance(exc, SafetyViolation):
        print(f"SAFETY VIOLATION: {exc.property}: {exc.detail} (step {exc.step}, t={exc.time} ms)",
              file=sys.stderr)
    else:
        print(f"ERROR: {exc}", file=sys.stderr)
    print(f"replay: {replay_cmd}", file=sys.stderr)
    return 1


def _simulate(args) -> int:
    try:
        config = _config_from_args(args)
        changes = parse_changes(args.change, config.nodes)
        if args.save:
            _check_output_file(args.save)
        from .sim import Simulation
        sim = Simulation(config, impl=args.impl)
    except (ConfigError, RaftlabError) as exc:
        print(f"raftlab simulate: error: {exc}", file=sys.stderr)
        return 2
    except NotImplementedError as exc:
        print(f"raftlab simulate: error: {exc}", file=sys.stderr)
        return 2
    level = args.log_level
    logging.getLogger("raftlab").setLevel(level.upper())
    print(f"raftlab: {config.nodes} nodes, seed {config.seed}, {args.duration} ms, drop {config.drop:.2f}, "
          f"duplicate {config.duplicate:.2f}, delay {config.delay[0]}-{config.delay[1]} ms, election timeout "
          f"{config.election_timeout[0]}-{config.election_timeout[1]} ms, heartbeat {config.heartbeat} ms, "
          f"pre-vote {'on' if config.pre_vote else 'off'}, rules: {sim.rules.source}")
    failure = _drive(sim, args.duration, level, changes)
    verdict = None
    if failure is None and sim.checker is not None:     # the clients' view, once the run is over
        verdict = sim.check_history()
        if verdict.failed:
            failure = sim.violation
    _print_summary(sim, verdict)
    if args.save:
        sim.save(args.save)
        print(f"  saved the run to {args.save}")
    if failure is not None:
        return _report_failure(failure, sim, "raftlab " + " ".join(shlex.quote(a) for a in sys.argv[1:]))
    return 0


def _replay(args) -> int:
    from .sim import Simulation
    try:
        sim = Simulation.load(args.run, impl=args.impl, until_step=args.until_step)
    except (SafetyViolation, NodeError) as exc:
        print(exc, file=sys.stderr)
        return 1
    except RaftlabError as exc:
        print(f"raftlab replay: error: {exc}", file=sys.stderr)
        return 2
    if args.log_level != "warning":
        _print_events(sim, args.log_level, 0)
    verdict = sim.check_history() if args.until_step is None and sim.checker is not None else None
    _print_summary(sim, verdict)
    if verdict is not None and verdict.failed:
        print(sim.violation, file=sys.stderr)
        return 1
    return 0


def _campaign(args) -> int:
    from . import campaign
    problem = (args.runs < 1 and "--runs must be at least 1") or (args.jobs < 1 and "--jobs must be at least 1")
    if problem:
        print(f"raftlab campaign: error: {problem}", file=sys.stderr)
        return 2
    try:
        config = _config_from_args(args)
        if args.request_interval is None:
            config = config.replace(request_interval=100)
        from .impl import resolve_rules
        resolve_rules(args.impl)                    # a broken --impl is a bad argument, before any run
        save_dir = _prepare_dir(args.save) if args.save else None
    except RaftlabError as exc:
        print(f"raftlab campaign: error: {exc}", file=sys.stderr)
        return 2
    seeds = range(args.first_seed, args.first_seed + args.runs)
    print(f"raftlab campaign: {args.runs} runs (seeds {seeds[0]}..{seeds[-1]}) x {args.duration} ms, "
          f"{config.nodes} nodes, drop {config.drop:.2f}, "
          f"{'membership changes (' + config.membership + '), ' if args.changes else ''}"
          f"{args.jobs} process(es), rules: {args.impl or 'reference'}")
    results = campaign.run_campaign(seeds, config, args.impl, duration=args.duration, jobs=args.jobs,
                                    progress=not args.no_progress, changes=args.changes)
    failed = [r for r in results if not r.ok]
    print(f"{len(results) - len(failed)} ok, {len(failed)} failed")
    for result in failed:
        if args.minimize:
            result = campaign.minimize(result, config, args.impl, args.duration)
        _report_campaign_failure(result, args, save_dir)
    return 1 if failed else 0


def _check_output_file(path: str) -> None:
    """Make sure ``path`` can be written, before a run that would save there (a ConfigError if not).
    A file that did not exist is not left behind."""
    from pathlib import Path
    target = Path(path)
    if target.is_dir():
        raise ConfigError(f"cannot save the run to {path}: it is a folder; give a file name such as run.json")
    existed = target.exists()
    try:
        with open(target, "a"):
            pass
    except OSError as exc:
        raise ConfigError(f"cannot save the run to {path}: {exc.strerror}") from None
    if not existed:
        target.unlink()


def _prepare_dir(path: str):
    """The folder for saved runs, created now (before any run), or a ConfigError saying why not."""
    from pathlib import Path
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".raftlab-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"cannot save runs in {path}: {exc.strerror}") from None
    return folder


def _report_campaign_failure(result, args, save_dir) -> None:
    print(f"seed {result.seed}: {result.problem}: {result.detail.splitlines()[0]} "
          f"({len(result.faults)} faults)")
    again = [a for a in sys.argv[1:] if a not in ("--minimize",)] if sys.argv[1:2] == ["campaign"] else ["campaign"]
    again = _without_options(again, ("--runs", "--first-seed", "--save"))
    print(f"  replay: raftlab {' '.join(shlex.quote(a) for a in again)} --first-seed {result.seed} --runs 1")
    if save_dir is not None and result.run is not None:
        path = save_dir / f"seed-{result.seed}.json"
        path.write_text(json.dumps(result.run, indent=1) + "\n")
        print(f"  saved: raftlab replay {shlex.quote(str(path))}{_impl_option(args.impl)}")


def _impl_option(impl: Optional[str]) -> str:
    """`` --impl X`` for a replay command, when the rules are not ones a saved run may name by itself."""
    from .run import TRUSTED_RULES
    return "" if impl in TRUSTED_RULES else f" --impl {shlex.quote(impl or '')}"


def _without_options(argv: list, names: tuple) -> list:
    """``argv`` without the options ``names`` and their values (``--runs 5`` or ``--runs=5``)."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a in names:
            skip = True
        elif not a.startswith(tuple(n + "=" for n in names)):
            out.append(a)
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="raftlab", description="raftlab: learn Raft by stepping a deterministic cluster.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    _add_simulate(sub)
    _add_replay(sub)
    _add_campaign(sub)
    _add_explore(sub)
    for module in EXTERNAL_COMMANDS.values():
        try:
            importlib.import_module(module).register(sub)
        except ModuleNotFoundError as exc:
            if exc.name is None or not module.startswith(exc.name):
                raise
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:            # e.g. `raftlab simulate | head`
        sys.stdout = open(os.devnull, "w")
        return 0


if __name__ == "__main__":
    sys.exit(main())
