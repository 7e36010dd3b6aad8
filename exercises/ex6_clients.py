"""Exercise 6: clients (section 8, and section 6.3 of Ongaro's thesis).

Write how a server handles a client's command.  A client names each request
(``m.client_id``, ``m.seq``) and retries it if no answer comes, so the same
request may arrive twice, or after it was already applied.

What you can use:

    m.src (the client, or a server that forwarded it), m.client_id, m.seq, m.command
    node.role, node.current_term, node.leader_id, node.commit_index
    node.log.append(Entry(term, command, client_id, seq)), node.log.entry(i), node.log.last_index
    node.state_machine.cached_result(client_id, seq)
                                     (True, result) if that request was already applied
    node.rules.advance_commit_index(node), node.rules.broadcast_append_entries(node)
    node.send(ClientReply(node.id, m.client_id, m.client_id, m.seq, success, result, leader_hint))
    node.send(ClientRequest(node.id, leader, m.client_id, m.seq, m.command))   (forward)

The leader answers the client when the entry is applied (the engine's
``apply_committed`` does that), not here.

Check your work:  raftlab check 6
"""
from raftlab import ClientReply, ClientRequest, Entry, Role
from raftlab.node import Node


def handle_client_request(node: Node, m: ClientRequest) -> None:
    """A client's command arrived.

    Section 8: "Clients of Raft send all of their requests to the leader ... if
    the client's first choice is not the leader, that server will reject the
    client's request and supply information about the most recent leader it has
    heard from."

    Contract:
    * The leader: if the request was already applied
      (``node.state_machine.cached_result``), answer at once with the cached result
      (``success=True``) and append nothing.  If it is already in the log and not
      yet committed (an entry with the same ``client_id`` and ``seq`` after
      ``commit_index``), do nothing: it will be answered when applied.  Otherwise
      append ``Entry(current_term, m.command, m.client_id, m.seq)``, call
      ``advance_commit_index`` (a cluster of one commits at once) and
      ``broadcast_append_entries`` (start replicating now).  Never answer success
      before the entry is committed.
    * A follower that knows the leader (``node.leader_id``, not itself) and got
      the request straight from the client (``m.src == m.client_id``) forwards it
      to the leader, once.
    * Otherwise answer ``ClientReply(..., success=False, result=None,
      leader_hint=node.leader_id)``.
    * Never append to a follower's log.
    """
    raise NotImplementedError("Exercise 6: handle_client_request is not written yet - "
                              "see exercises/ex6_clients.py")
