# Lesson 2: leader election, and the paper's section 9.3 timing experiment.
# Source of notebooks/02_leader_election.ipynb (build with: python tools/build_notebooks.py 02).

# %% [markdown]
# # Lesson 2: Leader election
#
# Raft does everything through one **leader**: clients talk to it, and it tells the others what to store.
# That makes the rest of the algorithm simple, but it moves the hard question here: how do five servers
# that cannot trust their messages agree on *one* leader, and quickly pick another when it fails?
#
# **Goals.** After this lesson you can
# - explain terms, the three roles and the messages of an election (RequestVote and its reply);
# - predict who votes for whom, and why a server never votes twice in one term;
# - cause a split vote on purpose, and explain why randomized timeouts make split votes rare;
# - reproduce the paper's measurement of how long an election takes (section 9.3, Figure 16) and
#   compare it with the paper.
#
# *About 40 minutes. Keep Figure 2 of the paper ("In Search of an Understandable Consensus Algorithm",
# extended version) open: the rules below are its "RequestVote RPC" box and its "Rules for Servers".*

# %%
import matplotlib.pyplot as plt

from raftlab import Simulation
from raftlab import scenarios
from raftlab.viz import draw_cluster, draw_timeline

# %% [markdown]
# ## 1. Terms and roles
#
# Time in Raft is divided into **terms**, numbered 1, 2, 3... Each term starts with an election, and has
# *at most one* leader. If an election fails, the term simply ends without a leader and a new one starts.
# Every server stores the latest term it knows (`current_term`) and every message carries the sender's
# term, so servers learn about newer terms from each other. Terms act as a logical clock: a message from
# an older term is recognised as stale.
#
# Every server is in one of three **roles**:
#
# ![The three roles and the moves between them](images/roles.png)
#
# - A **follower** only answers. If it hears nothing from a leader for an **election timeout**, it
#   becomes a candidate.
# - A **candidate** increments its term, votes for itself and sends `RequestVote` to everyone. With
#   votes from a majority it becomes leader. If its timer runs out first, it starts again in the next term.
# - A **leader** sends `AppendEntries` to everyone, regularly (a **heartbeat**), which resets their
#   timers and keeps them followers.
# - And the one rule that overrides everything: a server that sees a **higher term** in any message adopts
#   it and becomes a follower.

# %% [markdown]
# ## 2. An election, step by step
#
# We take the cluster of lesson 1 (seed 1) and let it run until it has a leader.

# %%
sim = Simulation(seed=1)
sim.run_until_leader()
print(sim.trace_text())

# %% [markdown]
# Read it line by line:
# 1. `n4`'s timer fires first (190 ms). It becomes a candidate in term 1 and votes for itself.
# 2. Its `RequestVote(t=1 last=0/0)` reaches each other server. Each is a follower in term 0, sees the
#    higher term, moves to term 1 and, not having voted in term 1 yet, grants its vote.
# 3. The replies come back. With its own vote and two granted ones, `n4` has 3 of 5: a majority. It
#    becomes leader at once and sends AppendEntries to everyone. It does not wait for the other votes.
#
# The rule for granting a vote is in Figure 2: reply false if the candidate's term is older than yours;
# otherwise grant the vote if you have not voted for someone else in this term *and* the candidate's log is
# at least as up-to-date as yours. (All logs are empty here, so the last condition holds; lesson 4 is about
# it.) The vote is stored in `voted_for`, and survives a crash, so a server really votes once per term.
#
# The cluster now looks like this. The leader is the blue hexagon; beside each server are its role, its
# term, whom it voted for and its commit index. The gray ring around a server is its election timer (the
# arc left is the time left), and the small shapes on the links are messages in flight: two votes still
# on their way to `n4` (green triangles), which it no longer needs, and its first AppendEntries (blue
# squares).

# %%
draw_cluster(sim)
plt.show()

# %% [markdown]
# **Predict, then run.** `n4` has just won term 1. Suppose we now force `n2`'s election timer to fire:
# `n2` becomes a candidate in term 2 and asks everyone for a vote. What happens to `n4`? Does `n2` win?
#
# <details><summary>Answer</summary>
#
# `n4` steps down as soon as it sees term 2: a higher term always wins. But `n2` does *not* win. `n4` sent
# its first entry (the `1/1` in its AppendEntries) before stepping down, and it reached `n1`, `n3` and
# `n5` before `n2`'s requests did. `n2` never got it, so its log (`last=0/0`) is less up-to-date than
# theirs, and they refuse their votes. Term 2 ends with no leader, and a server that holds the entry (here
# `n5`) wins term 3. This is Figure 2's "at least as up-to-date" condition at work; lesson 4 shows why it
# matters so much.
# </details>

# %%
race = Simulation(seed=1)
race.run_until_leader()
race.timeout("n2")                    # n2's timer fires now: it starts an election for term 2
race.run_until(lambda s: s.leader() is not None and s.leader().current_term > 1)
for event in race.events():
    if event.time >= 208 and ("RequestVote" in event.text or event.level == "info"):
        print(event)

# %% [markdown]
# So a server that starts an election it cannot win still disrupts the cluster: it pushes everyone to a
# higher term and costs the cluster its leader for a while. Lesson 5 shows two extensions, pre-vote and
# check-quorum, that prevent this.
#
# ## 3. Split votes
#
# What if two servers become candidates at the same moment? Each votes for itself, and the others vote for
# whichever request reaches them first. With 4 servers, a majority is 3, and a 2-2 split leaves nobody with
# a majority. `scenarios.split_vote()` arranges exactly that: `n1` and `n2` time out together, `n3` hears
# `n1` first, `n4` hears `n2` first.

# %%
split = scenarios.split_vote()
print(split.summary())

# %% [markdown]
# **Predict, then run.** `n3` has voted for `n1` in term 1. What does it answer when `n2`'s request for
# term 1 arrives? And what do `n1` and `n2` answer each other?
#
# <details><summary>Answer</summary>
#
# All three say no. `n3` has already voted in term 1; each candidate has voted for itself. One vote per
# server per term is the rule that makes two leaders in one term impossible: two majorities of the same
# cluster always share a server, and that server would have had to vote twice.
# </details>

# %%
print(split.trace_text())

# %% [markdown]
# (`delivered early by the operator`: the scenario delivered each message by hand, in the order it chose.)
# Both candidates are stuck in term 1 with 2 votes each. Neither can ever win term 1.
#
# **Predict, then run.** What happens next, and in which term does the cluster get a leader?
#
# <details><summary>Answer</summary>
#
# Both candidates wait for their election timer to run out, then start a new election in term 2. Their
# new timeouts are drawn at random, so one almost always fires well before the other; that one collects
# the votes of term 2 before the other even starts.
# </details>

# %%
split.run_until_leader()
print(split.trace_text("info"))

# %%
split.advance(100)                    # let the new leader lead for a while
draw_timeline(split)
plt.show()

# %% [markdown]
# The timeline shows each server's role over time, with its term (`t1`, `t2`) where it changes: the two
# candidates of term 1 (orange), the long wait while their timers run, and the leader of term 2 (the tall
# blue bar).
#
# Split votes also happen on their own. With seed 75, three servers time out within 9 ms of each other
# and nobody wins term 1:

# %%
natural = Simulation(seed=75)
natural.run_until_leader()
print(natural.trace_text("info"))

# %% [markdown]
# ## 4. Why the timeouts are random
#
# Imagine every server used the same election timeout, 150 ms exactly. **Predict:** what happens?
#
# <details><summary>Answer</summary>
#
# They all start at the same time, so they all time out together, all become candidates, all vote for
# themselves, and all reject each other. Then they all time out together again, in the next term... The
# symmetry is never broken, and there is never a leader.
# </details>

# %%
same = Simulation(seed=1, election_timeout=(150, 150))
same.advance(3000)
print(same.summary())

# %% [markdown]
# Twenty terms in three seconds, and no leader. Randomizing the timeout breaks the symmetry: usually one
# server times out first, alone, and wins before anyone else starts. The paper recommends a range such as
# 150-300 ms, with the heartbeat interval well below its minimum, and the time to send a message well below
# that. How much randomness is enough? The paper measured it.
#
# ## 5. The experiment of section 9.3
#
# The paper's authors crashed the leader of a 5-server cluster again and again and measured how long the
# cluster was without a leader, for several timeout ranges (Figure 16, top). Each trial in
# `scenarios.leader_election_experiment` does the same:
# 1. wait a random time within one heartbeat interval (half the minimum timeout, as in the paper);
# 2. crash the leader, and run until another server is leader, for at most 10 simulated seconds;
# 3. note how long that took (`None` if there was still no leader), restart the old leader, let it rejoin.
#
# We run 100 trials per range, and 40 for the two narrowest ranges, whose failed trials take 10 simulated
# seconds each (the paper, too, ran fewer trials for 150-150). The full 1,000 trials per range are in
# `tools/election_experiment.py`, run by `make experiment`.

# %%
from raftlab.scenarios import leader_election_experiment

ranges = [(150, 150), (150, 151), (150, 155), (150, 175), (150, 200), (150, 300)]
times = {r: leader_election_experiment(r, trials=40 if r[1] - r[0] < 5 else 100, seed=1)
         for r in ranges}


def ms(t):
    return "> 10 s" if t is None else f"{t} ms"


for (lo, hi), ts in times.items():
    ordered = sorted(ts, key=lambda t: (t is None, t or 0))   # trials without a leader last
    print(f"{lo}-{hi} ms ({len(ts):>3} trials): fastest {ms(ordered[0]):>7}, "
          f"median {ms(ordered[len(ts) // 2]):>7}, worst {ms(ordered[-1]):>7}, "
          f"no leader within 10 s: {ts.count(None):>2}")

# %% [markdown]
# A table of medians hides the shape; the paper plots, for every time *x*, the fraction of trials that had
# a leader again within *x*: a **cumulative distribution** (CDF). A curve far to the left is fast; a long
# tail to the right means a few very slow elections; a curve that stays low never found a leader in most
# trials.

# %%
fig, ax = plt.subplots(figsize=(7, 3.6))
for (lo, hi), ts in times.items():
    done = sorted(t for t in ts if t is not None)
    fraction = [(i + 1) / len(ts) for i in range(len(done))]
    ax.step([0] + done + [10_000], [0] + fraction + fraction[-1:], where="post", label=f"{lo}-{hi} ms")
ax.set_xscale("log")
ax.set_xlim(80, 10_000)
ax.set_xlabel("time without a leader (ms, log scale)")
ax.set_ylabel("fraction of trials")
ax.set_title("Time to elect a new leader after the leader crashes (5 servers)")
ax.grid(alpha=0.3)
ax.legend(title="election timeout", fontsize=8)
plt.show()

# ### Compared with the paper
#
# The paper reports (section 9.3) that with no randomness elections took more than 10 seconds because of
# repeated split votes; that just 5 ms of randomness brought the median down to 287 ms; and that with 50 ms
# of randomness the worst case over 1,000 trials was 513 ms. What do we see?
#
# - **No randomness is hopeless, here too.** With 150-150 ms almost no trial finds a leader within 10
#   seconds. The few that do are lucky: the followers' timers were set when the last heartbeat reached
#   each of them, so they differ by the network delay, just enough once in a while.
# - **The shape agrees.** More randomness moves the curves left and, above all, shortens the tail. The
#   fastest elections take about 100 ms in every range: when the leader crashes just before a heartbeat
#   is due, the followers' timers have only half the minimum timeout (75 ms) left to run; add a round of
#   votes. The paper names the same lower bound.
# - **The wide ranges agree well.** With 150-200 ms our worst case is close to the paper's 513 ms (over
#   fewer trials), and 150-300 ms is fast and predictable.
# - **The narrow ranges are slower here.** With 150-155 ms our median is several times the paper's 287 ms,
#   and even 1 ms of randomness (150-151) is not enough. A real cluster adds randomness of its own:
#   processes are scheduled late, clocks tick unevenly, disks take variable time. The simulator adds none:
#   a timer set for 150 ms fires at exactly 150 ms. Only the network delays (5-15 ms here) and the drawn
#   timeouts separate the servers, and 5 ms of timeout randomness is small next to 10 ms of delay jitter.
#
# Differences in the setup also matter: the paper gave the servers logs of different lengths (so some
# candidates could not win), and had the leader send a round of heartbeats just before crashing, to make
# split votes likelier; here the logs are all alike.
#
# **Try it.** Rerun the experiment with another `seed`, or with more trials. Which numbers move, and which
# stay put? Then try shorter timeouts, as in the bottom graph of Figure 16 (`(12, 24)`, `(25, 50)`,
# `(50, 100)`): the paper found elections much faster, until timeouts get so short that heartbeats cannot
# keep up.

# %% [markdown]
# ## 6. Your turn, in the Explorer
#
# The Explorer below starts from the split vote of section 3 (before the second election).

# %%
from raftlab.widgets import Explorer

Explorer(scenarios.split_vote(), controls=["step", "advance", "slider", "messages", "crash", "timeout", "log"])

# %% [markdown]
# **Try this.**
# 1. Step through the second election. Before each step, say which message will arrive and what the
#    receiver will do with it.
# 2. Once there is a leader, crash it. How long until there is a new one? In which term?
# 3. Force the timeouts of two followers one right after the other. Can you make the split vote happen
#    again? What do you need to do with the messages in flight?
# 4. Restart the old leader. What is its role and term when it comes back, and what makes it change?
#
# <details><summary>What to notice</summary>
#
# - After a crash the followers wait for their own election timeouts, so the cluster is without a leader
#   for at least the minimum timeout: the price of not mistaking a slow leader for a dead one.
# - A restarted server comes back as a follower in the term it had (its term and vote are on disk) and
#   catches up with the current term from the first message it receives.
# </details>
#
# ## 7. Write it yourself
#
# **Exercise 1** (`exercises/ex1_election.py`): the election timer, starting an election and counting
# votes. **Exercise 2** (`exercises/ex2_request_vote.py`): the term rule and granting votes. Write the
# functions, then check them from a cell or a terminal:
#
# ```python
# import raftlab
# raftlab.check(1)
# ```
#
# Your code then runs inside the same simulations as this lesson, with the safety checks on:
# `Simulation(seed=1, impl="../exercises")`.
#
# ## Summary
#
# - Terms number the elections; each term has at most one leader; a higher term always wins.
# - A follower that hears no leader for an election timeout becomes a candidate, moves to a new term and
#   asks for votes; a majority makes it leader.
# - Each server votes at most once per term, so two candidates cannot both get a majority in one term.
# - Two candidates at once can split the votes; randomized timeouts make that rare and short-lived.
# - The paper's experiment: a little randomness removes most split votes, more of it shortens the tail.
#   Ours agrees in shape, and is slower for narrow ranges because a simulator has no other jitter.
#
# **Next:** [Lesson 3, Log replication](03_log_replication.ipynb).
