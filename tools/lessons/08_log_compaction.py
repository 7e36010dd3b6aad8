# Lesson 8: log compaction: snapshots and InstallSnapshot.
# Source of notebooks/08_log_compaction.ipynb (build with: python tools/build_notebooks.py 08).

# %% [markdown]
# # Lesson 8: Log compaction
#
# A log that only grows would fill every disk, and a server that restarts would replay it from the very
# first command. Real Raft servers therefore **compact** their log: they write down the state machine's
# state as of some entry (a **snapshot**) and throw away every entry up to it (section 7 of the paper).
#
# **Goals.** After this lesson you can
# - say what a snapshot contains and when a server takes one;
# - explain why a leader sometimes cannot send a follower the entries it needs, and what it sends instead
#   (`InstallSnapshot`);
# - explain how a server restarts from a snapshot plus the rest of its log;
# - name the trade-offs of snapshotting often or rarely.
#
# *About 25 minutes. Figure 12 (snapshots) and Figure 13 (InstallSnapshot) of the paper go with it.*

# %%
import matplotlib.pyplot as plt

from raftlab import Simulation
from raftlab.viz import draw_logs

# %% [markdown]
# ## 1. Taking snapshots
#
# With `snapshot_every=10`, each server takes a snapshot whenever it has applied 10 entries since its
# last one. Each server does this **on its own**, from its own committed entries: no leader is involved,
# and no message is sent. A snapshot holds:
#
# - the **last included index and term**: the index and term of the last entry it replaces (the term is
#   kept for the AppendEntries consistency check of the entry that follows it);
# - the **state machine's state** at that point: here the key-value data, and the client sessions of
#   lesson 6 (so a retried command is still recognised after compaction).
#
# We elect a leader and send 45 commands, one every 15 ms, then let the cluster settle.

# %%
def send_commands(sim, count, every=15):
    """Clients send ``count`` commands to the cluster, one every ``every`` ms."""
    for i in range(count):
        sim.client_request(f"put k{i % 4} {i}")
        sim.advance(every)
    sim.advance(200)


sim = Simulation(seed=1, snapshot_every=10)
sim.run_until_leader()
send_commands(sim, 45)
print(sim.summary())
for node in sim.nodes.values():
    print(f"{node.id}: {node.snapshot}, then {len(node.log.entries)} entries in the log")

# %% [markdown]
# Every server has compacted its first 40 entries into a snapshot (the no-op and 39 commands): its log now
# holds only what came after.
# `log.snapshot_index` and `log.snapshot_term` remember where the snapshot ends.

# %%
leader = sim.leader()
print("snapshot ends at index", leader.log.snapshot_index, "term", leader.log.snapshot_term)
print("first entry still in the log:", leader.log.snapshot_index + 1)
print("state in the snapshot:", dict(leader.snapshot.data[0]))
draw_logs(sim)
plt.show()

# %% [markdown]
# ## 2. A follower that is too far behind
#
# The leader can only send entries it still has. What about a follower that needs entries the leader has
# already compacted away?
#
# **Predict.** We crash `n5` now, let the others commit a few dozen more entries (and take more
# snapshots), then restart `n5`. Its log ends at index 46. What does the leader send it?
#
# <details><summary>Answer</summary>
#
# By then the leader's snapshot covers index 47, the first entry `n5` needs, so the leader cannot
# send it in an AppendEntries. Instead it sends its snapshot: `InstallSnapshot`. `n5` replaces its state
# machine with the snapshot's state, and then receives the entries after it in the normal way.
# </details>

# %%
print("n5's log ends at", sim.node("n5").log.last_index)
sim.crash("n5")
send_commands(sim, 50)
leader = sim.leader()
print("the leader's snapshot now ends at", leader.log.snapshot_index)

# %%
restarted_at = sim.now
sim.restart("n5")
sim.advance(100)
for event in sim.events():
    if event.time >= restarted_at and "n5" in event.text and "entries=[]" not in event.text:
        print(event)

# %% [markdown]
# Read it from the top:
# 1. `n5` restarts from its disk: its own snapshot (up to index 40) and log (up to index 46).
# 2. The leader's `next_index` for `n5` is inside the leader's snapshot, so it sends `InstallSnapshot`.
# 3. `n5` installs it: its log is replaced (the snapshot covers everything it had), its state machine is
#    reset to the snapshot's state. It answers with the index it now matches.
# 4. The leader continues with ordinary AppendEntries, from the entry after the snapshot (`prev=90/1`).
#    Had the answer been slow, the leader's next heartbeat would have sent the snapshot again, and the
#    copy would have changed nothing: like every Raft message, InstallSnapshot can safely arrive twice.
#
# Afterwards `n5` is indistinguishable from the others:

# %%
for node in sim.nodes.values():
    same = node.state_machine.data == leader.state_machine.data
    print(f"{node.id}: commit={node.commit_index} snapshot up to {node.log.snapshot_index}, "
          f"{len(node.log.entries)} entries after it; same state as the leader: {same}")

# %% [markdown]
# Figure 13 adds one detail: if the follower already has the entry at the snapshot's last index, with the
# same term, it keeps the entries that follow it (they match, by Log Matching) and only discards what the
# snapshot covers. A snapshot older than what the follower has committed is ignored.
#
# ## 3. Restarting from a snapshot
#
# A crash loses the state machine, which lives in memory. A restarting server rebuilds it from its
# snapshot, then re-applies the entries after the snapshot as it learns they are committed. With a recent
# snapshot, that is a handful of entries instead of the whole history.

# %%
sim.crash("n2")
sim.restart("n2")
n2 = sim.node("n2")
print("right after restart: commit_index =", n2.commit_index, "(the snapshot's index),",
      len(n2.log.entries), "entries after it")
sim.advance(100)
print("100 ms later:        commit_index =", n2.commit_index,
      "; same state as the leader:", n2.state_machine.data == sim.leader().state_machine.data)

# %% [markdown]
# ## 4. How often?
#
# **Predict.** What does snapshotting *too often* cost? And *too rarely*?
#
# <details><summary>Answer</summary>
#
# Too often: writing a snapshot takes time and disk bandwidth, and with a large state it is expensive
# (the paper suggests copy-on-write, such as `fork()` on Linux, so that the server keeps serving meanwhile).
# Too rarely: the log grows long, restarts replay many entries, and a slow follower may need a very large
# InstallSnapshot anyway. Real systems snapshot when the log reaches a fixed size, much larger than the
# snapshot itself.
# </details>
#
# ## 5. Your turn, in the Explorer
#
# A cluster that snapshots every 5 entries, with clients sending commands every 30 ms.

# %%
from raftlab.widgets import Explorer

playground = Simulation(seed=2, snapshot_every=5, request_interval=30)
playground.advance(800)
Explorer(playground, controls=["step", "advance", "play", "crash", "partition", "heal", "messages", "log"],
         views=("cluster", "logs"))

# %% [markdown]
# **Try this.**
# 1. Crash a follower, advance 500 ms, restart it, and step until it is back in sync. Find the
#    InstallSnapshot among the messages.
# 2. Crash a follower and restart it after only 20 ms. Does it need a snapshot this time? Why not?
# 3. Isolate a follower for a second, then heal. Same question.
#
# <details><summary>What to notice</summary>
#
# - A follower away for a short time still finds its next entry in the leader's log, and catches up with
#   AppendEntries alone. Only a long absence needs InstallSnapshot.
# - Each server's snapshot boundary moves on its own schedule: they do not need to agree.
# </details>
#
# ## 6. Read the code
#
# Compaction is not one of the coding exercises, but the engine's rules are short and follow Figure 13
# closely: read `take_snapshot`, `send_append_entries` (which picks InstallSnapshot when entries are gone)
# and `handle_install_snapshot` in `raftlab/rules.py`, and `Log.compact` in `raftlab/log.py`.
#
# ## Summary
#
# - Each server independently replaces a committed prefix of its log with a snapshot of its state machine,
#   keeping the last included index and term.
# - A follower that needs compacted entries receives the leader's snapshot (`InstallSnapshot`), then the
#   rest of the log as usual.
# - A restart rebuilds the state machine from the snapshot and re-applies only the entries after it.
#
# **Next:** [Lesson 9, Membership changes](09_membership_changes.ipynb).
