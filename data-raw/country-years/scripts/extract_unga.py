"""Extract ``unga_ideal_points.csv`` from Voeten's July 2025 ideal-point file (one-off, offline).

The input ``IdealpointsJuly2025.dta`` (1.3 MB, sha256 fea7fa94...43ce, see ../SOURCES.md) is not
committed. This is the research table's transformation (``shared/research/country-years/scripts/
build_unga.py``) with more countries kept: China and the 29 OECD-DAC members of 2021 (the United
States and 28 others), which define the two ends of the model's alignment axis; Japan is also the
proxy for Taiwan, which has no UN seat.

    python data-raw/country-years/scripts/extract_unga.py PATH/IdealpointsJuly2025.dta
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
# China and the OECD-DAC members of 2021 (shared/research/country-facts, oecd_dac_member == yes).
EXTRA = [
    "CHN",
    "USA",
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
]


def main(dta: str) -> None:
    iso = set(pd.read_csv(ROOT / "sim" / "data" / "countries.csv").iso3) | set(EXTRA)
    d = pd.read_stata(dta)
    d["year"] = d.year.astype(int)
    d = d[d.year >= 2006].copy()
    # COW 345 is labelled Yugoslavia/YUG; from 2006 it is Serbia's UN seat.
    d.loc[(d.iso3c == "YUG") & (d.ccode == 345), "iso3c"] = "SRB"
    d["note"] = np.where(
        d.iso3c == "SRB", "source row labelled Yugoslavia (COW 345, iso3c YUG); recoded to SRB", ""
    )
    d = d[d.iso3c.isin(iso)]
    assert not d.duplicated(["iso3c", "year"]).any()
    full = pd.MultiIndex.from_product(
        [sorted(iso), range(2006, 2025)], names=["iso3", "year"]
    ).to_frame(index=False)
    out = full.merge(d.rename(columns={"iso3c": "iso3"}), on=["iso3", "year"], how="left")
    out = out[
        ["iso3", "year", "idealpointfp", "idealpointall", "nvotesfp", "nvotesall", "ccode", "note"]
    ].rename(
        columns={
            "idealpointfp": "ideal_point_fp",
            "idealpointall": "ideal_point_all",
            "nvotesfp": "n_votes_fp",
            "nvotesall": "n_votes_all",
            "ccode": "cow_code",
        }
    )
    for column in ("ideal_point_fp", "ideal_point_all"):
        out[column] = out[column].round(4)
    for column in ("n_votes_fp", "n_votes_all", "cow_code"):
        out[column] = out[column].astype("Int64")
    out.loc[out.ideal_point_fp.isna() & out.ideal_point_all.isna(), "note"] = (
        "no estimate in source for this country-year"
    )
    out.loc[out.iso3.isin(["TWN", "XKX"]), "note"] = "not a UN member; no UNGA votes"
    out.to_csv(HERE.parent / "unga_ideal_points.csv", index=False, lineterminator="\n")


if __name__ == "__main__":
    main(sys.argv[1])
