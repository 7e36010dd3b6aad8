# Lesson 5: faults: lossy networks, partitions, crashes and restarts, pre-vote and check-quorum.
# Source of notebooks/05_faults.ipynb (build with: python tools/build_notebooks.py 05).

# %% [markdown]
# # Lesson 5: Faults
#
# Raft's promise has two halves. **Safety**: nothing bad ever happens (no committed entry is lost, no two
# servers apply different commands), whatever the network and the crashes do. **Liveness**: something good
# eventually happens (commands commit), *as long as* a majority of servers are up and can talk to each
# other in reasonable time. This lesson attacks the cluster with every fault raftlab knows, and checks both
# halves.
#
# **Goals.** After this lesson you can
# - predict what message loss, duplication and delay do to a cluster (slower, never wrong);
# - explain what happens on each side of a partition, and when the old leader finds out;
# - say which state a server must keep on disk, and why;
# - explain how a server that was cut off can disrupt a healthy cluster, and how pre-vote and
#   check-quorum prevent it.
#
# *About 35 minutes.*

# %%
import matplotlib.pyplot as plt

from raftlab import Config, Simulation, scenarios
from raftlab.viz import draw_timeline, show

# %% [markdown]
# ## 1. A network that loses and duplicates messages
#
# `Config.preset("lossy")` is a network that loses 10% of messages, duplicates 5%, and takes 5 to 40 ms
# per message, so messages overtake each other. We add clients that send a command every 20 ms
# (`request_interval=20`) and let the cluster run for 5 simulated seconds. The safety checker is on, as
# always: any violation would stop the run.

# %%
lossy = Simulation(Config.preset("lossy", seed=2, request_interval=20))
lossy.advance(5000)
print(lossy.summary())
print(lossy.stats)
print("safety violation:", lossy.violation)

# %% [markdown]
# 123 messages lost and 74 duplicated, and every server agrees. Raft copes with this by design: every
# message is either *idempotent* (receiving a duplicate AppendEntries changes nothing: the entries are
# already there) or *superseded* (a lost heartbeat is followed by the next one). Nothing in the protocol
# waits for one particular message.
#
# **Predict.** What happens to the number of committed entries as more and more messages are lost?
#
# <details><summary>Answer</summary>
#
# It falls, fast. Mostly because of the clients: each waits for the answer to its command before sending
# the next one, and a lost request or reply costs it a long timeout before it retries. With more loss,
# leaders also miss heartbeats and elections get repeated. But whatever the loss, nothing committed is ever
# lost, and the servers never disagree.
# </details>

# %%
drops = [0.0, 0.1, 0.2, 0.3, 0.4]
committed, terms = [], []
for drop in drops:
    run = Simulation(seed=2, drop=drop, request_interval=20)
    run.advance(5000)
    assert run.violation is None
    committed.append(max(node.commit_index for node in run.nodes.values()))
    terms.append(max(node.current_term for node in run.nodes.values()))
    print(f"drop {drop:.0%}: {committed[-1]:>3} entries committed, {terms[-1]} terms")

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(8, 2.8))
labels = [f"{d:.0%}" for d in drops]
left.bar(labels, committed, color="#0072B2")
left.set_title("entries committed in 5 s")
right.bar(labels, terms, color="#E69F00")
right.set_title("terms used (elections)")
for ax in (left, right):
    ax.set_xlabel("messages lost")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 2. Partitions
#
# A partition splits the servers into groups that cannot reach each other. `scenarios.partitioned_leader()`
# cuts the leader off with one follower, sends it a client command, and runs until the majority side has a
# new leader.

# %%
split = scenarios.partitioned_leader()
print(split.summary())

# %% [markdown]
# **Predict.** Two servers say "leader". Is that a problem? What happens to the command `n4` received?
#
# <details><summary>Answer</summary>
#
# Two leaders in *different* terms are allowed; Election Safety is about one term. `n4` (term 1) has
# appended the command but can never commit it: only `n1` answers it, and 2 is not a majority of 5. So the
# client gets no answer from `n4`. `n5` (term 2) has the majority and can commit new commands.
# </details>
#
# Now heal the network, and let it run:

# %%
healed_at = split.now
split.heal()
split.advance(500)
print(split.summary())
for event in split.events("info"):
    if event.time >= healed_at:
        print(event)

# %%
draw_timeline(split)
plt.show()

# %% [markdown]
# The first message `n4` receives from the other side carries term 2, and it steps down. Its uncommitted
# entry is overwritten by the new leader's log, as in lesson 3. The client of that command timed out
# meanwhile and retried with another server: it gets its answer from `n5`. The timeline shows the partition
# (shaded), the two leaders, and the commit index, which only moves while a majority is connected.
#
# ## 3. Crashes, restarts and the disk
#
# A crashed server loses everything in memory. Only what it wrote to disk survives. Figure 2 names the
# **persistent** state: `current_term`, `voted_for` and the log. Everything else (the commit index, the
# state machine, `next_index`...) is rebuilt after a restart.
#
# What if all five servers crash at once? Let us commit three commands and then crash everything.

# %%
sim = Simulation(seed=1)
sim.run_until_leader()
sim.advance(100)
for i in range(1, 4):
    sim.client_request(f"put x {i}", client=f"c{i}")
sim.advance(200)
for name in sim.names:
    sim.crash(name)
for name in sim.names:
    sim.restart(name)
print(sim.summary())
print({node.id: node.state_machine.data for node in sim.nodes.values()})

# %% [markdown]
# Every server came back with its term, its vote and its 4 log entries, but with `commit_index` 0 and an
# empty state machine: they do not know yet what was committed.
#
# **Predict.** After the next election, is `x` 3 again? How does a server learn that its entries were
# committed?

# %%
sim.run_until_leader()
sim.advance(100)
print(sim.summary())
print({node.id: node.state_machine.data for node in sim.nodes.values()})

# %% [markdown]
# <details><summary>Answer</summary>
#
# Yes. The new leader commits its own no-op of term 2 on a majority; that commits everything before it
# (lesson 4), and the followers learn the new commit index from its AppendEntries. Each server then applies
# the log from the start again and rebuilds `x = 3`.
# </details>
#
# Why must `voted_for` be on disk? Suppose `n1` votes for `n2` in term 5, crashes, restarts having
# forgotten its vote, and votes for `n3` in term 5. With `n1`'s two votes, `n2` and `n3` could both reach a
# majority: two leaders in term 5. And `current_term`: a server that went back to an older term would
# accept a deposed leader's messages again. raftlab's engine writes the persistent state at the end of each
# step, *before* the step's messages leave, because a reply ("I voted for you") must never get ahead of the
# disk.
#
# ## 4. Disruptive servers: pre-vote
#
# Cut one follower off for two seconds. It hears no leader, times out, becomes a candidate, fails, times
# out again... Each time, it increments its term.

# %%
cut_off = Simulation(seed=1)
cut_off.run_until_leader()
cut_off.advance(200)
cut_off.isolate("n3")
cut_off.advance(2000)
print(cut_off.summary())

# %% [markdown]
# **Predict, then run.** We heal the network. `n3` is in term 9, the cluster in term 1. What happens?
#
# <details><summary>Answer</summary>
#
# `n3` times out once more and sends RequestVote for term 10. Everyone, the leader included, sees a higher term and
# becomes a follower (lesson 2's rule). The cluster loses its leader because of a server that was merely
# away. Here `n3`'s log is as up-to-date as everyone's, so it even wins; if it were behind, it would lose,
# but the leader would be gone anyway.
# </details>

# %%
healed_at = cut_off.now
cut_off.heal()
cut_off.advance(500)
for event in cut_off.events("info"):
    if event.time >= healed_at:
        print(event)

# %% [markdown]
# **Pre-vote** (Ongaro's thesis, section 9.6) adds a round before a real election: a would-be candidate
# first asks "would you vote for me in the next term?" without changing anyone's term. Servers say no if
# they have heard from a leader recently. Only with a majority of yeses does it start a real election. The
# same story with `pre_vote=True`:

# %%
polite = Simulation(seed=1, pre_vote=True)
polite.run_until_leader()
polite.advance(200)
polite.isolate("n3")
polite.advance(2000)
print(polite.summary())
healed_at = polite.now
polite.heal()
polite.advance(500)
for event in polite.events("info"):
    if event.time >= healed_at:
        print(event)

# %% [markdown]
# Cut off, `n3` stays a **pre-candidate** in term 1: nobody answers its pre-votes, so it never increments
# its term. Back on the network, its pre-vote is refused (the others hear from `n4`), and the next
# heartbeat makes it a follower. The leader was never disturbed.
#
# ## 5. Leaders that do not know they are cut off: check-quorum
#
# Back to the partitioned leader: `n4`, on the minority side, still believes it is leader until it hears a
# higher term, and it accepts client commands it can never commit. With **check-quorum**, a leader that
# has not heard from a majority for a whole election timeout steps down by itself.

# %%
quorum = Simulation(seed=1, check_quorum=True)
leader = quorum.run_until_leader()
quorum.advance(200)
quorum.partition([leader.id, "n1"])
quorum.advance(600)
print(quorum.trace_text("info"))

# %% [markdown]
# `n4` steps down about one election timeout after the split, instead of staying leader until the
# partition heals. Check-quorum also protects the leader from disruptive servers: a follower that heard
# from a leader less than an election timeout ago ignores RequestVote messages altogether.
#
# Notice the minority side now: `n1` keeps starting elections it cannot win, so its term climbs. That is
# why pre-vote and check-quorum are used together (etcd, for example, offers both).
#
# ## 6. Your turn, in the Explorer
#
# A lossy network with steady client load. Try the faults below, and keep an eye on the safety indicator:
# it should stay green whatever you do.

# %%
from raftlab.widgets import Explorer

playground = Simulation(Config.preset("lossy", seed=3, request_interval=50))
playground.run_until_leader()
Explorer(playground, controls=["step", "advance", "play", "slider", "crash", "partition", "heal", "timeout",
                               "pre_vote", "log", "safety"], views=("cluster", "logs"))

# %% [markdown]
# **Try this.**
# 1. Isolate a follower, advance 2 seconds, heal. Does the leader change? Tick **pre-vote** and try again.
# 2. Partition the network 2-3 with the leader on the small side. Where do the clients' commands commit?
# 3. Crash two servers. Does the cluster still commit? Crash a third. And now?
# 4. Crash and restart the leader several times in a row. Does the log ever lose a committed entry?
#
# <details><summary>What to notice</summary>
#
# - With two of five down, three remain: a majority, so the cluster carries on. With three down, nothing
#   commits until one comes back. Raft with `2f+1` servers survives `f` failures.
# - However hard you try, the safety indicator stays green: faults cost time, never correctness.
# </details>
#
# ## Your code under fire
#
# There is no new exercise in this lesson, but the rules you wrote in exercises 1-4 must survive
# everything above: `raftlab.check()` runs them through lossy networks, partitions and crash campaigns like
# these, with the safety checker on. Run one of these scenarios on your own code with
# `Simulation(Config.preset("lossy", seed=2, request_interval=20), impl="../exercises")`.
#
# ## Summary
#
# - Lost, duplicated, delayed and reordered messages slow Raft down but never make it wrong.
# - In a partition only the majority side makes progress; a leader cut off with a minority commits nothing
#   and steps down when it hears a higher term (or, with check-quorum, by itself).
# - `current_term`, `voted_for` and the log are persistent; everything else is rebuilt after a restart.
# - A server that was cut off comes back with a high term and deposes the leader; pre-vote prevents that.
#
# **Next:** [Lesson 6, Clients](06_clients.ipynb).
