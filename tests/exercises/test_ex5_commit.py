"""Exercise 5: the commit rule (sections 5.3, 5.4.2 and Figure 8): advance_commit_index."""
import pytest

from raftlab import Entry, Role
from raftlab.grading.check.harness import cluster, describe, expect, fault_campaign, make_node, settled, track
from raftlab.scenarios import figure8

pytestmark = pytest.mark.exercise(5)


def leader(rules, log, term=3, nodes=5, **matches):
    node = make_node(rules, role=Role.LEADER, term=term, log=log, nodes=nodes)
    node.match_index.update(matches)
    return node


def matches(node):
    return ", ".join(f"{p}={node.match_index[p]}" for p in node.peers)


@pytest.mark.points(2)
def test_commits_what_a_majority_stores(rules):
    node = leader(rules, [3, 3, 3], n2=3, n3=2)
    rules.advance_commit_index(node)
    expect(node.commit_index == 2,
           f"n1 (leader of term 3, log [1/3 2/3 3/3]) knows matchIndex {matches(node)}: index 2 is on n1, n2 "
           f"and n3, a majority of 5, index 3 only on two; it set commit_index={node.commit_index}, "
           f"expected 2")


@pytest.mark.points(2)
def test_nothing_commits_without_a_majority(rules):
    node = leader(rules, [3, 3, 3], n2=3)
    rules.advance_commit_index(node)
    expect(node.commit_index == 0,
           f"n1 (leader of term 3) knows matchIndex {matches(node)}: every entry is on n1 and n2 only, 2 of 5 "
           f"servers, yet it set commit_index={node.commit_index}; an entry is committed once a majority "
           f"stores it")


@pytest.mark.points(2)
def test_the_leader_counts_itself(rules):
    node = leader(rules, [3, 3], nodes=3, n2=2)
    rules.advance_commit_index(node)
    expect(node.commit_index == 2,
           f"n1 (leader of term 3 in a cluster of 3) and n2 both store indexes 1-2: 2 of 3 is a majority, "
           f"but n1 left commit_index at {node.commit_index} (the leader stores its whole log: count it)")


@pytest.mark.points(1)
def test_a_majority_of_four_is_three(rules):
    node = leader(rules, [3, 3], nodes=4, n2=2)
    rules.advance_commit_index(node)
    expect(node.commit_index == 0,
           f"in a cluster of 4, n1 and n2 store index 2, and n1 committed it (commit_index="
           f"{node.commit_index}): 2 of 4 is not a majority; 3 is")
    node.match_index["n3"] = 2
    rules.advance_commit_index(node)
    expect(node.commit_index == 2, f"in a cluster of 4, n1, n2 and n3 store index 2, yet commit_index is "
                                   f"{node.commit_index}")


@pytest.mark.points(3)
def test_an_old_term_entry_is_not_committed_by_counting(rules):
    node = leader(rules, [1, 2, 2], term=4, n2=3, n3=3, n4=3, n5=3)
    rules.advance_commit_index(node)
    expect(node.commit_index == 0,
           f"n1, leader of term 4, committed index {node.commit_index} of term "
           f"{node.log.term_at(node.commit_index)} because every server stores it: Raft never commits an "
           f"entry of an earlier term by counting replicas (section 5.4.2, Figure 8)")
    node.log.append(Entry(4, ("put", "x", "4")))
    node.match_index.update(n2=4, n3=4)
    rules.advance_commit_index(node)
    expect(node.commit_index == 4,
           f"n1, leader of term 4, has its entry 4/4 on n1, n2, n3 (a majority) but commit_index is "
           f"{node.commit_index}: an entry of the current term commits by counting, and the entries "
           f"before it with it")


# --- scenarios ----------------------------------------------------------------------------------------

@pytest.mark.points(3)
def test_figure_8(impl):
    """The paper's Figure 8, scripted by raftlab.scenarios.figure8: (c) then (d), and (c) then (e)."""
    c = track(figure8("c", impl=impl))
    expect(c.node("n1").commit_index <= 1,
           f"Figure 8 (c): n1, leader of term 4, has the term-2 entries on n1, n2, n3 but not yet its own "
           f"term-4 entry on a majority; it set commit_index={c.node('n1').commit_index} (only index 1 is "
           f"committed): an entry of an earlier term is not committed by counting replicas")
    d = track(figure8("d", impl=impl))
    expect(d.node("n5").is_leader, f"Figure 8 (d): n5 should win term 5:\n{d.summary()}")
    e = track(figure8("e", impl=impl))
    n1 = e.node("n1")
    expect(n1.commit_index == n1.log.last_index == 5,
           f"Figure 8 (e): n1, leader of term 4, replicated its entries on n1, n2, n3 (a majority), so "
           f"everything up to index 5 is committed, but it is {describe(n1)}")


@pytest.mark.points(2)
def test_nothing_commits_in_a_minority(impl):
    for seed in range(1, 4):
        sim = cluster(impl, nodes=5, seed=seed)
        old = sim.run_until_leader(within=3000)
        expect(old is not None, f"seed {seed}: no leader after 3000 ms:\n{sim.summary()}")
        sim.advance(200)
        commit = old.commit_index
        buddy = next(n for n in sim.nodes.values() if n is not old)
        sim.partition([old.id, buddy.id])
        sim.client_request("put x 1", node=old.id)
        sim.advance(1000)
        expect(old.commit_index == commit,
               f"seed {seed}: {old.id} and {buddy.id} were cut off from the other three; {old.id} then "
               f"committed up to index {old.commit_index} (from {commit}) although its new entries are on "
               f"2 of 5 servers only: nothing commits on a minority")


@pytest.mark.points(2)
@pytest.mark.parametrize("nodes, down", [(3, ["n3"]), (5, ["n4", "n5"])])
def test_requests_commit_while_a_minority_is_down(impl, nodes, down):
    for seed in range(1, 4):
        sim = cluster(impl, nodes=nodes, seed=seed)
        for name in down:
            sim.crash(name)
        leader = sim.run_until_leader(within=4000)
        expect(leader is not None, f"seed {seed}: no leader after 4000 ms:\n{sim.summary()}")
        for i in range(3):
            sim.client_request(f"put x {i}", client=f"c{i + 1}")
        ok = sim.run_until(settled, within=2000)
        expect(ok, f"{nodes} servers with {', '.join(down)} crashed, seed {seed}: 3 requests are not committed "
                   f"2000 ms later, though the live servers are a majority:\n{sim.summary()}")


@pytest.mark.points(3)
def test_commits_are_safe_under_faults(impl):
    fault_campaign(impl, range(1, 9), max_entries=1)
