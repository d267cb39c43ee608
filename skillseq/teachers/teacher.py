"""One teacher, usable with or without Beam: a backend behind the response cache, with bounded JSON retries.

`Teacher.answer(requests)` returns one `TeacherReply` or `Failure` per request, plus the `Stats` of the call.
Each request is tried up to `1 + json_retries` times; attempt n samples with `request_seed(seed, request, n)`,
so a retry is a fresh sample and a rerun retraces the same attempts. The retries of a batch go to the engine
together, in one second round. Every generation a model produced is cached
under its content key, so a rerun replays them all from the cache and the engine is never even loaded
(the backend factory runs on the first miss).

    teacher = Teacher(cfg, run_seed=0)
    [reply] , stats = teacher.answer([TeacherRequest("he/0", (("user", "Say hi"),))])
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from skillseq.config import TeacherConfig
from skillseq.teachers.cache import ResponseCache
from skillseq.teachers.default_model import DEFAULT_MODEL_ID, default_model_dir, default_revision
from skillseq.teachers.replies import Failure, Generation, cache_key, judge, request_seed
from skillseq.teachers.types import TeacherReply, TeacherRequest


@dataclass
class Stats:
    """What a call cost. `model_calls` counts requests sent to the engine (cache misses); tokens count only those."""

    requests: int = 0
    model_calls: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    failures: Counter = field(default_factory=Counter)


def model_identity(cfg: TeacherConfig) -> tuple[str, str | None]:
    """(model id, revision) as recorded in replies and cache keys."""
    if cfg.model == "default":
        return DEFAULT_MODEL_ID, default_revision()
    return cfg.model, cfg.revision


def open_backend(cfg: TeacherConfig):
    """Load the configured engine. Imports are local: a worker only needs the libraries of its backend."""
    model_id, revision = model_identity(cfg)
    if cfg.backend == "openai":
        from skillseq.teachers.openai_backend import OpenAIBackend

        return OpenAIBackend(model_id, cfg)
    path, revision = (str(default_model_dir()), None) if cfg.model == "default" else (cfg.model, cfg.revision)
    if cfg.backend == "vllm":
        from skillseq.teachers.vllm_backend import VLLMBackend

        return VLLMBackend(path, revision, cfg)
    from skillseq.teachers.transformers_backend import TransformersBackend

    return TransformersBackend(path, revision, cfg)


_ENGINES: dict[str, object] = {}
_ENGINES_LOCK = threading.Lock()


def shared_backend(cfg: TeacherConfig):
    """`open_backend`, once per process and engine config: pipelines run one after another in a process (tests,
    notebooks, benchmarks) reuse a loaded engine instead of starting vLLM again. Held until the process ends."""
    key = cfg.model_dump_json(exclude={"cache_dir", "json_retries", "batch_size"})
    with _ENGINES_LOCK:
        if key not in _ENGINES:
            _ENGINES[key] = open_backend(cfg)
        return _ENGINES[key]


class Teacher:
    def __init__(self, cfg: TeacherConfig, run_seed: int, backend_factory=shared_backend):
        self.cfg = cfg
        self.run_seed = run_seed
        self.model_id, self.revision = model_identity(cfg)
        self.cache = ResponseCache(cfg.cache_dir) if cfg.cache_dir else None
        self._factory = backend_factory
        self._backend = None
        self._identity = {"backend": cfg.backend, "model": self.model_id, "revision": self.revision}

    @property
    def backend(self):
        if self._backend is None:
            self._backend = self._factory(self.cfg)
        return self._backend

    def sampling(self, seed: int) -> dict:
        c = self.cfg
        return {"temperature": c.temperature, "top_p": c.top_p, "max_new_tokens": c.max_new_tokens, "seed": seed}

    def answer(self, requests: list[TeacherRequest]) -> tuple[list[TeacherReply | Failure], Stats]:
        """First round: attempt 0 of every request. Second round: all the remaining attempts (1..json_retries) of
        the requests whose JSON failed, in one batch: a retry round of a few rows costs an engine almost as much
        as a full batch (each decoding step has a fixed cost), so one round instead of `json_retries` saves time.
        The first valid attempt in order wins, the same outcome as asking again after each failure."""
        stats = Stats(requests=len(requests))
        first = self._generate([(r, 0) for r in requests], stats)
        outcomes: list[TeacherReply | Failure] = [
            self._reply(r, gen, hit, 0) for r, (gen, hit) in zip(requests, first, strict=True)
        ]
        failed = [i for i, o in enumerate(outcomes) if self._retry(o, 0)]
        later = range(1, self.cfg.json_retries + 1)
        jobs = [(requests[i], attempt) for i in failed for attempt in later]
        stats.retries += len(jobs)
        answers = self._generate(jobs, stats)
        for k, i in enumerate(failed):
            for attempt, (gen, hit) in zip(later, answers[k * len(later) : (k + 1) * len(later)], strict=True):
                if self._retry(outcomes[i], attempt - 1):  # earlier attempts decide; later ones go unused
                    outcomes[i] = self._reply(requests[i], gen, hit, attempt)
        for o in outcomes:
            if isinstance(o, Failure):
                stats.failures[o.reason] += 1
        return outcomes, stats

    def _retry(self, outcome, attempt: int) -> bool:
        return isinstance(outcome, Failure) and outcome.reason.endswith("_json") and attempt < self.cfg.json_retries

    def _generate(self, jobs, stats: Stats) -> list[tuple[Generation | Failure, bool]]:
        """`jobs` are (request, attempt) pairs. Cache first; the misses go to the engine as one batch and their
        generations into the cache. One (generation or failure, was it cached) per job."""
        seeds = [request_seed(self.run_seed, r, attempt) for r, attempt in jobs]
        keys = [cache_key(self._identity, self.sampling(s), r, a) for (r, a), s in zip(jobs, seeds, strict=True)]
        found = [self.cache.get(k) if self.cache else None for k in keys]
        misses = [i for i, g in enumerate(found) if g is None]
        stats.cache_hits += len(jobs) - len(misses)
        stats.cache_misses += len(misses)
        if misses:
            stats.model_calls += len(misses)
            fresh = self.backend.generate([(jobs[i][0], seeds[i]) for i in misses])
            for i, gen in zip(misses, fresh, strict=True):
                found[i] = gen
                stats.retries += gen.retries
                if isinstance(gen, Generation):
                    stats.prompt_tokens += gen.prompt_tokens
                    stats.completion_tokens += gen.completion_tokens
                    if self.cache:
                        self.cache.put(
                            keys[i], gen, {"identity": self._identity, "seed": seeds[i], "attempt": jobs[i][1]}
                        )
        missed = set(misses)
        return [(gen, i not in missed) for i, gen in enumerate(found)]

    def _reply(self, request, gen, cached: bool, attempt: int) -> TeacherReply | Failure:
        if isinstance(gen, Failure):
            return gen
        parsed, failure = judge(gen, request.json_schema)
        if failure is not None:
            return failure
        return TeacherReply(
            text=gen.text,
            parsed=parsed,
            finish_reason=gen.finish_reason,
            prompt_tokens=gen.prompt_tokens,
            completion_tokens=gen.completion_tokens,
            model_id=self.model_id,
            model_revision=self.revision,
            cached=cached,
            attempt=attempt,
        )
