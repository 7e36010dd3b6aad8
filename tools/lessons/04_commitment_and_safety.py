# Lesson 4: commitment and safety; Figure 8 step by step. Source of notebooks/04_commitment_and_safety.ipynb
# (build with: python tools/build_notebooks.py 04).

# %% [markdown]
# # Lesson 4: Commitment and safety
#
# A committed entry is a promise: the cluster has told a client "done", so the entry must stay in every
# future leader's log and be applied by every server, forever, whatever fails. This lesson is about how Raft
# keeps that promise, and about the one subtle rule it needs, shown by the paper's Figure 8.
#
# **Goals.** After this lesson you can
# - state Raft's five safety properties in plain words;
# - explain why a voter refuses a candidate whose log is behind (the election restriction);
# - replay Figure 8 and explain why a leader may not commit an entry of an *earlier* term by counting the
#   servers that store it;
# - read a safety violation reported by raftlab and replay it.
#
# *About 40 minutes. This is the hardest lesson; take it slowly.*

# %%
import matplotlib.pyplot as plt

from raftlab import SafetyViolation, Simulation, scenarios
from raftlab.invariants import PROPERTIES
from raftlab.viz import draw_logs

# %% [markdown]
# ## 1. The five safety properties
#
# The paper (Figure 3) lists what Raft guarantees at all times, whatever the network and crashes do:
#
# | Property | In plain words |
# |---|---|
# | **Election Safety** | at most one leader per term |
# | **Leader Append-Only** | a leader never overwrites or deletes entries in its own log; it only appends |
# | **Log Matching** | if two logs have an entry with the same index and term, they are identical up to it |
# | **Leader Completeness** | a committed entry is in the log of every leader of every later term |
# | **State Machine Safety** | no two servers ever apply different commands at the same index |
#
# The last one is the point of the whole algorithm: every server's state machine goes through the same
# commands in the same order. The others are the steps of its proof. raftlab checks all of them after
# *every* step of every simulation, plus two that make bugs show up early (committed entries are never
# lost, and the indexes stay in order), and two about what clients see (lesson 6 is about clients: a
# write a client was told succeeded is committed, and the clients' whole history is linearizable), and one
# about changing the cluster's membership (a leader starts one configuration change at a time):

# %%
for name in PROPERTIES:
    print(name)

# %% [markdown]
# You met the mechanisms behind the first three already: one vote per term (lesson 2), a leader that only
# appends, and the consistency check of AppendEntries (lesson 3). This lesson is about the fourth.
#
# ## 2. The election restriction
#
# A leader never deletes its own entries, and followers copy the leader. So if a leader lacked a committed
# entry, it would overwrite it on its followers. Raft prevents this *at the election*: a server refuses to
# vote for a candidate whose log is less **up-to-date** than its own (Figure 2, RequestVote rule 2):
#
# - the log whose last entry has the **later term** is more up-to-date;
# - if the last terms are equal, the **longer** log is more up-to-date.
#
# Why does that work? A committed entry is stored on a majority. A winner needs votes from a majority. Two
# majorities of one cluster always overlap, so at least one voter holds the entry, and it votes only for a
# candidate at least as up-to-date as itself.
#
# **Predict.** Who is more up-to-date?
# 1. `1/1 2/1 3/1 4/1` or `1/1 2/2`?
# 2. `1/1 2/2 3/2` or `1/1 2/2`?
#
# <details><summary>Answer</summary>
#
# 1. `1/1 2/2`: its last term (2) is later, even though it is shorter. Length only breaks ties.
# 2. `1/1 2/2 3/2`: same last term, longer.
# </details>
#
# But "stored on a majority" is not quite enough for an entry to be safe. The paper's Figure 8 shows why.
#
# ## 3. Figure 8, step by step
#
# `scenarios.figure8(stage)` plays the figure on five servers, `n1`..`n5` for the paper's S1..S5, and stops
# at the end of the stage you ask for. Each stage is scripted with ordinary operator actions (timeouts,
# crashes, partitions, client requests) so you can replay it in the Explorer afterwards.
#
# One difference from the picture: a raftlab leader starts its term by appending a no-op entry, so the
# entries sit one index further on. The paper's index 2 is our indexes 2 and 3: a no-op and a `put`.
#
# **(a)** `n1` leads term 2 and replicates its entries (indexes 2-3, term 2) to `n2` only.

# %%
stage_a = scenarios.figure8("a")
print(scenarios.FIGURE8_STAGES["a"])
draw_logs(stage_a)
plt.show()

# %% [markdown]
# **(b)** `n1` crashes. `n5` wins term 3 with the votes of `n3` and `n4` (their logs end at `1/1`, as old
# as `n5`'s), and appends entries of term 3 at the same indexes 2-3, but crashes before sending them.

# %%
stage_b = scenarios.figure8("b")
print(scenarios.FIGURE8_STAGES["b"])
draw_logs(stage_b)
plt.show()

# %% [markdown]
# **(c)** `n5` is down; `n1` restarts, wins term 4 and continues replicating its term-2 entries: now `n1`,
# `n2` and `n3` store them. **That is a majority.**
#
# **Predict.** Are the term-2 entries at indexes 2-3 committed now? Could any future leader lack them?
#
# <details><summary>Answer</summary>
#
# They are on a majority, but they are **not** safe. `n5`'s log ends with term 3, later than `n3`'s (term
# 2) and `n4`'s (term 1: it has only `1/1`). So `n5` is more up-to-date than `n3` and `n4`, and can win an
# election with their votes plus its own, and then it will overwrite indexes 2-3 everywhere.
# The next stage does exactly that. A leader therefore must not treat them as committed, even though a
# majority stores them.
# </details>

# %%
stage_c = scenarios.figure8("c")
print(scenarios.FIGURE8_STAGES["c"])
for node in stage_c.nodes.values():
    print(node.id, node.log, " commit_index =", node.commit_index)
draw_logs(stage_c)
plt.show()

# %% [markdown]
# `n1` has *not* committed indexes 2-3: its `commit_index` is 0. (It even forgot that index 1 was
# committed: the commit index is not kept on disk, and `n1` restarted. It will learn it again.) That is
# the rule of Figure 2 at work:
#
# > If there exists an N such that N > commitIndex, a majority of matchIndex[i] ≥ N, **and log[N].term ==
# > currentTerm**: set commitIndex = N.
#
# A leader counts replicas only for entries of its **own, current term**. Entry 4 (`n1`'s no-op of term 4)
# is on `n1` and `n2` only, so nothing can be committed yet.
#
# **(d)** `n1` crashes; `n5` restarts and wins term 5 with the votes of `n3` and `n4`, and replaces indexes
# 2-3 with its own term-3 entries on every server it reaches.

# %%
stage_d = scenarios.figure8("d")
print(scenarios.FIGURE8_STAGES["d"])
for node in stage_d.nodes.values():
    print(node.id, node.log, " commit_index =", node.commit_index)
draw_logs(stage_d)
plt.show()

# %% [markdown]
# The term-2 entries are gone from `n2`, `n3` and `n4`. No promise is broken: they were never committed,
# so no client was told they succeeded.
#
# **(e)** The other possible future, from (c): `n1` stays up long enough to replicate an entry of its
# current term 4 on a majority (`n1`, `n2`, `n3`). That entry is committed by counting, and with it every
# entry before it, including the term-2 ones.

# %%
stage_e = scenarios.figure8("e")
print(scenarios.FIGURE8_STAGES["e"])
for node in stage_e.nodes.values():
    print(node.id, node.log, " commit_index =", node.commit_index)
draw_logs(stage_e)
plt.show()

# %% [markdown]
# **Predict.** Can `n5` still overwrite indexes 2-3 now?
#
# <details><summary>Answer</summary>
#
# No. A majority (`n1`, `n2`, `n3`) now ends with `5/4`, more up-to-date than `n5`'s `3/3`. `n5` can get at
# most the votes of `n4` and itself: it can never win. Any future leader has entry 5, and by Log Matching
# everything before it. That is why committing an entry of the current term makes the prefix safe.
# </details>
#
# This is also why a raftlab leader appends a no-op when it takes office: without a new entry of its own
# term, a leader would have no way to commit the entries it inherited until a client sent a command.
#
# ## 4. What if the rule were simpler?
#
# Let us see what the safety checker says about the tempting shortcut: commit any entry stored on a
# majority, whatever its term. Here is that (deliberately wrong) commit rule. We run Figure 8 with it in
# place of the reference rule, by passing it as `impl`:

# %%
def commit_by_counting(node):
    """WRONG on purpose: commit the highest entry stored on a majority, whatever its term."""
    for n in range(node.log.last_index, node.commit_index, -1):
        holders = 1 + sum(1 for peer in node.peers if node.match_index[peer] >= n)
        if holders >= node.majority:
            node.commit_index = n
            return


wrong_c = scenarios.figure8("c", impl={"advance_commit_index": commit_by_counting})
for node in wrong_c.nodes.values():
    print(node.id, node.log, " commit_index =", node.commit_index)

# %% [markdown]
# With the shortcut, `n1` commits up to index 3 in stage (c): it has told the client of `put x=2` "done".
#
# **Predict, then run.** What happens in stage (d)?

# %%
try:
    scenarios.figure8("d", impl={"advance_commit_index": commit_by_counting})
except SafetyViolation as violation:
    caught = violation
    print(violation)

# %% [markdown]
# The checker stops the run at the very step that broke a property, here **Leader Completeness**: `n5`
# became leader of term 5 without the committed entry `3/2`. One step later it would have overwritten that
# entry on the other servers, and the cluster would have lost a write it had confirmed. The report names the
# property, the servers and the entry, the last events before it, and how to replay the run: the violation
# carries the whole run (`caught.run`) and the step it happened at (`caught.step`).

# %%
print("property:", caught.property)
print("servers: ", caught.nodes, " index:", caught.index, " step:", caught.step)

# %% [markdown]
# ## 5. Your turn, in the Explorer
#
# The Explorer below replays the faulty run from its start, with the wrong rule in place: press **Step**
# (or drag the slider) and watch `n1`'s commit index in stage (c), then the moment the safety indicator
# turns red. "Go to the step before" takes you back one step, so you can look at the logs just before it
# broke.

# %%
from raftlab.widgets import Explorer

wrong = {"advance_commit_index": commit_by_counting}
explorer = Explorer(Simulation(impl=wrong), controls=["step", "advance", "slider", "messages", "log", "safety"])
explorer.load_run(caught.run)        # play the faulty run back from its start
explorer

# %% [markdown]
# **Try this.**
# 1. Step to the end of stage (c). Which entries does `n1` consider committed? Which servers store them?
# 2. Step on until the violation. Which server voted for `n5`, and why was that vote allowed?
# 3. In a fresh `scenarios.figure8("c")` with the *reference* rule (below), send `n1` a client command and
#    deliver everything. What is `n1`'s commit index afterwards, and why?
#
# <details><summary>What to notice</summary>
#
# - In (d), `n3` and `n4` vote for `n5` quite correctly: `n5`'s log (ending `3/3`) is more up-to-date than
#   theirs. The election restriction was obeyed; the mistake was committing too early.
# - With the reference rule, a command sent to `n1` in (c) gets an entry of term 4; once it is on a majority
#   it commits, and everything before it with it: that is stage (e).
# </details>

# %%
Explorer(scenarios.figure8("c"), controls=["step", "advance", "messages", "crash", "partition", "heal",
                                           "client", "log", "safety"], views=("cluster", "logs"))

# %% [markdown]
# ## 6. Write it yourself
#
# **Exercise 5** (`exercises/ex5_commit.py`): `advance_commit_index`, the leader's commit rule, with the
# current-term condition. `raftlab.check(5)` runs it on Figure 8, among other tests.
#
# ## Summary
#
# - Five properties hold at all times; State Machine Safety is the goal, the others are steps towards it.
# - Voters refuse candidates whose log is behind (later last term, or same term and longer), so every
#   leader holds every committed entry, *provided* "committed" is defined carefully.
# - A leader commits by counting replicas only entries of its current term; earlier entries are committed
#   with them. Figure 8 shows an old entry on a majority that is later overwritten.
# - raftlab checks every property after every step and stops at the first violation, with a replay.
#
# **Next:** [Lesson 5, Faults](05_faults.ipynb).
