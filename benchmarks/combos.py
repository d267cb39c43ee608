"""Combo sampling alone: `sample_combos(m, 2, n, 0)` now (a heap per pick) against the sampler before it (a few
numpy passes over all m skills per draw, O(n m)), loaded from git at `--before`, in the same run.

    .venv/bin/python benchmarks/combos.py [--before REV] [--old-draws 10000] [--sizes 25000:10000,250000:100000]

For each (m, n): the wall time of the new sampler over all n draws and of the old one over min(n, --old-draws)
draws, then the new one's peak Python allocations (tracemalloc, a pass of its own). When the old one ran fewer
draws, its time for n is extrapolated linearly (each old draw costs the same passes over m whatever its index, so
at fixed m its time is linear in n) and the row says so. Timings on a shared machine are noisy.
Output kept in benchmarks/results/combos.txt.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from skillseq.transforms.skillmix.generation import sample_combos

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "4879c6e"  # main before the heap: the sampler with fresh noise over m per draw


def sampler_before(rev: str):
    """`sample_combos` as it was at `rev`, loaded from git."""
    text = subprocess.run(
        ["git", "show", f"{rev}:transforms/skillmix/generation.py"], capture_output=True, check=True, cwd=ROOT
    ).stdout
    path = Path(tempfile.mkdtemp(prefix="skillseq-combos-before-")) / "generation_before.py"
    path.write_bytes(text)
    spec = importlib.util.spec_from_file_location("generation_before", path)
    module = sys.modules["generation_before"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.sample_combos


def timed(fn, *args) -> tuple[float, list]:
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def row(m: int, n: int, old_draws: int, before) -> str:
    new_s, draws = timed(sample_combos, m, 2, n, 0)
    assert len(draws) == n
    ran = min(n, old_draws)
    old_ran_s, _ = timed(before, m, 2, ran, 0)
    old_s = old_ran_s * n / ran
    how = "measured" if ran == n else f"extrapolated from {ran} draws ({old_ran_s:.1f} s)"
    tracemalloc.start()
    sample_combos(m, 2, n, 0)
    traced_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return f"| {m:,} | {n:,} | {old_s:.1f} ({how}) | {new_s:.2f} | {old_s / new_s:.0f}x | {traced_mb:.0f} |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", default=BEFORE, help="git revision of the old sampler")
    ap.add_argument("--old-draws", type=int, default=10000, help="most draws the old sampler runs per size")
    ap.add_argument("--sizes", default="25000:10000,250000:100000", help="comma-separated m:n")
    args = ap.parse_args()
    before = sampler_before(args.before)
    print(f"sample_combos(m, 2, n, 0): old = {args.before}, new = this tree")
    print("| skills m | draws n | old s | new s | old/new | new peak MB (tracemalloc) |")
    print("|---:|---:|---|---:|---:|---:|")
    for size in args.sizes.split(","):
        m, n = map(int, size.split(":"))
        print(row(m, n, args.old_draws, before), flush=True)


if __name__ == "__main__":
    main()
