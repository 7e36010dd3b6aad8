"""Exercise 7: membership changes (section 6, and chapter 4 of Ongaro's dissertation).

Write the rules that say who counts: which configuration a server uses, what
is a quorum of it, and when a leader may start changing it.  The engine does
the rest (appending configuration entries, catching up new servers, stepping
a removed leader down), and it asks your rules at every step.

A configuration (``raftlab.membership.Configuration``) names servers:

    conf.voters         the servers whose votes count (C_new in the joint phase)
    conf.old_voters     C_old in the joint phase C_old,new; None otherwise
    conf.learners       servers that receive the log but never count (a new server catching up)
    conf.is_joint       True in the joint phase

What you can use:

    node.log.config_indexes          the indexes of the configuration entries in the log, in order
    node.log.entry(i).config         the configuration entry i holds (None for a command or a no-op)
    node.log.snapshot_config         the configuration the snapshot carries (None: no snapshot has one)
    node.initial_configuration       the cluster's configuration before any change
    node.configuration               what your current_configuration returns (in has_quorum and
                                     may_change_configuration)
    node.id, node.role, node.leader_id, node.current_term, node.commit_index
    node.log.term_at(i), node.log.last_index
    node.config.membership           "single" (one server at a time) or "joint" (joint consensus)

Check your work:  raftlab check 7
"""
from typing import Iterable, Optional

from raftlab import Role
from raftlab.membership import Configuration
from raftlab.node import Node


def current_configuration(node: Node) -> Configuration:
    """The configuration ``node`` uses now.

    Section 6: "a server always uses the latest configuration in its log,
    regardless of whether the entry is committed."

    Contract: the configuration of the *last* configuration entry in the log
    (committed or not: a follower switches as soon as it appends the entry, and
    switches back if that entry is truncated).  If the log holds none, the
    snapshot's configuration (``node.log.snapshot_config``); if there is none
    either, ``node.initial_configuration``.  Change nothing.
    """
    raise NotImplementedError("Exercise 7: current_configuration is not written yet - "
                              "see exercises/ex7_membership.py")


def has_quorum(node: Node, ids: Iterable[str]) -> bool:
    """Whether the servers ``ids`` are a quorum of ``node``'s configuration.

    Section 6: "Agreement (for elections and entry commitment) requires separate
    majorities from both the old and new configurations."

    Contract: in ``node.configuration``, more than half of ``voters`` are in
    ``ids``; in the joint phase, also more than half of ``old_voters`` (two
    separate majorities, not one of the union).  Learners and servers the
    configuration does not name count for nothing -- even ``node`` itself, when it
    leads a configuration it is not part of (dissertation 4.2.2).  A configuration
    with no voters has no quorum.  The engine calls this to count votes and for
    check-quorum.
    """
    raise NotImplementedError("Exercise 7: has_quorum is not written yet - "
                              "see exercises/ex7_membership.py")


def may_change_configuration(node: Node) -> Optional[str]:
    """Why ``node`` may not start a configuration change now; None if it may.

    Contract, in this order (return a sentence saying why):
    * Only the leader changes the configuration (section 6).
    * One change at a time: "the leader will not begin a new configuration change
      until the previous one is committed" (dissertation 4.1): refuse while the
      latest configuration entry in the log is after ``commit_index``, and while
      the configuration is joint (the engine leaves the joint phase by itself).
    * Unless ``node.config.membership == "joint"``: refuse until the leader has
      committed an entry of its current term -- "a leader may not append a new
      configuration entry until it has committed an entry from its current term"
      (the 2015 fix to single-server changes, dissertation errata).
    """
    raise NotImplementedError("Exercise 7: may_change_configuration is not written yet - "
                              "see exercises/ex7_membership.py")
