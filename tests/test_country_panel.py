"""Dated country data: the shipped files rebuild, values carry by the documented rules, ties and
bars change on their dates, and the model follows them (items 1, 2 and 7 of issue 9)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from sim.country_panel import DATA, load_panel, read_panel_files
from sim.model import BASELINE, CloudRaceModel, CloudRaceScenario
from sim.runner import contracts_table
from sim.scenario import load_scenario
from sim.schema import GovernmentSettings

REPO = Path(__file__).resolve().parent.parent


def build_module():
    spec = importlib.util.spec_from_file_location(
        "build_country_years", REPO / "tools" / "build_country_years.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def small_model(countries: list[str], *overrides: str, seed: int = 1,
                end_year: int = 2035, record_tenders: bool = False) -> CloudRaceModel:
    settings = load_scenario(BASELINE, [f"population.only={countries}",
                                        f"run.end_year={end_year}", *overrides])
    return CloudRaceModel(CloudRaceScenario.from_settings(settings, rng=seed),
                          record_tenders=record_tenders)


def government(model: CloudRaceModel, iso3: str):
    return next(g for g in model.governments if g.iso3 == iso3)


def run_to(model: CloudRaceModel, year: float) -> None:
    model.run_until(year - model.start_year)


# --- the build -------------------------------------------------------------------------------

def test_build_script_reproduces_the_shipped_files(tmp_path: Path) -> None:
    stats = build_module().build(tmp_path)
    for name in ("country_years.csv", "ties.csv", "eligibility.csv"):
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name
    # The numbers the docs quote for the alignment axis and the restoring-rate prior.
    odd = (REPO / "docs" / "ODD.md").read_text()
    assert f"({stats['china_pole']:.3f} and {stats['west_pole']:.3f}" in odd
    assert f"2006-2024 is {stats['ar1_rho']}" in odd
    assert f"{stats['ar1_rho_corrected']} after Nickell's" in odd
    default = GovernmentSettings().alignment_restoring_rate
    assert default == pytest.approx(1.0 - stats["ar1_rho_corrected"], abs=0.005)


def test_carry_rules_on_a_small_record() -> None:
    """Between record years the last value; after the last, it stays; before the first, the
    first; ``from`` names the record year used."""
    carry = build_module().carry
    records = pd.DataFrame({"iso3": ["AAA", "AAA", "AAA"], "year": [2008, 2010, 2011],
                            "value": ["x", "y", None]})
    panel = carry(records, ["value"], ["AAA"]).set_index("year")
    assert panel.loc[2006, "value"] == "x" and panel.loc[2006, "from"] == 2008
    assert panel.loc[2008, "value"] == "x" and pd.isna(panel.loc[2008, "from"])
    assert panel.loc[2009, "value"] == "x" and panel.loc[2009, "from"] == 2008
    assert panel.loc[2011, "value"] == "y" and panel.loc[2011, "from"] == 2010
    assert panel.loc[2026, "value"] == "y" and panel.loc[2026, "from"] == 2010


# --- the shipped panel -----------------------------------------------------------------------

@pytest.mark.parametrize(("iso3", "last_low", "first_lower_middle"),
                         [("GHA", 2011, 2012), ("KEN", 2015, 2016)])
def test_income_group_changes_in_its_fiscal_year(iso3: str, last_low: int,
                                                 first_lower_middle: int) -> None:
    panel = load_panel()
    assert panel.value(iso3, "income_group", 2006) == "Low"
    assert panel.value(iso3, "income_group", last_low + 0.99) == "Low"
    assert panel.value(iso3, "income_group", first_lower_middle) == "Lower middle"


def test_gaps_are_filled_by_the_documented_rules() -> None:
    years, _, _ = read_panel_files()
    row = years.set_index(["iso3", "year"])
    # Venezuela unclassified from FY2022: its FY2021 group carried forward.
    assert row.loc[("VEN", 2024), "income_group"] == "Upper middle"
    assert row.loc[("VEN", 2024), "income_from"] == "2021"
    # South Sudan before its first classification (FY2013): the first value.
    assert row.loc[("SSD", 2006), "income_from"] == "2013"
    # After the last Freedom House edition (2024) the value stays.
    assert row.loc[("KEN", 2026), "fh_score"] == row.loc[("KEN", 2024), "fh_score"]
    assert row.loc[("KEN", 2026), "fh_from"] == "2024"
    # Not UN members: a named proxy's ideal point.
    assert row.loc[("TWN", 2010), "unga_from"] == "proxy JPN"
    assert row.loc[("XKX", 2010), "unga_from"] == "proxy ALB"
    value_columns = ["income_group", "fh_status", "fh_score", "internet_pct",
                     "unga_ideal_point", "alignment_anchor"]
    assert not years[value_columns].isna().any().any()
    assert years["alignment_anchor"].between(-1, 1).all()


def test_lookups_hold_the_panels_ends() -> None:
    panel = load_panel()
    assert panel.value("GHA", "fh_score", 2040) == panel.value("GHA", "fh_score", 2026)
    assert panel.value("GHA", "fh_score", 1990) == panel.value("GHA", "fh_score", 2006)


@pytest.mark.parametrize(("iso3", "tie", "before", "after", "is_start"), [
    ("UKR", "us_security_partner", 2022.14, 2022.15, True),   # from the invasion, 24 Feb 2022
    ("RUS", "bri_mou", 2015.34, 2015.35, True),               # joint statement, 8 May 2015
    ("COG", "bri_mou", 2018.67, 2018.68, True),
    ("NER", "bri_mou", 2019.40, 2019.41, True),
    ("AFG", "us_security_partner", 2022.72, 2022.73, False),  # MNNA revoked 23 Sep 2022
    ("KEN", "us_security_partner", 2024.47, 2024.48, True),   # MNNA, 24 Jun 2024
])
def test_ties_change_on_their_dates(iso3: str, tie: str, before: float, after: float,
                                    is_start: bool) -> None:
    panel = load_panel()
    assert panel.tie(iso3, tie, before) is not is_start
    assert panel.tie(iso3, tie, after) is is_start


def test_rio_treaty_alone_is_not_a_security_partnership() -> None:
    panel = load_panel()
    assert not panel.tie("PER", "us_security_partner", 2015)   # Rio party only
    assert not panel.tie("BRA", "us_security_partner", 2018)   # Rio party, MNNA from Jul 2019
    assert panel.tie("BRA", "us_security_partner", 2020)


def test_every_us_sanction_bar_has_a_source_and_a_date() -> None:
    _, _, bars = read_panel_files()
    sanctions = bars[bars["rule"] == "us_sanctions"]
    assert set(sanctions["iso3"]) >= {"CUB", "IRN", "PRK", "SYR", "RUS", "BLR", "VEN"}
    assert sanctions["source"].str.startswith("http").all()
    assert sanctions["start_date"].notna().all()
    russia = sanctions[sanctions["iso3"] == "RUS"]
    assert (russia["start"] >= 2022).all() and (russia["start"] < 2023).all()


# --- the model follows the data --------------------------------------------------------------

def test_contracts_record_the_income_group_at_award() -> None:
    model = small_model(["KEN"], "demand.tender_rate=8.0", end_year=2019)
    model.run_model()
    table = contracts_table(model)
    early, late = table[table["time"] < 2016], table[table["time"] >= 2016]
    assert len(early) and len(late)
    assert set(early["income_group"]) == {"Low"}
    assert set(late["income_group"]) == {"Lower middle"}


def test_a_dated_tie_changes_dependence_on_its_date_not_the_next_january() -> None:
    model = small_model(["UKR", "AFG"], end_year=2023)
    run_to(model, 2022.10)
    ukraine, afghanistan = government(model, "UKR"), government(model, "AFG")
    assert not ukraine.us_security_partner and afghanistan.us_security_partner
    before = ukraine.dependence["US"]
    run_to(model, 2022.80)
    assert ukraine.us_security_partner and ukraine.dependence["US"] > before
    assert not afghanistan.us_security_partner


def test_a_barred_lender_never_lends_even_where_its_providers_may_bid() -> None:
    """Venezuela 2017-08-25 to 2019-08-05: US banks may not lend, US providers may still bid."""
    model = small_model(["VEN"], end_year=2020)
    run_to(model, 2018.5)
    venezuela = government(model, "VEN")
    us = model.states["US"]
    aws = model.providers_by_name["AWS"]
    assert aws not in venezuela.barred
    assert not venezuela.may_borrow_from(us)
    us.financing_left = 1e6
    assert aws.find_loan(100.0, 1.0, venezuela) == (0.0, None)
    run_to(model, 2019.8)
    assert aws in venezuela.barred


# --- alignment (item 7) ----------------------------------------------------------------------

def test_initial_alignment_is_the_anchor_not_freedom_house() -> None:
    model = small_model(["SAU", "UKR"], end_year=2006)
    panel = load_panel()
    for iso3 in ("SAU", "UKR"):
        assert government(model, iso3).alignment == panel.value(iso3, "alignment_anchor", 2006)


def pressured_government(rate: float):
    model = small_model(["PHL"], f"governments.alignment_restoring_rate={rate}",
                        "states.China.promotion=0", "states.US.promotion=0", end_year=2006)
    philippines = government(model, "PHL")
    assert philippines.dependence["US"] > 0.5   # treaty ally: pressure reaches it
    return model, philippines


def test_alignment_reverts_toward_the_anchor_when_pressure_stops() -> None:
    model, philippines = pressured_government(0.35)
    anchor = philippines.alignment_anchor
    us = model.states["US"]
    us.security_pressure = 1.0
    for _ in range(5):
        philippines.respond_to_pressure()
    pushed = philippines.alignment - anchor
    assert pushed > 0.05
    us.security_pressure = 0.0
    gaps = []
    for _ in range(6):
        philippines.respond_to_pressure()
        gaps.append(philippines.alignment - anchor)
    assert gaps[0] == pytest.approx(0.65 * pushed)
    assert all(later == pytest.approx(0.65 * earlier)
               for earlier, later in zip(gaps, gaps[1:], strict=False))
    assert 0 < gaps[-1] < 0.1 * pushed


def test_without_a_restoring_force_a_push_stays() -> None:
    model, philippines = pressured_government(0.0)
    model.states["US"].security_pressure = 1.0
    philippines.respond_to_pressure()
    pushed = philippines.alignment
    model.states["US"].security_pressure = 0.0
    for _ in range(5):
        philippines.respond_to_pressure()
    assert philippines.alignment == pytest.approx(pushed)


def test_tie_counts_quoted_in_the_docs_match_the_data() -> None:
    panel = load_panel()
    codes = sorted(panel.countries)

    def count(tie: str, year: float) -> int:
        return sum(panel.tie(iso3, tie, year) for iso3 in codes)

    text = (REPO / "docs" / "baseline.md").read_text()
    partners = (count("us_security_partner", 2006), count("us_security_partner", 2021.99),
                count("us_security_partner", 2024.6))
    assert f"{partners[0]} of the 165 countries in 2006, {partners[1]} at end-2021, " \
           f"{partners[2]} from mid-2024" in text
    members = (count("bri_mou", 2021.99), count("bri_mou", 2025.2))
    assert f"{members[0]} of the 165 countries by end-2021, {members[1]} after Panama" in text
