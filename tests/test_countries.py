"""The shipped country table loads, holds the expected population, and bad files are refused."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.countries import (
    COUNTRY_COLUMNS,
    DEFAULT_COUNTRIES_PATH,
    FH_STATUSES,
    INCOME_GROUPS,
    REGIONS,
    load_countries,
)
from sim.errors import UserError


@pytest.fixture(scope="module")
def countries() -> pd.DataFrame:
    return load_countries()


def by_iso3(countries: pd.DataFrame, iso3: str) -> pd.Series:
    return countries.set_index("iso3").loc[iso3]


# --- the shipped file -------------------------------------------------------------------------

def test_shipped_file_loads_with_declared_columns(countries: pd.DataFrame) -> None:
    assert DEFAULT_COUNTRIES_PATH.is_file()
    assert list(countries.columns) == list(COUNTRY_COLUMNS)
    assert 160 <= len(countries) <= 170
    assert countries["iso3"].is_unique


def test_header_of_shipped_file_is_exactly_the_spec() -> None:
    header = DEFAULT_COUNTRIES_PATH.read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",") == list(COUNTRY_COLUMNS)


def test_types(countries: pd.DataFrame) -> None:
    assert countries["eu_member"].dtype == bool
    assert countries["fh_score"].dtype == "int64"
    assert countries["gdp_usd_bn"].dtype == "float64"
    assert countries["bri_mou_year"].dtype == "Int64"
    assert countries["taiwan_recognition_from"].dtype == "float64"
    assert countries["taiwan_recognition_until"].dtype == "float64"


def test_powers_donors_and_holy_see_are_absent(countries: pd.DataFrame) -> None:
    absent = {"USA", "CHN", "DEU", "JPN", "GBR", "KOR", "FRA", "AUS", "CAN", "VAT"}
    assert absent.isdisjoint(set(countries["iso3"]))


@pytest.mark.parametrize(
    ("iso3", "region", "income", "status"),
    [
        ("KEN", "Africa", "Lower middle", "Partly Free"),
        ("SAU", "Middle East", "High", "Not Free"),
        ("MEX", "Americas", "Upper middle", "Partly Free"),
        ("ZMB", "Africa", None, None),
        ("MYS", "Asia", "Upper middle", None),
        ("EGY", "Africa", None, "Not Free"),
        ("TUR", "Europe", None, None),
        ("GEO", "Europe", None, None),
        ("KAZ", "Asia", None, None),
        ("FJI", "Asia", None, None),
    ],
)
def test_known_values(countries: pd.DataFrame, iso3: str, region: str, income: str | None,
                      status: str | None) -> None:
    row = by_iso3(countries, iso3)
    assert row["region"] == region
    if income is not None:
        assert row["income_group"] == income
    if status is not None:
        assert row["fh_status"] == status


def test_alignment_flags(countries: pd.DataFrame) -> None:
    assert by_iso3(countries, "IND")["chinese_vendor_ban_year"] == 2020
    assert bool(by_iso3(countries, "PAK")["bri_mou"])
    assert bool(by_iso3(countries, "PHL")["us_security_partner"])
    assert by_iso3(countries, "PHL")["us_partner_type"] == "bilateral"
    assert bool(by_iso3(countries, "PRY")["taiwan_recognition"])
    assert bool(by_iso3(countries, "ROU")["eu_member"])
    assert not bool(by_iso3(countries, "KEN")["us_security_partner"])
    # an empty optional year is NA, and only where there is no memorandum
    assert countries.loc[~countries["bri_mou"], "bri_mou_year"].isna().all()
    assert countries.loc[countries["bri_mou"], "bri_mou_year"].notna().all()


@pytest.mark.parametrize(
    ("iso3", "end_2021", "since", "until"),
    [
        ("DOM", False, None, 2018.33),  # 1 May 2018
        ("LCA", True, 2007.33, None),  # re-recognised Taiwan on 30 Apr 2007
        ("HND", True, None, 2023.23),  # 26 Mar 2023: after end-2021, so still true then
        ("NIC", False, None, 2021.94),  # 9 Dec 2021: before end-2021, so false then
        ("TCD", False, None, 2006.59),
        ("NRU", True, None, 2024.04),
        ("PRY", True, None, None),  # recognised throughout
        ("KEN", False, None, None),  # never, since 2006
    ],
)
def test_taiwan_recognition_dates(countries: pd.DataFrame, iso3: str, end_2021: bool,
                                  since: float | None, until: float | None) -> None:
    row = by_iso3(countries, iso3)
    assert bool(row["taiwan_recognition"]) is end_2021
    for column, expected in (("taiwan_recognition_from", since),
                             ("taiwan_recognition_until", until)):
        if expected is None:
            assert pd.isna(row[column])
        else:
            assert row[column] == pytest.approx(expected)


def test_taiwan_recognition_dates_agree_with_end_2021_status(countries: pd.DataFrame) -> None:
    since, until = countries["taiwan_recognition_from"], countries["taiwan_recognition_until"]
    assert ((since < until) | since.isna() | until.isna()).all()
    dated = since.notna() | until.notna()
    at_end_2021 = (since.isna() | (since <= 2021.99)) & (until.isna() | (until > 2021.99))
    assert (at_end_2021[dated] == countries.loc[dated, "taiwan_recognition"]).all()
    assert dated.sum() == 15  # every switch since 2006: 14 ended, Saint Lucia began
    assert ((since >= 2006) | since.isna()).all() and ((until >= 2006) | until.isna()).all()


def test_every_region_and_status_present(countries: pd.DataFrame) -> None:
    assert set(countries["region"]) == set(REGIONS)
    assert set(countries["fh_status"]) == set(FH_STATUSES)
    assert set(countries["income_group"]) == set(INCOME_GROUPS)


def test_no_blanks_except_optional_years(countries: pd.DataFrame) -> None:
    optional = ("year", "fractional_year")
    required = [c for c, spec in COUNTRY_COLUMNS.items() if spec.kind not in optional]
    assert not countries[required].isna().any().any()


def test_same_categories_as_scenario_schema() -> None:
    schema = pytest.importorskip("sim.schema")
    for name, ours in (("REGIONS", REGIONS), ("INCOME_GROUPS", INCOME_GROUPS),
                       ("FH_STATUSES", FH_STATUSES)):
        if hasattr(schema, name):
            assert set(getattr(schema, name)) == set(ours)


def test_default_load_returns_a_fresh_copy() -> None:
    first = load_countries()
    first.loc[0, "name"] = "changed"
    assert load_countries().loc[0, "name"] != "changed"


def test_explicit_path_gives_the_same_table(countries: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(load_countries(str(DEFAULT_COUNTRIES_PATH)), countries)


# --- refused files ----------------------------------------------------------------------------

def shipped() -> pd.DataFrame:
    """The shipped file as text, for editing into broken variants."""
    return pd.read_csv(DEFAULT_COUNTRIES_PATH, dtype=str, keep_default_na=False)


def write(tmp_path: Path, table: pd.DataFrame) -> Path:
    path = tmp_path / "countries.csv"
    table.to_csv(path, index=False)
    return path


def refused(path: Path) -> str:
    with pytest.raises(UserError) as caught:
        load_countries(path)
    message = str(caught.value)
    assert str(path) in message
    assert "\n" not in message
    return message


def test_missing_file(tmp_path: Path) -> None:
    message = refused(tmp_path / "nowhere.csv")
    assert "not found" in message


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "countries.csv"
    path.write_text("", encoding="utf-8")
    assert "empty" in refused(path)


def test_missing_column(tmp_path: Path) -> None:
    message = refused(write(tmp_path, shipped().drop(columns=["fh_score", "lat"])))
    assert "fh_score" in message and "lat" in message and "missing" in message


def test_bad_category(tmp_path: Path) -> None:
    table = shipped()
    table.loc[table["iso3"] == "KEN", "region"] = "Oceania"
    message = refused(write(tmp_path, table))
    assert "'region'" in message and "KEN" in message and "Middle East" in message


def test_out_of_range(tmp_path: Path) -> None:
    table = shipped()
    table.loc[table["iso3"] == "SAU", "fh_score"] = "101"
    table.loc[table["iso3"] == "MEX", "fh_score"] = "-1"
    message = refused(write(tmp_path, table))
    assert "'fh_score'" in message and "SAU" in message and "MEX" in message
    assert "between 0 and 100" in message


@pytest.mark.parametrize(
    ("column", "bad", "expected"),
    [
        ("gdp_usd_bn", "0", "greater than 0"),
        ("population_m", "lots", "a number"),
        ("internet_pct", "100.5", "between 0 and 100"),
        ("lat", "91", "between -90 and 90"),
        ("lon", "-181", "between -180 and 180"),
        ("eu_member", "yes", "true or false"),
        ("bri_mou_year", "2016.5", "integer year"),
        ("taiwan_recognition_from", "30 Apr 2007", "fractional year between 1900 and 2100"),
        ("taiwan_recognition_until", "2101", "fractional year between 1900 and 2100"),
        ("taiwan_recognition_until", "1899.99", "or empty"),
        ("taiwan_recognition_from", "nan", "fractional year"),
        ("name", "", "non-empty"),
    ],
)
def test_bad_values(tmp_path: Path, column: str, bad: str, expected: str) -> None:
    table = shipped()
    table.loc[table["iso3"] == "ZMB", column] = bad
    message = refused(write(tmp_path, table))
    assert f"'{column}'" in message and "ZMB" in message and expected in message


def test_duplicate_iso3(tmp_path: Path) -> None:
    table = shipped()
    table = pd.concat([table, table[table["iso3"] == "MYS"]], ignore_index=True)
    message = refused(write(tmp_path, table))
    assert "'iso3'" in message and "MYS" in message


def test_malformed_iso3(tmp_path: Path) -> None:
    table = shipped()
    table.loc[table["iso3"] == "KEN", "iso3"] = "ke"
    message = refused(write(tmp_path, table))
    assert "'iso3'" in message and "upper-case" in message and "line" in message


def test_header_only(tmp_path: Path) -> None:
    assert "no country rows" in refused(write(tmp_path, shipped().iloc[0:0]))


def test_fractional_years_may_be_empty_or_whole(tmp_path: Path) -> None:
    table = shipped()
    table.loc[table["iso3"] == "DOM", "taiwan_recognition_until"] = " "
    table.loc[table["iso3"] == "ZMB", "taiwan_recognition_from"] = "1990"
    loaded = load_countries(write(tmp_path, table)).set_index("iso3")
    assert pd.isna(loaded.loc["DOM", "taiwan_recognition_until"])
    assert loaded.loc["ZMB", "taiwan_recognition_from"] == 1990.0


def test_booleans_accept_any_case(tmp_path: Path) -> None:
    table = shipped()
    table["eu_member"] = table["eu_member"].str.upper()
    loaded = load_countries(write(tmp_path, table))
    assert loaded["eu_member"].sum() == load_countries()["eu_member"].sum()
