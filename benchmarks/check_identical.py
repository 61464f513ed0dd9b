"""Before/after check for a speed change: the same seeds must give the same bytes.

Runs ``--replications`` baseline replications (seeds spawned from ``--seed``, tenders recorded)
and writes the SHA-256 of each replication's contracts, yearly and tenders tables (as CSV) to
``--save FILE``, or compares them with a file saved before the change (``--check FILE``) and
exits 1 naming the first table that differs.

    python benchmarks/check_identical.py --save /tmp/before.json   # before the change
    python benchmarks/check_identical.py --check /tmp/before.json  # after it
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from measure import BASELINE

from sim.runner import replication_seeds, run_replication
from sim.scenario import load_scenario


def digests(replications: int, seed: int) -> dict[str, str]:
    """SHA-256 of each table of each replication, keyed ``"<replication>/<table>"``."""
    settings = load_scenario(BASELINE)
    found = {}
    for replication, child in enumerate(replication_seeds(seed, replications)):
        result = run_replication(settings, replication, child, record_tenders=True)
        for name in ("contracts", "yearly", "tenders"):
            text = getattr(result, name).to_csv(index=False)
            found[f"{replication}/{name}"] = hashlib.sha256(text.encode()).hexdigest()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=4)
    parser.add_argument("--seed", type=int, default=11)
    side = parser.add_mutually_exclusive_group(required=True)
    side.add_argument("--save", type=Path)
    side.add_argument("--check", type=Path)
    args = parser.parse_args()
    found = digests(args.replications, args.seed)
    if args.save:
        args.save.write_text(json.dumps(found, indent=1))
        print(f"saved {len(found)} table digests to {args.save}")
        return
    expected = json.loads(args.check.read_text())
    differing = [key for key in expected if found.get(key) != expected[key]]
    if differing:
        print(f"differ from {args.check}: {', '.join(differing)}")
        sys.exit(1)
    print(f"all {len(expected)} tables byte-identical to {args.check}")


if __name__ == "__main__":
    main()
