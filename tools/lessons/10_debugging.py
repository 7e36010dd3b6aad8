# Lesson 10: debugging a distributed system: a buggy Raft, found by a random fault campaign, shrunk to a
# short replay, understood in the Explorer and fixed. Source of notebooks/10_debugging.ipynb
# (build with: python tools/build_notebooks.py 10).

# %% [markdown]
# # Lesson 10: Debugging distributed systems
#
# Bugs in distributed systems hide in rare combinations: a partition that lasts just long enough, a
# message that arrives just late enough. A test that runs the happy path passes; the bug shows up in
# production, once a month, and nobody can reproduce it. This lesson walks through a method that works:
#
# 1. **check the invariants all the time**, so a bug is caught the moment it breaks something;
# 2. run **random fault campaigns**: many runs, each with faults drawn from a seed;
# 3. **shrink** a failing run to the few faults that matter;
# 4. **replay** it step by step, find the cause, **fix** it, and keep the run as a regression test.
#
# **Goals.** After this lesson you can run a fault campaign on an implementation, shrink and replay a
# failure, and reason from a safety violation back to the rule that caused it.
#
# *About 35 minutes.*

# %%
import dataclasses

import matplotlib.pyplot as plt

from raftlab import SafetyViolation, Simulation, campaign, rules
from raftlab.viz import draw_logs

# %% [markdown]
# ## 1. A buggy Raft
#
# Someone on the team had an idea: "elections take too long when servers refuse their vote. Let's vote
# for the first candidate that asks, whatever its log looks like." They implemented it by passing the vote
# rule a candidate that always looks perfectly up-to-date:

# %%
def careless_vote(node, request):
    """The bug: every candidate's log looks up-to-date to the voter."""
    flattering = dataclasses.replace(request, last_log_index=10**9, last_log_term=10**9)
    rules.handle_request_vote(node, flattering)


buggy = {"handle_request_vote": careless_vote}

# %% [markdown]
# (`impl=buggy` runs a simulation with this rule instead of the reference one; everything else stays
# the same. It is exactly how your exercises run.)
#
# **Predict.** Will a simple test notice? Elect a leader, send 30 commands, check that all servers agree.
#
# <details><summary>Answer</summary>
#
# No. Without faults, every server has the same log when an election happens, so the up-to-date check
# never matters. The bug is invisible until a server with a *shorter* log asks for votes.
# </details>

# %%
happy = Simulation(seed=1, impl=buggy, request_interval=50)
happy.advance(3000)
print(happy.summary())
print("safety violation:", happy.violation)

# %% [markdown]
# ## 2. A fault campaign
#
# `raftlab.campaign.run_one(seed)` runs a cluster for 5 s with clients sending commands every 100 ms,
# and faults drawn from the seed: crashes, restarts, partitions and heals, about one every 300 ms. At 80% of
# the run everything is healed and restarted. The safety checker is on. `run_campaign` does that for many
# seeds. Let us try 40 seeds, first with the reference rules, then with the bug.

# %%
reference_runs = campaign.run_campaign(range(40))
buggy_runs = campaign.run_campaign(range(40), impl=buggy)
print("reference:", sum(r.ok for r in reference_runs), "of 40 runs safe")
print("buggy:    ", sum(r.ok for r in buggy_runs), "of 40 runs safe")

# %%
failures = [r for r in buggy_runs if not r.ok]
for result in failures[:4]:
    print(result)

# %% [markdown]
# Every failure here is the same property, **Leader Completeness**: a server became leader without an entry
# that had been committed. Each failure replays exactly from its seed, but 10 to 19 faults is a lot to
# read. The first one (each fault is a time and an operator action, the same `sim.partition(...)`,
# `sim.crash(...)` you call yourself):

# %%
first = failures[0]
for fault in first.faults:
    print(fault)

# %% [markdown]
# ## 3. Shrinking
#
# Most of those faults have nothing to do with the bug. `campaign.minimize` removes faults, first in large
# chunks and then one at a time, keeping each removal after which the run still fails with the same
# property (a greedy form of *delta debugging*). Every candidate run is a full, deterministic replay, so
# "still fails" is a fact, not a guess.

# %%
smallest = campaign.minimize(first, impl=buggy, duration=5000)
print(smallest)
for fault in smallest.faults:
    print(fault)

# %% [markdown]
# Two faults: `n3` and `n5` are cut off from the others for two seconds, then the network heals. That is
# the whole recipe.
#
# The same hunt runs from a terminal, on every core, with a progress bar:
# `raftlab campaign --runs 200 --impl exercises --minimize --save failures/` lists each failing seed with the
# command that replays it, and saves the shrunk runs for `raftlab replay failures/seed-N.json`.
#
# **Predict.** Before we look: what goes wrong? Think about what `n3` and `n5` do while they are cut off,
# and what their logs look like when they come back.
#
# <details><summary>Answer</summary>
#
# On their side, `n3` and `n5` cannot elect anybody (2 of 5), so they keep timing out and their terms
# climb. Meanwhile the majority side commits many entries that `n3` and `n5` do not have. After the heal,
# one of them asks for votes with a high term and a short log. The term makes everybody step down; with the
# bug, the voters also grant their votes. The new leader lacks committed entries, and Leader Completeness
# is broken.
# </details>
#
# ## 4. Replay, and look
#
# A failing run carries everything needed to rebuild it: `smallest.run` is the run as data (seed,
# configuration, operator actions, the step it stopped at). We rebuild it up to the step *before* the
# violation and look at the logs.

# %%
stop = smallest.run["steps"]
before = Simulation.from_json(smallest.run, impl=buggy, until_step=stop - 1)
print(before.summary())
draw_logs(before)
plt.show()

# %% [markdown]
# `n3` is a candidate in term 12 with a log ending at index 20. Every other server has voted for it
# (`voted_for=n3`), including `n1`, `n2` and `n4`, whose logs end at index 41 and hold committed entries
# up to 40. One more step delivers the vote that makes it leader:

# %%
try:
    before.step()
except SafetyViolation as violation:
    print(violation)

# %% [markdown]
# The report names the property, the new leader and the entry it lacks (its log ends at index 21 now,
# with the no-op it appended on taking office), and the last events: `n3` asked
# for votes with `last=20/1`, and servers with much longer logs granted them. Figure 2 says a voter grants
# its vote only if the candidate's log is at least as up-to-date as its own. Our rule skipped exactly that.
# The bug is found, and its trigger is two faults long.
#
# ## 5. Fix, and keep the test
#
# The fix is to go back to the real rule (`impl=None`: the reference). First, the failing run itself, with
# the same seed and the same two faults:

# %%
fixed = campaign.run_one(smallest.seed, faults=smallest.faults, duration=5000)
print(fixed)

# %% [markdown]
# Then the whole campaign again:

# %%
print("fixed:", sum(r.ok for r in campaign.run_campaign(range(40))), "of 40 runs safe")

# %% [markdown]
# The shrunk run is worth keeping forever, as a **regression test**: a few lines that replay seed
# `smallest.seed` with these two faults and assert the run is safe. etcd's Raft keeps hundreds of such
# scripts. And the campaign itself is cheap enough to run on every change (`raftlab.check` runs one on your
# exercises).
#
# ## 6. Your turn, in the Explorer
#
# The Explorer below plays the shrunk failing run back with the buggy rule, from its start. Press Play, or
# drag the slider to near the end. When the safety badge turns red, "Go to the step before" takes you to the
# moment before the violation.

# %%
from raftlab.widgets import Explorer

explorer = Explorer(Simulation(impl=buggy), controls=["step", "advance", "play", "slider", "messages", "log",
                                                      "safety"], views=("cluster", "logs", "timeline"))
explorer.load_run(smallest.run)
explorer

# %% [markdown]
# **Try this.**
# 1. Find the moment the partition starts and watch the terms of `n3` and `n5` climb.
# 2. Just after the heal, find the RequestVote that `n3` sends with a short log, and the votes it gets.
# 3. Write a bug of your own and run a campaign on it. Some ideas, each one line away from the reference
#    rules (see `raftlab/rules.py`): a follower that accepts AppendEntries from an old term; a leader that
#    counts replicas of old-term entries (lesson 4); a server that forgets its vote when it sees a new term
#    *and* keeps voting in the old one. Which bugs does the campaign find, and how many seeds does it need?
#
# <details><summary>What to notice</summary>
#
# - The violation happens at the election, not later when an entry is overwritten: the checker looks at
#   every new leader's log. Catching a bug at its cause, not at its consequence, makes it easy to explain.
# - Some bugs break safety in almost every faulty run; others need a rare combination and a campaign of
#   hundreds of seeds. Both kinds replay exactly once found.
# </details>
#
# ## 7. Check your own code
#
# Every exercise you wrote runs in the same engine. `raftlab.check()` runs all their tests, including fault
# campaigns; a failing test prints the seed and a line that opens the failing run in the Explorer, with
# your code, stopped just before the step that went wrong. You now know what to do with it.
#
# ## Summary
#
# - Check the safety properties after every step: a bug is caught at its cause.
# - Random fault campaigns find the combinations you would not think of; seeds make every failure replay.
# - Shrink a failure to its essential faults, replay it to the step before the violation, and read the last
#   events: the rule that misbehaved is usually right there.
# - Keep the shrunk run as a regression test.
#
# That is the end of the lessons. You have seen everything in Figure 2 of the paper, and broken most of it
# on purpose. Congratulations!
