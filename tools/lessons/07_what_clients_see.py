# Lesson 7: what clients see: a client history, linearizability checked, a stale read and a lost acknowledged
# write that keep every log invariant, how the reference keeps reads linearizable, and the exhaustive search
# finding the shortest run that breaks a rule. Source of notebooks/07_what_clients_see.ipynb
# (build with: python tools/build_notebooks.py 07).
# The buggy rules are written here, not imported from raftlab/grading/bugs/: the student handout leaves the
# bug catalogue out, and its lessons must run. They are the catalogue's ex6_follower_reads_locally (here any
# server reads locally), ex6_reply_before_commit (here for writes only) and ex1_count_stale_votes, each in a
# few lines on top of the reference rules.

# %% [markdown]
# # Lesson 7: What clients see
#
# Since lesson 4, raftlab has checked the servers after every step: one leader per term, logs that match,
# nothing committed ever lost (the safety properties of the paper's Figure 3). A client sees none of that.
# It sends a command, waits, and gets an answer. All it can judge is the **history**: what it asked, when,
# and what it was told.
#
# This lesson looks at Raft from there. You will see two buggy servers whose logs are beyond reproach and
# whose clients are told things that cannot be true; how raftlab's checker proves it; and a search that
# tries *every* schedule of a small cluster to find the shortest run that breaks a rule, where thousands of
# random runs find nothing.
#
# **Goals.** After this lesson you can
# - read a client history: one bar per operation, from the moment it was sent to its answer;
# - say in plain words what **linearizable** means, and check a history with `sim.check_history()`;
# - explain why a stale read or a lost acknowledged write is wrong even when every log invariant holds;
# - explain how raftlab's reference makes reads linearizable, and the cheaper way (ReadIndex);
# - use `explore` to find the shortest counterexample to a rule, and open it in the Explorer.
#
# *About 35 minutes.*

# %%
import dataclasses

import matplotlib.pyplot as plt

from raftlab import ClientReply, Role, SafetyViolation, Simulation, campaign, rules, viz
from raftlab.explore import explore
from raftlab.widgets import Explorer

# %% [markdown]
# ## 1. A history
#
# Three clients send a command every 40 ms to a healthy cluster of five servers. `sim.history()` is every
# operation as its client saw it: who (`c1`), its sequence number (`#1`), the command, when it was sent, and
# when and what the answer was.

# %%
sim = Simulation(seed=3, request_interval=40)
sim.advance(1500)
print(len(sim.history()), "operations")
for op in sim.history()[:6]:
    print(op)

# %% [markdown]
# A picture reads better. `viz.draw_history` draws one row per client and one bar per operation, from the
# moment it was sent to the moment its answer arrived (hatched: no answer yet).

# %%
viz.draw_history(sim)
plt.show()

# %% [markdown]
# The first three operations were sent before any leader existed: their clients waited for a retry, about
# 650 ms. After that a healthy cluster answers in a few dozen milliseconds. Operations of different clients
# overlap in time.
#
# ## 2. Linearizable, in plain words
#
# Imagine that each operation took effect at one instant: a dot somewhere **on its bar**. The history is
# **linearizable** if you can place the dots so that, read from left to right, every answer is exactly what
# a single copy of the store would have given. So:
# - if one bar ends before another starts, the first operation comes first;
# - overlapping operations may come in either order;
# - an operation with no answer yet may have happened (a dot anywhere after its start) or not (no dot).
#
# That is what a client of *one* server would see. Linearizability says the five servers behave, for every
# client, like that one server. `sim.check_history()` searches for such an order (key by key, as the
# Porcupine checker does) and returns a verdict:

# %%
print(sim.check_history())

# %% [markdown]
# ## 3. A stale read
#
# Most requests to a store are reads, and every server has a copy of the data. Someone on the team
# proposes: "let any server answer a `get` from its own copy; only writes need the leader." Here it is, as
# a replacement for the rule of exercise 6:

# %%
def read_locally(node, request):
    """The bug: any server answers a read from its own copy of the data, without asking the leader."""
    if request.command[0] == "get":
        value = node.state_machine.data.get(request.command[1])
        node.send(ClientReply(node.id, request.client_id, request.client_id, request.seq, True, value))
        return
    rules.handle_client_request(node, request)


local_reads = {"handle_client_request": read_locally}

# %% [markdown]
# `c1` writes `x=1` through the leader, `n4`. Every server applies it. Then the follower `n2` is cut off from
# the others (it does not know: it just hears nothing). `c1` writes `x=2`, the leader answers "ok", and
# *after* that answer `c2` asks `n2` for `x`.
#
# **Predict.** What does `c2` read? And does any safety property of Figure 3 break?

# %%
stale = Simulation(seed=1, impl=local_reads)
leader = stale.run_until_leader().id
stale.wait_for(stale.client_request("put x 1", node=leader, client="c1"))
stale.advance(200)
stale.isolate("n2")
stale.wait_for(stale.client_request("put x 2", node=leader, client="c1"))
stale.advance(1)
stale.wait_for(stale.client_request("get x", node="n2", client="c2"))
for op in stale.history():
    print(op)
print("safety violation:", stale.violation)

# %% [markdown]
# <details><summary>Answer</summary>
#
# `c2` reads `'1'`, and no safety property breaks. Every log is a prefix of the leader's, nothing committed
# was lost, nobody applied a wrong entry: `n2` is merely behind, which Raft allows. What is wrong is the
# *answer*: `c1` had been told that `x=2` was done before `c2` even asked.
# </details>
#
# The clients' history catches it. No placement of dots works: `put x=2` ended before `get x` started, so
# the get comes after it and must return `'2'`.

# %%
verdict = stale.check_history()
print(verdict)

# %% [markdown]
# The verdict names the key, the **operations that cannot be ordered** (here all three; in a long history
# the checker shrinks the explanation to the few operations that prove the problem) and the time by which
# the history was already wrong: the moment to rewind to. The picture outlines those operations in red:

# %%
viz.draw_history(stale, verdict=verdict)
plt.show()

# %% [markdown]
# `check_history` also stops the run like any other safety property, under the name it shares with them:

# %%
print(stale.violation.property)

# %% [markdown]
# ## 4. A lost acknowledged write
#
# Another idea: "waiting for a majority is slow. Let the leader say 'done' as soon as it has appended a
# write to its own log." Section 8 of the paper says the leader answers once the entry is **committed**.
# Here is the shortcut:

# %%
def answer_early(node, request):
    """The bug: the leader says "done" to a write as soon as it has appended it, before it commits."""
    rules.handle_client_request(node, request)
    log = node.log
    if node.role is Role.LEADER and request.command[0] != "get" and log.last_index > node.commit_index:
        last = log.entry(log.last_index)
        if (last.client_id, last.seq) == (request.client_id, request.seq):
            node.send(ClientReply(node.id, request.client_id, request.client_id, request.seq, True, "ok"))


early_answers = {"handle_client_request": answer_early}

# %% [markdown]
# The leader `n4` is cut off from the other servers, together with client `c1`, which then writes `x=1`.

# %%
early = Simulation(seed=1, impl=early_answers)
leader = early.run_until_leader().id
early.partition([leader, "c1"])
try:
    early.wait_for(early.client_request("put x 1", node=leader, client="c1"))
except SafetyViolation as violation:
    print(violation.property)
    print(violation.detail)

# %% [markdown]
# raftlab stops the run the moment the answer arrives. Notice the property: not one of Figure 3's five, but
# one about clients, **Acknowledged writes durable**: a write a client was told succeeded must be committed.
# In the servers' logs nothing is wrong yet, and nothing will be: an entry that was never committed may be
# overwritten, and Raft does exactly that.
#
# **Predict.** Turn the checks off (`check_safety=False`, which is how most systems are tested) and let it
# run: the majority elects a new leader, `c2` reads `x` there, then the network heals. What do the clients
# see, and what happens to `x=1`?

# %%
lost = Simulation(seed=1, impl=early_answers, check_safety=False)
leader = lost.run_until_leader().id
lost.partition([leader, "c1"])
lost.wait_for(lost.client_request("put x 1", node=leader, client="c1"))
lost.advance(1000)
lost.wait_for(lost.client_request("get x", client="c2"))
lost.heal()
lost.advance(500)
for op in lost.history():
    print(op)
for name in lost.names:
    print(name, "committed:", ", ".join(str(entry) for entry in lost.committed(name)))

# %% [markdown]
# <details><summary>Answer</summary>
#
# `c1` was told "ok" at t=236; `c2` then read `None`. After the heal `n4` steps down, and its uncommitted
# entry `put x=1` is overwritten by the new leader's log. Every server's committed log is the same: the new
# leader's no-op and `c2`'s read. The logs are perfectly consistent, and the write `c1` was promised is gone
# for good.
# </details>

# %%
print(lost.check_history())

# %% [markdown]
# The checker cannot tell a lost write from a stale read (both leave a read that no order explains), and
# says so. From the client's side, they are the same failure: it was told something that is not true.
#
# ## 5. How raftlab's reference keeps reads honest
#
# The reference rules send **every command through the log, reads included**. A `get` is appended,
# replicated, committed and applied like a `put`, and answered with the value at that point of the log.
# A server that is not leader forwards it; a leader that has been deposed without knowing it cannot commit
# it, so it never answers.
#
# **Predict.** Section 3's moves again, with the reference rules: what does `c2` read, and when?

# %%
honest = Simulation(seed=1)
leader = honest.run_until_leader().id
honest.wait_for(honest.client_request("put x 1", node=leader, client="c1"))
honest.advance(200)
honest.isolate("n2")
honest.wait_for(honest.client_request("put x 2", node=leader, client="c1"))
honest.advance(1)
honest.wait_for(honest.client_request("get x", node="n2", client="c2"))
for op in honest.history():
    print(op)
print(honest.check_history())

# %% [markdown]
# <details><summary>Answer</summary>
#
# `'2'`, 640 ms after asking. `n2` cannot reach the leader, so the read waits; the client gives up on `n2`
# after its retry timeout (600 ms), asks another server, and that one forwards it to the leader. A slow
# answer, but a true one.
# </details>
#
# That is the choice the reference made, because it is the simplest rule that is obviously right. It has a
# cost: every read is a log entry, written to disk and replicated. Ongaro's dissertation (section 6.4)
# gives the cheaper way, **ReadIndex**: the leader notes its commit index, confirms it is still leader with
# one round of heartbeats answered by a majority, waits until it has applied up to the noted index, and
# then answers from its own state machine. No log entry, the same guarantee. (It must first have committed
# an entry of its own term, which is why a new leader appends a no-op.) Leases go further and skip the
# heartbeat round by trusting clocks; the dissertation explains why that is riskier.
#
# ## 6. The search: a bug random runs miss
#
# The bugs above show up in almost any run that exercises them. Others need a particular, unlucky order of
# events. Here is one, in the vote counting of exercise 1. Figure 2 says a candidate becomes leader when it
# receives votes from a majority *in its current election*; this version counts any granted vote, even a
# late one from an election it has since abandoned:

# %%
def count_any_vote(node, reply):
    """The bug: a granted vote counts, whatever election it was cast in."""
    rules.handle_request_vote_reply(node, dataclasses.replace(reply, term=node.current_term))


stale_votes = {"handle_request_vote_reply": count_any_vote}

# %% [markdown]
# First, the tool of lesson 10 (debugging): a random fault campaign. Each seed is a 5-second run of a
# cluster with clients, crashes, restarts and partitions drawn from the seed, every safety property checked
# at every step, and the history checked at the end.

# %%
runs = campaign.run_campaign(range(60), impl=stale_votes)
print(sum(not run.ok for run in runs), "of", len(runs), "random runs found a problem")

# %% [markdown]
# Nothing. A vote reply arrives within a few milliseconds, and an election timeout takes 150 ms or more,
# so a reply almost never outlives its election.
#
# `explore` does not roll dice. It starts a cluster of 3 servers whose timers never fire on their own, and
# tries **every** sequence of choices an adversary could make: deliver any message in flight, fire any
# server's election timer (and, if you ask, drop a message, crash or restart a server, send a client
# request). It goes breadth first: every run of 1 choice, then every run of 2, and so on, visiting each
# distinct state once and checking every safety property in each. So the first bad run it finds is a
# **shortest** one. (This is how UW's DSLabs checks students' Paxos.)
#
# **Predict.** How many choices does it take to get two leaders in one term out of this bug?

# %%
found = explore(impl=stale_votes, depth=7, choices=("deliver", "timeout"))
print(found.violation.property, "after", found.depth, "choices")
bad_step = found.run["steps"]
print(found.replay(until=bad_step - 1).trace_text())

# %% [markdown]
# Seven. `n1` starts an election in term 1 and `n2` votes for it; before the reply arrives, `n1` times out
# again and starts term 2. The old "granted" arrives and is counted in term 2: with its own vote, `n1` has
# a "majority" and leads term 2. Meanwhile `n2` starts its own election for term 2 and `n3` votes for it:
# two leaders in term 2, which will answer their clients differently.
#
# And the same search on the reference rules, to the same depth, finds nothing:

# %%
reference = explore(depth=7, choices=("deliver", "timeout"))
print("reference:", reference.violation, "within", reference.depth, "choices; every state searched:",
      reference.complete)

# %% [markdown]
# "Nothing within 7 choices" is a real statement about every schedule of that length, which no number of
# random runs can make. Its limit is the bound: a bug that needs 30 choices is beyond this search, and
# there random campaigns (and your own scenarios) take over.
#
# ## 7. Your turn, in the Explorer
#
# The shortest bad run, opened at the step **before** the violation (`Explorer.from_run` takes a run and a
# step). Press **Step** to watch the second leader appear; drag the slider back to see how it came about.

# %%
Explorer.from_run(found.run, impl=stale_votes, step=bad_step - 1,
                  controls=["step", "slider", "messages", "log", "safety"], views=("cluster", "logs"))

# %% [markdown]
# And the stale read of section 3, replayed from its run (the check in section 3 stopped `stale` itself),
# with the clients' history beside the cluster: the `"history"` view. The Explorer checks the history as
# you go, outlines the operations that cannot be ordered, and offers to go to the step before the answer
# that made it wrong.

# %%
Explorer.from_run(stale.run, impl=local_reads, step=stale.steps,
                  controls=["step", "advance", "slider", "partition", "heal", "client", "log"],
                  views=("cluster", "history"))

# %% [markdown]
# **Try this.**
# 1. In the first Explorer, step back to the moment `n1` times out the second time. Which message is still
#    in flight, and from which election?
# 2. In the second, press "Go to the step before it went wrong", then Step. Then send `get x` to `n2` and to
#    the leader, and advance. Which answers are outlined?
# 3. Heal the network and advance 200 ms, then read from `n2` again. Is the history linearizable *now*?
#
# <details><summary>What to notice</summary>
#
# - The vote that makes the second leader was cast in term 1 and is counted in term 2: the reply carries
#   its term precisely so that a candidate can tell.
# - Once a history is wrong it stays wrong: nothing that happens later can explain an answer already given.
#   Reads from `n2` after it has caught up are correct, but the verdict is about the whole history.
# </details>
#
# ## Summary
#
# - A client sees a **history**: operations with a start, an end and an answer. It is **linearizable** when
#   each operation can be given one instant within its bar so that the answers are those of a single copy.
# - Logs can be perfect while clients are told falsehoods: a **stale read** (a server answering from a copy
#   that is behind) and a **lost acknowledged write** (an answer before the entry committed) keep every
#   Figure 3 property. raftlab checks the clients' side too: *Acknowledged writes durable* at every answer,
#   *Linearizability* with `sim.check_history()`.
# - raftlab's reference sends reads through the log; ReadIndex (dissertation 6.4) gives the same guarantee
#   with a round of heartbeats instead of a log entry.
# - `explore` tries every schedule up to a bound and returns the **shortest** bad run; random campaigns find
#   the bugs that need long runs. Use both.
#
# **Next:** [Lesson 8, Log compaction](08_log_compaction.ipynb).
