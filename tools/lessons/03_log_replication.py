# Lesson 3: log replication. Source of notebooks/03_log_replication.ipynb
# (build with: python tools/build_notebooks.py 03).

# %% [markdown]
# # Lesson 3: Log replication
#
# A leader exists to order the clients' commands. It writes each command into its **log**, sends the new
# entries to the others with `AppendEntries`, and once a majority stores an entry, the entry is
# **committed**: every server will apply it to its state machine, in log order. This lesson follows
# entries from a client to every log, and then looks at the hard part: logs that have drifted apart.
#
# **Goals.** After this lesson you can
# - read an AppendEntries message and say what each field is for;
# - explain the consistency check (`prev_log_index` / `prev_log_term`) and the Log Matching property it
#   gives;
# - predict how a leader repairs a follower that is missing entries, or has entries it should not have
#   (the situations of the paper's Figure 7);
# - explain how a follower's hint lets the leader skip back a whole term at a time (fast back-off).
#
# *About 35 minutes. Figure 2's "AppendEntries RPC" box is the reference for this lesson.*

# %%
import matplotlib.pyplot as plt

from raftlab import Simulation
from raftlab.viz import draw_logs, show

# %% [markdown]
# ## 1. The log
#
# A log is a list of **entries**, numbered from index 1. Each entry holds a command and the **term** in
# which a leader received it. raftlab writes an entry as `index/term`: `3/2` is "index 3, written in term
# 2". A new leader first appends an entry of its own with no command (a **no-op**); lesson 4 explains why.
#
# Let us elect a leader (seed 1 again: `n4`) and send it one command. (Our clients are patient here: they
# wait 5 s for an answer before trying again. Lesson 6 is about clients that retry.)

# %%
sim = Simulation(seed=1, client_timeout=5000)
leader = sim.run_until_leader()
sim.advance(100)
start = sim.now
sim.client_request("put x 1", node=leader.id)
sim.advance(60)
for event in sim.events():
    if event.time >= start and ("n4->n1" in event.text or "n1->n4" in event.text or event.level == "info"):
        print(event)

# %% [markdown]
# We kept only the messages between `n4` and `n1` (the others look alike). Read an AppendEntries from left
# to right:
#
# | Field | Here | Meaning |
# |---|---|---|
# | `t=1` | term 1 | the leader's term (a follower in a higher term rejects it) |
# | `prev=1/1` | `prev_log_index=1`, `prev_log_term=1` | the entry just *before* the new ones |
# | `commit=1` | `leader_commit=1` | how far the leader knows entries are committed |
# | `entries=[2/1]` | one entry | the new entries, here index 2 of term 1 |
#
# `n1` answers `ok match=2`: its log now matches the leader's up to index 2. As soon as a majority (the
# leader and two followers) holds index 2, the leader commits it, applies `put x=1` to its state machine
# and answers the client. The followers learn the new commit index from the next AppendEntries (its
# `commit=2`), and apply the entry too. Look at `n1` below: it stores entry 2 but does not know yet that it
# is committed, so it has not applied it. Its next heartbeat will tell it.

# %%
for node in sim.nodes.values():
    print(node.id, node.log, " commit_index =", node.commit_index, " state:", node.state_machine.data)

# %% [markdown]
# An AppendEntries with no entries is a **heartbeat**: the leader sends one every 50 ms when it has nothing
# new, to keep its followers' election timers from firing.
#
# ## 2. The consistency check
#
# Why does every AppendEntries carry `prev`? Because the follower only accepts the new entries if its own
# log has an entry at `prev_log_index` with term `prev_log_term`. If not, it answers `rejected`, and the
# leader must go further back. This one check gives Raft the **Log Matching** property:
#
# > If two logs contain an entry with the same index and term, then the logs are identical in all
# > entries up through that index.
#
# Why? A leader creates at most one entry per index in its term, so the same index and term means the same
# command. And by induction: a follower accepted entry `i` only after checking that its entry `i-1`
# matched the leader's, which was itself accepted only after checking `i-2`, and so on back to the start.
#
# **Predict.** A follower's log is `1/1 2/1 3/1`. Which of these does it accept?
# 1. `AppendEntries(t=2 prev=3/1 entries=[4/2])`
# 2. `AppendEntries(t=2 prev=4/2 entries=[5/2])`
# 3. `AppendEntries(t=2 prev=2/1 entries=[3/2 4/2])`
#
# <details><summary>Answer</summary>
#
# 1. Accepted: it has `3/1`. Its log becomes `1/1 2/1 3/1 4/2`.
# 2. Rejected: it has no entry at index 4. The leader will retry from further back.
# 3. Accepted: it has `2/1`. Its entry at index 3 has term 1 but the leader's has term 2: a **conflict**.
#    The follower deletes its entry 3 and everything after it, then appends the leader's. Its log becomes
#    `1/1 2/1 3/2 4/2`. Only a real conflict deletes anything: an entry the follower already has, with the
#    same term, is kept (a late, duplicated AppendEntries must not erase newer entries).
# </details>
#
# ## 3. Logs that drift apart
#
# While the network behaves, every follower's log is a copy of the leader's. Failures make them drift. The
# paper's Figure 7 shows the possibilities: a follower may be **missing** entries, may have **extra**
# entries that were never committed, or both. Let us produce all of them with a partition.
#
# First, cut the leader `n4` off with `n1`, and send `n4` five commands. It appends them, but with only
# `n1` it cannot reach a majority, so nothing commits.

# %%
sim.partition(["n4", "n1"], ["n2", "n3", "n5"])
for i in range(1, 6):
    sim.client_request(f"put x {i}", node="n4")

# %% [markdown]
# On the other side, the three servers stop hearing from `n4` and elect a leader of their own. We send
# *that* leader five commands too; it can commit them, having three servers.

# %%
sim.run_until(lambda s: s.leader() is not None and s.leader().current_term >= 2)
majority_leader = sim.leader()
print(sim.trace_text("info").splitlines()[-1])
for i in range(1, 6):
    sim.client_request(f"put y {i}", node=majority_leader.id)
sim.advance(200)
for node in sim.nodes.values():
    print(node.id, node.log, " commit_index =", node.commit_index)

# %%
draw_logs(sim)
plt.show()

# %% [markdown]
# (`n2` won term 3: `n2` and `n3` split the votes of term 2.) Two leaders at once, `n4` in term 1 and
# `n2` in term 3: that is allowed (at most one leader *per term*), and harmless, because `n4` can commit
# nothing. The logs agree up to index 2 and then diverge: `n1` and `n4` hold five uncommitted entries of
# term 1 (indexes 3-7); `n2`, `n3` and `n5` hold the no-op of term 3 and five committed entries.
#
# Now we crash `n2`, the leader of term 3, and heal the network. A new election follows.
#
# **Predict.** Which servers can win it? Remember a voter refuses a candidate whose log is less
# up-to-date than its own: the log whose last entry has the later term is more up-to-date (if the last
# terms are equal, the longer log is).
#
# <details><summary>Answer</summary>
#
# Only `n3` or `n5`. Their logs end with a term-3 entry; `n1` and `n4` end with term 1. `n3` and `n5`
# refuse to vote for `n1` or `n4`, and without them `n1` and `n4` have at most 2 votes out of 5. The
# committed entries of term 3 cannot be lost.
# </details>

# %%
sim.crash(majority_leader.id)
sim.heal()
sim.run_until(lambda s: s.leader() is not None and s.leader().current_term > majority_leader.current_term)
new_leader = sim.leader()
elected_at = sim.now
print(sim.trace_text("info").splitlines()[-1])
print("next_index:", new_leader.next_index)

# %% [markdown]
# A new leader knows nothing about its followers' logs. It starts optimistic: `next_index`, the next entry
# to send each follower, is one past the end of its own log. (`match_index`, what it *knows* each follower
# holds, starts at 0.)
#
# ## 4. Repairing a follower, with fast back-off
#
# `n5` won term 4. Let us watch it repair `n1`, whose log is `1/1 2/1 3/1 4/1 5/1 6/1 7/1`.
#
# **Predict.** The first AppendEntries carries `prev=8/3`. What does `n1` answer?

# %%
sim.advance(150)
for event in sim.events():
    if event.time >= elected_at and "AppendEntries" in event.text and "n1" in event.text:
        print(event)

# %% [markdown]
# Step by step:
# 1. `prev=8/3`: `n1` has no entry 8. It rejects, with a hint: `conflict=8`, "my log ends before index
#    8". (Had it been much shorter, the leader would have jumped to its end at once.)
# 2. `prev=7/3`: `n1` has an entry 7, but of term 1. It rejects with `conflict=1/1`: "I have term 1 there,
#    and my run of term-1 entries starts at index 1". The leader's own last term-1 entry is at index 2, so
#    none of `n1`'s entries after index 2 can match: it jumps straight to `prev=2/1`.
# 3. `prev=2/1` matches. `n1` deletes its entries 3-7 (term 1, never committed), appends the leader's
#    entries 3-9, and answers `ok match=9`. (The second `ok match=9` answers a heartbeat sent meanwhile.)
#
# Two rejections instead of one per entry. Figure 2 says only "decrement nextIndex and retry", which
# costs one round trip per entry; the hint is the optimization sketched at the end of section 5.3. It
# matters when a follower has been away for a long time: thousands of entries, one round trip each, would
# take minutes.
#
# Every log is now a copy of the leader's, except the crashed `n2`: it is missing the new entry 9. That is
# the easy case: one AppendEntries with `prev=8/3` matches, and brings it entry 9.

# %%
sim.restart("n2")
sim.advance(100)
for node in sim.nodes.values():
    print(node.id, node.log, " commit_index =", node.commit_index)

# %%
show(sim, views=("cluster", "logs"))

# %% [markdown]
# Notice what was lost: `n1` and `n4`'s five `put x` entries are gone. Nobody was told they succeeded (they
# were never committed), so the clients will retry them (lesson 6). Nothing committed was ever deleted.
#
# ## 5. Your turn, in the Explorer
#
# The Explorer starts with a leader and a client panel. Use it to make logs diverge and watch them heal.

# %%
from raftlab.widgets import Explorer

playground = Simulation(seed=1)
playground.run_until_leader()
Explorer(playground, controls=["step", "advance", "slider", "messages", "crash", "partition", "heal",
                               "client", "log"], views=("cluster", "logs"))

# %% [markdown]
# **Try this.**
# 1. Send `put x 1` to the leader and press Step until every log has it. How many steps? When does the
#    leader commit it, and when do the followers learn that?
# 2. Crash one follower, send three commands, restart it. Find the rejected AppendEntries and its hint.
# 3. Reproduce section 3: split off the leader with one follower, send commands on both sides, heal. Which
#    entries survive?
# 4. Drop the AppendEntries that carries a new entry to one follower. What repairs the gap, and when?
#
# <details><summary>What to notice</summary>
#
# - The leader commits as soon as two followers have answered; the third follower's reply does not
#   matter for commitment.
# - A dropped AppendEntries is simply sent again: the next heartbeat carries everything from that
#   follower's `next_index` on. Raft never needs the network to be reliable, only to deliver *eventually*.
# </details>
#
# ## 6. Write it yourself
#
# **Exercise 3** (`exercises/ex3_append_entries.py`): the follower's side, `handle_append_entries`, with
# the consistency check, conflict deletion and the hint. **Exercise 4**
# (`exercises/ex4_replication.py`): the leader's side, updating `next_index` and `match_index`
# and backing off. Check them with `raftlab.check(3)` and `raftlab.check(4)`.
#
# ## Summary
#
# - The leader appends each command to its log and replicates it with AppendEntries; an entry stored on
#   a majority is committed; the commit index travels in the next AppendEntries.
# - The consistency check (`prev_log_index`, `prev_log_term`) makes a follower accept entries only on top
#   of a matching prefix: hence Log Matching.
# - Failures leave followers missing entries, holding extra uncommitted ones, or both (Figure 7). The
#   leader repairs them by moving `next_index` back until the logs match, then overwriting the rest.
# - A conflict hint lets the leader skip a whole term per round trip instead of one entry.
#
# **Next:** [Lesson 4, Commitment and safety](04_commitment_and_safety.ipynb): why the leader must never
# commit an old entry just because a majority stores it.
