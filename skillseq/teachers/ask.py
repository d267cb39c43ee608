"""`AskTeacher`: the one Beam step every stage uses to call a teacher model.

Input: `(payload, TeacherRequest)` pairs, payload being whatever the caller carries along (picklable).
Output: `(answered, rejected)`: `(payload, TeacherRequest, TeacherReply)` triples, and `Rejected` rows with reason
`teacher_error`, `timeout`, `invalid_json` or `truncated_json` (raw text in `payload`).

Built on `RunInference` with a `KeyedModelHandler` (the payload is the key, so each reply keeps its request and
record). The handler wraps a `Teacher` (backend + response cache + JSON retries), loaded once per worker and
shared by every AskTeacher of a pipeline with the same teacher config. A batch that crashes the engine leaves
through RunInference's dead-letter output and becomes `teacher_error` rows; the run goes on.

Metrics, namespace `skillseq.teacher`, per stage: `<stage>_requests`, `<stage>_model_calls`,
`<stage>_cache_hits`, `<stage>_cache_misses`, `<stage>_retries`, `<stage>_prompt_tokens`,
`<stage>_completion_tokens` (tokens of model calls only: a cached reply costs nothing), `<stage>_teacher_ms` (time
spent answering its batches, cache and retries included: completion tokens / teacher_ms is the stage's throughput), and `dropped_<reason>`
in `skillseq.<stage>`.
"""

from __future__ import annotations

import hashlib
import json
import os
import time

import apache_beam as beam
from apache_beam.ml.inference.base import KeyedModelHandler, ModelHandler, PredictionResult, RunInference

from skillseq import progress
from skillseq.config import TeacherConfig
from skillseq.context import RunContext
from skillseq.redaction import redact
from skillseq.teachers.replies import Failure
from skillseq.teachers.teacher import Stats, Teacher, shared_backend
from skillseq.teachers.types import TeacherRequest

NAMESPACE = "skillseq.teacher"
_COUNTED = ("requests", "model_calls", "cache_hits", "cache_misses", "retries", "prompt_tokens", "completion_tokens")


def _count(stage: str, stats: Stats) -> None:
    for name in _COUNTED:
        value = getattr(stats, name)
        if value:
            beam.metrics.Metrics.counter(NAMESPACE, f"{stage}_{name}").inc(value)


class TeacherModelHandler(ModelHandler[TeacherRequest, "TeacherReply | Failure", Teacher]):
    """A Beam model handler around `Teacher`: batches of requests in, one reply or failure per request out."""

    def __init__(self, cfg: TeacherConfig, run_seed: int, stage: str, backend_factory=shared_backend):
        super().__init__(min_batch_size=cfg.batch_size, max_batch_size=cfg.batch_size)
        self.cfg = cfg
        self.run_seed = run_seed
        self.stage = stage
        self.backend_factory = backend_factory

    def load_model(self) -> Teacher:
        return Teacher(self.cfg, self.run_seed, self.backend_factory)

    def run_inference(self, batch, model: Teacher, inference_args=None):
        started = time.monotonic()
        with progress.teacher_stage(self.stage, len(batch)):
            outcomes, stats = model.answer(list(batch))
        beam.metrics.Metrics.counter(NAMESPACE, f"{self.stage}_teacher_ms").inc(
            int(1000 * (time.monotonic() - started))
        )
        _count(self.stage, stats)  # here, in the DoFn's thread: Beam metrics are thread-local
        return [PredictionResult(r, o, model.model_id) for r, o in zip(batch, outcomes, strict=True)]

    def get_metrics_namespace(self) -> str:
        return NAMESPACE


def _fingerprint(cfg: TeacherConfig, run_seed: int) -> str:
    """Stages with the same teacher config share one loaded model per worker."""
    return "skillseq-teacher-" + hashlib.sha256(f"{cfg.model_dump_json()}|{run_seed}".encode()).hexdigest()[:16]


class _SplitOutcomes(beam.DoFn):
    def __init__(self, ctx: RunContext, stage: str):
        self.ctx = ctx
        self.stage = stage

    def process(self, element):
        payload, result = element
        request, outcome = result.example, result.inference
        if isinstance(outcome, Failure):
            raw = outcome.raw or json.dumps([list(m) for m in request.messages], ensure_ascii=False)
            detail = f"sample {request.sample_index}: {outcome.detail}"
            yield self.ctx.drop(request.key, self.stage, outcome.reason, detail, raw)
        else:
            yield payload, request, outcome


class _DropCrashedBatch(beam.DoFn):
    """A batch whose inference raised: every request in it becomes a `teacher_error` row."""

    def __init__(self, ctx: RunContext, stage: str, api_key_env: str):
        self.ctx = ctx
        self.stage = stage
        self.api_key_env = api_key_env

    def process(self, element):
        batch, (_, error, _) = element
        detail = redact(str(error), (self.api_key_env,))
        for _, request in batch:
            messages = json.dumps([list(m) for m in request.messages], ensure_ascii=False)
            yield self.ctx.drop(request.key, self.stage, "teacher_error", detail, messages)


class AskTeacher(beam.PTransform):
    """`(payload, TeacherRequest)` pairs -> `(answered, rejected)`, asking `ctx.config.teacher`; see the module
    docstring."""

    def __init__(self, ctx: RunContext, stage: str, backend_factory=shared_backend):
        super().__init__()
        cfg = ctx.config.teacher
        if cfg.cache_dir and "://" not in cfg.cache_dir:
            cfg = cfg.model_copy(update={"cache_dir": os.path.abspath(os.path.expanduser(cfg.cache_dir))})
        self.cfg = cfg
        self.ctx = ctx
        self.stage = stage
        self.handler = TeacherModelHandler(cfg, ctx.seed, stage, backend_factory)

    def expand(self, pcoll):
        results, failed = (
            pcoll
            | "AskModel"
            >> RunInference(
                KeyedModelHandler(self.handler), model_identifier=_fingerprint(self.cfg, self.ctx.seed)
            ).with_exception_handling()
        )
        outcomes = results | "SplitReplies" >> beam.ParDo(_SplitOutcomes(self.ctx, self.stage)).with_outputs(
            "rejected", main="answered"
        )
        crashed = failed.failed_inferences | "RejectCrashedBatches" >> beam.ParDo(
            _DropCrashedBatch(self.ctx, self.stage, self.cfg.openai.api_key_env)
        ).with_outputs("rejected")
        rejected = (outcomes.rejected, crashed.rejected) | "AllRejected" >> beam.Flatten()
        return outcomes.answered, rejected
