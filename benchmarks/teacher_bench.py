"""Teacher throughput: the bare engine against the same prompts sent through `AskTeacher` on DirectRunner.

    python benchmarks/teacher_bench.py [--backends transformers,vllm] [--prompts 32] [--max-new-tokens 64]

Prompts: "explain this function in one sentence" over the first N HumanEval problems, default teacher
(SmolLM2-135M-Instruct). For each backend: (a) the bare engine — transformers `generate` with its own sampling in
batches of `--batch-size` (left padding, chat template), or vLLM `LLM.chat` over all prompts at once; (b) the same
prompts through `AskTeacher` (RunInference, batching, seeded sampling, no response cache) on DirectRunner, with
the same engine object, already loaded (`shared_backend`), so model loading is outside both timings. Printed:
completion tokens per second of each, and the ratio (b)/(a); the target is >= 0.9, i.e. batching is not lost in
the pipeline. vLLM starts an engine process, hence the `__main__` guard.
"""

from __future__ import annotations

import argparse
import json
import time

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter

from skillseq.config import Config, TeacherConfig
from skillseq.context import RunContext
from skillseq.teachers import AskTeacher, TeacherRequest
from skillseq.teachers.teacher import shared_backend
from skillseq.transforms.seeds import humaneval_seeds


def prompts(n: int) -> list[TeacherRequest]:
    return [
        TeacherRequest(s.id, (("user", f"Explain in one sentence what this function does:\n{s.instruction}"),))
        for s in humaneval_seeds(n)
    ]


def bare_transformers(backend, requests, cfg) -> tuple[int, float]:
    import torch

    tok, model = backend.tokenizer, backend.model
    tokens, start = 0, time.perf_counter()
    for i in range(0, len(requests), cfg.batch_size):
        chunk = requests[i : i + cfg.batch_size]
        enc = tok([backend.prompt(r) for r in chunk], return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.inference_mode():
            out = model.generate(
                **enc,
                max_new_tokens=cfg.max_new_tokens,
                do_sample=True,
                temperature=cfg.temperature,
                top_p=cfg.top_p,
                pad_token_id=tok.pad_token_id,
            )
        for row in out[:, enc["input_ids"].shape[1] :].tolist():
            stop = next((j for j, t in enumerate(row) if t in backend.eos_ids), None)
            tokens += len(row) if stop is None else stop + 1
    return tokens, time.perf_counter() - start


def bare_vllm(backend, requests, cfg) -> tuple[int, float]:
    from vllm import SamplingParams

    chats = [[{"role": role, "content": text} for role, text in r.messages] for r in requests]
    params = SamplingParams(temperature=cfg.temperature, top_p=cfg.top_p, max_tokens=cfg.max_new_tokens, seed=0)
    start = time.perf_counter()
    outputs = backend.llm.chat(chats, params, use_tqdm=False)
    return sum(len(o.outputs[0].token_ids) for o in outputs), time.perf_counter() - start


def through_beam(requests, cfg) -> tuple[int, float]:
    p = beam.Pipeline(options=beam.options.pipeline_options.PipelineOptions(["--runner=DirectRunner"]))
    answered, _ = (
        p | beam.Create([(r.key, r) for r in requests]) | AskTeacher(RunContext.of(Config(teacher=cfg)), "bench")
    )
    start = time.perf_counter()
    result = p.run()
    result.wait_until_finish()
    elapsed = time.perf_counter() - start
    counters = result.metrics().query(MetricsFilter().with_namespace("skillseq.teacher"))["counters"]
    metrics = {c.key.metric.name: c.committed for c in counters}
    return metrics.get("bench_completion_tokens", 0), elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backends", default="transformers,vllm")
    ap.add_argument("--prompts", type=int, default=32)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=8, help="transformers batch size (vLLM takes all prompts)")
    ap.add_argument("--vllm-engine-args", default='{"max_model_len": 2048, "enforce_eager": true}')
    args = ap.parse_args()
    requests = prompts(args.prompts)
    rows = []
    for name in args.backends.split(","):
        batch = args.batch_size if name == "transformers" else args.prompts
        engine_args = json.loads(args.vllm_engine_args) if name == "vllm" else {}
        cfg = TeacherConfig(
            backend=name,
            max_new_tokens=args.max_new_tokens,
            batch_size=batch,
            cache_dir=None,
            engine_args=engine_args,
        )
        backend = shared_backend(cfg)  # loaded here, outside both timings; AskTeacher finds the same engine
        bare = bare_transformers if name == "transformers" else bare_vllm
        bare(backend, requests[: min(4, len(requests))], cfg)  # warm-up
        tok_a, sec_a = bare(backend, requests, cfg)
        tok_b, sec_b = through_beam(requests, cfg)
        rows.append((name, tok_a / sec_a, tok_b / sec_b, tok_a, sec_a, tok_b, sec_b))
    print(f"\n{len(requests)} prompts, max_new_tokens={args.max_new_tokens}")
    print(f"{'backend':<13}{'bare tok/s':>12}{'AskTeacher tok/s':>18}{'ratio':>8}   (tokens, seconds: bare | beam)")
    for name, a, b, tok_a, sec_a, tok_b, sec_b in rows:
        print(f"{name:<13}{a:>12.1f}{b:>18.1f}{b / a:>8.2f}   ({tok_a}, {sec_a:.1f} | {tok_b}, {sec_b:.1f})")


if __name__ == "__main__":
    main()
