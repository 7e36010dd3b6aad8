# Lesson 9: cluster membership changes (section 6 of the paper, chapter 4 of Ongaro's dissertation): why a
# direct switch from C_old to C_new can elect two leaders (shown with the lesson-only unsafe mode), joint
# consensus, single-server changes and one change at a time, catching up a new server as a learner, removing
# the leader, removed servers and pre-vote, and the 2015 single-server bug reproduced and fixed.
# Source of notebooks/09_membership_changes.ipynb (build with: python tools/build_notebooks.py 09).
# The schedules are those of tests/engine/test_membership.py (the 2015 bug is
# raftlab.scenarios.single_server_change_bug), written out here so that the student sees every move; the direct
# switch uses a partition instead of cut links, which tells the same story with fewer moves.

# %% [markdown]
# # Lesson 9: Membership changes
#
# So far the cluster has always had the same servers. Real clusters change: a machine dies for good and is
# replaced, a cluster of three grows to five for more fault tolerance, servers move to new hardware. The
# set of servers whose votes count is the **configuration**, and changing it while the cluster keeps serving
# clients is harder than it looks: for a moment, different servers believe in different configurations.
#
# **Goals.** After this lesson you can
# - explain why switching straight from the old configuration (C_old) to the new one (C_new) can elect two
#   leaders in one term, and see it happen;
# - describe **joint consensus** (C_old,new, then C_new), the paper's answer (section 6);
# - explain why changes of **one server at a time** are safe without a joint phase, and why they must
#   happen one at a time;
# - say why a new server first joins as a **learner** that does not vote, and how the leader decides it
#   has caught up;
# - follow what happens when the leader itself is removed, and why removed servers need pre-vote;
# - reproduce the **2015 bug** in single-server changes, and its one-line fix.
#
# *About 40 minutes. Section 6 and Figures 10 and 11 of the paper go with it, and chapter 4 of Diego
# Ongaro's dissertation ("Consensus: Bridging Theory and Practice") for the single-server changes.*

# %%
from itertools import combinations

import matplotlib.pyplot as plt

from raftlab import OperatorError, SafetyViolation, Simulation, viz
from raftlab.membership import Configuration


def configurations(sim):
    """Each server's configuration: the latest one in its log, committed or not (section 6)."""
    for name in sim.names:
        node = sim.node(name)
        print(f"{name} ({node.role}, term {node.current_term}): {node.configuration}")


# %% [markdown]
# ## 1. Why it is hard
#
# The configuration travels the way everything else does in Raft: as an entry in the log. `sim.add_server`
# asks the leader to append a new configuration entry, and "a server always uses the latest configuration
# in its log, regardless of whether the entry is committed" (section 6). raftlab prints a configuration as
# the set of its voters, `{n1,n2,n3}`, followed by its learners (servers that receive the log but do not
# vote, section 4), as in `{n1,n2,n3}+learners n4,n5`.
#
# The entry reaches the servers one by one, so for a while some of them count votes in C_old and others in
# C_new. Take C_old = `{n1,n2,n3}` and C_new = `{n1,n2,n3,n4,n5}`. A majority of C_old is 2 servers; a
# majority of C_new is 3. `{n2,n3}` and `{n1,n4,n5}` are majorities of each **with no server in common**
# (the paper's Figure 10). Two candidates, one counting in each configuration, can both win.
#
# raftlab can switch directly, with `Simulation(membership="unsafe-direct")`. It is off by default and
# exists only for this lesson. Here is the story we run:
#
# 1. `n1` leads `{n1,n2,n3}` in term 1. The operator adds `n4` and `n5`. They first join as learners (more
#    on that in section 4), and once they have caught up, `n1` appends C_new at index 3 and uses it at once.
# 2. At that very moment the network splits: `n1 n4 n5 | n2 n3`. C_new reaches `n4` and `n5`; their
#    acknowledgements to `n1` are lost. `n2` and `n3` never see C_new.
# 3. `n2` and `n4` time out, one on each side.

# %%
def grow_to_five(membership):
    """{n1,n2,n3} becomes {n1,n2,n3,n4,n5} in one change, and the network splits at the worst moment."""
    sim = Simulation(nodes=3, seed=3, election_timeout=(300, 600), membership=membership)
    sim.timeout("n1")                                            # n1 leads term 1
    sim.run_until(lambda s: s.node("n1").commit_index >= 1)
    sim.add_server("n4", "n5")
    sim.run_until(lambda s: s.node("n1").log.last_index >= 3)     # n1 has appended the new configuration...
    sim.partition(["n1", "n4", "n5"], ["n2", "n3"])              # ...and the network splits
    sim.run_until(lambda s: s.node("n4").log.last_index >= 3 and s.node("n5").log.last_index >= 3)
    for message in sim.in_flight():                              # n1 never hears that n4 and n5 stored it
        if message.dst == "n1":
            sim.drop(message.id)
    try:
        sim.timeout("n2")
        sim.timeout("n4")
        sim.advance(100)
    except SafetyViolation as violation:
        print("safety violation:", violation.property, "-", violation.detail)
    return sim


# %% [markdown]
# **Predict.** `n2` can reach only `n3`; `n4` reaches `n1` and `n5`. How many votes does each need, in the
# configuration it uses? Can both win term 2?
#
# <details><summary>Answer</summary>
#
# `n2` still uses C_old `{n1,n2,n3}`: it needs 2 votes, its own and `n3`'s. `n4` uses C_new: it needs 3 of
# 5, its own, `n5`'s and `n1`'s (`n1` has not voted in term 2, and `n4`'s log is as up-to-date as its own).
# Both win. Two leaders in term 2: Election Safety is broken.
# </details>

# %%
direct = grow_to_five("unsafe-direct")

# %%
for event in direct.events("info"):
    print(event)

# %% [markdown]
# The safety checker stops the run the moment `n4` wins and names the property: **Election Safety**, "at
# most one leader can be elected in a given term" (Figure 3). The picture shows both leaders, one on each
# side of the partition:

# %%
viz.show(direct, views=("cluster", "logs"))

# %% [markdown]
# No server did anything wrong by its own lights: each counted a majority of the configuration in its
# log. The two configurations simply disagree about what a majority is.

# %%
configurations(direct)

# %% [markdown]
# ## 2. Joint consensus
#
# The paper's answer is a transition configuration, **C_old,new**, in which agreement "requires separate
# majorities from both the old and new configurations" (section 6). raftlab prints it
# `{n1,n2,n3} -> {n1,n2,n3,n4,n5}`. The change takes two entries:
#
# 1. the leader appends C_old,new; from then on, electing a leader or committing an entry needs a majority
#    of C_old **and** a majority of C_new;
# 2. once C_old,new is committed, the leader appends C_new.
#
# Until C_old,new is committed, a leader uses C_old or C_old,new, and either way it needs a majority of
# C_old; C_new alone decides nothing, since no server has it yet. Once C_old,new is committed, C_new is
# appended, and from then on nobody can decide with C_old alone. At no moment can C_old and C_new each
# decide on their own (Figure 11).
#
# **Predict.** The same moves with `membership="joint"`. Who wins term 2 now?
#
# <details><summary>Answer</summary>
#
# Only `n2`. It still uses C_old and gets its 2 votes. `n4` uses C_old,new: from C_new it has 3 votes
# (`n4`, `n5`, `n1`), but from C_old only `n1`'s, 1 of 3. It loses.
# </details>

# %%
joint = grow_to_five("joint")
print(joint.summary())
configurations(joint)

# %% [markdown]
# No violation. `n2` leads term 2 in C_old, which is allowed: C_old,new was never committed, so `n2` may
# overwrite it. When the network heals, the new leader finishes the change itself (the learners `n4` and
# `n5` are in its log):

# %%
joint.heal()
joint.advance(1500)
leader = joint.leader()
print(joint.summary())
for index in leader.log.config_indexes:
    print(f"index {index}: {leader.log.entry(index).config}")

# %% [markdown]
# Three configuration entries, in the order of section 6: the learners join, then C_old,new, then C_new.
#
# ## 3. One server at a time
#
# Joint consensus works for any change, but it needs two phases and a double count of every quorum. The
# dissertation (chapter 4) observes that when C_old and C_new differ by **one** server, any majority of one
# and any majority of the other always share a server, so they cannot decide separately and no joint phase
# is needed. We can check that claim by brute force: look for a majority of C_old and a majority of C_new
# that have no server in common.

# %%
def is_majority(group, conf):
    """Whether ``group`` holds more than half of the voters of ``conf``."""
    return sum(1 for v in conf.voters if v in group) > len(conf.voters) // 2


def disjoint_majorities(old, new):
    """A majority of ``old`` and a majority of ``new`` that share no server, or None."""
    servers = sorted(set(old.voters) | set(new.voters))
    for size in range(1, len(servers) + 1):
        for group in combinations(servers, size):
            rest = [s for s in servers if s not in group]
            if is_majority(group, old) and is_majority(rest, new):
                return group, tuple(rest)
    return None


changes = [("n1 n2 n3", "n1 n2 n3 n4"), ("n1 n2 n3 n4", "n1 n2 n3 n4 n5"), ("n1 n2 n3 n4", "n1 n2 n3"),
           ("n1 n2 n3", "n1 n2 n3 n4 n5"), ("n1 n2 n3 n4 n5", "n1 n2 n3"), ("n1 n2 n3", "n1 n2 n4")]
for old, new in changes:
    old, new = Configuration(tuple(old.split())), Configuration(tuple(new.split()))
    found = disjoint_majorities(old, new)
    print(f"{str(old):>16} -> {str(new):<16}", "always overlap" if found is None else f"disjoint: {found}")

# %% [markdown]
# Adding or removing one server: every pair of majorities overlaps. Adding or removing two, or replacing one
# server by another (one out and one in is two changes), does not.
#
# That is why raftlab's default, `membership="single"`, changes one server at a time. Two rules keep it
# safe, both in `may_change_configuration` (in `raftlab/rules.py`, exercise 7):
#
# - **One change at a time**: "the leader will not begin a new configuration change until the previous one
#   is committed" (dissertation 4.1). Two uncommitted changes in a row, C1 to C2 to C3, would let servers
#   still using C1 and servers already using C3 decide separately, and C1 and C3 differ by two servers.
# - The 2015 rule of section 6 below.
#
# A move that breaks them is refused, with its reason, and changes nothing. First, two servers in one
# change:

# %%
single = Simulation(nodes=3, seed=1)
single.run_until(lambda s: s.leader() is not None and s.leader().commit_index >= 1)
leader = single.leader().id
print("leader:", leader)
try:
    single.add_server("n4", "n5")
except OperatorError as refused:
    print("refused:", refused)

# %% [markdown]
# Then one server, `n4`, with the leader cut off from the others so that this change cannot commit, and at
# once a second change:

# %%
single.isolate(leader)
single.add_server("n4", via=leader)
print("accepted:", single.node(leader).configuration)
try:
    single.remove_server("n3", via=leader)
except OperatorError as refused:
    print("refused:", refused)

# %% [markdown]
# (raftlab also checks this rule after every step, as the property "One change at a time", in case your
# exercise 7 lets a second change through.)
#
# ## 4. Catching up a new server
#
# A new server starts with an empty log. If its vote counted at once, the cluster would need it to commit
# anything: with 4 voters a majority is 3, so if one of the old three is slow or down, nothing commits
# until the newcomer has copied the whole log. So a new server joins first as a **learner** (a non-voting
# member: "the leader replicates entries to it, but it is not yet counted towards majorities",
# dissertation 4.2.1), and is promoted to voter by a second, ordinary, configuration change once it has
# caught up.
#
# When is that? The log keeps growing while the learner copies it. The leader works in **rounds**: a round
# replicates everything the leader's log held when the round began; if it took less than the minimum
# election timeout (150 ms here), the learner is close enough to be promoted, else another round starts.
#
# Here a cluster of three has 60 entries and clients keep writing; the leader sends at most 5 entries per
# AppendEntries (`max_entries=5`), so `n4` needs a while.
#
# **Predict.** How many rounds will `n4` need?

# %%
growing = Simulation(nodes=3, seed=1, max_entries=5, request_interval=20)
growing.run_until(lambda s: s.leader() is not None and s.leader().commit_index >= 1)
growing.advance(1500)
leader = growing.leader()
growing.add_server("n4")
n4 = growing.node("n4")
samples, rounds = [], []
while not n4.is_voter or n4.log.last_index < leader.log.configuration_index:
    growing.step()
    samples.append((growing.now, n4.log.last_index, leader.log.last_index))
    round_ = leader.catch_up.get("n4")
    if round_ and round_ not in rounds:
        rounds.append(round_)
for target, started in rounds:
    print(f"round from t={started}: replicate up to index {target}")
for event in growing.events("info"):
    if "configuration" in event.text or "promoted" in event.text:
        print(event)

# %% [markdown]
# Two rounds. The first round had to copy 61 entries, 5 at a time: it took longer than 150 ms, and by its
# end the leader's log had grown. The second round only had the entries written meanwhile, and finished in
# time: `n4` was promoted with a second configuration entry. (The leader's `catch_up` holds the round in
# progress for each learner: its target index and when it began.)

# %%
times, learner, leader_log = zip(*samples, strict=True)
fig, ax = plt.subplots(figsize=(7, 3))
ax.plot(times, leader_log, label=f"leader {leader.id}: last log index")
ax.plot(times, learner, label="n4: last log index")
for _target, started in rounds:
    ax.axvline(started, color="gray", linestyle=":")
ax.set_xlabel("time (ms)")
ax.set_ylabel("log index")
ax.legend(loc="lower right")
ax.set_title("A learner catching up (dotted: a round begins)")
plt.show()

# %% [markdown]
# ## 5. Removing the leader
#
# The operator may remove any server, the leader included. Then the leader manages a configuration it is
# not part of: it replicates C_new but "does not count itself in majorities", and it steps down once C_new
# is committed (dissertation 4.2.2). Until then it keeps leading: a leader that left at once would leave
# the change half done.
#
# **Predict.** After `n2` steps down, `n1` and `n3` are left. Will `n2` ever start an election?

# %%
shrinking = Simulation(nodes=3, seed=1)
shrinking.run_until(lambda s: s.leader() is not None and s.leader().commit_index >= 1)
old = shrinking.leader()
start = shrinking.now
shrinking.remove_server(old.id)
shrinking.run_until(lambda s: s.leader() is not None and s.leader() is not old)
shrinking.advance(300)
for event in shrinking.events("info"):
    if event.time >= start:
        print(event)

# %% [markdown]
# <details><summary>Answer</summary>
#
# No. `n2`'s log holds C_new `{n1,n3}`, in which it is not a voter, so its election timer does nothing:
# "is not a voter in its configuration". A server that *knows* it was removed stays quiet.
# </details>
#
# ### Removed servers that do not know
#
# A removed **follower** may never learn it was removed: the leader stops sending it AppendEntries as soon as
# it appends C_new, so the entry never reaches it. It hears no more heartbeats, times out, and starts
# elections with ever higher terms. Each RequestVote with a higher term makes the real leader step down
# (Figure 2's term rule): the cluster keeps losing its leader (dissertation 4.2.3).
#
# **Predict.** `n1` is removed from `{n1,n2,n3}`. What happens in the next two seconds without pre-vote,
# and with pre-vote (lesson 5)?

# %%
def remove_a_follower(pre_vote):
    sim = Simulation(nodes=3, seed=2, pre_vote=pre_vote)
    sim.run_until(lambda s: s.leader() is not None and s.leader().commit_index >= 1)
    gone = next(name for name in sim.names if not sim.node(name).is_leader)
    sim.remove_server(gone)
    sim.advance(2000)
    terms = ", ".join(f"{name}={sim.node(name).current_term}" for name in sim.names)
    leader = sim.leader()
    print(f"pre_vote={pre_vote}: removed {gone}, which uses {sim.node(gone).configuration}; "
          f"terms now {terms}; leader: {leader.id if leader else 'none'}")


remove_a_follower(pre_vote=False)
remove_a_follower(pre_vote=True)

# %% [markdown]
# Without pre-vote, `n1` drags the cluster to term 10 and there is no leader at the end. With pre-vote, `n1`
# first asks whether it could win; `n2` and `n3` have heard from their leader recently (and have longer
# logs), so they say no, and nobody's term moves.
# (Check-quorum's leases, also from lesson 5, protect the cluster too: servers that heard from a leader
# recently ignore the RequestVote.) In practice an operator also shuts a removed server down.
#
# ## 6. The 2015 bug
#
# Single-server changes were published in 2014 in Ongaro's dissertation. In 2015 he found a bug in them,
# with no code involved, just careful reasoning (raft-dev mailing list, "bug in single-server membership
# changes"). It needs a leader change in the middle of a change. Four servers `{n1,n2,n3,n4}`:
#
# 1. `n1` leads term 1 and adds `n5`; the promotion, C = `{n1,n2,n3,n4,n5}`, reaches only `n5`.
# 2. `n2` wins term 2 with `n3` and `n4` (3 of the 4 voters in its log) and **at once** removes `n4`:
#    D = `{n1,n2,n3}` (with `n5` still a learner there), which commits on `n2` and `n3` (2 of 3).
# 3. `n1` wins term 3 with `n4` and `n5` (3 of 5 in C).
#
# Each change was "one server", yet C and D are two servers apart: C's majority `{n1,n4,n5}` and D's
# majority `{n2,n3}` share nobody. Below, `without_term_check` is the rule as first published (only "one
# change at a time"); `impl=` swaps it into the engine, as your exercises are swapped in.

# %%
def without_term_check(node):
    """The rule as published in 2014: only the leader, one change at a time. No current-term check."""
    if not node.is_leader:
        return f"{node.id} is not the leader"
    if node.log.configuration_index > node.commit_index:
        return "a configuration change is already in progress"
    return None


def play_2015(impl):
    """The schedule above. Returns the simulation (stopped if a safety property broke)."""
    sim = Simulation(nodes=4, seed=3, election_timeout=(300, 600), impl=impl)
    sim.timeout("n1")
    sim.run_until(lambda s: s.node("n1").commit_index >= 1)
    sim.add_server("n5")                          # n5 joins as a learner...
    sim.cut("n1", "n5")                           # ...but cannot catch up yet
    sim.run_until(lambda s: all(s.node(n).commit_index >= 2 for n in ("n1", "n2", "n3", "n4")))
    for n in ("n2", "n3", "n4"):
        sim.cut("n1", n)
    sim.reconnect("n5")                           # n5 catches up: its promotion reaches n5 only
    sim.run_until(lambda s: s.node("n5").log.last_index >= 3)
    sim.timeout("n2")                             # n2 wins term 2 with n3 and n4
    sim.run_until(lambda s: s.node("n2").is_leader)
    for message in sim.in_flight():               # its first AppendEntries reaches only n3
        if message.src == "n2" and message.dst != "n3":
            sim.drop(message.id)
    for n in ("n1", "n4", "n5"):
        sim.cut("n2", n)
    try:
        sim.remove_server("n4", via="n2")
        sim.run_until(lambda s: s.node("n2").commit_index >= 4, within=1000)
    except OperatorError as refused:
        print("refused:", refused)
    sim.reconnect("n1")
    for n in ("n2", "n3"):
        sim.cut("n1", n)
    try:
        sim.timeout("n1")                         # n1 asks n4 and n5 for term 3
        sim.run_until(lambda s: s.node("n1").is_leader, within=500)
    except SafetyViolation as violation:
        print("safety violation:", violation.property, "-", violation.detail)
    return sim


# %% [markdown]
# **Predict.** With the rule as published, what does the safety checker find when `n1` wins term 3?

# %%
bug = play_2015({"may_change_configuration": without_term_check})
configurations(bug)

# %% [markdown]
# <details><summary>Answer</summary>
#
# **Leader Completeness**: entry 4 (D, written in term 2) was committed on `n2` and `n3`, a majority of D,
# yet `n1` became leader of term 3 without it. It will overwrite it: a committed entry lost.
# </details>
#
# In the logs, index 4 differs: `n2` and `n3` hold D (term 2), `n1` now holds its own no-op of term 3.

# %%
viz.draw_logs(bug)
plt.show()

# %% [markdown]
# **The fix** (dissertation errata): "a leader may not append a new configuration entry until it has
# committed an entry from its current term". Every new leader appends a no-op entry of its term at once
# (lesson 4), so in practice the change waits until that no-op commits. Why does that help? Committing an
# entry of term 2 needs a majority of `n2`'s configuration, and every one of them then rejects a candidate
# whose log lacks it (the up-to-date check). `n1`'s uncommitted C can then never win an election, nor commit:
# the older change is dead before the newer one starts.
#
# The engine's `may_change_configuration` has that check. The same schedule with the reference rules:

# %%
fixed = play_2015(None)
print("violation:", fixed.violation)
print(fixed.summary())

# %% [markdown]
# `n2` cannot commit its no-op (only `n3` hears it, 2 of 4), so it may not remove `n4`. `n1` wins term 3
# legitimately, with C, and nothing committed is lost. (`n2` still believes it leads term 2, cut off from
# anyone who knows better; that is allowed: one leader *per term*.) The operator asks again later, of
# whoever leads then.
#
# ## 7. Your turn, in the Explorer
#
# A cluster that has just grown from three servers to four (`n4` was added 300 ms ago, caught up at once
# and was promoted), with clients writing every 60 ms.

# %%
from raftlab.widgets import Explorer

playground = Simulation(nodes=3, seed=4, request_interval=60)
playground.run_until(lambda s: s.leader() is not None and s.leader().commit_index >= 1)
playground.add_server("n4")
playground.advance(300)
configurations(playground)
Explorer(playground, controls=["step", "advance", "play", "messages", "crash", "partition", "heal", "timeout",
                               "membership", "log", "safety"], views=("cluster", "logs"))

# %% [markdown]
# The **Members** row adds a server (it proposes the next free name) or removes one, and says which
# configuration the leader uses and whether it is committed yet; a change the leader refuses says why, in
# red. In the drawing a learner has a dotted outline, a server on its way out a thick red one, and under
# each server is the configuration it uses (marked ≠ when it is not the leader's); in the logs a
# configuration entry has a purple outline and a "C".
#
# You can also change the membership from a cell like this one (the Explorer redraws when the cell ends):
#
# ```python
# playground.add_server("n5")          # one server at a time, once the previous change has committed
# playground.remove_server("n1")       # the leader too
# configurations(playground)
# ```
#
# **Try this.**
# 1. Remove the leader. Step until it steps down; find the "stepped down" line in the event log.
# 2. Add `n5`, then at once try to remove `n2`. Read the refusal. Step until the first change commits and
#    try again.
# 3. Partition the cluster while a change is in progress. Can a leader be elected on each side?
# 4. Start again with `Simulation(nodes=3, seed=4, membership="joint")` and add two servers in one call.
#
# <details><summary>What to notice</summary>
#
# - A change is only an entry in the log: it is replicated, committed and repaired like any other, and a
#   server uses it as soon as it is in its log.
# - With the safe methods, a partition during a change still gives at most one leader per term: one side
#   lacks a majority of some configuration it must count.
# </details>
#
# ## 8. Write it yourself
#
# Exercise 7, `exercises/ex7_membership.py`, asks you for the rules that say who counts, which this lesson
# relied on: `current_configuration` (the latest configuration in the log, committed or not), `has_quorum`
# (a majority of the voters, and of both C_old and C_new in the joint phase) and `may_change_configuration`
# (only the leader, one change at a time, and the 2015 check). The engine does the rest. `raftlab check 7`
# (or `raftlab.check(7)` in a cell) scores them; run this lesson with your code through
# `Simulation(..., impl="../exercises")`, and its safety checks judge it.
#
# ## Summary
#
# - A configuration is a log entry, used as soon as it is in a server's log. During a change servers
#   disagree on the configuration, and a direct switch lets two disjoint majorities elect two leaders.
# - Joint consensus passes through C_old,new, where every decision needs majorities of both.
# - Changes of one server at a time need no joint phase, since their majorities always overlap; but only one
#   change at a time, and only after the leader has committed an entry of its term (the 2015 fix).
# - A new server joins as a learner and is promoted once a catch-up round ends within an election timeout.
# - A removed leader leads until C_new commits, then steps down. Removed servers that do not know it are
#   kept from disrupting the cluster by pre-vote or check-quorum.
#
# **Next:** [Lesson 10, Debugging distributed systems](10_debugging.ipynb).
