# Lesson 0: welcome: what consensus is for, the Explorer, the simulated clock, reset and replay.
# Source of notebooks/00_welcome.ipynb (build with: python tools/build_notebooks.py 00).
# tests/browser/test_welcome_notebook.py opens this notebook and presses the Explorer's Step button.

# %% [markdown]
# # Welcome to raftlab
#
# raftlab is a kit for learning **Raft**, the consensus algorithm behind etcd (Kubernetes' memory),
# Consul, CockroachDB and many more. You will run a cluster of simulated servers, watch them elect leaders
# and copy logs, and break them on purpose: lose messages, crash servers, split the network. Then you will
# write the core rules yourself and run your code in the same simulations.
#
# **In this first lesson:** what consensus is for, your first cluster, a tour of the Explorer (the panel of
# buttons you will use in every lesson), the simulated clock, and how to reset and replay a run.
#
# *About 20 minutes. To run a cell, click it and press Shift-Enter; or run them all from the Run menu.*
#
# ## 1. What consensus is for
#
# Say you keep an important piece of data, like the configuration of a whole data centre, on one server.
# When that server dies, everything stops. So you keep **copies** on several servers. Now the hard part:
# the copies must stay identical, while servers crash and restart, and while the network loses, delays and
# reorders messages. If one copy applies `put x 1` then `put x 2`, and another applies them the other way
# round, they disagree about `x` forever.
#
# The classic answer is the **replicated state machine**: every server holds a **log** of commands and
# applies them, in log order, to its own copy of the data (its **state machine**). If all the logs hold
# the same commands in the same order, all the copies end in the same state. **Consensus** is the
# problem of agreeing on that log.
#
# ![Clients send commands; each server keeps the same log and applies it to its state machine](images/replicated_state_machine.png)
#
# Raft solves it like this: the servers **elect a leader**; the leader puts each client command in its log
# and **replicates** it to the others; once a **majority** stores a command, it is **committed** and every
# server applies it. A majority is enough because any two majorities share at least one server, so no
# decision can be made twice, two different ways. With 5 servers, Raft keeps working while any 2 are down.
#
# ## 2. Your first cluster
#
# A `Simulation` is a whole cluster in one Python object. We run it until it elects a leader, then a
# client sends three commands, one after the other.

# %%
from raftlab import Simulation

sim = Simulation(seed=1)
sim.run_until_leader()
print(sim.summary())

# %% [markdown]
# Five servers, `n1` to `n5`. `n4` won the election of **term** 1; all the others voted for it. Now the
# commands:

# %%
for i in range(1, 4):
    sim.client_request(f"put x {i}", client="c1")
    sim.advance(100)                  # let 100 simulated milliseconds pass
print({node.id: node.state_machine.data for node in sim.nodes.values()})

# %% [markdown]
# All five copies agree that `x` is 3. Now let us be cruel: crash two servers and send another command.
#
# **Predict, then run.** Does the command still succeed?
#
# <details><summary>Answer</summary>
#
# Yes. Three servers are still up, and three is a majority of five. Raft does not need every server, only
# most of them.
# </details>

# %%
sim.crash("n1")
sim.crash("n2")
sim.client_request("append x 4", client="c1")
sim.advance(300)
print({node.id: node.state_machine.data for node in sim.nodes.values() if not node.crashed})

# %% [markdown]
# `append x 4` appended `4` to `x`. Now crash a third server.
#
# **Predict, then run.** What happens to the next command?

# %%
sim.crash("n3")
sim.client_request("append x 5", client="c1")
sim.advance(2000)
print(sim.operations[-1])

# %% [markdown]
# (`sim.operations` lists every client command as its client saw it: here `c1`'s fifth command, sent at
# t=808 ms, with no answer yet.)
#
# <details><summary>Answer</summary>
#
# It waits (`pending`). Two servers out of five are not a majority, so nothing can be committed: Raft
# would rather stop than risk two different answers. It is not lost, though: as soon as a third server is
# back, it commits.
# </details>

# %%
sim.restart("n1")
sim.advance(1000)
print(sim.operations[-1])
print({node.id: node.state_machine.data for node in sim.nodes.values() if not node.crashed})

# %% [markdown]
# The restarted `n1` caught up with everything it missed, and `append x 5` completed: `x` is `345`.
#
# ## 3. The Explorer
#
# Printing summaries gets tedious. The **Explorer** shows a simulation as pictures and lets you drive it
# with buttons. Run the next cell to show one. (Widgets live in the running Python kernel: if you see an
# error message or a line of text instead of buttons, the kernel was restarted or the cells were not run:
# run the notebook from the top.)

# %%
from raftlab.widgets import Explorer

playground = Simulation(seed=1)
Explorer(playground)

# %% [markdown]
# **The picture.** On the left, the cluster: each server with its role (a white circle for a follower,
# an orange square for a candidate, a blue hexagon for the leader, gray and dashed when crashed), its term,
# its vote and its commit index. The gray ring around a server is its **election timer**: the arc left is
# the time left before it fires. Small shapes on the links are **messages in flight**. On the right, every
# server's log, one box per entry, showing the entry's term.
#
# **The controls.** Every button calls one method of the `Simulation`, the same ones you can call in code:
#
# | Control | What it does | In code |
# |---|---|---|
# | **Step** | process the next event: one message arrives or one timer fires | `sim.step()` |
# | **Advance** N ms | run every event of the next N simulated milliseconds | `sim.advance(N)` |
# | **Play** | keep advancing, a few ms per frame, until you pause | |
# | **step slider** | drag back to rewind, forward to replay | `sim.rewind(k)` |
# | server + **Crash** / **Restart** | stop a server / bring it back from its disk | `sim.crash("n2")`, `sim.restart("n2")` |
# | **Timeout** | make the server's election timer fire now | `sim.timeout("n2")` |
# | **Isolate** / groups + **Split** / **Heal** | cut the network | `sim.isolate("n2")`, `sim.partition([...], [...])`, `sim.heal()` |
# | command + **Send** | a client sends a command | `sim.client_request("put x 1")` |
# | message + **Deliver now** / **Drop** | deliver one message early, or lose it | `sim.deliver(id)`, `sim.drop(id)` |
# | **pre-vote** | an extension you will meet in lesson 5 | `sim.set_pre_vote(True)` |
# | **Events** | the last things that happened, newest first | `sim.trace_text()` |
# | **safe** badge | turns red if a safety property ever breaks | `sim.violation` |
# | **Load run**, or a path + **Load** | play back a run saved with `sim.save("run.json")` | `Explorer.from_file("run.json")` |
#
# A bad request (restart a server that is running, deliver a message that has already arrived) is refused
# with a message in the panel, and the simulation is left unchanged. Changes you make to `playground` in
# code appear in the Explorer when the cell finishes.
#
# ## 4. The simulated clock
#
# Nothing in the simulation moves unless you move it. Time is an integer number of **simulated
# milliseconds**, shown at the top of the Explorer (`t = 0 ms`). It jumps from one event to the next: Step
# moves it to the time of the next event, whether that is 1 ms or 200 ms away. So you can take as long as
# you like to think between two steps: the servers wait for you.
#
# **Try this.**
# 1. Press **Step** once. Which server acted, and at what time? (Its election timer fired first.)
# 2. Press **Step** a few more times and watch the RequestVote messages travel and the votes come back.
# 3. **Advance** 500 ms. Is there a leader? Send `put x 1` and Step until every log has the entry.
# 4. Crash the leader and Advance 500 ms. Who leads now, in which term?
#
# ## 5. Reset and replay
#
# - **Rewind**: drag the step slider back, and forward again. Going back *replays* the run from the start
#   up to that step, so it is exact, and going forward replays your own actions at the steps you took them.
# - **Reset**: run the Explorer's cell again. It builds a fresh `Simulation(seed=1)` from scratch.
# - **Same seed, same story**: every random choice (each message delay, each election timeout) comes from
#   the seed. Reset and repeat the same clicks, and you get exactly the same run. Change the seed
#   (`Simulation(seed=2)`) for a different story.
# - **Save and share**: `playground.save("my_run.json")` writes the seed and your actions to a file;
#   **Load run** in any Explorer (or `Explorer.from_file("my_run.json")`) plays it back, step by step.
#
# ## 6. How the lessons work
#
# Each lesson has a goal, short explanations, and cells you run in order. A lesson never depends on another
# lesson's cells: you can restart at any lesson. Along the way:
# - **Predict, then run**: a question before a cell. Decide on your answer first, then run the cell; the
#   answer is under a fold you can open.
# - **Try this**: things to do in the lesson's Explorer.
# - **Write it yourself**: a coding exercise in `exercises/` (`ex1_election.py` ... `ex7_membership.py`),
#   where you write one of Raft's rules. `raftlab.check(1)` (in a cell) or `raftlab check 1` (in a
#   terminal) tests it and explains any failure in Raft terms. Your code then runs in the same simulations:
#   `Simulation(seed=1, impl="../exercises")`.
#
# | Lesson | What you will see | Exercise |
# |---|---|---|
# | [1. Time, messages and failures](01_time_messages_failures.ipynb) | the simulator itself; seeds and replay | |
# | [2. Leader election](02_leader_election.ipynb) | terms, votes, split votes; the paper's timing experiment | 1, 2 |
# | [3. Log replication](03_log_replication.ipynb) | AppendEntries, repairing logs that diverged | 3, 4 |
# | [4. Commitment and safety](04_commitment_and_safety.ipynb) | the safety properties; the paper's Figure 8 | 5 |
# | [5. Faults](05_faults.ipynb) | loss, partitions, crashes, pre-vote and check-quorum | |
# | [6. Clients](06_clients.ipynb) | retries, exactly-once, linearizability | 6 |
# | [7. What clients see](07_what_clients_see.ipynb) | client histories, linearizability checked, the exhaustive search | |
# | [8. Log compaction](08_log_compaction.ipynb) | snapshots and InstallSnapshot | |
# | [9. Membership changes](09_membership_changes.ipynb) | adding and removing servers safely: joint consensus, one server at a time, the 2015 bug | 7 |
# | [10. Debugging distributed systems](10_debugging.ipynb) | a buggy Raft, found, shrunk and fixed | |
#
# Keep the paper at hand: "In Search of an Understandable Consensus Algorithm (Extended Version)" by
# Diego Ongaro and John Ousterhout. Its Figure 2 is a one-page summary of the whole algorithm; the lessons
# refer to it often.
#
# ## Summary
#
# - Consensus keeps several copies of a state machine identical by agreeing on one log of commands.
# - Raft elects a leader, which replicates the log; a command stored on a majority is committed. With 5
#   servers, Raft tolerates 2 failures, and stops (safely) with 3.
# - The Explorer drives a simulation with buttons; simulated time only moves when you move it; a seed and
#   your actions decide a run, so you can always rewind, reset and replay.
#
# **Next:** [Lesson 1, Time, messages and failures](01_time_messages_failures.ipynb).
