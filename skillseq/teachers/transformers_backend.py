"""The transformers backend: `AutoModelForCausalLM`, one batched `generate` per batch, left padding, chat template.

Each request samples from its own `torch.Generator` seeded by its request seed, through a logits processor that
picks the token and hands greedy decoding a one-hot row, so a reply does not depend on which requests share its
batch (the random stream is per request; on CPU the arithmetic is deterministic too).

A request with a JSON schema gets the schema appended to its last message and is decoded under that schema's
grammar (xgrammar, the engine vLLM itself uses for structured outputs): a token that would break the schema is
never sampled, so even the tiny default model answers in valid JSON unless it runs out of tokens. Schema and
free-text requests are generated as separate batches (a grammar constrains every row of a batch). The caller
still parses, validates and retries, for truncated replies.

`teacher.timeout_s` bounds each request: a row still decoding when it runs out stops there and comes back as a
`timeout` failure, while the other rows of its batch go on. The weights load in the dtype of the model folder
(`dtype="auto"`; bfloat16 for the default model) unless `teacher.engine_args` says otherwise; `teacher.threads`
sets torch's CPU threads.
"""

from __future__ import annotations

import threading
import time

import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    LogitsProcessor,
    LogitsProcessorList,
    StoppingCriteria,
    StoppingCriteriaList,
)

from skillseq import progress
from skillseq.config import TeacherConfig
from skillseq.teachers.replies import Failure, Generation, with_schema_hint


class SeededSampler(LogitsProcessor):
    """Temperature + top-p sampling with one generator per row; returns logits that are 0 at the pick, -inf elsewhere."""

    def __init__(self, seeds: list[int], temperature: float, top_p: float):
        self.generators = [torch.Generator().manual_seed(s) for s in seeds]
        self.temperature = temperature
        self.top_p = top_p

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        scores = scores.float()
        if self.temperature == 0:
            picks = scores.argmax(dim=-1)
        else:
            probs = torch.softmax(scores / self.temperature, dim=-1)
            sorted_probs, order = probs.sort(dim=-1, descending=True)
            inside = (sorted_probs.cumsum(dim=-1) - sorted_probs <= self.top_p).sum(dim=-1).tolist()
            # Draw within each row's nucleus only (a prefix of the sorted row): the same distribution as a draw
            # over the whole masked vocabulary, at a fraction of the cost.
            picks = torch.stack(
                [
                    order[row, torch.multinomial(sorted_probs[row, :n], 1, generator=g)[0]]
                    for row, (n, g) in enumerate(zip(inside, self.generators, strict=True))
                ]
            )
        out = torch.full_like(scores, float("-inf"))
        out[torch.arange(len(picks)), picks] = 0.0
        return out


class Watch(StoppingCriteria):
    """Per decoding step: reports the step's new tokens to `progress`, and stops the rows past their deadline."""

    def __init__(self, batch_size: int, eos_ids: set[int], timeout_s: float):
        self.deadline = time.monotonic() + timeout_s
        self.eos = torch.tensor(sorted(eos_ids))
        self.finished = torch.zeros(batch_size, dtype=torch.bool)
        self.timed_out = torch.zeros(batch_size, dtype=torch.bool)

    def __call__(self, input_ids: torch.LongTensor, scores, **kwargs) -> torch.BoolTensor:
        progress.generated(int((~self.finished).sum()))
        self.finished |= torch.isin(input_ids[:, -1], self.eos)
        if time.monotonic() > self.deadline:
            self.timed_out |= ~self.finished
            self.finished |= self.timed_out
        return self.timed_out.clone()


class TransformersBackend:
    def __init__(self, path: str, revision: str | None, cfg: TeacherConfig):
        self.cfg = cfg
        self.lock = threading.Lock()  # one batch at a time: Beam may share this engine between threads
        if cfg.threads:
            torch.set_num_threads(cfg.threads)  # process-wide: torch has one intra-op pool
        self.tokenizer = AutoTokenizer.from_pretrained(path, revision=revision)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(
            path, revision=revision, **{"dtype": "auto", **cfg.engine_args}
        )
        self.model.eval()
        eos = self.model.generation_config.eos_token_id
        self.eos_ids = set(eos if isinstance(eos, list) else [eos if eos is not None else self.tokenizer.eos_token_id])
        self._compiler = None
        self._grammars: dict = {}

    def prompt(self, request) -> str:
        messages = request.messages
        if request.json_schema is not None:
            messages = with_schema_hint(messages, request.json_schema)
        chat = [{"role": role, "content": content} for role, content in messages]
        return self.tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)

    def _grammar(self, schema: str):
        """The compiled grammar of one JSON schema, compiled once per backend."""
        if schema not in self._grammars:
            import xgrammar

            if self._compiler is None:
                info = xgrammar.TokenizerInfo.from_huggingface(
                    self.tokenizer, vocab_size=self.model.config.vocab_size, stop_token_ids=sorted(self.eos_ids)
                )
                self._compiler = xgrammar.GrammarCompiler(info)
            # Compact JSON: the grammar allows no whitespace between tokens (see the vLLM backend).
            self._grammars[schema] = self._compiler.compile_json_schema(
                schema, any_whitespace=False, separators=(",", ":")
            )
        return self._grammars[schema]

    def generate(self, jobs) -> list[Generation | Failure]:
        """`jobs` are (request, seed) pairs; one generation (or `timeout` failure) per job, in order."""
        constrained = [i for i, (r, _) in enumerate(jobs) if r.json_schema is not None]
        free = [i for i, (r, _) in enumerate(jobs) if r.json_schema is None]
        results: dict[int, Generation | Failure] = {}
        for group in (constrained, free):
            if group:
                results.update(zip(group, self._generate([jobs[i] for i in group]), strict=True))
        return [results[i] for i in range(len(jobs))]

    def _generate(self, jobs) -> list[Generation | Failure]:
        enc = self.tokenizer(
            [self.prompt(r) for r, _ in jobs], return_tensors="pt", padding=True, add_special_tokens=False
        ).to(self.model.device)
        processors = [SeededSampler([s for _, s in jobs], self.cfg.temperature, self.cfg.top_p)]
        if jobs[0][0].json_schema is not None:
            from xgrammar.contrib.hf import LogitsProcessor as GrammarMask

            processors.insert(0, GrammarMask([self._grammar(r.json_schema) for r, _ in jobs]))
        watch = Watch(len(jobs), self.eos_ids, self.cfg.timeout_s)
        with self.lock, torch.inference_mode():
            out = self.model.generate(
                **enc,
                max_new_tokens=self.cfg.max_new_tokens,
                do_sample=False,
                logits_processor=LogitsProcessorList(processors),
                stopping_criteria=StoppingCriteriaList([watch]),
                pad_token_id=self.tokenizer.pad_token_id,
            )
        prompt_tokens = enc["attention_mask"].sum(dim=1).tolist()
        results = []
        rows = out[:, enc["input_ids"].shape[1] :].tolist()
        for row, n_prompt, late in zip(rows, prompt_tokens, watch.timed_out.tolist(), strict=True):
            if late:
                results.append(
                    Failure("timeout", f"still decoding after {self.cfg.timeout_s:g} s (teacher.timeout_s)")
                )
                continue
            stop = next((i for i, t in enumerate(row) if t in self.eos_ids), None)
            tokens = row if stop is None else row[:stop]
            results.append(
                Generation(
                    text=self.tokenizer.decode(tokens, skip_special_tokens=True),
                    finish_reason="length" if stop is None else "stop",
                    prompt_tokens=int(n_prompt),
                    completion_tokens=len(tokens) + (stop is not None),
                )
            )
        return results
