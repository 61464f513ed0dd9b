"""What each lesson's "Try:" shows on screen, against the ghost run, over the app's seeds.

Each ``Claim`` is one sentence of ``docs/teaching.md``: a lesson, the lever its "Try:" moves,
what to read off the lesson's chart (a function of a run's yearly series, the numbers the
chart draws) and which way the guide says it moves against the ghost (the lesson as written).
``claim_results`` runs the lesson both ways for each seed of the "5 seeds" band; the table in
``docs/teaching.md`` between ``TEACHING_CLAIMS_START`` and ``TEACHING_CLAIMS_END`` is written by
``python -m sim.app.teaching`` from these results (``--check`` exits 1 if it is stale), and
``tests/test_classroom_scenarios.py`` checks every claim's direction, seed by seed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from statistics import mean

from sim.app.classroom import BASELINE_TITLE, DEFAULT_SEED, Levers, lessons
from sim.app.runs import SEEDS_IN_BAND, RunKey, get_run

APP_SEEDS = tuple(range(DEFAULT_SEED, DEFAULT_SEED + SEEDS_IN_BAND))
"""The seeds the app shows: its default seed and the rest of the "5 seeds" band."""
DOC = Path(__file__).resolve().parents[2] / "docs" / "teaching.md"
START, END = "<!-- TEACHING_CLAIMS_START -->", "<!-- TEACHING_CLAIMS_END -->"


def _share(series, state: str, first: int, last: int, group: str = "new") -> float:
    rows = series[(series["year"] >= first) & (series["year"] <= last)]
    total = rows[f"{group}_total"].sum()
    return 100.0 * rows[f"{group}_{state}"].sum() / total if total else float("nan")


def _total(column: str) -> Callable:
    return lambda series: float(series[column].sum())


def _at(column: str, year: int, scale: float = 100.0) -> Callable:
    return lambda series: scale * float(series.set_index("year")[column][year])


def _last(column: str, scale: float = 100.0) -> Callable:
    return lambda series: scale * float(series[column].iloc[-1])


@dataclass(frozen=True)
class Claim:
    """One claim: lesson number, the Try's levers, what is read and the direction claimed.

    ``direction`` is +1 (higher than the ghost), -1 (lower) or 0 (about the same: within
    ``tolerance``). ``every_seed`` says the guide claims it for each seed, not only on average.
    With ``against`` the claim compares two readings of the Try run (``measure`` and
    ``against``) instead of the Try against the ghost.
    """

    lesson: str
    levers: dict
    reading: str
    unit: str
    measure: Callable
    direction: int
    every_seed: bool = True
    tolerance: float = 0.0


CLAIMS = (
    Claim(
        "baseline",
        {"us_financing_usd_m": 500.0},
        "US providers' contracts, 2006-2035",
        "",
        _total("new_US"),
        +1,
    ),
    Claim(
        "baseline",
        {"us_financing_usd_m": 1500.0},
        "US providers' contracts, 2006-2035",
        "",
        _total("new_US"),
        +1,
    ),
    Claim(
        "baseline",
        {"allied_pooling_usd_m": 1500.0},
        "US providers' contracts, 2006-2035",
        "",
        _total("new_US"),
        +1,
    ),
    Claim(
        "1",
        {"lock_in_strength": 0.0},
        "Chinese providers' share of new contracts, 2026-2035",
        "%",
        lambda s: _share(s, "China", 2026, 2035),
        -1,
    ),
    Claim(
        "2",
        {"china_financing": 0.0},
        "Huawei's contracts, 2006-2025",
        "",
        _total("new_Huawei"),
        -1,
        every_seed=False,
    ),
    Claim(
        "2",
        {"china_financing": 0.0},
        "tenders put off, 2006-2025",
        "",
        _total("deferred"),
        +1,
        every_seed=False,
    ),
    Claim(
        "2",
        {"china_financing": 0.0},
        "AWS + Microsoft contracts, 2006-2025",
        "",
        _total("new_AWS_Microsoft"),
        +1,
        every_seed=False,
    ),
    Claim(
        "2",
        {"china_financing": 0.0},
        "all contracts, 2006-2025",
        "",
        _total("new_total"),
        -1,
        every_seed=False,
    ),
    Claim(
        "2",
        {"us_financing_usd_m": 500.0},
        "AWS + Microsoft contracts, 2006-2025",
        "",
        _total("new_AWS_Microsoft"),
        +1,
    ),
    Claim(
        "3",
        {"us_pressure": 0.0},
        "Chinese providers' share of new contracts from 2019, US security partners",
        "%",
        lambda s: _share(s, "China", 2019, 2030, "partners"),
        +1,
    ),
    Claim(
        "3",
        {"us_pressure": 0.0},
        "Chinese providers' share of new contracts from 2019, the other countries",
        "%",
        lambda s: _share(s, "China", 2019, 2030, "others"),
        0,
        every_seed=False,
        tolerance=5.0,
    ),
    Claim(
        "4",
        {"export_controls": False},
        "Chinese providers' share of new contracts, 2026-2032",
        "%",
        lambda s: _share(s, "China", 2026, 2032),
        +1,
    ),
)
"""The guide's claims about the levers on the baseline and the Try of lessons 1-4 (lesson 5's
are ``LEVERAGE_CLAIMS``)."""

LEVERAGE_CLAIMS = (
    ("China's leverage at the end of 2025 (before the threat)", _at("leverage_China", 2025)),
    ("China's leverage at the end of 2026 (the threat's year)", _at("leverage_China", 2026)),
    ("China's leverage at the end of the run (2032)", _last("leverage_China")),
)
"""Lesson 5's Try (seeds 1, 2, 3, ...): leverage falls in 2026 and does not get back."""


def lesson_title(number: str) -> str:
    """The title of lesson ``number`` ("1" ... "5"), or of the baseline for "baseline"."""
    if number == "baseline":
        return BASELINE_TITLE
    return next(lesson.title for lesson in lessons() if lesson.title.startswith(f"{number}."))


def run_series(number: str, seed: int, levers: dict | None = None):
    """The yearly series of a lesson run as the app computes it."""
    key = RunKey(lesson_title(number), seed, ((0, Levers(**(levers or {}))),))
    return get_run(key).series


@dataclass(frozen=True)
class ClaimResult:
    """A claim's readings for the ghost (as written) and the Try, seed by seed."""

    claim: Claim
    ghost: tuple[float, ...]
    tried: tuple[float, ...]

    def holds_in(self, index: int) -> bool:
        difference = self.tried[index] - self.ghost[index]
        if self.claim.direction == 0:
            return abs(difference) <= self.claim.tolerance
        return difference * self.claim.direction > 0

    @property
    def seeds_holding(self) -> int:
        return sum(self.holds_in(index) for index in range(len(self.ghost)))

    @property
    def holds(self) -> bool:
        """Every seed if the guide says so; else the seeds' mean goes the claimed way."""
        if self.claim.every_seed:
            return self.seeds_holding == len(self.ghost)
        difference = mean(self.tried) - mean(self.ghost)
        if self.claim.direction == 0:
            return abs(difference) <= self.claim.tolerance
        return difference * self.claim.direction > 0


def claim_results(seeds: tuple[int, ...] = APP_SEEDS) -> list[ClaimResult]:
    return [
        ClaimResult(
            claim,
            tuple(claim.measure(run_series(claim.lesson, seed)) for seed in seeds),
            tuple(claim.measure(run_series(claim.lesson, seed, claim.levers)) for seed in seeds),
        )
        for claim in CLAIMS
    ]


def leverage_results(seeds: tuple[int, ...] = APP_SEEDS) -> list[tuple[str, tuple[float, ...]]]:
    return [
        (label, tuple(measure(run_series("5", seed)) for seed in seeds))
        for label, measure in LEVERAGE_CLAIMS
    ]


def _lever_words(levers: dict) -> str:
    return "; ".join(Levers(**levers).changes())


def render_table(seeds: tuple[int, ...] = APP_SEEDS) -> str:
    """The markdown table of every claim, with the numbers the app shows (mean of the seeds)."""
    lines = [
        START,
        f"| lesson | Try | what to read on screen | ghost (as written) | after the Try | "
        f"seeds where it goes the guide's way (of {len(seeds)}) |",
        "|---|---|---|---|---|---|",
    ]
    for result in claim_results(seeds):
        claim = result.claim
        unit = f" {claim.unit}" if claim.unit else ""
        lines.append(
            f"| {claim.lesson} | {_lever_words(claim.levers)} | {claim.reading} | "
            f"{mean(result.ghost):.0f}{unit} | {mean(result.tried):.0f}{unit} | "
            f"{result.seeds_holding} |"
        )
    for label, values in leverage_results(seeds):
        lines.append(
            f"| 5 | seeds {seeds[0]}-{seeds[-1]} | {label} | "
            f"{mean(values):.0f} % (range {min(values):.0f}-{max(values):.0f} %) | | |"
        )
    lines.append(END)
    return "\n".join(lines)


def embedded_table(text: str) -> str:
    start, end = text.index(START), text.index(END) + len(END)
    return text[start:end]


def main(argv: list[str] | None = None) -> int:
    """``python -m sim.app.teaching [--check]``: rewrite (or check) the table in the guide."""
    parser = argparse.ArgumentParser(
        prog="python -m sim.app.teaching", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit with status 1 if docs/teaching.md's table is out of date",
    )
    args = parser.parse_args(argv)
    text = DOC.read_text(encoding="utf-8")
    table = render_table()
    if args.check:
        if embedded_table(text) != table:
            print(
                f"{DOC}: the claims table is out of date; run python -m sim.app.teaching",
                file=sys.stderr,
            )
            return 1
        return 0
    DOC.write_text(text.replace(embedded_table(text), table), encoding="utf-8")
    print(f"updated the claims table in {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
