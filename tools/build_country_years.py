"""Rebuild the dated country data in ``sim/data/`` from the tables in ``data-raw/country-years/``.

Run once by a developer, offline, with the project's own environment (pandas only); its outputs
are committed and the model reads them at run time through ``sim.country_panel``::

    .venv/bin/python tools/build_country_years.py [--out sim/data]

Inputs (all in the repository, each described with its source and licence in
``data-raw/country-years/SOURCES.md``): the World Bank's historical income classification, Freedom
House's scores by edition, internet use by year (ITU), UN General Assembly ideal points by year,
dated US sanctions, dated security ties and Belt-and-Road events, plus ``sim/data/countries.csv``
for the population, Taiwan-recognition dates and national bans on Chinese vendors.

Outputs:

* ``country_years.csv``: one row per country and calendar year 2006-2026 with the income group,
  Freedom House status and score, internet use, the UNGA ideal point and the alignment anchor
  derived from it. A value missing in its record year is carried from another year (rules in
  ``carry``); the ``*_from`` column says from where (empty = that year's own record).
* ``ties.csv``: dated spells of US security partnership and Belt-and-Road membership.
* ``eligibility.csv``: who may not contract with or lend to whom, from when, with the source.

The outputs are sorted and rounded, so a rerun gives byte-identical files (a test checks this).
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data-raw" / "country-years"
DEFAULT_OUT = ROOT / "sim" / "data"
COUNTRIES = ROOT / "sim" / "data" / "countries.csv"

FIRST_YEAR, LAST_YEAR = 2006, 2026  # the panel's years; the lookup holds the ends beyond them

INCOME_CODES = {
    "L": "Low",
    "LM": "Lower middle",
    "LM*": "Lower middle",
    "UM": "Upper middle",
    "H": "High",
}
FH_STATUS = {"F": "Free", "PF": "Partly Free", "NF": "Not Free"}

# The two ends of the China-West alignment axis (see alignment_anchor): China, and the "west" as
# the median of the 28 OECD-DAC members other than the US (the allies and donors the model's
# west bloc stands for; the US itself votes far from its own allies in the UNGA).
DAC_OTHERS = (
    "AUS",
    "AUT",
    "BEL",
    "CAN",
    "CHE",
    "CZE",
    "DEU",
    "DNK",
    "ESP",
    "FIN",
    "FRA",
    "GBR",
    "GRC",
    "HUN",
    "IRL",
    "ISL",
    "ITA",
    "JPN",
    "KOR",
    "LUX",
    "NLD",
    "NOR",
    "NZL",
    "POL",
    "PRT",
    "SVK",
    "SVN",
    "SWE",
)

# Countries with no UNGA record at all (not UN members): the anchor of a named proxy.
UNGA_PROXY = {
    "TWN": "JPN",  # Taiwan: the closest comparable US ally in East Asia with a UN seat
    "XKX": "ALB",  # Kosovo: Albania, its closest ally, a NATO member voting with the EU
}

# US security ties: the events that start a spell and those that end one. Rio Treaty parties
# are not listed: the treaty is dormant as a basis of security cooperation (six parties left in
# 2004-2014) and does not make a government defer to US security warnings; Rio parties count
# only through their own MNNA designation (ARG 1998, BRA 2019, COL 2022).
SECURITY_TIES = {"NATO", "MNNA", "bilateral treaty", "compact", "security assistance"}
TIE_ENDS = {"terminated"}
TIE_IGNORED = {"notice of intent", "notice of intent to terminate"}


def fractional_year(text: str) -> float:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` as a calendar year with a fraction, 4 decimals.

    The first day of the period is used (``2012-07`` is 1 July 2012); the fraction is
    ``(day_of_year - 1) / days_in_year``, as in ``tools/build_countries.py``.
    """
    parts = [int(part) for part in str(text).split("-")]
    day = datetime.date(
        parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1
    )
    days = 366 if day.year % 4 == 0 and (day.year % 100 or day.year % 400 == 0) else 365
    return round(day.year + (day.timetuple().tm_yday - 1) / days, 4)


def carry(records: pd.DataFrame, value_columns: list[str], iso3s: list[str]) -> pd.DataFrame:
    """Fill the panel's years from record years: the carry-forward rules.

    ``records`` has ``iso3``, ``year`` and the value columns (empty where the record has no
    value). For each country and panel year the value is that of the latest record year at or
    before it with a value (carried forward, also after the last record year); before the first
    record year with a value, the first such value (carried back). ``from`` is the record year
    used, empty when it is the year itself.
    """
    full = pd.MultiIndex.from_product(
        [iso3s, range(FIRST_YEAR, LAST_YEAR + 1)], names=["iso3", "year"]
    ).to_frame(index=False)
    have = records.dropna(subset=value_columns).copy()
    have["from"] = have["year"]
    merged = full.merge(
        have[["iso3", "year", "from", *value_columns]], on=["iso3", "year"], how="left"
    ).sort_values(["iso3", "year"])
    filled = merged.groupby("iso3", group_keys=False)[["from", *value_columns]].apply(
        lambda group: group.ffill().bfill()
    )
    merged[["from", *value_columns]] = filled
    merged["from"] = merged["from"].astype("Int64")
    merged.loc[merged["from"] == merged["year"], "from"] = pd.NA
    return merged.reset_index(drop=True)


def income_panel(iso3s: list[str]) -> pd.DataFrame:
    """Income group in force on 1 January of each year: fiscal year Y (OGHIST)."""
    raw = pd.read_csv(RAW / "income_group_by_year.csv", dtype={"oghist_code": str})
    raw = raw[raw["iso3"].isin(iso3s)]
    records = pd.DataFrame(
        {
            "iso3": raw["iso3"],
            "year": raw["fiscal_year"],
            "income_group": raw["oghist_code"].map(INCOME_CODES),
        }
    )
    return carry(records, ["income_group"], iso3s).rename(columns={"from": "income_from"})


def freedom_panel(iso3s: list[str]) -> pd.DataFrame:
    """Freedom House status and score: the edition published in year Y (covering Y-1)."""
    raw = pd.read_csv(RAW / "freedom_house_by_year.csv")
    raw = raw[raw["iso3"].isin(iso3s)]
    records = pd.DataFrame(
        {
            "iso3": raw["iso3"],
            "year": raw["edition"],
            "fh_status": raw["status"].map(FH_STATUS),
            "fh_score": raw["total_score"],
        }
    )
    records.loc[records["fh_status"].isna(), "fh_score"] = np.nan
    panel = carry(records, ["fh_status", "fh_score"], iso3s).rename(columns={"from": "fh_from"})
    panel["fh_score"] = panel["fh_score"].round().astype("Int64")
    return panel


def internet_panel(iso3s: list[str], countries: pd.DataFrame) -> pd.DataFrame:
    """Internet users, % of population (ITU via OWID, WDI where OWID has none), by year.

    A country with no value in any year (Taiwan) keeps the single value of ``countries.csv``
    (CIA World Factbook) for every year, marked ``countries.csv`` in ``internet_from``.
    """
    raw = pd.read_csv(RAW / "internet_users_by_year.csv")
    raw = raw[raw["iso3"].isin(iso3s)]
    records = raw[["iso3", "year", "internet_pct"]]
    panel = carry(records, ["internet_pct"], iso3s).rename(columns={"from": "internet_from"})
    panel["internet_from"] = panel["internet_from"].astype("string")
    static = countries.set_index("iso3")["internet_pct"]
    missing = panel["internet_pct"].isna()
    panel.loc[missing, "internet_pct"] = panel.loc[missing, "iso3"].map(static)
    panel.loc[missing, "internet_from"] = "countries.csv"
    panel["internet_pct"] = panel["internet_pct"].astype(float).round(2)
    return panel


def unga_poles(raw: pd.DataFrame) -> tuple[float, float]:
    """China's and the west's ideal points, each averaged over 2006-2024 (see alignment_anchor)."""
    points = raw.pivot(index="iso3", columns="year", values="ideal_point_fp")
    china = float(points.loc["CHN"].mean())
    west = float(points.loc[list(DAC_OTHERS)].median().mean())
    return china, west


def alignment_anchor(ideal_point: pd.Series, china: float, west: float) -> pd.Series:
    """Map UNGA ideal points onto the model's China-West axis, in (-1, 1).

    ``anchor = tanh(2 (x - china) / (west - china) - 1)``: the linear position between the two
    poles (China -1, the west +1) squashed by ``tanh`` as the model's alignment always was, so
    China's point is -0.76, the west's +0.76, and a government voting further from the west
    than China does approaches -1 without sitting on it (a clipped line put a quarter of the
    population at exactly -1). Both poles are averaged over 2006-2024: China's single-year
    estimate is noisy (final-passage votes: -0.24 in 2015, -1.35 in 2022), so year-by-year
    poles would move every country's anchor with China's noise.
    """
    return np.tanh(2.0 * (ideal_point - china) / (west - china) - 1.0).round(4)


def unga_panel(iso3s: list[str]) -> tuple[pd.DataFrame, dict[str, float]]:
    """UNGA ideal point (final-passage votes) by year and the alignment anchor from it."""
    raw = pd.read_csv(RAW / "unga_ideal_points.csv")
    china, west = unga_poles(raw)
    records = raw[raw["iso3"].isin(iso3s)][["iso3", "year", "ideal_point_fp"]].rename(
        columns={"ideal_point_fp": "unga_ideal_point"}
    )
    panel = carry(records, ["unga_ideal_point"], iso3s).rename(columns={"from": "unga_from"})
    panel["unga_from"] = panel["unga_from"].astype("string")
    proxies = carry(
        raw[raw["iso3"].isin(list(UNGA_PROXY.values()))][["iso3", "year", "ideal_point_fp"]].rename(
            columns={"ideal_point_fp": "unga_ideal_point"}
        ),
        ["unga_ideal_point"],
        sorted(set(UNGA_PROXY.values())),
    )
    by_proxy = proxies.set_index(["iso3", "year"])["unga_ideal_point"]
    for iso3, proxy in UNGA_PROXY.items():
        rows = panel["iso3"] == iso3
        if not rows.any():
            continue
        if panel.loc[rows, "unga_ideal_point"].notna().any():
            raise SystemExit(f"{iso3} has its own UNGA record; remove it from UNGA_PROXY")
        panel.loc[rows, "unga_ideal_point"] = [
            by_proxy[(proxy, year)] for year in panel.loc[rows, "year"]
        ]
        panel.loc[rows, "unga_from"] = f"proxy {proxy}"
    panel["alignment_anchor"] = alignment_anchor(panel["unga_ideal_point"], china, west)
    record_anchor = alignment_anchor(
        records.set_index(["iso3", "year"])["unga_ideal_point"], china, west
    ).unstack("year")
    stats = {
        "china_pole": round(china, 4),
        "west_pole": round(west, 4),
        **anchor_persistence(record_anchor),
    }
    return panel, stats


def anchor_persistence(anchor: pd.DataFrame) -> dict[str, float]:
    """Within-country AR(1) of the yearly anchor (record years only): the reversion evidence.

    ``rho`` is the least-squares slope of this year's deviation from the country mean on last
    year's; with 19 years per country the within estimator is biased down by about
    ``(1 + rho) / (T - 1)`` (Nickell 1981), so ``rho_corrected`` adds that back. One minus it is
    the yearly share of a deviation that fades: the evidence behind the default
    ``governments.alignment_restoring_rate`` (docs/ODD.md).
    """
    deviation = anchor.sub(anchor.mean(axis=1), axis=0)
    before = deviation.iloc[:, :-1].to_numpy().ravel()
    after = deviation.iloc[:, 1:].to_numpy().ravel()
    keep = ~(np.isnan(before) | np.isnan(after))
    rho = float((before[keep] * after[keep]).sum() / (before[keep] ** 2).sum())
    periods = anchor.shape[1]
    corrected = rho + (1.0 + rho) / (periods - 1)
    return {
        "ar1_rho": round(rho, 3),
        "ar1_rho_corrected": round(corrected, 3),
        "ar1_pairs": int(keep.sum()),
    }


def country_years(countries: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
    """The country-year panel: every column filled for every country and year."""
    iso3s = sorted(countries["iso3"])
    unga, stats = unga_panel(iso3s)
    panel = income_panel(iso3s)
    for part in (freedom_panel(iso3s), internet_panel(iso3s, countries), unga):
        panel = panel.merge(part, on=["iso3", "year"], how="left", validate="one_to_one")
    columns = [
        "iso3",
        "year",
        "income_group",
        "income_from",
        "fh_status",
        "fh_score",
        "fh_from",
        "internet_pct",
        "internet_from",
        "unga_ideal_point",
        "unga_from",
        "alignment_anchor",
    ]
    panel = panel[columns]
    value_columns = [
        "income_group",
        "fh_status",
        "fh_score",
        "internet_pct",
        "unga_ideal_point",
        "alignment_anchor",
    ]
    empty = panel[panel[value_columns].isna().any(axis=1)]
    if not empty.empty:
        raise SystemExit(f"unfilled country-years: {empty[['iso3', 'year']].head().to_dict()}")
    return panel.sort_values(["iso3", "year"]).reset_index(drop=True), stats


def ties(countries: pd.DataFrame) -> pd.DataFrame:
    """Dated spells: ``us_security_partner`` and ``bri_mou``, with start, end and source."""
    iso3s = set(countries["iso3"])
    events = pd.concat(
        [
            pd.read_csv(RAW / "security_ties_and_bri.csv", dtype=str),
            pd.read_csv(RAW / "ties_added.csv", dtype=str),
        ],
        ignore_index=True,
    )
    # A row of ties_added.csv for the same country, tie and event replaces the research row
    # (a more precise date: NATO accession days).
    events = events.drop_duplicates(["iso3", "tie", "event"], keep="last")
    events = events[events["iso3"].isin(iso3s) & events["date"].notna()]
    rows = []
    security = events[events["tie"].isin(SECURITY_TIES)]
    for iso3, group in security.groupby("iso3"):
        starts = group[~group["event"].isin(TIE_ENDS | TIE_IGNORED)]
        ends = group[group["event"].isin(TIE_ENDS)]
        for _, start in starts.iterrows():
            end = ends.iloc[0] if len(ends) else None
            rows.append(
                {
                    "iso3": iso3,
                    "tie": "us_security_partner",
                    "kind": start["tie"],
                    "start": fractional_year(start["date"]),
                    "start_date": start["date"],
                    "end": fractional_year(end["date"]) if end is not None else np.nan,
                    "end_date": end["date"] if end is not None else "",
                    "source": start["source"],
                    "note": start["event"]
                    + ("; ended: " + end["source"] if end is not None else ""),
                }
            )
    gfdc = pd.read_csv(RAW / "bri_gfdc.csv", dtype=str)
    gfdc = gfdc[gfdc["iso3"].isin(iso3s) & gfdc["bri_mou"].isin(["yes", "post-2021"])]
    bri = events[events["tie"] == "BRI"]
    bri_ends = bri[bri["event"].str.contains("exit")].set_index("iso3")
    for _, row in gfdc.iterrows():
        end = bri_ends.loc[row["iso3"]] if row["iso3"] in bri_ends.index else None
        rows.append(
            {
                "iso3": row["iso3"],
                "tie": "bri_mou",
                "kind": "BRI MoU",
                "start": fractional_year(row["bri_mou_year"]),
                "start_date": row["bri_mou_year"],
                "end": fractional_year(end["date"]) if end is not None else np.nan,
                "end_date": end["date"] if end is not None else "",
                "source": "GFDC list (shared/research/country-facts S6)",
                "note": "year precision: counted from 1 January"
                + (f"; exit: {end['note']}" if end is not None else ""),
            }
        )
    for _, event in bri[~bri["event"].str.contains("exit")].iterrows():
        if event["iso3"] in set(gfdc["iso3"]):
            raise SystemExit(f"{event['iso3']}: BRI event for a country already on the GFDC list")
        rows.append(
            {
                "iso3": event["iso3"],
                "tie": "bri_mou",
                "kind": "BRI cooperation",
                "start": fractional_year(event["date"]),
                "start_date": event["date"],
                "end": np.nan,
                "end_date": "",
                "source": event["source"],
                "note": event["event"],
            }
        )
    table = pd.DataFrame(rows)
    return table.sort_values(["iso3", "tie", "start"]).reset_index(drop=True)


def eligibility(countries: pd.DataFrame) -> pd.DataFrame:
    """Who may not contract with or lend to each government, from when to when, and why."""
    sanctions = pd.read_csv(RAW / "us_sanctions.csv", dtype=str)
    bars = pd.read_csv(RAW / "sanctions_bars.csv", dtype=str, keep_default_na=False)
    rows = []
    for _, bar in bars.iterrows():
        match = sanctions[
            (sanctions["iso3"] == bar["iso3"]) & (sanctions["start_date"] == bar["start_date"])
        ]
        if (
            len(match) != 1
            or (match.iloc[0]["end_date"] if isinstance(match.iloc[0]["end_date"], str) else "")
            != bar["end_date"]
        ):
            raise SystemExit(
                f"sanctions_bars.csv: {bar['iso3']} {bar['start_date']}: no single "
                "row of us_sanctions.csv with these start and end dates"
            )
        source = match.iloc[0]
        rows.append(
            {
                "iso3": bar["iso3"],
                "state": bar["state"],
                "rule": "us_sanctions",
                "contract": bar["contract"] == "true",
                "lend": bar["lend"] == "true",
                "start": fractional_year(bar["start_date"]),
                "start_date": bar["start_date"],
                "end": fractional_year(bar["end_date"]) if bar["end_date"] else np.nan,
                "end_date": bar["end_date"],
                "program": bar["program"],
                "source": source["source_url"],
                "note": f"{source['scope']}; confirmed: {source['confirmed']}; " + bar["note"],
            }
        )
    for _, country in countries.iterrows():
        since, until = country["taiwan_recognition_from"], country["taiwan_recognition_until"]
        if country["taiwan_recognition"] or pd.notna(until):
            rows.append(
                {
                    "iso3": country["iso3"],
                    "state": "China",
                    "rule": "taiwan_recognition",
                    "contract": True,
                    "lend": False,
                    "start": since if pd.notna(since) else np.nan,
                    "start_date": "",
                    "end": until if pd.notna(until) else np.nan,
                    "end_date": "",
                    "program": "recognises the Republic of China (Taiwan)",
                    "source": "sim/data/countries.csv (taiwan_recognition, _from, _until)",
                    "note": "Chinese state-linked providers do not bid; enforced by the "
                    "providers' barred_where_taiwan_recognised flag",
                }
            )
        if pd.notna(country["chinese_vendor_ban_year"]):
            rows.append(
                {
                    "iso3": country["iso3"],
                    "state": "China",
                    "rule": "chinese_vendor_ban",
                    "contract": True,
                    "lend": False,
                    "start": float(country["chinese_vendor_ban_year"]),
                    "start_date": str(int(country["chinese_vendor_ban_year"])),
                    "end": np.nan,
                    "end_date": "",
                    "program": "national ban on Chinese vendors in government ICT",
                    "source": "sim/data/countries.csv (chinese_vendor_ban_year; sources in "
                    "sim/data/README.md)",
                    "note": "enforced by the providers' barred_where_taiwan_recognised flag",
                }
            )
    table = pd.DataFrame(rows)
    return table.sort_values(["iso3", "state", "rule", "start"], na_position="first").reset_index(
        drop=True
    )


def write(table: pd.DataFrame, path: Path) -> None:
    """CSV with booleans as true/false, empty cells for missing values, LF line ends."""
    text = table.copy()
    for column in text.columns:
        if text[column].dtype == bool:
            text[column] = text[column].map({True: "true", False: "false"})
    text.to_csv(path, index=False, lineterminator="\n", float_format="%.10g")


def build(out: Path) -> dict[str, float]:
    """Write the three files into ``out``; return the alignment axis statistics."""
    countries = pd.read_csv(COUNTRIES)
    panel, stats = country_years(countries)
    out.mkdir(parents=True, exist_ok=True)
    write(panel, out / "country_years.csv")
    write(ties(countries), out / "ties.csv")
    write(eligibility(countries), out / "eligibility.csv")
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="folder for the three CSV files (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    stats = build(args.out)
    print(f"wrote country_years.csv, ties.csv and eligibility.csv to {args.out}")
    for key, value in stats.items():
        print(f"  {key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
