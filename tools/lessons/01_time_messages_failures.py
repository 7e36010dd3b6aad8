# Lesson 1: the simulator itself. Source of notebooks/01_time_messages_failures.ipynb
# (build with: python tools/build_notebooks.py 01).

# %% [markdown]
# # Lesson 1: Time, messages and failures
#
# Before we look at Raft's rules, we look at the world they live in. A real cluster has clocks that drift,
# a network that delays, loses and reorders messages, and machines that stop without warning. raftlab
# replaces all of that with a **simulation** you can stop, inspect and replay.
#
# **Goals.** After this lesson you can
# - say what the simulated clock is and why it only moves when something happens;
# - read the list of messages in flight and the event log;
# - inject failures yourself: drop a message, crash a server, split the network;
# - explain why the same seed always replays the same story, and use that to save and rewind a run.
#
# *About 25 minutes.*

# %%
from raftlab import Simulation

sim = Simulation(seed=1)
print(sim.summary())

# %% [markdown]
# Five servers, `n1` to `n5`, all **followers** in **term** 0, with empty logs. Nothing has happened yet:
# the clock reads `t=0 ms`.
#
# ## 1. A clock that jumps
#
# The simulation keeps a list of things that will happen, each with the time it will happen at: a
# message arriving, a timer going off. The clock is an integer number of milliseconds, and it never
# ticks by itself. Each **step** takes the earliest pending event, moves the clock to its time and lets
# the server concerned react. So the clock *jumps* from one event to the next, and a quiet second costs
# nothing to simulate.
#
# Right now the only pending events are the servers' **election timers**: each follower waits a random
# time (here between 150 and 300 ms) to hear from a leader, and when its timer fires it tries to become
# leader itself. Here is when each timer is set to fire:

# %%
for node in sim.nodes.values():
    print(node.id, "election timer fires at t =", node.election_deadline)
print("next event at t =", sim.peek())

# %% [markdown]
# **Predict, then run.** Which server will act first, and at what time will the clock read after one
# step?
#
# <details><summary>Answer</summary>
#
# The server with the earliest timer, `n4`, at `t=190`. `sim.peek()` already told us: 190 is the time of
# the next event. One step moves the clock straight from 0 to 190.
# </details>

# %%
event = sim.step()
print(event)
print("the clock now reads", sim.now, "ms")

# %% [markdown]
# ## 2. Messages in flight
#
# When its timer fired, `n4` became a **candidate** and asked everyone else for a vote. Those requests
# are now **in flight**: sent, not yet delivered. Each has an id (`#2`), a sender and a receiver
# (`n4->n2`), its content, when it was sent and when it is due. The network gives every message its own
# delay, here between 5 and 15 ms, so messages sent together arrive in a different order.

# %%
for envelope in sim.in_flight():
    print(envelope)

# %% [markdown]
# Every message prints the same short way everywhere in raftlab: in this list, in the event log, in error
# messages and in the tests. `RequestVote(t=1 last=0/0)` reads "a vote request for term 1, from a
# candidate whose log ends at index 0, term 0".
#
# Let us take three more steps: each delivers the next message due.

# %%
for _ in range(3):
    print(sim.step())

# %% [markdown]
# The receivers answered at once, so their replies are in flight now. Message `#5` is `n3`'s vote for
# `n4`:

# %%
for envelope in sim.in_flight():
    print(envelope)

# %% [markdown]
# ## 3. Failures, on purpose
#
# A real network loses messages. Here *you* decide which: `sim.drop(id)` removes one message before it
# arrives. Let us lose `n3`'s vote, then let the cluster run until there is a leader.
#
# **Predict, then run.** Does `n4` still become leader? If so, when, compared with the 208 ms it needs
# when nothing is lost?
#
# <details><summary>Answer</summary>
#
# Yes. A candidate needs a **majority**, 3 votes out of 5, counting its own. `n4` still gets the votes of
# `n5` and `n2`, so it wins, only a little later (at 211 ms) because the third vote comes from a slower
# link.
# </details>

# %%
sim.drop(5)
sim.run_until_leader()
print(sim.trace_text())

# %% [markdown]
# The event log (`sim.trace_text()`) lists every step: each line is a message arriving or a timer firing,
# and the lines in plain words (`n4 became leader at term 1`) are decisions a server made. Your
# action is in it too: `operator dropped #5`.
#
# Failures are ordinary method calls:
#
# | What | Call |
# |---|---|
# | lose one message | `sim.drop(id)` |
# | deliver one message now, ahead of its time | `sim.deliver(id)` |
# | stop a server (it keeps its disk: term, vote and log) | `sim.crash("n2")` |
# | bring it back | `sim.restart("n2")` |
# | split the network | `sim.partition(["n1", "n2"], ["n3", "n4", "n5"])` |
# | reconnect everyone | `sim.heal()` |
# | make a timer fire now | `sim.timeout("n3")` |
#
# They check what you ask for, and refuse, saying why, rather than do something strange. Message `#3`, for
# instance, was delivered long ago:

# %%
try:
    sim.drop(3)
except Exception as error:
    print(type(error).__name__ + ":", error)

# %% [markdown]
# A crash is just as easy. What if the server that was about to win had crashed at the very start?

# %%
other = Simulation(seed=1)
other.crash("n4")
other.run_until_leader()
print(other.trace_text("info"))

# %% [markdown]
# `trace_text("info")` keeps only the important lines. With `n4` down, `n5`, the server with the next
# earliest timer, wins instead.
#
# ## 4. The same seed, the same story
#
# Every random choice in the simulation (each message's delay, whether it is lost, each election timeout)
# is drawn from the **seed**. There is no other source of randomness: no wall clock, no threads. So two
# simulations with the same seed and the same actions behave identically, event for event:

# %%
a = Simulation(seed=1)
b = Simulation(seed=1)
a.run_until_leader()
b.run_until_leader()
print("same event log:", a.trace_text() == b.trace_text())

# %% [markdown]
# A different seed tells a different story. Here is who wins the first election, and when, for eight
# seeds:

# %%
for seed in range(8):
    run = Simulation(seed=seed)
    leader = run.run_until_leader()
    print(f"seed {seed}: {leader.id} leader of term {leader.current_term} at t={run.now} ms")

# %% [markdown]
# The draws are even keyed by *who* they are for: the k-th message on the link `n4->n3` always gets the
# same delay, whatever happened elsewhere, and the k-th timeout of `n2` is always the same length. Dropping
# one message by hand does not reshuffle the rest of the run. This is also why, in the coding exercises,
# your implementation sees exactly the delays the reference saw as long as it sends the same messages,
# and a correct solution prints exactly what the reference printed.
#
# ## 5. Save, replay, rewind
#
# Since a run is fully decided by its configuration and the operator's actions, that is all raftlab needs
# to save. `sim.to_json()` is the run as data (`sim.save("run.json")` writes it to a file):

# %%
saved = sim.to_json()
print("seed:", saved["config"]["seed"])
print("actions:", saved["actions"])
print("steps:", saved["steps"], " time:", saved["time"])

# %% [markdown]
# Each action records the step and time it happened at: `[4, 200, "drop", [5]]` is "after step 4, at
# t=200, drop message 5". Rebuilding the run replays the seed and the actions:

# %%
replayed = Simulation.from_json(saved)
print(replayed.summary() == sim.summary())
print(replayed.summary())

# %% [markdown]
# And `sim.rewind(step)` goes back in time, by replaying up to that step. Rewinding to step 1 takes us back
# to the moment `n4` became a candidate, before the drop:

# %%
sim.rewind(1)
print(sim.summary())
print(len(sim.in_flight()), "messages in flight")

# %% [markdown]
# ## 6. Your turn, in the Explorer
#
# The Explorer shows the same simulation as pictures and lets you drive it with buttons. Every button
# calls one of the methods you used above. Run the cell to show it. (Widgets live in the running
# kernel: if you see a message instead of buttons, run the cells from the top.)

# %%
from raftlab.widgets import Explorer

playground = Simulation(seed=1)
Explorer(playground, controls=["step", "advance", "messages", "crash", "partition", "heal", "timeout"])

# %% [markdown]
# **Try this.**
# 1. Step until `n4` becomes a candidate. Find its RequestVote messages in the list of messages in flight.
# 2. Drop two of the votes it will get. Does it still win? What is the smallest number of messages you
#    must drop so that nobody wins term 1?
# 3. Crash `n4` before its timer fires. Who wins instead? (You saw the answer above; check it.)
# 4. Partition the network into `n1 n2` and `n3 n4 n5` and advance 1 second. Which side elects a leader?
#    Why not both?
#
# <details><summary>What to notice</summary>
#
# - Dropping one or two votes is not enough: `n4` needs only two votes besides its own, and four servers
#   answer. To stop it you must drop three of the four requests or replies.
# - Only the side with three servers can elect a leader: two votes are not a majority of five. This is
#   the whole reason Raft can survive a split network: at most one side has a majority.
# </details>
#
# ## Summary
#
# - The simulation is a list of pending events and a clock that jumps from one event to the next.
# - Messages in flight are data: you can list them, drop them, or deliver them early.
# - Crashes, partitions and timeouts are method calls; bad requests are refused with a reason.
# - A seed and a list of actions decide a run completely, so any run can be saved, replayed and rewound.
#
# **Next:** [Lesson 2, Leader election](02_leader_election.ipynb), where we read what the servers do
# with those RequestVote messages.
