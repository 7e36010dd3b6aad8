"""The simulation: a virtual clock, an event queue, the nodes, the network and the operator.

Time is an integer number of virtual milliseconds.  Pending events sit in a
heap of ``(time, sequence, kind, a, b)``; the sequence number makes ties
first-in first-out, so a run is fully determined by the seed and the operator's
actions (the scheduler pattern of SimPy).

Every move an operator can make is a public method: :meth:`step`,
:meth:`advance`, :meth:`run_until`, :meth:`crash`, :meth:`restart`,
:meth:`drop`, :meth:`deliver`, :meth:`partition`, :meth:`isolate`,
:meth:`cut`, :meth:`heal`, :meth:`timeout`, :meth:`client_request`,
:meth:`set_pre_vote`, :meth:`rewind`.  Widgets, lessons, tests and graders
all call these.  Each checks its arguments first and changes nothing when they
are wrong.  Each is recorded (with the step and time it happened at), so a run
is saved as ``seed + config + actions`` and replays exactly.
"""
from __future__ import annotations

import heapq
import json
import random
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Union

from .config import Config
from .errors import (ConfigError, MessageNotInFlight, NodeError, OperatorError, RaftlabError,
                     SafetyViolation, UnknownNodeError)
from .impl import load_rules
from .invariants import SafetyChecker
from .messages import (ClientReply, ClientRequest, ElectionTimeout, HeartbeatTimeout, Message,
                       format_command)
from .network import Envelope, LinkConfig, Network
from .node import Node, NodeConfig, Role
from .statemachine import check_command

__all__ = ["Simulation", "TraceEvent", "Operation", "NodeError"]

DELIVER, ELECTION, HEARTBEAT, CLIENT_TICK, CLIENT_RETRY = range(5)
FORMAT_VERSION = 1


class TraceEvent:
    """One line of the event log: ``what`` happened at ``time`` (step ``step``).

    ``what`` is a message or a string; it is turned into text only when read,
    so recording history costs almost nothing."""
    __slots__ = ("step", "time", "what", "suffix", "level")

    def __init__(self, step: int, time: int, what: Any, level: str = "debug", suffix: str = ""):
        self.step, self.time, self.what, self.level, self.suffix = step, time, what, level, suffix

    @property
    def text(self) -> str:
        return f"{self.what}{self.suffix}"

    def __str__(self) -> str:
        return f"t={self.time:<6} {self.text}"

    def __repr__(self) -> str:
        return f"TraceEvent(step={self.step}, {self})"


@dataclass(slots=True)
class Operation:
    """One client operation as the client saw it (for linearizability checks)."""
    client: str
    seq: int
    command: tuple
    invoked: int
    completed: Optional[int] = None
    result: Any = None
    attempts: int = 1

    def __str__(self) -> str:
        end = f"t={self.completed} -> {self.result!r}" if self.completed is not None else "pending"
        return f"{self.client}#{self.seq} {format_command(self.command)} t={self.invoked}..{end}"


class _Client:
    __slots__ = ("id", "seq", "pending", "guess", "last_target")

    def __init__(self, cid: str):
        self.id, self.seq, self.pending, self.guess, self.last_target = cid, 0, None, None, None


class Simulation:
    """A Raft cluster in simulated time.

    >>> sim = Simulation(nodes=3, seed=1)
    >>> sim.run_until(lambda s: s.leader() is not None, within=2000)
    True
    """

    def __init__(self, config: Optional[Config] = None, *, impl: Any = None, **changes: Any):
        if config is None:
            config = Config(**changes)
        elif changes:
            config = config.replace(**changes)
        if not isinstance(config, Config):
            raise ConfigError(f"config must be a raftlab Config, got {type(config).__name__}")
        self.initial_config = config
        self.impl = impl
        self.rules = load_rules(impl)
        self._start(config)

    # --- construction ------------------------------------------------------------------
    def _start(self, config: Config) -> None:
        self.config = config
        self.names = [f"n{i}" for i in range(1, config.nodes + 1)]
        node_config = self._node_config(config)
        self.nodes: dict[str, Node] = {
            name: Node(name, self.names, node_config, self.rules, self._timeout_stream(name))
            for name in self.names}
        self.network = Network(config.seed, LinkConfig(config.delay, config.drop, config.duplicate),
                               self.names)
        self.clients: dict[str, _Client] = {}
        self.operations: list[Operation] = []
        self._pending_ops: dict[tuple[str, int], Operation] = {}
        self._load_random = random.Random(f"{config.seed}:clients").random
        self.now = 0
        self.steps = 0
        self.actions: list[list] = []
        self.trace: deque[TraceEvent] = deque(maxlen=config.history or 1)
        self._record_trace = config.history > 0
        self.checker = SafetyChecker() if config.check_safety else None
        self.violation: Optional[SafetyViolation] = None
        self.error: Optional[NodeError] = None
        self._queue: list[tuple] = []
        self._seq = 0
        self._scheduled: dict[str, list] = {name: [None, None] for name in self.names}
        self.listeners: list[Callable[["Simulation"], None]] = []
        #: Changes over time, for timelines: ("node", time, id, role, term, commit_index, crashed)
        #: whenever one of those changes, and ("net", time, groups, cut links) on partition/heal/cut.
        self.timeline: deque[tuple] = deque(maxlen=max(config.history * 10, 1000))
        for name in self.names:
            self.timeline.append(("node", 0, name, "follower", 0, 0, False))
        for node in self.nodes.values():
            self._call(node, lambda n=node: n.rules.reset_election_timer(n), None)
        if config.request_interval:
            self._push(config.request_interval, CLIENT_TICK, None, None)

    @staticmethod
    def _node_config(config: Config) -> NodeConfig:
        return NodeConfig(config.election_timeout, config.heartbeat, config.pre_vote,
                          config.check_quorum, config.snapshot_every, config.max_entries)

    def _timeout_stream(self, name: str) -> Callable[[], int]:
        """Node ``name``'s k-th election timeout is the k-th draw of its own stream."""
        draw = random.Random(f"{self.config.seed}:timeout:{name}").random

        def next_timeout() -> int:
            lo, hi = self.config.election_timeout
            return lo + int(draw() * (hi - lo + 1))
        return next_timeout

    # --- reading the state ----------------------------------------------------------------
    def node(self, name: Union[str, int]) -> Node:
        """The node called ``name`` (``"n2"`` or ``2``)."""
        return self.nodes[self._name(name)]

    def leader(self) -> Optional[Node]:
        """The live leader with the highest term, or None."""
        best = None
        for node in self.nodes.values():
            if node.role is Role.LEADER and not node.crashed:
                if best is None or node.current_term > best.current_term:
                    best = node
        return best

    def in_flight(self) -> list[Envelope]:
        """Messages in flight, soonest delivery first."""
        return sorted(self.network.in_flight.values(), key=lambda e: (e.deliver_at, e.id))

    def peek(self) -> Optional[int]:
        """The time of the next pending event, or None."""
        self._discard_stale()
        return self._queue[0][0] if self._queue else None

    def events(self, level: str = "debug") -> list[TraceEvent]:
        return [e for e in self.trace if level == "debug" or e.level == "info"]

    def trace_text(self, level: str = "debug") -> str:
        return "\n".join(str(e) for e in self.events(level))

    def committed(self, name: Union[str, int, None] = None) -> list:
        """The committed log entries of a node (default: the leader, else the node
        with the highest commit index), from the oldest one still in its log."""
        node = self.node(name) if name is not None else (
            self.leader() or max(self.nodes.values(), key=lambda n: n.commit_index))
        log = node.log
        return [log.entry(i) for i in range(log.snapshot_index + 1, node.commit_index + 1)]

    @property
    def stats(self) -> dict:
        net = self.network
        done = [op for op in self.operations if op.completed is not None]
        return {"steps": self.steps, "time": self.now, "sent": net.sent, "delivered": net.delivered,
                "dropped": net.dropped, "duplicated": net.duplicated,
                "client_requests": len(self.operations), "client_completed": len(done)}

    def summary(self) -> str:
        """A short deterministic description of the cluster (for lessons and checks)."""
        leader = self.leader()
        lines = [f"t={self.now} ms, leader: {leader.id + ' (term ' + str(leader.current_term) + ')' if leader else 'none'}"]
        for node in self.nodes.values():
            state = "crashed" if node.crashed else str(node.role)
            lines.append(f"  {node.id}: {state:<13} term={node.current_term} "
                         f"voted_for={node.voted_for or '-'} commit={node.commit_index} "
                         f"log={node.log.last_index}")
        return "\n".join(lines)

    # --- running ------------------------------------------------------------------------
    def step(self) -> Optional[TraceEvent]:
        """Process the next event (a message arrives, a timer fires, a client acts).
        Returns its trace line (None when history is off), or None when nothing is pending."""
        self._check_running()
        return self._step(None)

    def _step(self, limit: Optional[int]) -> Optional[TraceEvent]:
        """Process the next live event due at or before ``limit`` (any time if None).
        Sets ``self._stepped`` to whether an event was processed."""
        queue = self._queue
        self._stepped = False
        while queue:
            top = queue[0]
            if self._is_stale(top):
                heapq.heappop(queue)
                continue
            time, _, kind, a, b = top
            if limit is not None and time > limit:
                return None
            heapq.heappop(queue)
            self.now = time
            self.steps += 1
            self._stepped = True
            if kind == DELIVER:
                return self._deliver(self.network.in_flight.pop(a))
            if kind == ELECTION or kind == HEARTBEAT:
                self._scheduled[a][0 if kind == ELECTION else 1] = None
                msg = ElectionTimeout(a, a) if kind == ELECTION else HeartbeatTimeout(a, a)
                ev = self._event(msg)
                self._run_node(self.nodes[a], msg)
                return ev
            if kind == CLIENT_TICK:
                return self._client_tick()
            return self._client_retry(a, b)
        return None

    def _is_stale(self, event: tuple) -> bool:
        """An event that would do nothing: a message already delivered or dropped, a timer
        that was reset (or whose node crashed), a retry for a request already answered."""
        time, _, kind, a, b = event
        if kind == DELIVER:
            return a not in self.network.in_flight
        if kind == ELECTION or kind == HEARTBEAT:
            node = self.nodes[a]
            slot = 0 if kind == ELECTION else 1
            deadline = node.election_deadline if slot == 0 else node.heartbeat_deadline
            return node.crashed or self._scheduled[a][slot] != time or deadline != time
        if kind == CLIENT_RETRY:
            c = self.clients.get(a)
            return c is None or c.pending is None or c.pending.seq != b
        return False

    def advance(self, ms: int) -> int:
        """Run every event due in the next ``ms`` milliseconds, then move the clock
        to now + ms.  Returns the number of events processed."""
        if not isinstance(ms, int) or ms < 0:
            raise OperatorError(f"advance takes a whole number of milliseconds >= 0, got {ms!r}")
        self._check_running()
        target = self.now + ms
        count = 0
        while True:
            self._step(target)
            if not self._stepped:
                break
            count += 1
        if target > self.now:
            self._record("wait", target)
            self.now = target
        self._notify()
        return count

    def run(self, ms: int) -> int:
        """Alias of :meth:`advance`."""
        return self.advance(ms)

    def run_until(self, condition: Callable[["Simulation"], bool], within: int = 10_000,
                  max_steps: int = 1_000_000) -> bool:
        """Step until ``condition(sim)`` is true, for at most ``within`` ms of virtual
        time.  Returns whether the condition became true (the clock then stands at
        the step that made it true; otherwise at now + within)."""
        self._check_running()
        deadline = self.now + within
        steps = 0
        while not condition(self):
            nxt = self.peek()
            if nxt is None or nxt > deadline or steps >= max_steps:
                if deadline > self.now:
                    self._record("wait", deadline)
                    self.now = deadline
                self._notify()
                return bool(condition(self))
            self.step()
            steps += 1
        self._notify()
        return True

    def run_until_leader(self, within: int = 10_000) -> Optional[Node]:
        """Run until some node is leader; return it (or None)."""
        self.run_until(lambda s: s.leader() is not None, within)
        return self.leader()

    # --- operator actions --------------------------------------------------------------
    def crash(self, node: Union[str, int]) -> None:
        """Crash a node: it keeps current_term, voted_for, its log and snapshot; it loses
        everything else.  Messages to it are lost until it restarts."""
        n = self.node(node)
        if n.crashed:
            raise OperatorError(f"{n.id} is already crashed; restart it first")
        self._check_running()
        self._record("crash", n.id)
        n.crash()
        self._scheduled[n.id] = [None, None]
        self._drain(n)
        self._timeline_node(n)
        self._notify()

    def restart(self, node: Union[str, int]) -> None:
        """Restart a crashed node from its persistent state, as a follower."""
        n = self.node(node)
        if not n.crashed:
            raise OperatorError(f"{n.id} is running; only a crashed node can be restarted")
        self._check_running()
        self._record("restart", n.id)
        n.restart(self.now)
        if self.checker:
            self.checker.after_restart(n)
        self._drain(n)
        self._timeline_node(n)
        self._notify()

    def drop(self, message_id: int) -> Envelope:
        """Drop message ``message_id`` (an id from :meth:`in_flight`) before it arrives."""
        env = self._in_flight(message_id)
        self._check_running()
        self._record("drop", env.id)
        self.network.take(env.id)
        self.network.record(env.id, "dropped", self.now, "by the operator")
        self._event(f"operator dropped #{env.id} {env.message}", "info")
        self._notify()
        return env

    def deliver(self, message_id: int) -> Optional[TraceEvent]:
        """Deliver message ``message_id`` now, ahead of its time (one step)."""
        env = self._in_flight(message_id)
        self._check_running()
        self._record("deliver", env.id)
        self.network.take(env.id)
        self.steps += 1
        ev = self._deliver(env, early=True)
        self._notify()
        return ev

    def partition(self, *groups: Iterable[Union[str, int]]) -> None:
        """Split the network: nodes in different groups cannot reach each other.
        Nodes not named form one more group.  ``partition(["n1", "n2"], ["n3", "n4", "n5"])``."""
        named = [[self._name(x) for x in g] for g in groups]
        flat = [x for g in named for x in g]
        if not named or any(not g for g in named):
            raise OperatorError("partition needs non-empty groups of nodes, e.g. "
                                "partition(['n1', 'n2'], ['n3', 'n4', 'n5'])")
        dup = sorted({x for x in flat if flat.count(x) > 1})
        if dup:
            raise OperatorError(f"{', '.join(dup)} cannot be in two groups of a partition")
        rest = [x for x in self.names if x not in flat]
        if rest:
            named.append(rest)
        if len(named) < 2:
            raise OperatorError("a partition needs at least two groups; use heal() to reconnect everyone")
        self._check_running()
        self._record("partition", named)
        self.network.groups = {x: i for i, g in enumerate(named) for x in g}
        self._timeline_net()
        self._event("operator partitioned the network: " + " | ".join(" ".join(g) for g in named), "info")
        self._notify()

    def isolate(self, node: Union[str, int]) -> None:
        """Cut one node off from all the others."""
        name = self._name(node)
        self.partition([name])

    def cut(self, src: Union[str, int], dst: Union[str, int]) -> None:
        """Cut the link from ``src`` to ``dst``, one way only."""
        a, b = self._name(src), self._name(dst)
        if a == b:
            raise OperatorError(f"a node has no link to itself ({a})")
        self._check_running()
        self._record("cut", a, b)
        self.network.cut.add((a, b))
        self._timeline_net()
        self._event(f"operator cut the link {a}->{b}", "info")
        self._notify()

    def heal(self) -> None:
        """Remove every partition and cut link."""
        self._check_running()
        self._record("heal")
        self.network.groups = None
        self.network.cut.clear()
        self._timeline_net()
        self._event("operator healed the network", "info")
        self._notify()

    def timeout(self, node: Union[str, int]) -> TraceEvent:
        """Make a node's election timer fire now (one step)."""
        n = self.node(node)
        if n.crashed:
            raise OperatorError(f"{n.id} is crashed: it has no timer to fire")
        self._check_running()
        self._record("timeout", n.id)
        self.steps += 1
        ev = self._event(f"operator forced {n.id}'s election timeout", "info")
        self._run_node(n, ElectionTimeout(n.id, n.id))
        self._notify()
        return ev

    def client_request(self, command: Any, node: Union[str, int, None] = None,
                       client: Optional[str] = None) -> tuple[str, int]:
        """A client sends ``command`` (``"put x 1"``, ``("get", "x")``...) to ``node``
        (default: the leader it last heard of, else a node chosen by the seed).
        Returns ``(client id, sequence number)``."""
        cmd = check_command(command)
        target = self._name(node) if node is not None else None
        if client is not None:
            if not isinstance(client, str) or not client.startswith("c") or client in self.nodes:
                raise OperatorError(f"client names start with 'c' (like 'c1'), got {client!r}")
            c = self.clients.get(client)
            if c is not None and c.pending is not None:
                raise OperatorError(f"{client} is still waiting for its request #{c.pending.seq}; "
                                    f"use another client or wait")
        self._check_running()
        self._record("client", list(cmd), target, client)
        c = self._client(client)
        self._submit(c, cmd, target)
        self._notify()
        return c.id, c.seq

    def set_pre_vote(self, enabled: bool = True) -> None:
        """Turn pre-vote (thesis section 9.6) on or off for every node."""
        self._check_running()
        self._record("pre_vote", bool(enabled))
        self._reconfigure(pre_vote=bool(enabled))

    def set_check_quorum(self, enabled: bool = True) -> None:
        """Turn check-quorum (a leader steps down without a majority) on or off."""
        self._check_running()
        self._record("check_quorum", bool(enabled))
        self._reconfigure(check_quorum=bool(enabled))

    def _reconfigure(self, **changes: Any) -> None:
        self.config = self.config.replace(**changes)
        node_config = self._node_config(self.config)
        for n in self.nodes.values():
            n.config = node_config
        self._event("operator set " + ", ".join(f"{k}={v}" for k, v in changes.items()), "info")
        self._notify()

    # --- history: rewind, save, load -----------------------------------------------------
    def rewind(self, step: int) -> None:
        """Go back to the moment just after step ``step`` (0: the start), by
        replaying the seed and the operator's actions taken before it."""
        if not isinstance(step, int) or not 0 <= step <= self.steps:
            raise OperatorError(f"can only rewind to a step between 0 and {self.steps}, got {step!r}")
        listeners = self.listeners
        fresh = Simulation(self.initial_config, impl=self.impl)
        fresh.rules = self.rules
        fresh._replay([a for a in self.actions if a[0] < step], step)
        # keep this object (widgets hold it); take over the replayed state
        self.__dict__.update(fresh.__dict__)
        self.listeners = listeners
        self._notify()

    def to_json(self) -> dict:
        """The run as data: seed and config, the implementation, the actions, where it stands."""
        return {"raftlab": FORMAT_VERSION, "config": self.initial_config.to_dict(),
                "impl": self._impl_name(),
                "actions": self.actions, "steps": self.steps, "time": self.now}

    def _impl_name(self) -> Union[str, dict, None]:
        """How the run's rules are named in a saved run: a module name or path as given,
        else ``{"custom": ...}`` (rules given as a dict or module object must be passed
        again, as ``impl=``, to replay)."""
        impl = self.impl
        if impl is None or isinstance(impl, str):
            return impl
        if isinstance(impl, dict):
            return {"custom": "rules given as a dict: " + ", ".join(sorted(impl))}
        return {"custom": f"rules from module {getattr(impl, '__name__', type(impl).__name__)}"}

    def save(self, path: Union[str, Path]) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n")
        return path

    @classmethod
    def from_json(cls, data: Union[dict, str], impl: Any = None, until_step: Optional[int] = None) -> "Simulation":
        """Rebuild a saved run (up to ``until_step``, default where it was saved)."""
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"not a raftlab run: invalid JSON ({exc})") from None
        if not isinstance(data, dict) or data.get("raftlab") != FORMAT_VERSION:
            raise ConfigError("not a raftlab run: expected a JSON object with \"raftlab\": 1")
        try:
            config = Config.from_dict(data["config"])
            actions, steps, time = data["actions"], data["steps"], data["time"]
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"not a raftlab run: missing or bad field {exc}") from None
        if impl is None:
            impl = data.get("impl")
            if isinstance(impl, dict):
                raise ConfigError(f"this run used custom rules ({impl.get('custom', '?')}): "
                                  f"pass the same rules as impl= to replay it")
        sim = cls(config, impl=impl)
        target = steps if until_step is None else until_step
        sim._replay([a for a in actions if a[0] < target or (until_step is None and a[0] == target)],
                    target)
        if until_step is None and time > sim.now:
            sim.now = time
        return sim

    @classmethod
    def load(cls, path: Union[str, Path], impl: Any = None, until_step: Optional[int] = None) -> "Simulation":
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise ConfigError(f"cannot read the saved run {path}: {exc.strerror}") from None
        return cls.from_json(text, impl=impl, until_step=until_step)

    def _replay(self, actions: list, until_step: int) -> None:
        for at_step, at_time, name, args in actions:
            while self.steps < at_step:
                if self.step() is None:
                    break
            if name == "wait":
                self.now = max(self.now, args[0])
                self.actions.append([at_step, at_time, name, args])
                continue
            if at_time > self.now:
                self.now = at_time
            self._apply_action(name, args)
        while self.steps < until_step:
            if self.step() is None:
                break

    def _apply_action(self, name: str, args: list) -> None:
        if name == "client":
            cmd, target, client = args
            self.client_request(tuple(cmd), target, client)
        elif name == "partition":
            self.partition(*args[0])
        elif name == "pre_vote":
            self.set_pre_vote(*args)
        elif name == "check_quorum":
            self.set_check_quorum(*args)
        elif name in ("crash", "restart", "drop", "deliver", "cut", "heal", "timeout"):
            getattr(self, name)(*args)
        else:
            raise ConfigError(f"a saved run contains an unknown action {name!r}")

    # --- internals -----------------------------------------------------------------------
    def _name(self, node: Union[str, int]) -> str:
        if isinstance(node, int) and not isinstance(node, bool):
            name = f"n{node}"
        elif isinstance(node, str):
            name = node
        else:
            raise UnknownNodeError(f"a node is named like 'n2' (or given as 2), got {node!r}")
        if name not in self.nodes:
            raise UnknownNodeError(f"there is no node {name!r}: this cluster has "
                                   f"{self.names[0]}..{self.names[-1]}")
        return name

    def _in_flight(self, message_id: int) -> Envelope:
        env = self.network.in_flight.get(message_id) if isinstance(message_id, int) else None
        if env is None:
            raise MessageNotInFlight(f"message #{message_id} {self.network.fate(message_id) if isinstance(message_id, int) else 'is not a message id'}; "
                                     f"pick one of sim.in_flight()")
        return env

    def _check_running(self) -> None:
        if self.violation is not None:
            raise self.violation
        if self.error is not None:
            raise self.error

    def _record(self, name: str, *args: Any) -> None:
        self.actions.append([self.steps, self.now, name, list(args)])

    def _notify(self) -> None:
        for listener in self.listeners:
            listener(self)

    def _event(self, what: Any, level: str = "debug", suffix: str = "") -> Optional[TraceEvent]:
        if not self._record_trace:
            return None
        ev = TraceEvent(self.steps, self.now, what, level, suffix)
        self.trace.append(ev)
        return ev

    def _push(self, time: int, kind: int, a: Any, b: Any) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (time, self._seq, kind, a, b))

    def _discard_stale(self) -> None:
        """Pop events that would do nothing, so the head of the queue is the next live one."""
        queue = self._queue
        while queue and self._is_stale(queue[0]):
            heapq.heappop(queue)

    def _deliver(self, env: Envelope, early: bool = False) -> Optional[TraceEvent]:
        msg = env.message
        dst = msg.dst
        how = " (delivered early by the operator)" if early else ""
        node = self.nodes.get(dst)
        net = self.network
        if node is None:                          # a reply to a client
            net.record(env.id, "delivered", self.now)
            ev = self._event(msg, "debug", how)
            self._client_receive(msg)
            return ev
        reason = "its receiver is crashed" if node.crashed else net.blocked(msg.src, dst)
        if reason:
            net.record(env.id, "lost", self.now, reason)
            return self._event(msg, "debug", f" lost: {reason}")
        net.record(env.id, "delivered", self.now)
        ev = None
        if self._record_trace:
            ev = TraceEvent(self.steps, self.now, msg, "debug", how)
            self.trace.append(ev)
        self._call(node, node.step, msg)
        return ev

    def _run_node(self, node: Node, msg: Message) -> None:
        self._call(node, node.step, msg)

    def _call(self, node: Node, fn: Callable, msg: Optional[Message]) -> None:
        """Run ``fn(msg, now)`` (or ``fn()``) on ``node``, then send what it queued,
        reschedule its timers and check safety."""
        checker = self.checker
        before = checker.before_step(node) if checker else None
        role_before, term_before = node.role, node.current_term
        commit_before = node.commit_index
        try:
            node.now = self.now
            if msg is None:
                fn()
            else:
                fn(msg, self.now)
        except RaftlabError:
            raise
        except Exception as exc:
            doing = f"handling {msg}" if msg is not None else "starting up"
            self.error = NodeError(f"{node.id} raised {type(exc).__name__} while {doing} at t={self.now}: "
                                   f"{exc}")
            self.error.__cause__ = exc
            raise self.error
        e, h = node.election_deadline, node.heartbeat_deadline
        if (e is not None and e < self.now) or (h is not None and h < self.now):
            timer, deadline = ("election_deadline", e) if e is not None and e < self.now else ("heartbeat_deadline", h)
            self.error = NodeError(
                f"{node.id} set its {timer} to t={deadline}, which is in the past (now t={self.now}); "
                f"a timer must be set to node.now + a timeout")
            raise self.error
        if node.commit_index != commit_before or node.role is not role_before \
                or node.current_term != term_before:
            if node.commit_index > commit_before and node.role is Role.LEADER:
                self._event(f"{node.id} committed up to index {node.commit_index}", "info")
            self._timeline_node(node)
        self._drain(node)
        if checker:
            try:
                checker.after_step(node, before)
            except SafetyViolation as v:
                self._halt(v)
        else:
            node.applied.clear()
            node.log.dirty_from = node.log.truncated = None

    def _timeline_node(self, node: Node) -> None:
        self.timeline.append(("node", self.now, node.id, node.role.value, node.current_term,
                              node.commit_index, node.crashed))

    def _timeline_net(self) -> None:
        net = self.network
        groups = None if net.groups is None else dict(net.groups)
        self.timeline.append(("net", self.now, groups, sorted(net.cut)))

    def _halt(self, v: SafetyViolation) -> None:
        v.step, v.time = self.steps, self.now
        v.recent = [str(e) for e in list(self.trace)[-12:]]
        v.run = self.to_json()
        v.replay = (f"seed={self.initial_config.seed}, {len(self.actions)} operator action(s), "
                    f"step {self.steps}: Simulation.from_json(run) or `raftlab replay FILE` on a saved run")
        v.args = (str(v),)
        self.violation = v
        self._event(f"SAFETY VIOLATION: {v.property}: {v.detail}", "info")
        raise v

    def _drain(self, node: Node) -> None:
        """Log the node's notes, put its outbox on the network, and (re)schedule its timers."""
        if node.notes:
            for note in node.notes:
                self._event(note, "info")
            node.notes.clear()
        outbox = node.outbox
        if outbox:
            now = self.now
            send = self.network.send
            queue = self._queue
            for msg in outbox:
                envs, lost = send(msg, now)
                if lost is not None:
                    self._event(msg, "debug", f" lost: {lost}")
                for env in envs:
                    self._seq += 1
                    heapq.heappush(queue, (env.deliver_at, self._seq, DELIVER, env.id, None))
            outbox.clear()
        if node.crashed:
            return
        sched = self._scheduled[node.id]
        deadline = node.election_deadline
        if deadline is not None and deadline != sched[0]:
            sched[0] = deadline
            self._push(deadline, ELECTION, node.id, None)
        deadline = node.heartbeat_deadline
        if deadline is not None and deadline != sched[1]:
            sched[1] = deadline
            self._push(deadline, HEARTBEAT, node.id, None)

    # --- clients ---------------------------------------------------------------------------
    def _client(self, cid: Optional[str]) -> _Client:
        if cid is None:
            for c in self.clients.values():
                if c.pending is None:
                    return c
            k = 1
            while f"c{k}" in self.clients:
                k += 1
            cid = f"c{k}"
        c = self.clients.get(cid)
        if c is None:
            c = self.clients[cid] = _Client(cid)
        return c

    def _submit(self, c: _Client, cmd: tuple, target: Optional[str]) -> Optional[TraceEvent]:
        c.seq += 1
        op = Operation(c.id, c.seq, cmd, self.now)
        c.pending = op
        self.operations.append(op)
        if target is None:
            target = c.guess or self.names[int(self._load_random() * len(self.names))]
        return self._client_send(c, target, "sent")

    def _client_send(self, c: _Client, target: str, verb: str) -> Optional[TraceEvent]:
        op = c.pending
        c.last_target = target
        msg = ClientRequest(c.id, target, c.id, op.seq, op.command)
        envs, lost = self.network.send(msg, self.now)
        for env in envs:
            self._push(env.deliver_at, DELIVER, env.id, None)
        self._push(self.now + self.config.retry_after, CLIENT_RETRY, c.id, op.seq)
        ev = self._event(f"{c.id} {verb} #{op.seq} {format_command(op.command)} to {target}"
                         + (f" (lost: {lost})" if lost else ""), "info")
        return ev

    def _client_receive(self, m: Message) -> None:
        if not isinstance(m, ClientReply):
            return
        c = self.clients.get(m.dst)
        op = c.pending if c else None
        if op is None or op.seq != m.seq:
            return                              # a late or duplicate answer
        if m.success:
            op.completed, op.result = self.now, m.result
            c.pending = None
            c.guess = m.src
            self._event(f"{c.id} got #{op.seq} {format_command(op.command)} -> {m.result!r} "
                        f"after {self.now - op.invoked} ms", "info")
        elif m.leader_hint and m.leader_hint != m.src and m.leader_hint in self.nodes:
            c.guess = m.leader_hint
            op.attempts += 1
            self._client_send(c, m.leader_hint, "resent")
        else:
            c.guess = None

    def _client_retry(self, cid: str, seq: int) -> Optional[TraceEvent]:
        c = self.clients.get(cid)
        if c is None or c.pending is None or c.pending.seq != seq:
            return None
        c.pending.attempts += 1
        if c.guess and c.guess != c.last_target:
            target = c.guess
        else:
            i = self.names.index(c.last_target) if c.last_target in self.names else -1
            target = self.names[(i + 1) % len(self.names)]
        c.guess = None
        return self._client_send(c, target, "timed out; resent")

    def _client_tick(self) -> Optional[TraceEvent]:
        """The steady load: every ``request_interval`` ms an idle client sends a command."""
        self._push(self.now + self.config.request_interval, CLIENT_TICK, None, None)
        r = self._load_random
        op, key, who = r(), "xyz"[int(r() * 3)], r()
        cid = next((c for c in (f"c{i}" for i in range(1, self.config.clients + 1))
                    if c not in self.clients or self.clients[c].pending is None), None)
        if cid is None:
            return self._event("load: every client is still waiting; no new request")
        n = len(self.operations) + 1
        cmd = ("put", key, str(n)) if op < 0.6 else ("append", key, str(n % 10)) if op < 0.9 else ("get", key)
        c = self._client(cid)
        return self._submit(c, cmd, c.guess or self.names[int(who * len(self.names))])
