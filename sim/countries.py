"""The country table: one row per country that US and Chinese cloud providers compete for.

Cloud Race needs, for every country in its population, a few attributes that drive the
mechanisms: where it is (region, centroid), how rich and connected it is (income group, GDP,
population, internet use), how it is governed (Freedom House), and how it is aligned (US security
partnership, Belt-and-Road memorandum, Clean Network, Taiwan recognition and the dates it switched,
bans on Chinese vendors).

Those attributes are built once, offline, by ``tools/build_countries.py`` and committed as
``sim/data/countries.csv``; ``sim/data/README.md`` gives the source, year and licence of each
column. Nothing is downloaded at run time. This module reads that file (or a user's file with the
same columns) with pandas only and checks it against ``COUNTRY_COLUMNS`` before the model sees it,
so that a bad value is reported once, with the file, column and rows, instead of surfacing later as
a wrong result or a traceback. Every problem raises ``sim.errors.UserError``.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.errors import UserError

DEFAULT_COUNTRIES_PATH = Path(__file__).parent / "data" / "countries.csv"

REGIONS = ("Africa", "Asia", "Americas", "Europe", "Middle East")
WB_REGIONS = (
    "East Asia & Pacific", "Europe & Central Asia", "Latin America & Caribbean",
    "Middle East & North Africa", "North America", "South Asia", "Sub-Saharan Africa",
)
INCOME_GROUPS = ("Low", "Lower middle", "Upper middle", "High")
FH_STATUSES = ("Free", "Partly Free", "Not Free")
US_PARTNER_TYPES = ("NATO", "Rio", "bilateral", "MNNA", "none")

_ISO3 = re.compile(r"^[A-Z]{3}$")
_INT = re.compile(r"^[+-]?\d+$")
_BOOLS = {"true": True, "false": False}
_MAX_LISTED = 10  # offending rows named in one message


@dataclass(frozen=True)
class Column:
    """How one column is read and checked.

    ``kind`` is one of ``str``, ``category`` (one of ``allowed``), ``int``, ``float``, ``bool``
    (written ``true``/``false``), ``year`` (an integer year, or empty) and ``fractional_year`` (a
    calendar year with a fraction, e.g. 1 May 2018 = 2018.33, or empty). ``low``/``high`` are
    inclusive bounds for numbers.
    """

    kind: str
    description: str
    allowed: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None


COUNTRY_COLUMNS: dict[str, Column] = {
    "iso3": Column("str", "ISO 3166-1 alpha-3 code (Kosovo: XKX); 3 upper-case letters, unique"),
    "name": Column("str", "short English name"),
    "region": Column("category", "CSIS-style region", REGIONS),
    "wb_region": Column("category", "World Bank region", WB_REGIONS),
    "income_group": Column("category", "World Bank income group", INCOME_GROUPS),
    "fh_status": Column("category", "Freedom House status, Freedom in the World 2021",
                        FH_STATUSES),
    "fh_score": Column("int", "Freedom House aggregate score 2021, 0-100", low=0, high=100),
    "gdp_usd_bn": Column("float", "GDP 2019, current US$ billions", low=1e-9),
    "gdp_usd_bn_2006": Column("float", "GDP 2006, current US$ billions", low=1e-9),
    "population_m": Column("float", "population 2019, millions", low=1e-9),
    "internet_pct": Column("float", "individuals using the internet, % of population",
                           low=0, high=100),
    "eu_member": Column("bool", "member of the European Union in 2021"),
    "us_partner_type": Column("category", "US security tie: NATO, Rio Treaty, bilateral treaty, "
                              "major non-NATO ally, or none", US_PARTNER_TYPES),
    "us_security_partner": Column("bool", "treaty ally or major non-NATO ally of the US"),
    "bri_mou": Column("bool", "signed a Belt and Road memorandum with China by end-2021"),
    "bri_mou_year": Column("year", "year of the first Belt and Road memorandum, or empty",
                           low=2013, high=2100),
    "taiwan_recognition": Column("bool", "recognised the Republic of China (Taiwan) at end-2021"),
    "taiwan_recognition_from": Column("fractional_year", "date from which the government "
                                      "recognised Taiwan, as a fractional year; empty = since "
                                      "before 2006", low=1900, high=2100),
    "taiwan_recognition_until": Column("fractional_year", "date on which the government stopped "
                                       "recognising Taiwan, as a fractional year; empty = never "
                                       "ended", low=1900, high=2100),
    "clean_network_2020": Column("bool", "named as a US Clean Network participant in 2020"),
    "chinese_vendor_ban_year": Column("year", "year from which the government barred Chinese "
                                      "state-linked ICT/cloud providers, or empty",
                                      low=1990, high=2100),
    "lat": Column("float", "centroid latitude, degrees", low=-90, high=90),
    "lon": Column("float", "centroid longitude, degrees", low=-180, high=180),
}


def load_countries(path: str | Path | None = None) -> pd.DataFrame:
    """Read and validate a country table; ``None`` means the shipped ``countries.csv``.

    Returns one row per country with the columns of ``COUNTRY_COLUMNS`` first (in that order,
    followed by any extra columns, unchecked, as text), ``iso3`` kept as an ordinary column and a
    default ``RangeIndex``. Booleans are ``bool``, counts ``int64``, measures ``float64``, the
    optional years nullable ``Int64`` and the optional fractional years ``float64`` (empty: NaN).
    Raises ``UserError`` naming the file, the column, the offending rows and what was expected.
    """
    if path is None:
        return _load_default().copy()
    return _load(Path(path))


@functools.lru_cache(maxsize=1)
def _load_default() -> pd.DataFrame:
    return _load(DEFAULT_COUNTRIES_PATH)


def _load(path: Path) -> pd.DataFrame:
    raw = _read(path)
    missing = [name for name in COUNTRY_COLUMNS if name not in raw.columns]
    if missing:
        raise UserError(f"{path}: missing column(s) {', '.join(missing)}; a country file needs "
                        f"the columns {', '.join(COUNTRY_COLUMNS)}")
    if raw.empty:
        raise UserError(f"{path}: the file has a header but no country rows")
    labels = _row_labels(raw)
    out: dict[str, pd.Series] = {}
    for name, spec in COUNTRY_COLUMNS.items():
        out[name] = _parse_column(path, name, spec, raw[name].str.strip(), labels)
    _check_iso3(path, out["iso3"], labels)
    table = pd.DataFrame(out)
    for extra in raw.columns:
        if extra not in COUNTRY_COLUMNS:
            table[extra] = raw[extra]
    return table


def _read(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise UserError(f"{path}: country data file not found")
    if not path.is_file():
        raise UserError(f"{path}: expected a CSV file, found a directory or special file")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except pd.errors.EmptyDataError:
        raise UserError(f"{path}: the file is empty; expected a CSV with a header row "
                        f"({', '.join(COUNTRY_COLUMNS)})") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UserError(f"{path}: cannot read the file as UTF-8 CSV ({first})") from None
    raw.columns = [str(column).strip() for column in raw.columns]
    duplicated = sorted({c for c in raw.columns if list(raw.columns).count(c) > 1})
    if duplicated:
        raise UserError(f"{path}: column(s) {', '.join(duplicated)} appear more than once in the "
                        "header; expected each column once")
    return raw.astype(object)


def _row_labels(raw: pd.DataFrame) -> list[str]:
    """How to name each row in messages: its iso3 code, or its line number if that is unusable."""
    labels = []
    for position, code in enumerate(raw["iso3"] if "iso3" in raw.columns else []):
        code = str(code).strip()
        labels.append(code if _ISO3.match(code) else f"line {position + 2}")
    return labels


def _fail(path: Path, name: str, spec: Column, expected: str, bad: list[tuple[str, str]]) -> None:
    shown = ", ".join(f"{label} ({value!r})" for label, value in bad[:_MAX_LISTED])
    more = f" and {len(bad) - _MAX_LISTED} more" if len(bad) > _MAX_LISTED else ""
    raise UserError(f"{path}: column '{name}' ({spec.description}): expected {expected}; "
                    f"bad value in row(s) {shown}{more}")


def _range_text(spec: Column) -> str:
    if spec.low is not None and spec.high is not None:
        return f"between {spec.low:g} and {spec.high:g}"
    if spec.low is not None:
        return "greater than 0" if 0 < spec.low < 1e-6 else f"at least {spec.low:g}"
    return f"at most {spec.high:g}"


def _in_range(number: float, spec: Column) -> bool:
    return ((spec.low is None or number >= spec.low)
            and (spec.high is None or number <= spec.high))


def _parse_column(path: Path, name: str, spec: Column, values: pd.Series,
                  labels: list[str]) -> pd.Series:
    """Convert one text column to its type, or raise UserError listing the bad rows."""
    texts = [str(value) for value in values]
    rows = list(zip(labels, texts, strict=True))
    if spec.kind == "str":
        bad = [(label, text) for label, text in rows if not text]
        if bad:
            _fail(path, name, spec, "a non-empty text", bad)
        return pd.Series(texts, dtype=object)
    if spec.kind == "category":
        bad = [(label, text) for label, text in rows if text not in spec.allowed]
        if bad:
            _fail(path, name, spec, "one of " + ", ".join(spec.allowed), bad)
        return pd.Series(texts, dtype=object)
    if spec.kind == "bool":
        bad = [(label, text) for label, text in rows if text.lower() not in _BOOLS]
        if bad:
            _fail(path, name, spec, "true or false", bad)
        return pd.Series([_BOOLS[text.lower()] for text in texts], dtype=bool)
    if spec.kind in ("int", "year"):
        optional = spec.kind == "year"
        what = ("an integer year " if optional else "an integer ") + _range_text(spec)
        what += ", or empty" if optional else ""
        bad = [(label, text) for label, text in rows
               if not ((optional and not text)
                       or (_INT.match(text) and _in_range(int(text), spec)))]
        if bad:
            _fail(path, name, spec, what, bad)
        if optional:
            return pd.Series([int(text) if text else pd.NA for text in texts], dtype="Int64")
        return pd.Series([int(text) for text in texts], dtype="int64")
    if spec.kind in ("float", "fractional_year"):
        optional = spec.kind == "fractional_year"
        what = ("a fractional year " if optional else "a number ") + _range_text(spec)
        what += " (e.g. 2018.33 for 1 May 2018), or empty" if optional else ""
        numbers: list[float] = []
        bad = []
        for label, text in rows:
            if optional and not text:
                numbers.append(math.nan)
                continue
            try:
                number = float(text)
            except ValueError:
                number = math.nan
            if not math.isfinite(number) or not _in_range(number, spec):
                bad.append((label, text))
            numbers.append(number)
        if bad:
            _fail(path, name, spec, what, bad)
        return pd.Series(numbers, dtype="float64")
    raise ValueError(f"unknown column kind {spec.kind!r} for {name}")  # a bug in COUNTRY_COLUMNS


def _check_iso3(path: Path, codes: pd.Series, labels: list[str]) -> None:
    spec = COUNTRY_COLUMNS["iso3"]
    bad = [(label, code) for label, code in zip(labels, codes, strict=True)
           if not _ISO3.match(code)]
    if bad:
        _fail(path, "iso3", spec, "3 upper-case letters (ISO 3166-1 alpha-3)", bad)
    seen = codes[codes.duplicated(keep=False)]
    if not seen.empty:
        repeated = sorted(set(seen))
        raise UserError(f"{path}: column 'iso3' ({spec.description}): expected each country "
                        f"once; repeated: {', '.join(repeated)}")
