"""LintSeq throughput: batched ruff vs one ruff process per check vs pylint in process (the reference's way).

    python benchmarks/lintseq_bench.py [--quick] [--pylint-programs N]

Programs: HumanEval's 164 canonical solutions (prompt + solution) and 200 top-level functions of the
standard library that lint clean on their own; one sequence per program, the same rng keys for every
linter. (a) advances all samples in lockstep, one ruff process per round (batches of `--batch`
samples: 320 = the stage's default 64 programs x 5 samples); (b) the same with one `ruff check -` process per state; (c) pylint,
in process, one temporary file per state. pylint is slow, so (c) runs on the first N programs of each
set and its per-sequence rate is extrapolated. Printed: sequences/s, CPU seconds
(this process and its children), ratios, and the share of (a)'s wall time spent inside ruff processes.
"""

from __future__ import annotations

import argparse
import resource
import time

from skillseq.linters.pylint_linter import PylintLinter
from skillseq.linters.ruff_linter import RuffLinter
from skillseq.rng import rng
from skillseq.transforms.lintseq.core import Job, edit_diffs, prepare, sample_edit_paths
from skillseq.transforms.seeds import humaneval_seeds, stdlib_functions


def humaneval() -> list[str]:
    return [seed.program for seed in humaneval_seeds()]


def stdlib_programs(n: int) -> list[str]:
    """The first n top-level functions (4 to 60 lines) of the top-level standard-library modules that lint clean."""
    found = [fn.code for fn in stdlib_functions(packages=False) if 4 <= fn.node.end_lineno - fn.node.lineno < 60]
    verdicts = RuffLinter().lint_many(found)
    return [f for f, v in zip(found, verdicts, strict=True) if not v][:n]


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run(codes: list[str], linter, batch: int) -> dict:
    wall, cpu, edits = time.perf_counter(), _cpu(), 0
    for start in range(0, len(codes), batch):
        part = codes[start : start + batch]
        jobs = [Job(prepare(c), rng(0, "bench", start + i, 0)) for i, c in enumerate(part)]
        for code, path in zip(part, sample_edit_paths(jobs, linter), strict=True):
            edits += len(edit_diffs(code, path))
    wall, cpu = time.perf_counter() - wall, _cpu() - cpu
    return {"seqs": len(codes), "edits": edits, "wall": wall, "cpu": cpu, "rate": len(codes) / wall}


def show(name: str, r: dict) -> None:
    print(
        f"{name:<38} {r['seqs']:>4} seqs {r['edits']:>5} edits {r['wall']:8.2f} s wall {r['cpu']:8.2f} s CPU"
        f" {r['rate']:9.1f} seqs/s {r['seqs'] / r['cpu']:9.1f} seqs/CPU-s"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="40 HumanEval + 40 stdlib programs, pylint on 5 + 5")
    ap.add_argument("--pylint-programs", type=int, default=None, help="programs of each set for (c)")
    ap.add_argument(
        "--batch", type=int, default=320, help="samples per lockstep batch (stage default: 64 programs x 5 samples)"
    )
    args = ap.parse_args()
    n_he, n_std, n_pl = (40, 40, 5) if args.quick else (164, 200, 20)
    n_pl = args.pylint_programs or n_pl
    he, std = humaneval()[:n_he], stdlib_programs(n_std)
    codes = he + std
    subset = he[:n_pl] + std[:n_pl]
    print(f"programs: {len(he)} HumanEval + {len(std)} stdlib functions; pylint subset {len(subset)}")

    batched = RuffLinter()
    a = run(codes, batched, args.batch)
    share = batched.ruff_seconds / a["wall"]
    b = run(codes, RuffLinter(one_process_per_source=True), args.batch)
    c = run(subset, PylintLinter(), args.batch)
    show("(a) ruff, batched", a)
    show("(b) ruff, one process per check", b)
    show("(c) pylint in process, per check", c)
    cpu = {k: r["seqs"] / r["cpu"] for k, r in {"a": a, "b": b, "c": c}.items()}
    print(f"a/b: {a['rate'] / b['rate']:.1f}x seqs/s, {cpu['a'] / cpu['b']:.1f}x seqs/CPU-s   (target >= 20x)")
    print(
        f"a/c: {a['rate'] / c['rate']:.1f}x seqs/s, {cpu['a'] / cpu['c']:.1f}x seqs/CPU-s   (target >= 100x;"
        f" c's per-sequence rate measured on {len(subset)} programs, extrapolated)"
    )
    print(f"share of (a)'s wall time inside ruff: {share:.0%}   (target >= 50%); ruff processes: {batched.processes}")


if __name__ == "__main__":
    main()
