"""Regression tests for two bugs once found in raftlab/sim.py (both fixed).

References: section 8 and the thesis's section 6.3 (a client has one outstanding
request, named by (client id, serial number)); the design's property 2 (a saved run
is seed + config + actions, the same bytes in every process).
"""
import json
import re

import pytest

from raftlab import Simulation, rules


def test_an_unnamed_request_never_takes_over_a_busy_client():
    sim = Simulation(nodes=3, seed=1)
    sim.run_until_leader(within=2000)
    sim.client_request("put x 1", client="c2")
    client, _ = sim.client_request("put x 2")          # once: ('c2', 2), and c2#1 was abandoned
    assert client != "c2"
    sim.advance(3000)
    assert all(op.completed is not None for op in sim.operations)


def test_a_run_with_rules_given_as_a_dict_saves_deterministically():
    sim = Simulation(nodes=3, impl={"advance_commit_index": rules.advance_commit_index})
    sim.advance(300)
    saved = json.dumps(sim.to_json())
    assert not re.search(r"0x[0-9a-f]{6,}", saved), saved[:300]


def test_a_run_with_custom_rules_asks_for_them_when_reloaded():
    from raftlab import ConfigError
    custom = {"advance_commit_index": rules.advance_commit_index}
    sim = Simulation(nodes=3, seed=4, impl=custom)
    sim.advance(300)
    saved = sim.to_json()
    with pytest.raises(ConfigError, match="custom rules"):
        Simulation.from_json(saved)
    again = Simulation.from_json(saved, impl=custom)
    assert again.summary() == sim.summary()
