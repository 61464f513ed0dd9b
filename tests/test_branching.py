"""Branching: scenarios continue from one shared history and differ only after the fork."""

from __future__ import annotations

import pytest
from conftest import REPO

from sim.branching import run_branches
from sim.model import BASELINE
from sim.runner import run_replication
from sim.scenario import load_scenario

SHORT = ["run.end_year=2030", "population.only=[KEN,ZMB,GHA,NGA,BRA,MEX,IDN,SAU,VNM,EGY]",
         "demand.tender_rate=1.0"]
POLICY = REPO / "scenarios" / "policy"


@pytest.fixture(scope="module")
def branches():
    base = load_scenario(BASELINE, SHORT)
    others = {name: load_scenario(POLICY / f"{name}.yaml", SHORT)
              for name in ("allied_pooling", "china_subsidy_surge", "no_us_security_pressure")}
    return base, run_branches(base, {"base": base, **others}, 2022, 0, 11)


# What happens to a contract later (trouble, cancellation) may differ after the fork.
LATER = ["troubled", "trouble_kind", "cancelled"]


def test_up_to_the_fork_every_branch_is_identical(branches):
    _, results = branches
    trunk = results["base"]
    for name, result in results.items():
        before = result.contracts[result.contracts["time"] < 2022].drop(columns=LATER)
        trunk_before = trunk.contracts[trunk.contracts["time"] < 2022].drop(columns=LATER)
        assert len(before) > 20
        assert before.equals(trunk_before), name
        yearly = result.yearly[result.yearly["year"] < 2022]
        trunk_yearly = trunk.yearly[trunk.yearly["year"] < 2022]
        assert yearly.equals(trunk_yearly), name


def test_after_the_fork_branches_differ(branches):
    _, results = branches
    trunk = results["base"].contracts
    for name, result in results.items():
        if name != "base":
            after = result.contracts[result.contracts["time"] >= 2022]
            assert not after.equals(trunk[trunk["time"] >= 2022]), name


def test_a_branch_that_changes_nothing_matches_the_unforked_run(branches):
    base, results = branches
    # The trunk carries the allied state (levers off) that one branch adds; an unforked run of
    # the base with that dormant state present must match the base branch exactly.
    from sim.branching import with_states

    allies = load_scenario(POLICY / "allied_pooling.yaml", SHORT).states
    unforked = run_replication(with_states(base, allies), 0, 11)
    assert results["base"].contracts.equals(unforked.contracts)


def test_a_dormant_state_changes_nothing(branches):
    base, _ = branches
    from sim.branching import with_states

    allies = load_scenario(POLICY / "allied_pooling.yaml", SHORT).states
    plain = run_replication(base, 0, 11).contracts
    with_dormant = run_replication(with_states(base, allies), 0, 11).contracts
    assert plain.equals(with_dormant)


def test_the_fork_must_fall_within_the_run(branches):
    base, _ = branches
    with pytest.raises(ValueError, match="fork"):
        run_branches(base, {"base": base}, 2040, 0, 1)
