"""Your Raft: the rules of Figure 2 that you write, one module per exercise.

Work through them in lesson order; each module says what to write and quotes
the paper's rule.  Until you write a function it raises NotImplementedError,
naming its exercise.

    ex1_election.py        reset_election_timer, start_election, handle_request_vote_reply
    ex2_request_vote.py    update_term, handle_request_vote
    ex3_append_entries.py  handle_append_entries
    ex4_replication.py     handle_append_entries_reply
    ex5_commit.py          advance_commit_index
    ex6_clients.py         handle_client_request
    ex7_membership.py      current_configuration, has_quorum, may_change_configuration

Run your code:    Simulation(nodes=5, seed=1, impl="exercises")   (every rule you wrote)
Score it:         raftlab check 3       (terminal)  or  raftlab.check(3)   (notebook)

The check grades each exercise on its own: while it grades exercise 3, every
other rule is the reference, so an unfinished exercise 1 costs exercise 3 nothing.
The reference of exercise 3 itself is not there while it is graded: calling
raftlab.rules.handle_append_entries from your own earns nothing.
"""
from .ex1_election import handle_request_vote_reply, reset_election_timer, start_election
from .ex2_request_vote import handle_request_vote, update_term
from .ex3_append_entries import handle_append_entries
from .ex4_replication import handle_append_entries_reply
from .ex5_commit import advance_commit_index
from .ex6_clients import handle_client_request
from .ex7_membership import current_configuration, has_quorum, may_change_configuration

__all__ = ["reset_election_timer", "start_election", "handle_request_vote_reply", "update_term",
           "handle_request_vote", "handle_append_entries", "handle_append_entries_reply",
           "advance_commit_index", "handle_client_request", "current_configuration", "has_quorum",
           "may_change_configuration"]
