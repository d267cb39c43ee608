"""Scale: the LintSeq and pragmatic stages (no teacher) at N = 100, 1 000 and 10 000 programs, and SkillMix
(a local teacher) at 1 000, 10 000 and, with `--full`, 100 000 seeds.

    .venv/bin/python benchmarks/scale.py [--quick] [--full] [--stages lintseq,pragmatic,skillmix]

Each (stage, N) runs in a fresh Python process, so peak memory is per N: a real Beam pipeline on the
DirectRunner (in-process FnApiRunner, one worker) reads the programs from a JSONL file written beforehand
(`ReadFromText` -> `Program`), applies the stage, and writes its records and rejects with `WriteToText`
(JSON lines, unsharded, so there is no GroupByKey of the records). Measured in that process: the
pipeline's wall time, the peak RSS of the process (`ru_maxrss`, RUSAGE_SELF; its baseline before the
pipeline starts is printed too), a trace of its RSS through the run, and the peak of its largest child
(RUSAGE_CHILDREN: ruff, sandboxes; a child forked from this process counts this process's pages until it
execs, so that column mostly mirrors the parent's).

Programs:
- lintseq: functions (top-level and methods, 3-80 lines, each parsing on its own, distinct) of the
  standard library of this interpreter, its test suites left out, in the order of a hash of
  `path:line:qualname`, so every N is a prefix and a like-for-like sample. They lint dirty standalone
  (names from their module are undefined), so the run sets `ignore_preexisting_errors=True`: every
  program is sampled, its own diagnostics ignored.
- pragmatic: HumanEval's 164 problems cycled with distinct ids (`HumanEval/3#k`), python domain only.
  One program takes ~0.6 s (sandboxed execution dominates), so the default N is 100 and 1 000; 10 000
  (~2 h on one core) only with `--full`. `pragmatic` is the stage as shipped; `pragmatic-noshuffle`
  is the same two DoFns without the stage's `Reshuffle`, to tell the stage's own state apart from the
  runner's: the in-memory DirectRunner buffers a GroupByKey's whole input, so the Reshuffle (there to
  spread sandbox work over workers on a distributed runner) holds every task in memory here.

What a run on a shared 2-CPU machine showed (benchmarks/results/scale.md): LintSeq is linear with flat
memory to 10 000 programs. The pragmatic stage is linear in time, but its peak RSS grows with N on this
runner: the RSS trace jumps while every task is built and buffered for the Reshuffle, then stays flat while
they execute. Without the Reshuffle the trace has no trend (spikes from single heavy tasks only).

- skillmix: `skillseq run` (in the child process) over a config of the SkillMix stage alone (`skills.mode:
  seeds`, N instructions asked for, the dataset written as Parquet and read back for the counts) against
  tests/skill_teacher.py, a deterministic OpenAI-compatible teacher on 127.0.0.1 started by the parent process
  (its work is not in the child's RSS, its CPU is: both share this machine). Its replies name about as many
  distinct skills per seed as a real teacher (2.6 new compound names, classic skills, an echoed placeholder now
  and then) and its requests are varied, with a few near-duplicates. Seeds are JSONL rows with an instruction.
  Besides time and memory: the distinct names the teacher gave that the catalog's filters keep (counted in the
  parent from the same replies), the catalog's size, the instructions kept and those dropped as near-duplicates.
  Targets: time(10N)/time(N) <= 12, peak RSS <= 4 GB at 100 000 seeds, no crash.
- dedup: near-duplicate removal alone (`DropNearDuplicates`) over N instructions the same teacher writes
  (built in the parent, no HTTP), at the skillmix sizes: records out are those kept, rejected the duplicates.

Cost is linear when time(10N)/time(N) is about 10; the fixed start-up cost of a pipeline (seconds) is
why the smallest N looks slow per program. Timings on a shared machine are noisy: other jobs run too.
Writes `benchmarks/results/scale.md` (the table) and `benchmarks/results/scale.png` (the plot); `--name`
changes the file names.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
STAGES = ("lintseq", "pragmatic", "pragmatic-noshuffle", "skillmix", "dedup")
ROOT = Path(__file__).resolve().parents[1]
RSS_TARGET_MB = 4096  # SkillMix at 100 000 seeds


# ---- programs -------------------------------------------------------------------------------------


def stdlib_functions(n: int) -> list[dict]:
    """The first n standard-library functions in hash order, as Program fields: {"id", "source_id", "code"}."""
    found = _stdlib_pool()
    if len(found) < n:
        raise SystemExit(f"only {len(found)} standard-library functions, {n} asked for")
    return [{"id": f"stdlib/{key}", "source_id": f"stdlib/{key}", "code": code} for _, key, code in found[:n]]


@functools.cache
def _stdlib_pool(min_lines: int = 3, max_lines: int = 80) -> list[tuple[str, str, str]]:
    """(hash, path:line:qualname, code) of every usable function and method, in hash order (a scan of seconds)."""
    from skillseq.transforms.seeds import stdlib_functions

    found, seen = [], set()
    for fn in stdlib_functions(methods=True):
        if not min_lines <= fn.node.end_lineno - fn.node.lineno + 1 <= max_lines:
            continue
        code = textwrap.dedent(fn.code).rstrip() + "\n"
        try:
            ast.parse(code)
        except SyntaxError:
            continue
        if code not in seen:
            seen.add(code)
            key = f"{fn.path}:{fn.node.lineno}:{fn.qualname}"
            found.append((hashlib.sha256(key.encode()).hexdigest(), key, code))
    return sorted(found)


def humaneval_cycled(n: int) -> list[dict]:
    """n HumanEval programs, the 164 problems cycled; copy k of problem p has id `p#k` (k from 0)."""
    from skillseq.transforms.programs import seed_program
    from skillseq.transforms.seeds import humaneval_seeds

    base = [dataclasses.asdict(seed_program(s)) for s in humaneval_seeds()]
    return [{**(p := base[i % len(base)]), "id": f"{p['id']}#{i // len(base)}"} for i in range(n)]


def skillmix_seeds(n: int) -> list[dict]:
    """n seeds with distinct ids and instructions (Seed fields); the teacher's replies depend on their text."""
    kinds = ["log lines", "invoices", "sensor readings", "user profiles", "matrix rows", "file paths", "tweets"]
    return [
        {"id": f"seed/{i:06d}", "instruction": f"Task {i}: write a Python helper that processes {kinds[i % 7]}."}
        for i in range(n)
    ]


def distinct_skill_names(seeds: list[dict]) -> int:
    """Distinct normalised names the benchmark teacher gives these seeds that the catalog's filters keep."""
    from skillseq.config import SkillsConfig
    from skillseq.schema import Seed
    from skillseq.transforms.skillmix.skills import normalize_name, not_a_skill, parse_named_list, seed_request

    _teacher()
    from tests.skill_teacher import seed_reply

    cfg, names = SkillsConfig(), set()
    for row in seeds:
        messages = [
            {"role": role, "content": text} for role, text in seed_request(Seed(source="x", **row), cfg).messages
        ]
        for name, definition in parse_named_list(seed_reply(messages)["skills"], cfg.skills_per_seed):
            if not_a_skill(name, definition) is None:
                names.add(normalize_name(name))
    return len(names)


def _teacher():
    """The benchmark teacher's module (tests/ is not installed: the repository root goes on the path)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests import skill_teacher

    return skill_teacher


def teacher_instructions(n: int) -> list[dict]:
    """n Instruction rows as the benchmark teacher writes them (request and response), each for two compound
    skills drawn by index: the input of near-duplicate removal alone."""
    import random

    from skillseq import prompts
    from skillseq.transforms.programs import extract_code_blocks
    from skillseq.transforms.skillmix.generation import clean_instruction

    teacher, rows = _teacher(), []
    for i in range(n):
        r = random.Random(i)
        skills = [teacher.compound_name(r.getrandbits(64)) for _ in range(2)]
        asked = prompts.instruction_messages("Python programming", skills, "write a function")
        instruction = clean_instruction(teacher.request_reply([{"role": a, "content": b} for a, b in asked]))
        answered = [{"role": a, "content": b} for a, b in prompts.response_messages(instruction)]
        response = teacher.response_reply(answered)
        rows.append(
            {
                "id": f"skillmix/{i:06d}", "skills": [name for name, _ in skills], "query_type": "write a function",
                "instruction": instruction, "response": response, "code_blocks": extract_code_blocks(response),
                "teacher_model": "skill-teacher", "prompt_version": prompts.PROMPT_VERSION, "prompt_tokens": 0,
                "completion_tokens": 0, "provenance": None,
            }
        )  # fmt: skip
    return rows


def programs_for(stage: str, n: int, stdlib_pool: list[dict] | None = None) -> list[dict]:
    if stage == "skillmix":
        return skillmix_seeds(n)
    if stage == "dedup":
        return teacher_instructions(n)
    if stage == "lintseq":
        return (stdlib_pool or stdlib_functions(n))[:n]
    return humaneval_cycled(n)


# ---- one measured run (in its own process) --------------------------------------------------------


def _stage(stage: str, ctx):
    """The transform under test: programs -> (records, rejected)."""
    import apache_beam as beam

    cfg = ctx.config
    if stage == "dedup":
        from skillseq.transforms.skillmix.dedup import DropNearDuplicates

        return DropNearDuplicates(ctx)
    if stage == "lintseq":
        from skillseq.transforms.lintseq import LintSeq

        return LintSeq(ctx)
    from skillseq.transforms.pragmatic.stage import PragmaticExamples, _Build, _ExecuteAndChoose

    if stage == "pragmatic":
        return PragmaticExamples(ctx)

    class _NoShuffle(beam.PTransform):  # PragmaticExamples.expand without its Reshuffle (python domain)
        def expand(self, programs):
            tasks = programs | "BuildTasks" >> beam.ParDo(_Build(cfg.pragmatic, ctx)).with_outputs(
                "rejected", main="t"
            )
            chosen = tasks.t | "ExecuteAndChoose" >> beam.ParDo(_ExecuteAndChoose(cfg.pragmatic, ctx)).with_outputs(
                "rejected", main="examples"
            )
            return chosen.examples, (tasks.rejected, chosen.rejected) | "Rejected" >> beam.Flatten()

    return _NoShuffle()


def _to_json(record) -> str:
    return json.dumps(dataclasses.asdict(record), sort_keys=True)


def _peak_mb(who) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux: kilobytes


class _RssTrace(threading.Thread):
    """Samples this process's resident memory (MB) every `every` seconds: does it climb through the run?"""

    def __init__(self, every: float = 0.2):
        super().__init__(daemon=True)
        self.every, self.samples, self.stop = every, [], threading.Event()

    def run(self):
        start, page = time.perf_counter(), os.sysconf("SC_PAGE_SIZE")
        while True:
            resident = int(Path("/proc/self/statm").read_text().split()[1]) * page / 2**20
            self.samples.append((time.perf_counter() - start, resident))
            if self.stop.wait(self.every):
                return

    def summary(self) -> dict:
        """Peak RSS in the first and the second half of the run, and about 40 samples of the trace."""
        self.stop.set()
        self.join()
        s = self.samples  # the first sample is taken at the start
        half = s[-1][0] / 2
        return {
            "first_half_mb": max(mb for t, mb in s if t <= half),
            "second_half_mb": max((mb for t, mb in s if t > half), default=s[-1][1]),
            "trace": s[:: max(1, len(s) // 40)],
        }


def measure_here(stage: str, programs_path: str, out_dir: str) -> dict:
    """Run one stage over a JSONL file of programs (seeds for skillmix) in THIS process; the numbers of that run."""
    if stage == "skillmix":
        return measure_skillmix_here(programs_path, out_dir, os.environ["SKILLSEQ_SCALE_TEACHER"])
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from skillseq.config import Config
    from skillseq.context import RunContext
    from skillseq.schema import Instruction, Program

    cfg = Config(
        lintseq={"ignore_preexisting_errors": True},
        pragmatic={"domains": ["python"], **json.loads(os.environ.get("SKILLSEQ_SCALE_PRAGMATIC", "{}"))},
    )
    ctx = RunContext.of(cfg)
    options = PipelineOptions(["--runner=DirectRunner", "--direct_running_mode=in_memory", "--direct_num_workers=1"])
    baseline = _peak_mb(resource.RUSAGE_SELF)
    trace = _RssTrace()
    trace.start()
    start = time.perf_counter()
    with beam.Pipeline(options=options) as p:
        programs = (
            p
            | "ReadPrograms" >> beam.io.ReadFromText(programs_path)
            | "ToProgram"
            >> beam.Map(lambda line, kind: kind(**json.loads(line)), Instruction if stage == "dedup" else Program)
        )
        records, rejected = programs | "Stage" >> _stage(stage, ctx)
        records | "RecordsJson" >> beam.Map(_to_json) | "WriteRecords" >> beam.io.WriteToText(f"{out_dir}/records")
        rejected | "RejectedJson" >> beam.Map(_to_json) | "WriteRejected" >> beam.io.WriteToText(f"{out_dir}/rejected")
    wall = time.perf_counter() - start
    return {
        **trace.summary(),
        "wall_s": wall,
        "records": _count_lines(f"{out_dir}/records"),
        "rejected": _count_lines(f"{out_dir}/rejected"),
        "baseline_mb": baseline,
        "peak_mb": _peak_mb(resource.RUSAGE_SELF),
        "child_peak_mb": _peak_mb(resource.RUSAGE_CHILDREN),
    }


def skillmix_config(base_url: str, seeds_path: str, out_dir: str) -> dict:
    """`skillseq run`'s config: SkillMix from the seeds against the local teacher, as many instructions asked for
    as there are seeds, no response cache, LintSeq and pragmatic off, the in-process DirectRunner."""
    n = sum(1 for _ in open(seeds_path, "rb"))
    return {
        "seed": 0,
        "seeds": [{"kind": "jsonl", "path": seeds_path}],
        "teacher": {
            "backend": "openai",
            "model": "skill-teacher",
            "batch_size": 64,
            "cache_dir": None,
            "openai": {"base_url": base_url, "max_concurrency": 16, "max_retries": 5, "backoff_s": 0.2},
        },
        "skills": {"mode": "seeds"},
        "generation": {"num_instructions": n},
        "lintseq": {"enabled": False},
        "pragmatic": {"enabled": False},
        "output": {"path": out_dir, "num_shards": 4},
        "beam_options": ["--runner=DirectRunner", "--direct_running_mode=in_memory", "--direct_num_workers=1"],
    }


def measure_skillmix_here(seeds_path: str, out_dir: str, base_url: str) -> dict:
    """`skillseq run` over a config written for these seeds, in THIS process; the numbers of that run, the counts
    read back from the dataset it wrote."""
    import pyarrow.parquet as pq
    import yaml

    from skillseq.pipelines.cli import main as skillseq

    config = Path(out_dir).parent / "skillmix.yaml"
    config.write_text(yaml.safe_dump(skillmix_config(base_url, seeds_path, out_dir)), encoding="utf-8")
    baseline = _peak_mb(resource.RUSAGE_SELF)
    trace = _RssTrace()
    trace.start()
    start = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # its summary; stdout carries the numbers
        code = skillseq(["run", str(config), "--no-progress"])
    wall = time.perf_counter() - start
    if code:
        raise SystemExit(f"skillseq run exited {code}")

    def rows(name: str) -> list[dict]:
        return [r for f in sorted(Path(out_dir).glob(f"{name}/*.parquet")) for r in pq.read_table(f).to_pylist()]

    rejected = rows("rejected")
    return {
        **trace.summary(),
        "wall_s": wall,
        "catalog": len(rows("skills")),
        "records": len(rows("instructions")),
        "rejected": len(rejected),
        "near_duplicates": sum(1 for r in rejected if r["reason"] == "near_duplicate"),
        "teacher_errors": sum(1 for r in rejected if r["reason"] == "teacher_error"),
        "baseline_mb": baseline,
        "peak_mb": _peak_mb(resource.RUSAGE_SELF),
        "child_peak_mb": _peak_mb(resource.RUSAGE_CHILDREN),
    }


def _read_lines(prefix: str) -> list[dict]:
    parent, name = Path(prefix).parent, Path(prefix).name
    return [json.loads(line) for f in sorted(parent.glob(f"{name}-*")) for line in f.open(encoding="utf-8")]


def _count_lines(prefix: str) -> int:
    parent, name = Path(prefix).parent, Path(prefix).name
    return sum(sum(1 for _ in f.open("rb")) for f in parent.glob(f"{name}-*"))


def measure(stage: str, programs: list[dict], workdir: Path) -> dict:
    """Write the programs as JSONL, run the stage over them in a fresh process, return its numbers."""
    run_dir = workdir / f"{stage}-{len(programs)}"
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "programs.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in programs), encoding="utf-8")
    cmd = [sys.executable, __file__, "--child", stage, str(path), str(run_dir / "out")]
    if stage == "skillmix":
        with _teacher().SkillTeacher() as teacher:
            env = dict(os.environ, SKILLSEQ_SCALE_TEACHER=teacher.base_url)
            done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
        extra = {"distinct_names": distinct_skill_names(programs)}
    else:
        done, extra = subprocess.run(cmd, capture_output=True, text=True, check=False), {}
    if done.returncode != 0:
        raise RuntimeError(f"{stage} at N={len(programs)} failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    return {"stage": stage, "n": len(programs), **json.loads(done.stdout.strip().splitlines()[-1]), **extra}


# ---- report ---------------------------------------------------------------------------------------


def table(rows: list[dict]) -> str:
    """The program stages' table, then SkillMix's (its own columns) when it ran."""
    skillmix = [r for r in rows if r["stage"] == "skillmix"]
    rows = [r for r in rows if r["stage"] != "skillmix"]
    out = _programs_table(rows) if rows else ""
    return out + ("\n" if out and skillmix else "") + (skillmix_table(skillmix) if skillmix else "")


def skillmix_table(rows: list[dict]) -> str:
    head = (
        "| stage | seeds N | instructions asked | wall s | seeds/s | distinct names | catalog | instructions kept "
        "| near-duplicates | teacher errors | rejected | RSS before MB | peak RSS MB |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    return head + "".join(
        f"| skillmix | {r['n']} | {r['n']} | crashed ||||||||||\n"
        if "crashed" in r
        else f"| skillmix | {r['n']} | {r['n']} | {r['wall_s']:.1f} | {r['n'] / r['wall_s']:.1f} | {r['distinct_names']} "
        f"| {r['catalog']} | {r['records']} | {r['near_duplicates']} | {r['teacher_errors']} | {r['rejected']} "
        f"| {r['baseline_mb']:.0f} "
        f"| {r['peak_mb']:.0f} |\n"
        for r in rows
    )


def _programs_table(rows: list[dict]) -> str:
    head = (
        "| stage | N | wall s | programs/s | records out | records/s | rejected | RSS before MB "
        "| RSS max 1st half MB | RSS max 2nd half MB | peak RSS MB | peak child MB |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    return head + "".join(
        f"| {r['stage']} | {r['n']} | {r['wall_s']:.1f} | {r['n'] / r['wall_s']:.1f} | {r['records']} "
        f"| {r['records'] / r['wall_s']:.1f} | {r['rejected']} | {r['baseline_mb']:.0f} | {r['first_half_mb']:.0f} "
        f"| {r['second_half_mb']:.0f} | {r['peak_mb']:.0f} | {r['child_peak_mb']:.0f} |\n"
        for r in rows
    )


def ratios(rows: list[dict]) -> str:
    """Per stage, from its second-largest to its largest N: time ratio vs N ratio, peak ratio, marginal cost."""
    lines = [f"{r['stage']}: CRASHED at N={r['n']}" for r in rows if "crashed" in r]
    rows = [r for r in rows if "crashed" not in r]
    for stage in dict.fromkeys(r["stage"] for r in rows):
        mine = sorted((r for r in rows if r["stage"] == stage), key=lambda r: r["n"])
        if len(mine) < 2:
            continue
        a, b = mine[-2], mine[-1]
        marginal = (b["wall_s"] - a["wall_s"]) / (b["n"] - a["n"]) * 1000
        lines.append(
            f"{stage}: N {a['n']} -> {b['n']} ({b['n'] / a['n']:.0f}x): time {b['wall_s'] / a['wall_s']:.2f}x"
            f" (linear: {b['n'] / a['n']:.0f}x), peak RSS {b['peak_mb'] / a['peak_mb']:.2f}x (target <= 1.5x),"
            f" peak RSS above baseline {b['peak_mb'] - b['baseline_mb']:.0f} MB"
            f" vs {a['peak_mb'] - a['baseline_mb']:.0f} MB,"
            f" marginal {marginal:.1f} ms/program"
        )
        if stage == "skillmix":
            # Measured, never extrapolated: the largest N whose tenth was run too.
            tens = [(r, big) for big in mine for r in mine if big["n"] == 10 * r["n"]]
            if tens:
                small, big = tens[-1]
                ratio = big["wall_s"] / small["wall_s"]
                measured = f"time(10N)/time(N) {ratio:.2f} at N={small['n']} (target <= 12: "
                measured += f"{'met' if ratio <= 12 else 'MISSED'})"
            else:
                measured = "time(10N)/time(N) not measured (no N run beside 10N)"
            lines.append(
                f"skillmix targets: {measured}"
                f"; peak RSS at N={b['n']} {b['peak_mb']:.0f} MB (target at 100 000 <= {RSS_TARGET_MB} MB: "
                f"{'met' if b['peak_mb'] <= RSS_TARGET_MB else 'MISSED'}{'' if b['n'] >= 100_000 else ', not run'})"
            )
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in rows if "crashed" not in r]
    fig, (left, right, trace) = plt.subplots(1, 3, figsize=(16, 4.4))
    for stage in dict.fromkeys(r["stage"] for r in rows):
        mine = sorted((r for r in rows if r["stage"] == stage), key=lambda r: r["n"])
        ns = [r["n"] for r in mine]
        (line,) = left.plot(ns, [r["wall_s"] for r in mine], "o-", label=stage)
        right.plot(ns, [r["peak_mb"] for r in mine], "o-", label=stage)
        for r, style in zip(mine[::-1][:2], ["-", "--"], strict=False):
            t = [sample[0] / r["wall_s"] for sample in r["trace"]]
            trace.plot(
                t, [sample[1] for sample in r["trace"]], style, color=line.get_color(), label=f"{stage} N={r['n']}"
            )
    ns = sorted({r["n"] for r in rows})
    t0 = min(r["wall_s"] for r in rows if r["n"] == ns[0])
    left.plot(ns, [t0 * n / ns[0] for n in ns], "k:", label="linear")
    left.set(xscale="log", yscale="log", xlabel="programs N", ylabel="wall time (s)", title="Wall time vs N")
    right.set(xscale="log", xlabel="programs N", ylabel="peak RSS (MB)", title="Peak memory vs N", ylim=(0, None))
    trace.set(xlabel="fraction of the run", ylabel="RSS (MB)", title="RSS through the run (two largest N)")
    trace.set_ylim(bottom=0)
    for ax in (left, right, trace):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.suptitle("skillseq stages on Beam DirectRunner (in-process, 1 worker; shared 2-core machine)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(stages: list[str], sizes: dict[str, list[int]], workdir: Path, log=print) -> list[dict]:
    """Measure every (stage, N); the list of result rows."""
    pool = stdlib_functions(max(sizes["lintseq"])) if "lintseq" in stages else None
    rows = []
    for stage in stages:
        for n in sizes[stage]:
            try:
                rows.append(measure(stage, programs_for(stage, n, pool), workdir))
            except RuntimeError as e:
                if stage != "skillmix":
                    raise
                # "No crash" is one of SkillMix's targets: a crash is a result, and the larger N are not tried.
                rows.append({"stage": stage, "n": n, "crashed": str(e)[-2000:]})
                log(f"  {stage} N={n}: CRASHED\n{rows[-1]['crashed']}")
                break
            r = rows[-1]
            log(f"  {stage} N={n}: {r['wall_s']:.1f} s, {r['records']} records, peak {r['peak_mb']:.0f} MB")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="N = 20, 100, 200 (smoke)")
    ap.add_argument(
        "--full", action="store_true", help="also pragmatic at N = 10 000 (about two hours), skillmix at 100 000 seeds"
    )
    ap.add_argument("--stages", default="lintseq,pragmatic", help=f"comma-separated, of {', '.join(STAGES)}")
    ap.add_argument("--name", default="scale", help="results are written to benchmarks/results/NAME.{md,png}")
    ap.add_argument("--sizes", default=None, help="comma-separated N for every stage, e.g. 1000,10000")
    ap.add_argument("--pragmatic", default="{}", help='PragmaticConfig settings as JSON, e.g. {"max_alternatives": 8}')
    ap.add_argument("--child", nargs=3, metavar=("STAGE", "PROGRAMS", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure_here(*args.child)))
        return
    stages = args.stages.split(",")
    if unknown := set(stages) - set(STAGES):
        raise SystemExit(f"unknown stages {sorted(unknown)}; known: {', '.join(STAGES)}")
    big = [20, 100, 200] if args.quick else [100, 1000, 10000]
    slow = big if args.full or args.quick else big[:2]
    seeds = [20, 100, 200] if args.quick else [1000, 10000, 100000] if args.full else [1000, 10000]
    sizes = {"lintseq": big, "pragmatic": slow, "pragmatic-noshuffle": slow, "skillmix": seeds, "dedup": seeds}
    if args.sizes:
        sizes = dict.fromkeys(sizes, [int(n) for n in args.sizes.split(",")])
    os.environ["SKILLSEQ_SCALE_PRAGMATIC"] = json.dumps(json.loads(args.pragmatic))  # read by each child run
    plan = ", ".join(f"{s} at N={'/'.join(map(str, sizes[s]))}" for s in stages)
    if args.pragmatic != "{}":
        plan += f" (pragmatic settings {args.pragmatic})"
    print(f"running {plan}; {os.cpu_count()} CPUs, shared with other jobs: timings are noisy")
    with tempfile.TemporaryDirectory(prefix="skillseq-scale-") as tmp:
        rows = run(stages, sizes, Path(tmp))
    report = f"{table(rows)}\n{ratios(rows)}\n"
    print("\n" + report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    md, png = RESULTS / f"{args.name}.md", RESULTS / f"{args.name}.png"
    md.write_text(f"Run: {plan} ({os.cpu_count()} CPUs, shared).\n\n{report}", encoding="utf-8")
    plot(rows, png)
    print(f"wrote {md} and {png}")


if __name__ == "__main__":
    main()
