#!/usr/bin/env python3
"""Compares two simulators seed by seed: is one build's time error better?

    tools/sim/paired_compare.py --old OLD_STRATASIM[:SCENARIO_DIR] \
        --new NEW_STRATASIM[:SCENARIO_DIR] --seeds 400 -j 2 NAME.scn...

Runs each scenario (a file name, looked up in each side's scenario folder,
default tests/sim/scenarios next to the build) with seeds 1..N in both
builds and pairs the runs by seed. The RMS of one seed ranges over 3x
between seeds and the medians of two separate sets of runs move by several
per cent, so a "median A / median B" over a few hundred seeds cannot tell a
2 % change from chance. A seed fixes the oscillator's wander and the
servers' noise on both sides, so the ratio new/old of the same seed cancels
most of that spread: the table gives the median of those ratios, its 95 %
bootstrap interval, and in how many seeds the new build is better. An
interval that holds 1 means no difference this many seeds can show.

Figures: RMS (from settling on), steady RMS (the second half) and packets,
as stratasim prints them. Prints a Markdown table.
"""
import argparse
import concurrent.futures
import math
import os
import random
import statistics
import subprocess
import sys

COLUMNS = {"RMS (µs)": "RMS", "steady RMS (µs)": "steady RMS"}


def side(spec):
    binary, _, folder = spec.partition(":")
    if not folder:
        # BUILD/tools/stratasim -> the source tree's tests/sim/scenarios.
        build = os.path.dirname(os.path.dirname(os.path.abspath(binary)))
        folder = os.path.join(os.path.dirname(os.path.dirname(build)), "tests", "sim", "scenarios")
    return binary, folder


def run(binary, path, seed):
    out = subprocess.run([binary, "--seed", str(seed), path], check=True, capture_output=True,
                         text=True).stdout.splitlines()
    header = [c.strip() for c in out[0].strip().strip("|").split("|")]
    values = [c.strip() for c in out[2].strip().strip("|").split("|")]
    row = dict(zip(header, values))
    return {name: float(row[col]) for col, name in COLUMNS.items()}


def bootstrap_median(ratios, draws=2000):
    rng = random.Random(1)
    medians = sorted(statistics.median(rng.choice(ratios) for _ in ratios) for _ in range(draws))
    return medians[int(0.025 * draws)], medians[int(0.975 * draws) - 1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", required=True, help="STRATASIM[:SCENARIO_DIR] of the reference build")
    ap.add_argument("--new", required=True, help="STRATASIM[:SCENARIO_DIR] of the build under test")
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("scenarios", nargs="+", help="scenario file names (e.g. 01-defaults.scn)")
    args = ap.parse_args()
    old_bin, old_dir = side(args.old)
    new_bin, new_dir = side(args.new)

    print(f"{args.seeds} seeds per scenario; per figure: median of new/old by seed [95 % interval], "
          "seeds where new is better, medians old -> new")
    print()
    print("| scenario | " + " | ".join(COLUMNS.values()) + " |")
    print("|---|" + "---|" * len(COLUMNS))
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for name in args.scenarios:
            seeds = range(1, args.seeds + 1)
            olds = pool.map(lambda s: run(old_bin, os.path.join(old_dir, name), s), seeds)
            news = pool.map(lambda s: run(new_bin, os.path.join(new_dir, name), s), seeds)
            pairs = list(zip(olds, news))
            cells = []
            for figure in COLUMNS.values():
                # A figure stratasim could not compute (nan) leaves the pair out.
                usable = [(o[figure], n[figure]) for o, n in pairs
                          if o[figure] > 0 and math.isfinite(n[figure])]
                ratios = [n / o for o, n in usable]
                low, high = bootstrap_median(ratios)
                better = sum(1 for o, n in usable if n < o)
                cells.append(f"{statistics.median(ratios):.3f} [{low:.3f}, {high:.3f}], {better}/{len(usable)}, "
                             f"{statistics.median(o for o, _ in usable):.4g} -> "
                             f"{statistics.median(n for _, n in usable):.4g}")
            print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
