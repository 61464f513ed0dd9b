"""Where the time of a replication goes: a profile summary (issue "Speed for honest inference").

Profiles ``--replications`` baseline replications (2006-2035, every country) with cProfile,
after imports and a warm-up, and prints the self time per source area (each model module,
Mesa, numpy, scipy, the rest of Python) and the functions with the most self time. cProfile
adds its own cost to every call, so shares of small, frequent functions are overstated; the
ranking is what matters. For a sampling profile without that bias:
``py-spy record -o profile.svg -- python benchmarks/profile_replication.py --no-profile``.

    python benchmarks/profile_replication.py [--replications 5] [--top 20]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from collections import defaultdict

from measure import BASELINE

from sim.runner import run_replication
from sim.scenario import load_scenario


def area(filename: str) -> str:
    """The source area of a profiled function's file."""
    if "/sim/" in filename:
        return "sim/" + filename.rsplit("/sim/", 1)[1]
    for library in ("mesa", "numpy", "scipy", "pandas"):
        if f"/{library}/" in filename:
            return library
    return "Python (builtins and standard library)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=5)
    parser.add_argument("--top", type=int, default=20, help="functions listed")
    parser.add_argument("--no-profile", action="store_true", help="just run (for py-spy)")
    args = parser.parse_args()
    settings = load_scenario(BASELINE)
    run_replication(settings, 0, 0)
    if args.no_profile:
        start = time.process_time()
        for seed in range(1, args.replications + 1):
            run_replication(settings, 0, seed)
        print(f"{1000 * (time.process_time() - start) / args.replications:.0f} ms CPU a run")
        return
    profile = cProfile.Profile()
    profile.enable()
    for seed in range(1, args.replications + 1):
        run_replication(settings, 0, seed)
    profile.disable()
    stats = pstats.Stats(profile).stats
    total = sum(entry[2] for entry in stats.values())
    by_area: dict[str, float] = defaultdict(float)
    for (filename, _, _), (_, _, self_time, _, _) in stats.items():
        by_area[area(filename)] += self_time
    calls = sum(entry[1] for entry in stats.values())
    print(
        f"profile of {args.replications} baseline replications: "
        f"{1000 * total / args.replications:.0f} ms a run under cProfile, "
        f"{calls // args.replications:,} function calls a run (a figure the load cannot move)"
    )
    print("\nself time by area")
    for name, seconds in sorted(by_area.items(), key=lambda item: -item[1]):
        print(f"  {100 * seconds / total:5.1f} %  {name}")
    print(f"\nfunctions with the most self time (cumulative in brackets), top {args.top}")
    ranked = sorted(stats.items(), key=lambda item: -item[1][2])[: args.top]
    for (filename, line, function), (_, calls, self_time, cumulative, _) in ranked:
        where = f"{area(filename)}:{line}" if "/sim/" in filename else area(filename)
        print(
            f"  {100 * self_time / total:5.1f} % ({100 * cumulative / total:5.1f} %)  "
            f"{function} [{where}] x{calls // args.replications} a run"
        )


if __name__ == "__main__":
    main()
