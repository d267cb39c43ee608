"""Where the dry run's time goes: time per stage, and the teacher's tokens/s beside the bare engine's.

    python benchmarks/dry_run_bench.py [--backends transformers,vllm] [--config configs/dry_run.yaml]
                                       [--set teacher.batch_size=8 ...]

For each backend, in one process: the dry-run profile with a fresh output folder and a fresh response cache (the
model folder converted beforehand, as after a first run). Printed per backend:

- engine start: loading the engine (`shared_backend`, then reused by the pipeline), outside the pipeline's timing;
- time per stage: Beam's own per-transform execution time (the `TOTAL_MSECS` monitoring info of every step,
  summed per stage: seeds, skill extraction, catalog, instructions, responses, filters, LintSeq, pragmatic, sink;
  card: writing the card and moving the folder in place after the pipeline, as `skillseq run` does; `runner` is
  the wall time no step accounts for: scheduling, shuffles, bundle set-up);
- per teacher stage: completion tokens and tokens/s through the pipeline (`<stage>_completion_tokens` over
  `<stage>_teacher_ms`: constrained decoding, cache, JSON retries, Beam's batching included), beside the bare
  engine's tokens/s on the same requests: every request the stage sent, prompts as the backend renders them,
  unconstrained, the engine's own sampling, in batches of `teacher.batch_size`;
- the two targets: run time (engine start + pipeline) <= 180 s, and pipeline tokens/s >= 0.5 x bare tokens/s.

Absolute times depend on the machine and on what else runs on it; the ratios are measured in the same run.
vLLM starts an engine process, hence the `__main__` guard.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict

import apache_beam as beam
from apache_beam.metrics import monitoring_infos
from teacher_bench import bare_transformers, bare_vllm  # benchmarks/ is on the path of a script run from it

from skillseq import progress
from skillseq.config import load_config
from skillseq.pipelines.build import build, card_info
from skillseq.pipelines.run import counters, pipeline_options
from skillseq.teachers import default_model_dir
from skillseq.teachers.teacher import shared_backend
from skillseq.transforms.sinks import finish_dataset

TARGET_S, TARGET_RATIO = 180.0, 0.5
# Step-name prefixes -> stage, first match wins; Beam names steps "Outer/Inner/..." after the composites.
STAGES = [
    ("ReadSeeds", "seeds"),
    ("DecontaminateSeeds", "seeds"),
    ("SkillMix/ExtractSkills", "skill extraction"),
    ("SkillMix/BuildSkillCatalog", "catalog"),
    ("SkillMix/BuildQueryTypes", "catalog"),
    ("SkillMix/GenerateInstructions/AskForResponse", "responses"),
    ("SkillMix/SampleSkillCombos", "instructions"),
    ("SkillMix/GenerateInstructions", "instructions"),
    ("SkillMix/FilterShirkers", "filters"),
    ("SkillMix/DropNearDuplicates", "filters"),
    ("SkillMix/Decontaminate", "filters"),
    ("LintSeq", "LintSeq"),
    ("PragmaticExamples", "pragmatic"),  # its teacher steps (inputs, descriptions, alternatives) included
    ("WriteDataset/CardAndMove", "card"),
    ("WriteDataset", "sink"),
]
ORDER = [*dict.fromkeys(stage for _, stage in STAGES), "other steps", "runner"]


def stage_of(step: str) -> str:
    return next((stage for prefix, stage in STAGES if step.startswith(prefix)), "other steps")


def step_seconds(result) -> dict[str, float]:
    """Seconds per stage from the runner's per-step execution time."""
    out: dict[str, float] = defaultdict(float)
    for info in result.monitoring_infos():
        if info.urn == monitoring_infos.TOTAL_MSECS_URN:
            step = info.labels.get(monitoring_infos.PTRANSFORM_LABEL, "")
            out[stage_of(step)] += monitoring_infos.extract_counter_value(info) / 1000
    return out


def record_requests(engine) -> dict[str, list]:
    """Wrap the engine's `generate` to keep every (request, seed) job it gets, by teacher stage."""
    jobs: dict[str, list] = defaultdict(list)
    generate = engine.generate

    def recording(batch):
        jobs[progress.current_stage() or "?"].extend(batch)
        return generate(batch)

    engine.generate = recording
    return jobs


def bare_tokens(backend: str, engine, jobs, cfg) -> tuple[int, float]:
    """Completion tokens and seconds of the bare engine on `jobs`: unconstrained, its own sampling, in the
    pipeline's batch size."""
    requests = [r for r, _ in jobs]
    bare = bare_vllm if backend == "vllm" else bare_transformers
    tokens, seconds = 0, 0.0
    for i in range(0, len(requests), cfg.batch_size):
        t, s = bare(engine, requests[i : i + cfg.batch_size], cfg)
        tokens, seconds = tokens + t, seconds + s
    return tokens, seconds


def bench(backend: str, config: str, sets: list[str], workdir: str) -> dict:
    cfg = load_config(
        config,
        [*sets, f"teacher.backend={backend}", f"teacher.cache_dir={workdir}/cache-{backend}"]
        + [f"output.path={workdir}/out-{backend}"],
    )
    started = time.perf_counter()
    engine = shared_backend(cfg.teacher)
    engine_s = time.perf_counter() - started
    jobs = record_requests(engine)
    progress.TEACHER.clear()

    pipeline = beam.Pipeline(options=pipeline_options(cfg, []))
    build(pipeline, cfg)
    started = time.perf_counter()
    result = pipeline.run()
    result.wait_until_finish()
    metrics = counters(result)
    written = time.perf_counter()
    finish_dataset(cfg.output, card_info(cfg), metrics)  # as `skillseq run` does after the pipeline
    wall = time.perf_counter() - started
    del engine.generate  # unwrap

    seconds = step_seconds(result)
    seconds["card"] += time.perf_counter() - written
    seconds["runner"] = max(0.0, wall - sum(seconds.values()))
    teacher = {}
    for stage, jobs_of_stage in jobs.items():
        tokens = metrics.get(f"skillseq.teacher/{stage}_completion_tokens", 0)
        teacher_s = metrics.get(f"skillseq.teacher/{stage}_teacher_ms", 0) / 1000
        unique = list({(r.key, r.sample_index, r.messages): (r, s) for r, s in jobs_of_stage}.values())
        bare = bare_tokens(backend, engine, unique, cfg.teacher)
        teacher[stage] = {"requests": len(jobs_of_stage), "tokens": tokens, "seconds": teacher_s, "bare": bare}
    return {"backend": backend, "engine_s": engine_s, "wall": wall, "seconds": seconds, "teacher": teacher}


def rate(tokens: float, seconds: float) -> float:
    return tokens / seconds if seconds > 0 else 0.0


def report(r: dict) -> None:
    print(f"\n== {r['backend']}: engine start {r['engine_s']:.1f} s, pipeline {r['wall']:.1f} s")
    print(f"{'stage':<18}{'time s':>9}")
    for stage in ORDER:
        print(f"{stage:<18}{r['seconds'].get(stage, 0.0):>9.1f}")
    print(f"{'teacher stage':<24}{'requests':>9}{'tokens':>8}{'time s':>8}{'tok/s':>8}{'bare tok/s':>11}{'ratio':>7}")
    for name, t in r["teacher"].items():
        ours, bare = rate(t["tokens"], t["seconds"]), rate(*t["bare"])
        print(
            f"{name:<24}{t['requests']:>9}{t['tokens']:>8}{t['seconds']:>8.1f}{ours:>8.1f}{bare:>11.1f}"
            f"{rate(ours, bare):>7.2f}"
        )
    t = r["teacher"].values()
    ours = rate(sum(x["tokens"] for x in t), sum(x["seconds"] for x in t))
    bare = rate(sum(x["bare"][0] for x in t), sum(x["bare"][1] for x in t))
    total = r["engine_s"] + r["wall"]
    print(f"run time (engine start + pipeline): {total:.1f} s, target <= {TARGET_S:.0f} s: {total <= TARGET_S}")
    ratio = rate(ours, bare)
    print(
        f"teacher tok/s through the pipeline / bare engine: {ours:.1f} / {bare:.1f} = {ratio:.2f}, "
        f"target >= {TARGET_RATIO}: {ratio >= TARGET_RATIO}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="transformers,vllm")
    parser.add_argument("--config", default="configs/dry_run.yaml")
    parser.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE")
    args = parser.parse_args()
    default_model_dir()  # converted before any timing, as after a first run
    with tempfile.TemporaryDirectory(prefix="dry-run-bench-") as workdir:
        for backend in args.backends.split(","):
            report(bench(backend, args.config, args.set, workdir))


if __name__ == "__main__":
    main()
