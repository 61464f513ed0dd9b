"""A policy brief in one file: ``brief.html``, self-contained (figures as data URIs, no links
out), for a reader who will not open CSV files.

It states each scenario's question, the answer with its uncertainty decomposed (chance,
parameters, structure), the trajectories, the differences by region and by Freedom House
status, what the public record does not constrain, and the provenance of the numbers.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

import pandas as pd

from sim.comparison import HEADLINES, format_interval, variance_shares
from sim.metrics import slug
from sim.schema import FH_STATUSES, REGIONS

UNCONSTRAINED = (
    "The record (CSIS 2021 and the patterns in sim/data/targets.yaml) concerns Huawei's deals "
    "to April 2021 only. It does not say how many contracts US providers won, how large the "
    "market would have been without state support, or how strong lock-in is against demand; "
    "parameters the calibration could not narrow (docs/calibration.md, 'what the record "
    "identifies') carry their prior's spread into these answers, which is what the predictive "
    "interval across posterior members shows. Structural choices the record cannot decide "
    "between enter through the structural ensemble."
)

STYLE = """
body { font-family: sans-serif; max-width: 60rem; margin: 2rem auto; color: #222;
       line-height: 1.4; padding: 0 1rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; }
img { max-width: 100%; } .note { color: #555; font-size: 0.9rem; }
code { background: #f3f3f3; padding: 0 0.2rem; }
"""


def _image(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _rows(table: pd.DataFrame, outcomes: dict[str, str]) -> str:
    cells = []
    for outcome, label in outcomes.items():
        if outcome not in table.index:
            continue
        row = table.loc[outcome]
        digits = 2 if outcome.startswith("leverage_") else 1
        cells.append(
            f"<tr><td>{html.escape(label)}</td><td>{row['base_mean']:,.2f}</td>"
            f"<td>{html.escape(format_interval(row, digits))}</td>"
            f"<td>{html.escape(variance_shares(row))}</td></tr>"
        )
    return (
        "<table><tr><th>outcome</th><th>base</th><th>difference [90 % CI of the mean, "
        "chance only] {90 % predictive interval, parameters + structure}</th><th>variance "
        "of a single run's effect: chance / parameters / structure</th></tr>"
        + "".join(cells)
        + "</table>"
    )


def write_brief(
    path: Path,
    scenarios: dict[str, Any],
    base_name: str,
    differences: pd.DataFrame,
    figures: dict[str, Path],
    uncertainty: str,
    provenance: dict[str, Any],
) -> None:
    """Write ``brief.html`` for the comparison (``figures``: name -> PNG file)."""
    groups = {
        f"share_china_region_{slug(r)}": f"Chinese providers' share, {r} (%)" for r in REGIONS
    }
    groups |= {
        f"share_china_fh_{slug(s)}": f"Chinese providers' share, {s} (%)" for s in FH_STATUSES
    }
    parts = [
        f"<h1>Policy brief: scenarios against <code>{html.escape(base_name)}</code></h1>",
        f"<p class='note'>Every answer is a mean paired difference over {uncertainty}. "
        "Square brackets: the 90 % confidence interval of the mean, chance only. Braces: "
        "the 90 % predictive interval across posterior members and structures (shown "
        "when the run has more than one). The last column splits a single run's effect "
        "variance into chance, parameters and structure.</p>",
    ]
    for name, settings in scenarios.items():
        if name == base_name:
            continue
        table = differences[differences["scenario"] == name].set_index("outcome")
        parts += [
            f"<h2>{html.escape(name)}</h2>",
            f"<p><strong>The question.</strong> "
            f"{html.escape(' '.join(settings.description.split()))}</p>",
            "<p><strong>The answer, with its uncertainty.</strong></p>",
            _rows(table, HEADLINES),
            "<p><strong>By region and by Freedom House status.</strong></p>",
            _rows(table, groups),
        ]
    parts += [
        "<h2>Trajectories</h2>",
        _image(figures["trajectories"], "trajectories"),
        "<h2>Differences</h2>",
        _image(figures["differences"], "differences"),
        "<h2>What the record does not constrain</h2>",
        f"<p>{html.escape(UNCONSTRAINED)}</p>",
        "<h2>Provenance</h2>",
        "<table>",
    ]
    parts += [
        f"<tr><th>{html.escape(key)}</th><td><code>{html.escape(str(value))}</code></td></tr>"
        for key, value in provenance.items()
    ]
    parts.append("</table>")
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "img-src data:; style-src 'unsafe-inline'\">"
        f"<title>Policy brief: {html.escape(base_name)}</title><style>{STYLE}</style>"
        "</head><body>" + "\n".join(parts) + "</body></html>\n"
    )
    path.write_text(page, encoding="utf-8")
