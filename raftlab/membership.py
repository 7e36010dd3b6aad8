"""Cluster membership: which servers vote, which only listen, and what counts as a quorum.

Section 6 of the Raft paper and chapter 4 of Ongaro's dissertation.  A
:class:`Configuration` is the set of servers whose votes count.  It travels as a
log entry (``Entry.config``), and "a server always uses the latest configuration
in its log, regardless of whether the entry is committed" (section 6).

* A plain configuration has ``voters`` (and maybe ``learners``: servers that
  receive the log but never count towards a quorum and never stand for
  election, as a new server does while it catches up, dissertation 4.2.1).
* The joint configuration C_old,new of section 6 also has ``old_voters``:
  "agreement (for elections and entry commitment) requires separate majorities
  from both the old and new configurations".

This module says who is in a configuration; what counts as a quorum of it is
a rule (``has_quorum``, exercise 7), and the engine asks it through
``node.has_quorum``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional

__all__ = ["Configuration", "server_order"]

_NAME = re.compile(r"(\D*)(\d*)")


def server_order(name: str) -> tuple:
    """Sort key that puts ``n2`` before ``n10`` (cluster order)."""
    prefix, number = _NAME.match(name).groups()  # type: ignore[union-attr]
    return (prefix, int(number) if number else -1, name)


def _sorted(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(names), key=server_order))


def _majority(voters: tuple[str, ...]) -> int:
    return len(voters) // 2 + 1


@dataclass(frozen=True)
class Configuration:
    """Who votes.  ``voters`` (C_new in the joint phase), ``learners`` (non-voting members the leader
    replicates to), and ``old_voters`` (C_old: set only in the joint phase C_old,new).  Names are kept
    in cluster order, so two equal configurations compare equal however they were built."""
    voters: tuple[str, ...]
    learners: tuple[str, ...] = ()
    old_voters: Optional[tuple[str, ...]] = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "voters", _sorted(self.voters))
        object.__setattr__(self, "learners", _sorted(self.learners))
        if self.old_voters is not None:
            object.__setattr__(self, "old_voters", _sorted(self.old_voters))
        both = set(self.learners) & (set(self.voters) | set(self.old_voters or ()))
        if both:
            raise ValueError(f"{', '.join(sorted(both))} cannot be both a voter and a learner")

    # --- who is in it ---------------------------------------------------------------------------
    @property
    def is_joint(self) -> bool:
        """True in the joint phase C_old,new (section 6)."""
        return self.old_voters is not None

    @property
    def voting(self) -> tuple[str, ...]:
        """Every server whose vote counts: C_old and C_new together in the joint phase."""
        if self.old_voters is None:
            return self.voters
        return _sorted(self.voters + self.old_voters)

    @property
    def members(self) -> tuple[str, ...]:
        """Every server this configuration names (voters of either phase and learners), in cluster order."""
        return _sorted(self.voting + self.learners)

    def is_voter(self, server: str) -> bool:
        """Whether ``server``'s vote counts here (etcd calls such a server "promotable")."""
        return server in self.voters or (self.old_voters is not None and server in self.old_voters)

    # --- quorums --------------------------------------------------------------------------------
    @property
    def majority(self) -> int:
        """Votes needed in a plain configuration: more than half of ``voters``."""
        return _majority(self.voters)

    # --- changes (new configurations; this one never changes) -------------------------------------
    def with_learners(self, servers: Iterable[str]) -> "Configuration":
        return Configuration(self.voters, self.learners + tuple(servers), self.old_voters)

    def without(self, servers: Iterable[str]) -> "Configuration":
        """This configuration with ``servers`` gone from every role (not for the joint phase)."""
        gone = set(servers)
        return Configuration(tuple(v for v in self.voters if v not in gone),
                             tuple(x for x in self.learners if x not in gone))

    def joint(self, new_voters: Iterable[str], learners: Iterable[str]) -> "Configuration":
        """C_old,new: the joint configuration from these voters (C_old) to ``new_voters`` (C_new)."""
        return Configuration(tuple(new_voters), tuple(learners), self.voters)

    def leave_joint(self) -> "Configuration":
        """C_new, the configuration the joint phase leads to."""
        return Configuration(self.voters, self.learners)

    # --- printing -------------------------------------------------------------------------------
    def __str__(self) -> str:
        """``{n1,n2,n3}``, ``{n1,n2,n3}+learner n4``, ``{n1,n2,n3} -> {n1,n2,n4}`` (joint)."""
        def group(names: tuple[str, ...]) -> str:
            return "{" + ",".join(names) + "}"
        text = group(self.voters)
        if self.old_voters is not None:
            text = f"{group(self.old_voters)} -> {text}"
        if self.learners:
            text += f"+learner{'s' if len(self.learners) > 1 else ''} {','.join(self.learners)}"
        return text
