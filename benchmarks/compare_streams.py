"""The one-time random-stream change leaves the distributions as they were (issue 11, target 1).

Runs the same ``--replications`` baseline replications (seeds spawned from ``--seed``) with the
model of an earlier commit (``--before``, unpacked with ``git archive`` into a temporary folder)
and with this tree, each in its own process, and prints for each main outcome the mean and the
standard error of the mean of each side, their difference and the difference in units of its
standard error (``z``). The two sides are independent samples (different streams), so about one
outcome in twenty is expected beyond |z| = 2 by chance alone.

    python benchmarks/compare_streams.py [--before 8ff4333] [--replications 200]
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

OUTCOMES = """
import json, sys
from sim.runner import replication_seeds, run_replication
from sim.scenario import load_scenario

settings = load_scenario("scenarios/baseline.yaml")
for seed in replication_seeds(int(sys.argv[1]), int(sys.argv[2])):
    result = run_replication(settings, 0, seed)
    contracts, yearly = result.contracts, result.yearly
    value = contracts["value_usd_m"].sum()
    by_state = contracts.groupby("provider_state")["value_usd_m"].sum() / value
    last = yearly.iloc[-1]
    print(json.dumps({
        "tenders": int(yearly["tenders"].sum()),
        "contracts": len(contracts),
        "deferred share of tenders": float(yearly["deferred"].sum() / yearly["tenders"].sum()),
        "troubled contracts": int(yearly["troubled"].sum()),
        "China's share of contract value": float(by_state.get("China", 0.0)),
        "US share of contract value": float(by_state.get("US", 0.0)),
        "contracts with a loan": int((contracts["loan_usd_m"] > 0).sum()),
        "debt owed to China at the end, US$ m": float(last["debt_usd_m_China"]),
        "governments dependent on China at the end": float(last["dependent_China"]),
        "Huawei's share of the installed base at the end": float(last["installed_share_Huawei"]),
        "renewals won by the incumbent": int(
            (contracts["renewal"] & (contracts["provider"] == contracts["incumbent_provider"]))
            .sum()),
    }), flush=True)
"""


def outcomes(tree: Path, seed: int, replications: int) -> subprocess.Popen:
    """Start the replications of one tree in its own process (its rows on stdout, JSON)."""
    return subprocess.Popen(
        [sys.executable, "-c", OUTCOMES, str(seed), str(replications)],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        text=True,
    )


def mean_and_error(values: list[float]) -> tuple[float, float]:
    """Sample mean and its standard error."""
    count = len(values)
    mean = sum(values) / count
    variance = sum((value - mean) ** 2 for value in values) / (count - 1)
    return mean, math.sqrt(variance / count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="8ff4333", help="commit with the old streams")
    parser.add_argument("--replications", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20261203)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        before = Path(folder)
        archive = subprocess.run(
            ["git", "archive", args.before], cwd=ROOT, check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(before)], input=archive, check=True)
        runs = {
            "before": outcomes(before, args.seed, args.replications),
            "after": outcomes(ROOT, args.seed, args.replications),
        }
        rows = {
            side: [json.loads(line) for line in process.stdout] for side, process in runs.items()
        }
        for side, process in runs.items():
            if process.wait() != 0:
                raise SystemExit(f"the {side} replications failed")
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True, capture_output=True
    ).stdout.strip()
    print(
        f"{args.replications} baseline replications before ({args.before}) and after "
        f"({head}, plus uncommitted changes if any); mean ± standard error of the mean"
    )
    print(f"{'outcome':44} {'before':>20} {'after':>20} {'z':>6}")
    for name in rows["before"][0]:
        (old, old_error), (new, new_error) = (
            mean_and_error([row[name] for row in rows[side]]) for side in ("before", "after")
        )
        z = (new - old) / math.hypot(old_error, new_error) if old_error or new_error else 0.0
        print(f"{name:44} {old:12.4g} ± {old_error:<7.3g}{new:12.4g} ± {new_error:<7.3g}{z:6.2f}")


if __name__ == "__main__":
    main()
