"""Comparing this run with the previous one: the headline strip, the debrief, the saved class run.

Both runs are read at the same moment (the years played in this run), so a difference is what
the lever did by then. ``save_class_run`` writes the picture of the screen (taken in the browser,
``sim.app.capture``) and the numbers of the class run into a new folder under the save folder
(``$CLOUDRACE_CLASS_RUNS`` or ``class-runs/``); a folder is never reused: a second save gets the
next free name, and the files are written into a hidden folder first and renamed into place
whole.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from sim.app.charts import FEW

SAVE_DIR_VARIABLE = "CLOUDRACE_CLASS_RUNS"
DEFAULT_SAVE_DIR = Path("class-runs")


@dataclass(frozen=True)
class Measure:
    """One line of the debrief: what, this run's value and the previous run's, as text."""

    label: str
    now: str
    before: str


def _row(run, step: int) -> pd.Series | None:
    rows = run.upto(min(step, run.last_step))
    return rows.iloc[-1] if len(rows) else None


def new_contracts_text(row: pd.Series | None, state: str) -> str:
    """A state's providers' part of the year's new contracts: a share, or a count if few."""
    if row is None or row["new_total"] == 0:
        return "none yet"
    count, total = int(row[f"new_{state}"]), int(row["new_total"])
    if total < FEW:
        return f"{count} of {total}"
    return f"{100 * count / total:.0f} %"


def headline(run, step: int, previous=None) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """The headline strip: for the last year's new contracts and for leverage now, each
    state's value and the previous run's at the same year."""
    now, before = _row(run, step), _row(previous, step) if previous is not None else None
    year = f"{run.start_year + step - 1}" if step > 0 else "so far"
    contracts = [
        (
            state,
            new_contracts_text(now, state),
            new_contracts_text(before, state) if previous is not None else "",
        )
        for state in ("China", "US")
    ]
    leverage = [
        (
            state,
            _percent(now, f"leverage_{state}"),
            _percent(before, f"leverage_{state}") if previous is not None else "",
        )
        for state in ("China", "US")
    ]
    return [(f"New contracts {year}", contracts), ("Leverage", leverage)]


def _percent(row, column: str) -> str:
    return "–" if row is None else f"{100 * row[column]:.0f} %"


def _totals(run, step: int) -> dict[str, float]:
    rows = run.upto(min(step, run.last_step))
    last = rows.iloc[-1] if len(rows) else None
    total = rows["new_total"].sum() if len(rows) else 0
    values = {"contracts": total, "put_off": rows["deferred"].sum() if len(rows) else 0}
    for state in ("China", "US"):
        values[f"share_{state}"] = 100 * rows[f"new_{state}"].sum() / total if total else 0.0
        values[f"leverage_{state}"] = 100 * last[f"leverage_{state}"] if last is not None else 0
        values[f"dependent_{state}"] = last[f"dependent_{state}"] if last is not None else 0
        values[f"debt_{state}"] = last[f"debt_usd_m_{state}"] / 1000 if last is not None else 0
    return values


DEBRIEF_LINES = (
    ("share_China", "Chinese providers' share of new contracts so far", "{:.0f} %"),
    ("share_US", "US providers' share of new contracts so far", "{:.0f} %"),
    ("leverage_China", "China's leverage now", "{:.0f} %"),
    ("leverage_US", "The US's leverage now", "{:.0f} %"),
    ("dependent_China", "Governments dependent on China", "{:.0f}"),
    ("dependent_US", "Governments dependent on the US", "{:.0f}"),
    ("debt_China", "Debt owed to Chinese banks (US$ bn)", "{:.1f}"),
    ("debt_US", "Debt owed to US banks (US$ bn)", "{:.1f}"),
    ("contracts", "Contracts signed so far", "{:.0f}"),
    ("put_off", "Tenders put off so far", "{:.0f}"),
)
"""The debrief's lines: key, words, format."""


def debrief(run, step: int, previous=None) -> list[Measure]:
    """This run against the previous one, both after ``step`` years."""
    now = _totals(run, step)
    before = _totals(previous, step) if previous is not None else None
    return [
        Measure(
            label, form.format(now[key]), form.format(before[key]) if before is not None else "–"
        )
        for key, label, form in DEBRIEF_LINES
    ]


def debrief_table(run, step: int, previous=None) -> pd.DataFrame:
    """The numbers behind the class run, year by year, for this run and the previous one."""
    columns = [
        "year",
        "new_total",
        "new_China",
        "new_US",
        "new_Huawei",
        "new_Alibaba",
        "new_AWS_Microsoft",
        "deferred",
        "leverage_China",
        "leverage_US",
        "dependent_China",
        "dependent_US",
        "debt_usd_m_China",
        "debt_usd_m_US",
    ]
    frames = [run.upto(step)[columns].assign(run="this run")]
    if previous is not None:
        frames.append(previous.upto(step)[columns].assign(run="previous run"))
    table = pd.concat(frames, ignore_index=True)
    return table[["run", *columns]]


def save_dir() -> Path:
    """Where class runs are saved: ``$CLOUDRACE_CLASS_RUNS`` or ``class-runs/``."""
    return Path(os.environ.get(SAVE_DIR_VARIABLE) or DEFAULT_SAVE_DIR)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]


def save_class_run(
    run,
    step: int,
    previous,
    picture: bytes,
    root: Path | None = None,
    now: datetime | None = None,
) -> Path:
    """Write ``picture`` (the PNG of the screen) as ``class-run.png`` and the numbers as
    ``numbers.csv`` into a new folder; return the folder."""
    root = root or save_dir()
    root.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now()).strftime("%Y-%m-%d-%H%M")
    name = f"{stamp}-{_slug(run.key.lesson)}-{run.start_year + step}"
    scratch = Path(tempfile.mkdtemp(prefix=".saving-", dir=root))
    (scratch / "class-run.png").write_bytes(picture)
    debrief_table(run, step, previous).to_csv(scratch / "numbers.csv", index=False)
    levers = "; ".join(run.key.levers.changes()) or "as in the lesson"
    (scratch / "README.txt").write_text(
        f"Cloud Race class run: {run.key.lesson}, random seed {run.key.seed}, levers: {levers}; "
        f"{step} years played (start of {run.start_year + step}).\n"
        "numbers.csv: one row per run and year (this run, and the previous run for comparison)."
        "\nclass-run.png: the screen as the class saw it when the run was saved.\n",
        encoding="utf-8",
    )
    for number in range(1, 1000):
        target = root / (name if number == 1 else f"{name}-{number}")
        if target.exists():
            continue
        try:
            scratch.rename(target)  # fails if another save took the name meanwhile
        except OSError:
            continue
        return target
    raise RuntimeError(f"no free folder name for {name} in {root}")
