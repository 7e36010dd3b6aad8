"""A run as data: its configuration, its rules and its recorded actions; replay and fork.

A simulation is determined by three things: the :class:`~raftlab.Config` (seed
included), the rules its servers run, and the operator's actions with the step
and time each was taken at.  :class:`Run` holds exactly those (``sim.run``
returns the run so far) and is the one way back to a simulation:

* :meth:`Run.replay` builds a fresh simulation and plays the actions into it,
  stepping between them; :meth:`Run.fork` cuts the run at a step (what
  ``sim.rewind`` and the Explorer's time slider use).  A replay runs the *same
  rules object*: nothing is imported again, so a student who edits their file
  while rewinding still sees the code the run was made with.
* :func:`play` is the one replay loop: it moves a simulation forward along a
  run, to the end or to a step or a time (the Explorer's Step, Advance and Play
  use it to play a loaded run back).
* :meth:`Run.to_json` / :meth:`Run.from_json` are the saved form
  (``sim.save(path)``, ``raftlab replay``).  Format 1 files (before actions were
  named after methods) are read too.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Union

from .actions import Recorded, action_from_json
from .config import Config
from .errors import ConfigError
from .impl import Rules, resolve_rules

if TYPE_CHECKING:
    from .sim import Simulation

__all__ = ["Run", "play", "FORMAT_VERSION"]

FORMAT_VERSION = 2


@dataclass(frozen=True)
class Run:
    """What determines a simulation: ``config``, ``rules`` (the rules object the servers run) and
    ``actions``; ``steps`` and ``time`` say how far it went.  A saved run names the rules by
    ``rules.spec``."""
    config: Config
    rules: Rules
    actions: tuple[Recorded, ...] = ()
    steps: int = 0
    time: int = 0

    def fork(self, at: int) -> "Run":
        """This run cut just after step ``at``: the actions taken before it, and no further."""
        if not isinstance(at, int) or isinstance(at, bool) or not 0 <= at <= self.steps:
            raise ConfigError(f"a run of {self.steps} steps can be cut at a step between 0 and "
                              f"{self.steps}, not {at!r}")
        kept = tuple(r for r in self.actions if r.step < at)
        return Run(self.config, self.rules, kept, at, kept[-1].time if kept else 0)

    def replay(self, until: Optional[int] = None) -> "Simulation":
        """A new simulation that has played this run (up to just after step ``until``)."""
        from .sim import Simulation
        run = self if until is None else self.fork(until)
        sim = Simulation(self.config, impl=self.rules)
        play(sim, run)
        return sim

    # --- following a run (the Explorer's play-back) ---------------------------------------------
    def follows(self, sim: "Simulation") -> bool:
        """Whether ``sim`` is on this run: its actions are this run's first ones and it has not
        gone past this run's last step."""
        n = len(sim.actions)
        return n <= len(self.actions) and sim.steps <= self.steps and tuple(sim.actions) == self.actions[:n]

    def behind(self, sim: "Simulation") -> bool:
        """Whether ``sim`` is on this run with something left to play."""
        return self.follows(sim) and (sim.steps < self.steps or len(sim.actions) < len(self.actions))

    # --- the saved form -------------------------------------------------------------------------
    def to_json(self) -> dict:
        return {"raftlab": FORMAT_VERSION, "config": self.config.to_dict(), "impl": _impl_name(self.rules.spec),
                "actions": [r.to_json() for r in self.actions], "steps": self.steps, "time": self.time}

    def save(self, path: Union[str, Path]) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n")
        return path

    @classmethod
    def from_json(cls, data: Union[dict, str, bytes], impl: Any = None) -> "Run":
        """A saved run (the dict or its JSON text).  Its rules are ``impl`` if given, else the ones
        the file names."""
        data = _parse(data)
        try:
            config = Config.from_dict(data["config"])
            records, steps, time = data["actions"], data["steps"], data["time"]
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"not a raftlab run: missing or bad field {exc}") from None
        if not isinstance(records, list) or not isinstance(steps, int) or not isinstance(time, int):
            raise ConfigError("not a raftlab run: actions must be a list, steps and time whole numbers")
        if data["raftlab"] == 1:
            records = [_from_format_1(r) for r in records]
        actions = tuple(action_from_json(r) for r in records)
        if impl is None:
            impl = _trusted_rules(data.get("impl"))
        return cls(config, resolve_rules(impl), actions, steps, time)

    @classmethod
    def load(cls, path: Union[str, Path], impl: Any = None) -> "Run":
        try:
            text = Path(path).read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read the saved run {path}: {exc.strerror}") from None
        return cls.from_json(text, impl=impl)


def play(sim: "Simulation", run: Run, *, to_step: Optional[int] = None, to_time: Optional[int] = None) -> None:
    """Move ``sim`` forward along ``run``: step, and take each recorded action at the step it was
    taken, until the run ends, or ``to_step`` steps are done, or the next event or action comes
    after ``to_time``.  ``sim`` must follow ``run`` (see :meth:`Run.follows`)."""
    while run.follows(sim):
        n = len(sim.actions)
        nxt = run.actions[n] if n < len(run.actions) else None
        if nxt is not None and nxt.step <= sim.steps:
            if to_time is not None and nxt.time > to_time:
                return
            if to_step is not None and sim.steps >= to_step and nxt.action.is_step:
                return          # an action that is itself a step belongs to the next Step
            sim.do(nxt.action)
            continue
        if sim.steps >= run.steps or (to_step is not None and sim.steps >= to_step):
            return
        due = sim.peek()
        if due is None or (to_time is not None and due > to_time):
            return
        sim.step()


#: The rules a saved run may name and get without asking: the engine's own, and the opener's own exercises.
TRUSTED_RULES = (None, "reference", "exercises")


def _trusted_rules(named: Any) -> Any:
    """The rules a saved run names, if opening it may load them by itself.  A run file can come from
    anyone (a classmate, a forum), and the rules it names are code: any other name must be passed
    again by the person opening it."""
    if named in TRUSTED_RULES:
        return named
    if isinstance(named, dict):
        raise ConfigError(f"this run used custom rules ({named.get('custom', '?')}): "
                          f"pass the same rules as impl= to replay it")
    raise ConfigError(f"this run was made with the rules in {str(named)[:200]!r}. A saved run names code, and "
                      f"raftlab only loads the reference or your own exercises by itself. If you trust that "
                      f"code, pass it again: impl={str(named)[:200]!r} (raftlab replay --impl ...)")


def _parse(data: Union[dict, str, bytes]) -> dict:
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigError("not a raftlab run: the file is not text (expected the JSON "
                              "that sim.save() writes)") from None
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"not a raftlab run: invalid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("raftlab") not in (1, FORMAT_VERSION):
        raise ConfigError(f"not a raftlab run: expected a JSON object with \"raftlab\": {FORMAT_VERSION}")
    return data


#: Format 1 named some actions differently, and recorded a wait by the time it waited until.
_FORMAT_1_NAMES = {"client": "client_request", "pre_vote": "set_pre_vote", "check_quorum": "set_check_quorum"}


def _from_format_1(record: Any) -> Any:
    if not isinstance(record, list) or len(record) != 4:
        return record
    step, time, name, args = record
    if name == "wait" and args and isinstance(args[0], int) and isinstance(time, int):
        return [step, time, "advance", [args[0] - time]]
    if name == "partition" and args:
        return [step, time, "partition", args[0]]
    return [step, time, _FORMAT_1_NAMES.get(name, name), args]


def _impl_name(impl: Any) -> Union[str, dict, None]:
    """How a run's rules are named in its saved form: a module name or path as given, else
    ``{"custom": ...}`` (rules given as a dict or a module object must be passed again, as ``impl=``)."""
    if impl is None or isinstance(impl, str):
        return impl
    if isinstance(impl, dict) and "custom" not in impl:
        return {"custom": "rules given as a dict: " + ", ".join(sorted(impl))}
    if isinstance(impl, dict):
        return impl
    return {"custom": f"rules from module {getattr(impl, '__name__', type(impl).__name__)}"}
