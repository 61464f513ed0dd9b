"""Face validity: no contract and no bid of a baseline run breaks the eligibility file.

Every contract of a few baseline replications is checked, by its date, against every row of
``sim/data/eligibility.csv``: no provider whose home state is barred from contracting with that
government, no loan from a state barred from lending to it. Every bid is checked the same way
(a barred provider never bids).
"""

from __future__ import annotations

import pandas as pd
import pytest

from sim.country_panel import read_panel_files
from sim.model import BASELINE
from sim.runner import run_scenario
from sim.scenario import load_scenario

REPLICATIONS = 3


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    return read_panel_files()[2]


@pytest.fixture(scope="module")
def baseline_run():
    settings = load_scenario(BASELINE)
    _, results = run_scenario(settings, replications=REPLICATIONS, record_tenders=True,
                              progress=False)
    contracts = pd.concat([result.contracts for result in results], ignore_index=True)
    tenders = pd.concat([result.tenders for result in results], ignore_index=True)
    homes = {name: provider.home_state for name, provider in settings.providers.items()}
    tenders = tenders[tenders["provider"] != ""].copy()
    tenders["provider_state"] = tenders["provider"].map(homes)
    return contracts, tenders


def violations(rows: pd.DataFrame, bars: pd.DataFrame, state_column: str,
               role: str) -> pd.DataFrame:
    """The rows (with ``country``, ``time`` and ``state_column``) that a bar of ``role`` forbids."""
    active = bars[bars[role]].merge(rows.reset_index(), left_on=["iso3", "state"],
                                    right_on=["country", state_column])
    in_force = ((active["start"].isna() | (active["time"] >= active["start"]))
                & (active["end"].isna() | (active["time"] < active["end"])))
    return active[in_force]


def test_the_checker_finds_a_forbidden_contract(bars: pd.DataFrame) -> None:
    made_up = pd.DataFrame({"country": ["CUB", "RUS", "RUS", "VEN", "HND"],
                            "time": [2010.5, 2022.5, 2021.5, 2018.0, 2020.0],
                            "provider_state": ["US", "US", "US", "US", "China"],
                            "financing_state": ["", "", "", "US", ""]})
    contract = violations(made_up, bars, "provider_state", "contract")
    assert sorted(contract["country"]) == ["CUB", "HND", "RUS"]
    assert list(violations(made_up, bars, "financing_state", "lend")["country"]) == ["VEN"]


def test_no_contract_breaks_the_eligibility_file(baseline_run, bars: pd.DataFrame) -> None:
    contracts, _ = baseline_run
    sanctioned = set(bars.loc[bars["rule"] == "us_sanctions", "iso3"])
    # Not vacuous: the barred countries take part and award contracts in the run.
    assert sanctioned <= set(contracts["country"])
    assert violations(contracts, bars, "provider_state", "contract").empty
    assert violations(contracts, bars, "financing_state", "lend").empty


def test_a_barred_provider_never_bids(baseline_run, bars: pd.DataFrame) -> None:
    _, tenders = baseline_run
    assert violations(tenders, bars, "provider_state", "contract").empty
