"""Does the data teach? A model trained on pragmatic examples against one trained on random ones, asked by people.

    .venv/bin/python benchmarks/downstream.py [--experiment pragmatic|lintseq|all] [--quick]
        [--eval ../shared/eval/regex_user_study_dev.jsonl] [--targets N] [--k K] [--steps S] [--lr LR] [--lora]
        [--warmup-targets W] [--warmup-steps S] [--samples N]

The pragmatic experiment (Vaduguru, Fried & Pu 2024, in miniature):
- Targets: `--targets` regexes from the project's StructuredRegex-style grammar (`regex_grammar`), seeded by
  `--seed`; any that equals, or is automaton-equivalent to, an evaluation target is dropped first.
- Two training sets made by the pragmatic stage on those targets, same k and candidates: `selection: pragmatic`
  (the RSA speaker's examples) and `selection: random` (as many drawn at random). One row per target.
- The literal listener, as the paper trains it first: the embedded SmolLM2-135M-Instruct fine-tuned with TRL's
  SFTTrainer for `--warmup-steps` on random examples of `--warmup-targets` other targets (a second draw of the
  grammar, seed + 1, without the experiment's and the evaluation's targets). Trained once, shared by both models.
- Two models: the literal listener fine-tuned on each set's `prompt` and `completion` columns; same
  hyperparameters, steps, seed and batch order.
- Evaluation on people's examples (`--eval`, outside the project; never trained on): per episode and k in
  {1, 3, 5, all}, the person's first k examples (fewer when the person gave fewer), rendered with
  `skillseq.training.pragmatic_prompt`. The guess is the paper's replay listener's: `--samples` programs sampled
  (top-p 0.9, temperature 1; the paper draws 500) plus the greedy one, and the most probable of those consistent
  with the examples (the most probable of all when none is). top-1: the guess is equivalent to the target
  (finite automata over the candidate space, `regex_domain.equivalent_to`, in a child process with a timeout);
  greedy top-1: the same for the greedy guess alone; consistent: the guess fully matches exactly the strings
  marked "yes" among those k. Every program is a model's output, so it runs only in the sandbox.
- Reported: both models side by side with 95% bootstrap intervals over episodes, the ratio (with its interval)
  and the paired difference's interval, sizes and wall times; to stdout and `benchmarks/results/downstream-
  pragmatic.{txt,json}`.

`--experiment lintseq` runs `benchmarks/downstream_lintseq.py` (the LintSeq harness, imported only then; it
parses the command line with its own arguments). With `--experiment all` a flag both know (`--quick`, `--seed`,
`--steps`, ...) reaches both experiments.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
DEFAULT_EVAL = REPO.parent / "shared" / "eval" / "regex_user_study_dev.jsonl"
KS = (1, 3, 5, "all")
SELECTIONS = ("pragmatic", "random")


# ---------------------------------------------------------------------------------------------- evaluation data


def load_episodes(path: Path) -> list[dict]:
    """People's episodes: {"id", "regex", "examples": [(string, matches), ...]} in the order they were given."""
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if not isinstance(row.get("regex"), str) or not row.get("examples"):
            raise ValueError(f"{path}:{n}: an episode needs a `regex` and a non-empty `examples` list")
        rows.append(
            {"id": row.get("id", str(n)), "regex": row["regex"], "examples": [tuple(e) for e in row["examples"]]}
        )
    return rows


def first_k(episode: dict, k) -> list[tuple[str, bool]]:
    return episode["examples"] if k == "all" else episode["examples"][:k]


# -------------------------------------------------------------------------------------------------- the targets


def _equivalent(pair: tuple[str, str]) -> bool:
    from skillseq.transforms.pragmatic.regex_domain import equivalent_to

    target, guess = pair
    return equivalent_to(target, [guess])[0] is True


class Equivalence:
    """Automaton equivalence in a child process, each pair under a timeout (a guess can blow up the automaton
    builder); a pair past it, or outside what `interegular` reads, counts as not equivalent."""

    def __init__(self, timeout_s: float = 10.0):
        import skillseq.transforms.pragmatic.regex_domain  # noqa: F401  (before the fork: the child imports nothing)

        self.timeout_s, self.timeouts, self.cache = timeout_s, 0, {}
        self._ctx = multiprocessing.get_context("fork")  # fast; the child runs only interegular
        self._pool = self._ctx.Pool(1)

    def __call__(self, target: str, guess: str) -> bool:
        if (target, guess) not in self.cache:
            try:
                self.cache[target, guess] = self._pool.apply_async(_equivalent, ((target, guess),)).get(self.timeout_s)
            except multiprocessing.TimeoutError:
                self.timeouts += 1
                self._pool.terminate()
                self._pool = self._ctx.Pool(1)
                self.cache[target, guess] = False
        return self.cache[target, guess]

    def close(self):
        self._pool.terminate()


def training_targets(count: int, seed: int, episodes: list[dict], equivalence: Equivalence) -> tuple[list[str], int]:
    """Sampled targets without any evaluation target: equal after normalising, or equivalent on automata (checked
    where each fully matches five strings drawn from the other). Returns (kept, dropped)."""
    from skillseq.transforms.pragmatic.regex_domain import parse, sample_positive, unparse
    from skillseq.transforms.pragmatic.regex_grammar import sampled_regexes

    def normal(p):
        try:
            return unparse(parse(p))
        except Exception:
            return p

    gen = np.random.default_rng(seed)
    evals = {e["regex"]: [sample_positive(parse(e["regex"]), gen) for _ in range(5)] for e in episodes}
    normals = {normal(t) for t in evals}
    compiled = {t: re.compile(t) for t in evals}  # the study's targets: the same grammar, safe to run in process
    kept, dropped = [], 0
    for _, pattern in sampled_regexes(count, seed):
        mine = re.compile(pattern)  # the grammar's regexes nest no unbounded repeats: safe in process
        own = [sample_positive(parse(pattern), gen) for _ in range(5)]
        if normal(pattern) in normals or any(
            all(mine.fullmatch(s) for s in strings)
            and all(compiled[t].fullmatch(s) for s in own)
            and equivalence(t, pattern)
            for t, strings in evals.items()
        ):
            dropped += 1
        else:
            kept.append(pattern)
    return kept, dropped


# ------------------------------------------------------------------------------------------ the training sets


def build_set(patterns: list[str], k: int, seed: int, selection: str) -> tuple[list[dict], int]:
    """The pragmatic stage on the targets (a Beam pipeline, DirectRunner): (rows, rejected count)."""
    import apache_beam as beam

    from skillseq.config import Config, PragmaticConfig
    from skillseq.context import RunContext
    from skillseq.schema import to_row
    from skillseq.transforms.pragmatic import PragmaticExamples

    cfg = PragmaticConfig(domains=["regex"], regexes=patterns, num_examples=k, selection=selection)
    ctx = RunContext.of(Config(seed=seed, pragmatic=cfg))
    with tempfile.TemporaryDirectory() as tmp:
        with beam.Pipeline(options=beam.options.pipeline_options.PipelineOptions(["--runner=DirectRunner"])) as p:
            examples, rejected = p | beam.Create([]) | PragmaticExamples(ctx)
            _ = examples | "Rows" >> beam.Map(lambda e: json.dumps(to_row(e))) | beam.io.WriteToText(f"{tmp}/rows")
            _ = rejected | "Drops" >> beam.Map(lambda r: r.id) | "WriteDrops" >> beam.io.WriteToText(f"{tmp}/drops")
        rows = [json.loads(line) for f in sorted(Path(tmp).glob("rows*")) for line in f.read_text().splitlines()]
        drops = sum(len(f.read_text().splitlines()) for f in Path(tmp).glob("drops*"))
    rows.sort(key=lambda r: int(r["id"].rsplit("/", 1)[1]))  # config order: both sets list targets alike
    return rows, drops


def prompt_completion(row: dict) -> dict:
    """A row's trainer columns, as the stage wrote them."""
    return {"prompt": row["prompt"], "completion": row["completion"]}


# ------------------------------------------------------------------------------------------------ the models


def train(records: list[dict], args, out_dir: str, steps: int, start: str | None = None):
    """A causal LM fine-tuned on prompt/completion with TRL, from `start` (a saved model; default the embedded
    SmolLM2-135M-Instruct): (model, tokenizer, final train loss)."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from skillseq.teachers import default_model_dir

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model_dir = start or str(default_model_dir())
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    peft_config = None
    if args.lora:
        from peft import LoraConfig

        peft_config = LoraConfig(
            r=16, lora_alpha=32, lora_dropout=0.0, target_modules="all-linear", task_type="CAUSAL_LM"
        )
    config = SFTConfig(
        output_dir=out_dir,
        max_steps=steps,
        per_device_train_batch_size=args.batch_size,
        learning_rate=args.lr,
        lr_scheduler_type="cosine",
        warmup_steps=max(1, steps // 20),
        weight_decay=0.0,
        logging_steps=max(1, steps // 10),
        save_strategy="no",
        report_to=[],
        seed=args.seed,
        data_seed=args.seed,
        bf16=args.bf16,
        use_cpu=not torch.cuda.is_available(),  # a GPU when there is one
        max_length=256,
        dataloader_num_workers=0,
        disable_tqdm=True,
    )
    trainer = SFTTrainer(
        model=model,
        args=config,
        train_dataset=Dataset.from_list(records),
        processing_class=tok,
        peft_config=peft_config,
    )
    result = trainer.train()
    model = trainer.model.merge_and_unload() if args.lora else trainer.model
    return model.eval(), tok, float(result.training_loss)


def _stops(tok) -> list[int]:
    return [tok.eos_token_id, *tok.encode("\n")]  # a regex holds no newline: the line ends the guess


def _texts_and_logprobs(tok, new_tokens, logits, stops: list[int]) -> list[tuple[str, float]]:
    """Each generated row cut at its first stop token: (text, log-probability of its tokens up to that stop)."""
    import torch

    logp = torch.stack(logits, 1).float().log_softmax(-1).gather(-1, new_tokens[..., None])[..., 0]
    stopped = torch.isin(new_tokens, torch.tensor(stops, device=new_tokens.device))
    keep = (stopped.long().cumsum(1) - stopped.long()) == 0  # up to and including the first stop
    out = []
    for row, lp, k in zip(new_tokens, logp, keep, strict=True):
        text = tok.decode(row[k], skip_special_tokens=True).split("\n")[0].strip()
        out.append((text, float(lp[k].sum())))
    return out


def guesses(model, tok, prompts: list[str], batch_size: int, max_new_tokens: int) -> list[tuple[str, float]]:
    """Greedy first guesses with their log-probabilities, batched (left padding)."""
    import torch

    tok.padding_side = "left"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))  # like lengths together: less padding
    out: list[tuple[str, float]] = [("", 0.0)] * len(prompts)
    stops = _stops(tok)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            enc = tok([prompts[i] for i in idx], return_tensors="pt", padding=True).to(model.device)
            gen = model.generate(
                **enc,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                num_beams=1,
                pad_token_id=tok.pad_token_id,
                eos_token_id=stops,
                output_logits=True,
                return_dict_in_generate=True,
            )
            said = _texts_and_logprobs(tok, gen.sequences[:, enc["input_ids"].shape[1] :], gen.logits, stops)
            for i, guess in zip(idx, said, strict=True):
                out[i] = guess
    return out


def samples(model, tok, prompts: list[str], n: int, seed: int, max_new_tokens: int) -> list[dict[str, float]]:
    """Per prompt, n programs sampled as the paper's replay does (top-p 0.9, temperature 1), each with its
    log-probability: {text: log p}. The prompt is run once and its cache copied n times (the prompt is most of
    the tokens). Seeded by (seed, prompt), so a prompt gets the same draws whatever else is asked."""
    import torch

    from skillseq.rng import stable_hash

    out, stops = [], _stops(tok)
    with torch.inference_mode():
        for prompt in prompts:
            ids = tok(prompt, return_tensors="pt").input_ids.to(model.device)
            cache = model(ids[:, :-1], use_cache=True).past_key_values
            cache.batch_repeat_interleave(n)
            torch.manual_seed(stable_hash(seed, "listener", prompt) % 2**63)
            gen = model.generate(
                ids.repeat(n, 1),
                attention_mask=torch.ones(n, ids.shape[1], dtype=torch.long, device=ids.device),
                past_key_values=cache,
                max_new_tokens=max_new_tokens,
                do_sample=True,
                top_p=0.9,
                temperature=1.0,
                pad_token_id=tok.pad_token_id or tok.eos_token_id,
                eos_token_id=stops,
                output_logits=True,
                return_dict_in_generate=True,
            )
            drawn: dict[str, float] = {}
            for text, lp in _texts_and_logprobs(tok, gen.sequences[:, ids.shape[1] :], gen.logits, stops):
                drawn[text] = max(lp, drawn.get(text, -np.inf))
            out.append(drawn)
    return out


def choose(candidates: dict[str, float], fits: dict[str, bool]) -> str:
    """The paper's listener: the most probable candidate consistent with the examples; the most probable of all
    when none is."""
    ranked = sorted(candidates, key=lambda c: (-candidates[c], c))
    return next((c for c in ranked if fits[c]), ranked[0])


# ---------------------------------------------------------------------------------------------- the scoring


def consistent(items: list[tuple[str, list[tuple[str, bool]]]]) -> list[bool]:
    """Per (guess, examples): it compiles and fully matches exactly the strings marked True (in the sandbox: a
    guess may backtrack for ever; 1 s per string, then "no")."""
    from skillseq.sandbox import Call, run_batch
    from skillseq.transforms.pragmatic.regex_domain import regex_program

    out = []
    for start in range(0, len(items), 50):
        chunk = items[start : start + 50]
        programs = [regex_program(g) for g, _ in chunk]
        calls = [Call(p, "match", repr((s,))) for p, (_, ex) in enumerate(chunk) for s, _ in ex]
        outcomes = iter(run_batch(programs, calls).outcomes)
        for _, ex in chunk:
            got = [next(outcomes) for _ in ex]
            out.append(all(o.ok and o.value == str(bool(label)) for o, (_, label) in zip(got, ex, strict=True)))
    return out


def bootstrap(a: np.ndarray, b: np.ndarray, seed: int, n: int = 2000) -> dict:
    """95% intervals over episodes (paired resampling): mean of a, of b, a - b, and a / b."""
    gen = np.random.default_rng(seed)
    idx = gen.integers(0, len(a), size=(n, len(a)))
    ma, mb = a[idx].mean(axis=1), b[idx].mean(axis=1)
    ratio = ma[mb > 0] / mb[mb > 0]  # resamples where random scored nothing have no ratio

    def ci(x):
        return [float(np.percentile(x, 2.5)), float(np.percentile(x, 97.5))] if len(x) else None

    return {
        "pragmatic": float(a.mean()),
        "pragmatic_ci": ci(ma),
        "random": float(b.mean()),
        "random_ci": ci(mb),
        "ratio": float(a.mean() / b.mean()) if b.mean() > 0 else None,
        "ratio_ci": ci(ratio),
        "difference": float(a.mean() - b.mean()),
        "difference_ci": ci(ma - mb),
    }


# -------------------------------------------------------------------------------------------------- the run


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("pragmatic experiment")
    g.add_argument("--eval", type=Path, default=DEFAULT_EVAL, help="people's episodes (JSONL), never trained on")
    g.add_argument("--targets", type=int, default=400, help="regexes sampled before dropping evaluation targets")
    g.add_argument("--k", type=int, default=5, help="examples per training row (pragmatic.num_examples)")
    g.add_argument("--steps", type=int, default=24, help="training steps of each model on its set")
    g.add_argument("--batch-size", type=int, default=16)
    g.add_argument("--lr", type=float, default=2e-4)
    g.add_argument(
        "--warmup-targets",
        type=int,
        default=400,
        help="the literal listener: other targets with random examples, trained on first, shared by both models",
    )
    g.add_argument("--warmup-steps", type=int, default=20, help="steps of the shared warm-up (0: none)")
    g.add_argument(
        "--lora", action="store_true", help="LoRA adapters (r=16, all linear layers) instead of full tuning"
    )
    g.add_argument("--no-bf16", dest="bf16", action="store_false", help="fp32 compute (default: bf16 autocast)")
    g.add_argument("--threads", type=int, default=2, help="torch threads (1 on a machine shared with other work)")
    g.add_argument("--episodes", type=int, default=0, help="evaluate on the first N episodes (0: all)")
    g.add_argument(
        "--samples", type=int, default=0, help="programs sampled per query for the listener's guess (0: greedy)"
    )
    g.add_argument("--gen-batch", type=int, default=32)
    g.add_argument("--max-new-tokens", type=int, default=32)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--quick", action="store_true", help="a few targets, 2 steps, a few episodes: the path only")
    g.add_argument("--out", type=Path, default=RESULTS, help="where downstream-pragmatic.{txt,json} go")


def _quick(args) -> None:
    args.targets, args.k, args.steps, args.batch_size = 6, 3, 2, 2
    args.warmup_targets, args.warmup_steps, args.samples = 4, 1, 3
    args.episodes, args.gen_batch, args.max_new_tokens = args.episodes or 3, 8, 16


def warmup_targets(args, taken: list[str], episodes: list[dict], equivalence: Equivalence) -> list[str]:
    """Targets of the literal listener's warm-up: a second draw of the grammar (seed + 1), without evaluation
    targets and without the experiment's own targets."""
    if not args.warmup_steps or not args.warmup_targets:
        return []
    drawn, _ = training_targets(args.warmup_targets, args.seed + 1, episodes, equivalence)
    taken = set(taken)
    return [t for t in drawn if t not in taken]


def listen(model, tok, args, unique: list[str], examples_of: dict[str, list]) -> dict[str, dict]:
    """Per unique prompt: the greedy guess and the listener's guess (the most probable sampled program consistent
    with the examples, as the paper's replay chooses; the greedy guess is one of the candidates)."""
    import torch

    model = model.to(torch.bfloat16) if args.bf16 else model  # sampling in bf16: 2.5x faster on CPU
    greedy = guesses(model, tok, unique, args.gen_batch, args.max_new_tokens)
    drawn = samples(model, tok, unique, args.samples, args.seed, args.max_new_tokens) if args.samples else []
    pools = []
    for i in range(len(unique)):
        pool = dict(drawn[i]) if drawn else {}
        text, lp = greedy[i]
        pool[text] = max(lp, pool.get(text, -np.inf))
        pools.append(pool)
    items = [(c, examples_of[p]) for p, pool in zip(unique, pools, strict=True) for c in sorted(pool)]
    fit = iter(consistent(items))
    out = {}
    for prompt, pool, (first, _) in zip(unique, pools, greedy, strict=True):
        fits = {c: next(fit) for c in sorted(pool)}
        out[prompt] = {
            "greedy": first,
            "guess": (guess := choose(pool, fits)),
            "consistent": fits[guess],
            "candidates": len(pool),
            "consistent_candidates": sum(fits.values()),
        }
    return out


def run_pragmatic(args) -> dict:
    if args.quick:
        _quick(args)
    t0 = time.monotonic()
    walls: dict[str, float] = {}
    every_episode = load_episodes(args.eval)
    episodes = every_episode[: args.episodes or None]
    equivalence = Equivalence()
    try:
        patterns, dropped = training_targets(args.targets, args.seed, every_episode, equivalence)
        warm_patterns = warmup_targets(args, patterns, every_episode, equivalence)
        walls["targets"] = time.monotonic() - t0
        sets, sizes = {}, {}
        for selection in SELECTIONS:
            t = time.monotonic()
            rows, drops = build_set(patterns, args.k, args.seed, selection)
            sets[selection] = rows
            sizes[selection] = {
                "rows": len(rows),
                "rejected": drops,
                "examples_per_row": float(np.mean([len(r["examples"]) for r in rows])) if rows else 0.0,
            }
            walls[f"build_{selection}"] = time.monotonic() - t
        if [r["id"] for r in sets["pragmatic"]] != [r["id"] for r in sets["random"]]:
            raise RuntimeError("the two training sets do not hold the same targets")
        print(f"targets: {len(patterns)} kept, {dropped} dropped as evaluation targets; sets: {sizes}", flush=True)
        requests = [(e, k) for e in episodes for k in KS]
        from skillseq.schema import Example
        from skillseq.training import pragmatic_prompt

        prompts = [
            pragmatic_prompt("regex", [Example(s, "True" if m else "False") for s, m in first_k(e, k)])
            for e, k in requests
        ]
        examples_of = {p: first_k(e, k) for p, (e, k) in zip(prompts, requests, strict=True)}
        unique = sorted(set(prompts))
        per_model: dict[str, dict] = {}
        with tempfile.TemporaryDirectory() as warm_dir:
            start, warm = None, {"targets": len(warm_patterns), "rows": 0, "steps": 0, "loss": None}
            if warm_patterns:
                t = time.monotonic()
                warm_rows, _ = build_set(warm_patterns, args.k, args.seed, "random")
                walls["build_warmup"] = time.monotonic() - t
                t = time.monotonic()
                with tempfile.TemporaryDirectory() as tmp:
                    model, tok, loss = train([prompt_completion(r) for r in warm_rows], args, tmp, args.warmup_steps)
                model.save_pretrained(warm_dir)
                tok.save_pretrained(warm_dir)
                del model
                start = warm_dir
                warm.update(rows=len(warm_rows), steps=args.warmup_steps, loss=loss)
                walls["train_warmup"] = time.monotonic() - t
                print(f"warm-up: {len(warm_rows)} rows, {args.warmup_steps} steps, loss {loss:.3f}", flush=True)
            for selection in SELECTIONS:
                records = [prompt_completion(r) for r in sets[selection]]
                t = time.monotonic()
                with tempfile.TemporaryDirectory() as tmp:
                    model, tok, loss = train(records, args, tmp, args.steps, start)
                walls[f"train_{selection}"] = time.monotonic() - t
                t = time.monotonic()
                heard = listen(model, tok, args, unique, examples_of)
                walls[f"generate_{selection}"] = time.monotonic() - t
                del model
                t = time.monotonic()
                said = [heard[p]["guess"] for p in prompts]
                first = [heard[p]["greedy"] for p in prompts]
                top1 = [equivalence(e["regex"], g) for (e, _), g in zip(requests, said, strict=True)]
                greedy_top1 = [equivalence(e["regex"], g) for (e, _), g in zip(requests, first, strict=True)]
                cons = [heard[p]["consistent"] for p in prompts]  # run in the sandbox by `listen`
                walls[f"score_{selection}"] = time.monotonic() - t
                per_model[selection] = {
                    "loss": loss,
                    "guesses": said,
                    "greedy_guesses": first,
                    "candidates": [heard[p]["candidates"] for p in prompts],
                    "consistent_candidates": [heard[p]["consistent_candidates"] for p in prompts],
                    "top1": top1,
                    "greedy_top1": greedy_top1,
                    "consistent": cons,
                }
                print(f"{selection}: trained (loss {loss:.3f}), {len(said)} guesses scored", flush=True)
    finally:
        equivalence.close()
    walls["total"] = time.monotonic() - t0
    return report(args, episodes, requests, patterns, dropped, sizes, warm, per_model, walls, equivalence.timeouts)


METRICS = ("top1", "greedy_top1", "consistent")


def report(args, episodes, requests, patterns, dropped, sizes, warm, per_model, walls, timeouts) -> dict:
    figures = {}
    for metric in METRICS:
        for k in KS:
            rows = [i for i, (_, kk) in enumerate(requests) if kk == k]
            a = np.array([per_model["pragmatic"][metric][i] for i in rows], dtype=float)
            b = np.array([per_model["random"][metric][i] for i in rows], dtype=float)
            figures[f"{metric}@{k}"] = bootstrap(a, b, args.seed)
    result = {
        "experiment": "pragmatic",
        "settings": {
            k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k not in ("func", "experiment")
        },
        "targets": len(patterns),
        "targets_dropped_as_eval": dropped,
        "target_regexes": patterns,
        "sets": sizes,
        "warmup": warm,
        "episodes": len(episodes),
        "eval_rows_per_model": len(requests),
        "train_loss": {s: per_model[s]["loss"] for s in SELECTIONS},
        "figures": figures,
        "equivalence_timeouts": timeouts,
        "wall_s": {k: round(v, 1) for k, v in walls.items()},
        "machine": _machine(),
        "rows": [
            {
                "episode": e["id"],
                "k": k,
                **{f"{s}_guess": per_model[s]["guesses"][i] for s in SELECTIONS},
                **{f"{s}_greedy_guess": per_model[s]["greedy_guesses"][i] for s in SELECTIONS},
                **{f"{s}_candidates": per_model[s]["candidates"][i] for s in SELECTIONS},
                **{f"{s}_consistent_candidates": per_model[s]["consistent_candidates"][i] for s in SELECTIONS},
                **{f"{s}_{m}": per_model[s][m][i] for s in SELECTIONS for m in METRICS},
            }
            for i, (e, k) in enumerate(requests)
        ],
    }
    text = _text(result)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "downstream-pragmatic.txt").write_text(text + "\n", encoding="utf-8")
    (args.out / "downstream-pragmatic.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return result


def _machine() -> str:
    import os
    import platform

    return f"{platform.machine()} {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def _pct(x) -> str:
    return f"{100 * x:5.1f}"


def _text(r: dict) -> str:
    s = r["settings"]
    lines = [
        "Downstream, pragmatic experiment: SmolLM2-135M-Instruct trained on pragmatic vs random examples, "
        "asked with people's examples",
        f"command: benchmarks/downstream.py --targets {s['targets']} --k {s['k']} --steps {s['steps']} "
        f"--batch-size {s['batch_size']} --lr {s['lr']} --warmup-targets {s['warmup_targets']} "
        f"--warmup-steps {s['warmup_steps']} --samples {s['samples']} --threads {s['threads']}"
        f"{' --lora' if s['lora'] else ''}{'' if s['bf16'] else ' --no-bf16'} --seed {s['seed']}"
        f"{' --quick' if s['quick'] else ''}",
        f"machine: {r['machine']}",
        f"targets: {r['targets']} (sampled {s['targets']}, {r['targets_dropped_as_eval']} dropped as evaluation "
        f"targets); rows: "
        + ", ".join(
            f"{k} {v['rows']} ({v['examples_per_row']:.2f} examples/row, {v['rejected']} rejected)"
            for k, v in r["sets"].items()
        ),
        (
            f"warm-up (literal listener, shared): {r['warmup']['rows']} rows of random examples on other targets, "
            f"{r['warmup']['steps']} steps, final loss {r['warmup']['loss']:.3f}"
            if r["warmup"]["steps"]
            else "warm-up: none"
        ),
        f"training: {s['steps']} steps x {s['batch_size']} rows, lr {s['lr']}, "
        f"{'LoRA r=16' if s['lora'] else 'full fine-tuning'}; final loss "
        + ", ".join(f"{k} {v:.3f}" for k, v in r["train_loss"].items()),
        f"evaluation: {r['episodes']} episodes x {len(KS)} k = {r['eval_rows_per_model']} guesses per model; "
        f"equivalence timeouts {r['equivalence_timeouts']}",
        (
            f"guess (top1, consistent): the most probable of {s['samples']} sampled programs (top-p 0.9, T 1) and "
            "the greedy one that is consistent with the examples, as the paper's replay; greedy_top1: the greedy "
            "guess alone"
            if s["samples"]
            else "guess: the greedy one (--samples 0, no replay listener), so top1 = greedy_top1"
        ),
        "",
        f"{'metric':<16}{'pragmatic % [95% CI]':>24}{'random % [95% CI]':>24}{'ratio [95% CI]':>22}"
        f"{'difference pts [95% CI]':>28}",
    ]
    for name, f in r["figures"].items():
        ratio = "n/a" if f["ratio"] is None else f"{f['ratio']:.2f}"
        rc = "" if f["ratio_ci"] is None else f"[{f['ratio_ci'][0]:.2f}, {f['ratio_ci'][1]:.2f}]"
        lines.append(
            f"{name:<16}{_pct(f['pragmatic'])} [{_pct(f['pragmatic_ci'][0])},{_pct(f['pragmatic_ci'][1])}]"
            f"{_pct(f['random']):>9} [{_pct(f['random_ci'][0])},{_pct(f['random_ci'][1])}]"
            f"{ratio:>9} {rc:>12}"
            f"{_pct(f['difference']):>12} [{_pct(f['difference_ci'][0])},{_pct(f['difference_ci'][1])}]"
        )
    lines.append("")
    lines.append("wall time (s): " + ", ".join(f"{k} {v}" for k, v in r["wall_s"].items()))
    return "\n".join(lines)


def main(argv=None) -> int:
    """Each experiment parses the command line with its own arguments (shared ones such as `--quick` reach both)."""
    head = argparse.ArgumentParser(add_help=False)
    head.add_argument("--experiment", choices=["pragmatic", "lintseq", "all"], default="pragmatic")
    chosen, _ = head.parse_known_args(argv)
    if chosen.experiment in ("pragmatic", "all"):
        parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], parents=[head])
        add_arguments(parser)
        run_pragmatic(parser.parse_known_args(argv)[0])
    if chosen.experiment in ("lintseq", "all"):
        lintseq = _lintseq()
        if lintseq is None:
            print("the LintSeq experiment (benchmarks/downstream_lintseq.py) is not in this checkout", file=sys.stderr)
            return 2
        parser = argparse.ArgumentParser(description="LintSeq experiment", parents=[head])
        lintseq.add_arguments(parser)
        lintseq.main(parser.parse_known_args(argv)[0])
    return 0


def _lintseq():
    """benchmarks/downstream_lintseq.py, imported only when its experiment is asked for; None when absent."""
    import importlib.util

    path = Path(__file__).with_name("downstream_lintseq.py")
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location("downstream_lintseq", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    sys.exit(main())
