# Lesson 6: clients: forwarding, retries, exactly-once, linearizability.
# Source of notebooks/06_clients.ipynb (build with: python tools/build_notebooks.py 06).

# %% [markdown]
# # Lesson 6: Clients
#
# So far we looked at the servers. A client sees only this: it sends a command somewhere, and after a
# while gets an answer, or does not. This lesson is about what Raft promises that client, and what the
# client must do for that promise to hold (section 8 of the paper).
#
# **Goals.** After this lesson you can
# - follow a command from a client to the leader and back, including through a follower;
# - explain why a client must retry, and why a retry must not apply a command twice;
# - use `(client, sequence number)` to make commands take effect exactly once;
# - check whether a history of operations is **linearizable**, and spot a history that is not.
#
# *About 30 minutes.*

# %%
import matplotlib.pyplot as plt

from raftlab import Operation, Simulation

# %% [markdown]
# ## 1. Finding the leader
#
# Clients do not know which server leads. raftlab's clients send a command to the server they last heard
# from, or to a random one. A follower that knows the leader **forwards** the command to it; the leader
# appends it, commits it, applies it, and answers the client.

# %%
sim = Simulation(seed=1)
sim.run_until_leader()
sim.advance(100)
start = sim.now
sim.client_request("put x 1", node="n2")      # n2 is a follower; n4 leads
sim.advance(100)
for event in sim.events():
    if event.time >= start and "c1" in event.text:
        print(event)

# %% [markdown]
# The answer comes from `n4`, the leader, after the command is committed and applied: 59 ms after the
# request. The client remembers who answered and sends its next command straight there.
#
# **Predict.** What if the client asks before there is any leader?
#
# <details><summary>Answer</summary>
#
# The server cannot forward it; it answers "not leader, try ?" (it knows no leader to suggest). The client
# waits for its retry timer (here 600 ms: twice the longest election timeout), then tries the next server.
# By then there is a leader.
# </details>

# %%
early = Simulation(seed=1)
early.client_request("put x 1", node="n2")
early.advance(1000)
for event in early.events():
    if "c1" in event.text or "leader" in event.text:
        print(event)

# %%
print(early.operations[0])

# %% [markdown]
# `sim.operations` holds every client operation as the client saw it: which client (`c1`), its **sequence
# number** (`#1`: the client's first command), the command, when it was invoked, when the answer came and
# what it said. Here it took 2 attempts.
#
# ## 2. Retries, and the danger of doing things twice
#
# A client that gets no answer cannot tell *why*. Maybe its request was lost: then it must send it again.
# But maybe the command was committed and only the *answer* was lost: then sending it again would apply it
# twice. For `put x 1` that is harmless; for `append x a` it is not.
#
# Let us lose the answer to an `append` on purpose.

# %%
sim = Simulation(seed=1)
sim.run_until_leader()
sim.advance(100)
sim.client_request("append x a", node="n4", client="c1")
sim.run_until(lambda s: any(env.kind == "ClientReply" for env in s.in_flight()))
reply = next(env for env in sim.in_flight() if env.kind == "ClientReply")
sim.drop(reply.id)
print("dropped:", reply)

# %% [markdown]
# The command is committed and applied (`x` is `a` everywhere), but `c1` does not know. A naive client
# would send the command again as a *new* request. Let us play that naive client, as `c2`:

# %%
naive = Simulation.from_json(sim.to_json())       # a copy of the run so far
naive.client_request("append x a", node="n4", client="c2")
naive.advance(1000)
print("naive client:", naive.node("n4").state_machine.data)

# %% [markdown]
# `x` is now `aa`: the command took effect twice. raftlab's real client does better. It retries with the
# **same** client id and sequence number, `c1#1`. Every server's state machine remembers, per client, the
# last sequence number it applied and its result (a **session**). A command it has already applied is not
# applied again; the stored result is sent back instead.

# %%
sim.advance(1000)
for event in sim.events():
    if "c1" in event.text:
        print(event)
print("with sessions:", sim.node("n4").state_machine.data)
print(sim.operations[0])

# %% [markdown]
# The retry went to another server, was forwarded to the leader, and came back with the result of the
# *first* execution (`'a'`), 621 ms after the request. The command took effect **exactly once**. This is
# section 8's recipe: clients tag each command with a unique serial number, and the state machine tracks
# the latest serial number processed for each client.
#
# ## 3. Linearizability
#
# What should a client expect from a replicated key-value store? The strongest and simplest answer:
# *exactly what a single, fault-free copy would do*. Formally, a history is **linearizable** if every
# operation appears to take effect at one instant somewhere between its invocation and its completion, and
# those instants give every operation the result it actually got.
#
# Let us collect a real history: three clients sending commands every 25 ms, with a partition in the
# middle and 5% of messages lost.

# %%
busy = Simulation(seed=1, request_interval=25, drop=0.05)
busy.run_until_leader()
busy.advance(500)
cut = busy.now
busy.partition([busy.leader().id, "n1"])
busy.advance(800)
healed = busy.now
busy.heal()
busy.advance(700)
print(len(busy.operations), "operations;", sum(op.completed is None for op in busy.operations),
      "still waiting")
for op in busy.operations[:8]:
    print(op)

# %% [markdown]
# Pictures help: one row per client, one bar per operation, from invocation to completion (gray: still
# waiting at the end). The shaded band is the partition.

# %%
def draw_history(operations, ax=None):
    """One row per client; a bar from each operation's invocation to its completion."""
    ax = ax or plt.subplots(figsize=(9, 2.8))[1]
    clients = sorted({op.client for op in operations})
    end = max(op.completed or op.invoked for op in operations)
    for op in operations:
        row = clients.index(op.client)
        stop = op.completed if op.completed is not None else end
        ax.barh(row, max(stop - op.invoked, 3), left=op.invoked, height=0.4,
                color="#56B4E9" if op.completed is not None else "#dddddd", edgecolor="#222222")
        if stop - op.invoked > 0.12 * end:        # label the long ones only
            ax.text(op.invoked + 5, row - 0.3, f"{' '.join(op.command)} → {op.result!r}", fontsize=7)
    ax.set_yticks(range(len(clients)), labels=clients)
    ax.set_ylim(len(clients) - 0.5, -0.8)
    ax.set_xlabel("time (ms)")
    return ax


ax = draw_history(busy.operations)
ax.axvspan(cut, healed, color="#d62728", alpha=0.1)
plt.show()

# %% [markdown]
# The first commands were sent before there was any leader, so their clients had to wait for a retry.
# The second wave was caught by the partition: sent to the old leader, they waited until the clients gave
# up and tried another server. Between those, short bars: a healthy cluster answers in tens of
# milliseconds. Notice that operations of different clients overlap in time; for overlapping operations,
# any order is allowed. Linearizability only requires that an operation that *completed* before another
# *started* comes before it.
#
# Checking a history means searching for such an order. For teaching-sized histories a small search will
# do: repeatedly pick, among the operations that may come next (none of the other remaining operations
# finished before it started), one whose result matches a single copy of the store, and backtrack when stuck.
# An operation still waiting may or may not have taken effect, so it may be placed anywhere, or nowhere.

# %%
def apply(data, command):
    """One command on a single copy of the store: (result, new data)."""
    op, key = command[0], command[1]
    if op == "put":
        return "ok", {**data, key: command[2]}
    if op == "append":
        value = data.get(key, "") + command[2]
        return value, {**data, key: value}
    return data.get(key), data                    # get


def linearizable(operations):
    """Is there an order of ``operations`` that respects real time and gives each one its result?"""
    ops = list(operations)
    dead_ends = set()

    def search(remaining, data):
        finished = [i for i in remaining if ops[i].completed is not None]
        if not finished:
            return True                            # only pending operations left: they may never happen
        state = (remaining, tuple(sorted(data.items())))
        if state in dead_ends:
            return False
        first_end = min(ops[i].completed for i in finished)
        for i in sorted(remaining):
            if ops[i].invoked > first_end:
                continue                           # it started after another one had finished
            result, after = apply(data, ops[i].command)
            if ops[i].completed is not None and result != ops[i].result:
                continue
            if search(remaining - {i}, after):
                return True
        dead_ends.add(state)
        return False

    return search(frozenset(range(len(ops))), {})


print("linearizable:", linearizable(busy.operations))

# %% [markdown]
# **Predict.** Here is a history that did not come from raftlab. Is it linearizable?

# %%
stale = [Operation("c1", 1, ("put", "x", "1"), invoked=0, completed=10, result="ok"),
         Operation("c2", 1, ("get", "x"), invoked=20, completed=30, result=None)]
print("linearizable:", linearizable(stale))

# %% [markdown]
# <details><summary>Answer</summary>
#
# No. `c1`'s `put` completed at t=10, before `c2`'s `get` started at t=20, so the get must come after the
# put and return `'1'`. It returned `None`: a **stale read**. A real system produces this when a deposed
# leader, cut off in a minority and unaware of it, answers a read from its own state. raftlab cannot,
# because it sends every `get` through the log like any other command: a deposed leader can never commit
# it. (The paper describes a cheaper way for reads: the leader confirms it is still leader with a round of
# heartbeats before answering.)
# </details>
#
# ## 4. Your turn, in the Explorer
#
# Send commands yourself: pick a server (or "any") and press **Send**. The Events pane shows the client's
# side of the story.

# %%
from raftlab.widgets import Explorer

playground = Simulation(seed=1)
playground.run_until_leader()
Explorer(playground, controls=["step", "advance", "messages", "crash", "partition", "heal", "client",
                               "log"], views=("cluster", "logs"))

# %% [markdown]
# **Try this.**
# 1. Send `append x a` to a follower. Follow the ClientRequest to the leader and the ClientReply back.
# 2. Send a command, then drop its ClientReply and advance 1 second. How many times is it applied?
# 3. Isolate the leader with one follower and send it a command. What does the client see? What happens
#    to the command when you heal?
# 4. Afterwards, run `linearizable(playground.operations)` in a new cell.
#
# <details><summary>What to notice</summary>
#
# - A command sent to a leader in a minority never gets an answer from it. The client times out and
#   retries elsewhere; once it reaches the majority's leader, the command commits (once).
# - However you interleave faults and commands, the history stays linearizable.
# </details>
#
# ## 5. Write it yourself
#
# **Exercise 6** (`exercises/ex6_clients.py`): `handle_client_request`, the server's side: a leader appends
# the command once (not again on a retry), a follower forwards it or answers with a leader hint. Check it
# with `raftlab.check(6)`.
#
# ## Summary
#
# - Clients send commands to any server; followers forward them to the leader or say who leads.
# - A client must retry when it gets no answer; tagging each command with `(client, sequence)` lets the
#   state machine apply it exactly once.
# - A linearizable store behaves like a single copy: each operation takes effect at one instant between
#   its invocation and its completion. Raft gives that as long as reads go through the log (or are
#   otherwise confirmed by the leader).
#
# **Next:** [Lesson 7, What clients see](07_what_clients_see.ipynb).
