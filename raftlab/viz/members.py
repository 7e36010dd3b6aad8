"""Who is in the cluster, as the pictures show it: voters, learners, servers leaving, servers removed.

Section 6 of the Raft paper and chapter 4 of Ongaro's dissertation.  Each server uses "the latest
configuration in its log, regardless of whether the entry is committed", so servers may disagree about
who is in the cluster while a change travels.  The views compare every server with one *reference*
server (:func:`reference_server`): the leader, or, with no leader, the server with the longest log, whose
log :func:`raftlab.viz.log_table` shows too.  Only read from the simulation, never changed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..membership import Configuration

__all__ = ["MEMBER_WORDS", "Membership", "membership", "changed", "reference_server", "config_lines", "config_text",
           "next_free_name"]

#: A server's place in the reference configuration -> the word the pictures show.
MEMBER_WORDS = {
    "voter": "voter",
    "learner": "learner",        # receives the log, does not vote yet (dissertation 4.2.1)
    "leaving": "leaving",        # in C_old only (joint phase), or removed by a change not committed yet
    "removed": "removed",        # in no configuration the reference server knows any more
}


@dataclass(frozen=True)
class Membership:
    """What the views show about membership.

    ``reference``: the server the others are compared with, and ``leader``: whether it is the leader;
    ``configuration``: the configuration it uses; ``committed``: the one in force at its commit index;
    ``status``: each server's place (a key of :data:`MEMBER_WORDS`); ``uses``: the configuration each
    server uses; ``differs``: the servers whose configuration is not the reference's."""
    reference: str
    leader: bool
    configuration: Configuration
    committed: Configuration
    status: dict[str, str]
    uses: dict[str, Configuration]
    differs: tuple[str, ...]


def _configuration_at(node, index: int) -> Configuration:
    """The latest configuration at or before ``index`` of ``node``'s log (``index`` >= its snapshot's),
    else the snapshot's, else the cluster's initial one."""
    log = node.log
    for i in reversed(log.config_indexes):
        if i <= index:
            return log.entry(i).config
    return log.snapshot_config or node.initial_configuration


def _holds_configuration(node) -> bool:
    return bool(node.log.config_indexes) or node.log.snapshot_config is not None


def _status(name: str, conf: Configuration, committed: Configuration) -> str:
    if conf.is_joint and name in (conf.old_voters or ()) and name not in conf.voters:
        return "leaving"                       # C_old only: its vote counts until C_new is committed
    if conf.is_voter(name):
        return "voter"
    if name in conf.learners:
        return "learner"
    if name in committed.members:
        return "leaving"                       # a removed leader leads until C_new commits (4.2.2)
    return "removed"


def reference_server(sim):
    """The server the views compare the others with: the leader, else the one with the longest log (the
    highest commit index breaking ties, then cluster order)."""
    return sim.leader() or max(sim.nodes.values(), key=lambda n: (n.log.last_index, n.commit_index))


def changed(sim) -> bool:
    """Whether membership is part of the story: some server's log (or snapshot) holds a configuration, or
    servers were added.  Before that every server uses the cluster's first configuration, and the views
    draw nothing about membership."""
    return len(sim.names) != sim.initial_config.nodes or any(_holds_configuration(n) for n in sim.nodes.values())


def membership(sim) -> Optional[Membership]:
    """The membership picture of ``sim``, or None while the cluster never changed its membership."""
    if not changed(sim):
        return None
    leader = sim.leader()
    ref = reference_server(sim)
    uses = {name: sim.nodes[name].configuration for name in sim.names}
    conf = uses[ref.id]
    committed = _configuration_at(ref, ref.commit_index)
    status = {name: _status(name, conf, committed) for name in sim.names}
    differs = tuple(name for name in sim.names if uses[name] != conf)
    return Membership(ref.id, leader is not None, conf, committed, status, uses, differs)


def config_text(conf: Configuration) -> str:
    """A configuration as the logs show it: ``config {n1,n2,n3}+learner n4``, and in the joint phase
    ``config C_old,new {n1,n2,n3} -> {n1,n2,n4}`` (the engine's own words, ``str(conf)``)."""
    return f"config C_old,new {conf}" if conf.is_joint else f"config {conf}"


def config_lines(conf: Configuration, word: str = "config ") -> list[str]:
    """A configuration in short lines, for a caption beside a server: ``config {n1,n2,n3}`` (``word``
    first), then ``learner n4``; in the joint phase ``C_old {n1,n2,n3}`` and ``C_new {n1,n2,n4}``.  More
    than five servers in a group go on to the next line."""
    if not conf.members:
        return ["no configuration yet"]        # a new server the leader's log has not reached
    if conf.old_voters is not None:
        lines = _group("C_old ", conf.old_voters) + _group("C_new ", conf.voters)
    else:
        lines = _group(word, conf.voters)
    if conf.learners:
        lines += _group(f"learner{'s' if len(conf.learners) > 1 else ''} ", conf.learners, braces=False)
    return lines


def _group(head: str, names: tuple[str, ...], braces: bool = True, per_line: int = 5) -> list[str]:
    """``head{n1,n2,n3}``, five names a line."""
    chunks = [",".join(names[k:k + per_line]) + ("," if k + per_line < len(names) else "")
              for k in range(0, len(names), per_line)] or [""]
    if braces:
        chunks[0] = "{" + chunks[0]
        chunks[-1] += "}"
    return [head + chunks[0]] + ["  " + c for c in chunks[1:]]


def next_free_name(names) -> str:
    """The first server name ``nK`` not used yet (``n4`` after ``n1``..``n3``): a name for a new server
    ("" once ``n1``..``n99`` are all taken)."""
    used = set(names)
    return next((f"n{k}" for k in range(1, 100) if f"n{k}" not in used), "")
