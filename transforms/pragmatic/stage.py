"""PragmaticExamples: for each program, the input/output examples that best single it out (RSA, sandboxed).

Vaduguru, Fried & Pu (2024): gather alternative programs and candidate inputs, run them all, and let a
pragmatic speaker choose the examples under which a literal listener is most sure of the target.
Input: `Program` records (Python; HumanEval seeds carry `entry_point` and `tests`). With "regex" in
`cfg.domains` the stage also makes regex targets, from `cfg.regexes` or the shipped `data/regexes.txt`.
Output: (`PragmaticExample` records, `Rejected` records). Each example row carries P_L0(h*|chosen) and
the same for k examples drawn at random, so the row shows what pragmatics gained.

The pieces: `pragmatic_core` (task building, execution, choice), `rsa` (the inference), `mutants` and
`pragmatic_python` (the Python domain), `regex_domain` (the paper's domain), `skillseq.sandbox`.
Teacher-sampled alternatives and teacher-proposed inputs (the paper's self-play) are not done here.
"""

from __future__ import annotations

import traceback
from importlib import resources

import apache_beam as beam

from skillseq.config import PragmaticConfig
from skillseq.context import RunContext
from skillseq.sandbox import SandboxUnavailable
from skillseq.schema import Example, PragmaticExample, Program
from skillseq.transforms.pragmatic import core

STAGE = core.STAGE
_NS = f"skillseq.{STAGE}"


def shipped_regexes() -> list[str]:
    """The target regexes in `data/regexes.txt` (lines starting with "# " are comments)."""
    text = resources.files("skillseq.data").joinpath("regexes.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("# ")]


def regex_targets(cfg: PragmaticConfig) -> list[tuple[str, str]]:
    """(id, pattern) pairs: `regex/<n>` in file or config order."""
    patterns = cfg.regexes or shipped_regexes()
    return [(f"regex/{i}", p) for i, p in enumerate(patterns)]


class _Build(beam.DoFn):
    """Program or (id, regex) -> Task; expected drops go to `rejected`."""

    def __init__(self, cfg: PragmaticConfig, ctx: RunContext):
        self.cfg, self.ctx = cfg, ctx

    def process(self, element):
        cfg, seed = self.cfg, self.ctx.seed
        if isinstance(element, Program):
            record_id, payload = element.id, element.code
            task = core.python_task(
                element.id,
                element.source_id,
                element.code,
                element.entry_point,
                element.tests,
                cfg.max_alternatives,
                cfg.max_candidates,
                seed,
            )
        else:
            record_id, payload = element
            task = core.regex_task(record_id, "regexes", payload, cfg.max_alternatives, cfg.max_candidates, seed)
        if isinstance(task, core.Drop):
            yield _reject(self.ctx, record_id, task, payload)
        else:
            yield task


class _ExecuteAndChoose(beam.DoFn):
    """Task -> PragmaticExample: one sandbox child per record, then RSA over the consistency matrix."""

    def __init__(self, cfg: PragmaticConfig, ctx: RunContext):
        self.cfg, self.ctx = cfg, ctx
        self.made = beam.metrics.Metrics.counter(_NS, "examples")

    def process(self, task: core.Task):
        try:
            outcomes = core.execute(task, self.cfg.sandbox)
            choice = core.choose(task, outcomes, self.cfg.num_examples, self.ctx.seed, self.cfg.recursion)
        except SandboxUnavailable:
            raise  # sandbox.require: the stage fails rather than run untrusted code without a required wall
        except Exception as e:  # a bug or a broken sandbox: the record leaves with its traceback, the run goes on
            detail = f"{type(e).__name__}: {e}\n{traceback.format_exc()}"
            yield _reject(self.ctx, task.id, core.Drop("crash", detail), task.target)
            return
        if isinstance(choice, core.Drop):
            yield _reject(self.ctx, task.id, choice, task.target)
            return
        self.made.inc()
        yield PragmaticExample(
            id=f"{task.domain}:{task.id}",
            source_id=task.source_id,
            domain=task.domain,
            program=task.target,
            examples=[Example(input=i, output=o) for i, o in choice.examples],
            num_alternatives=choice.num_alternatives,
            num_candidates=choice.num_candidates,
            p_target_pragmatic=choice.p_target_pragmatic,
            p_target_random=choice.p_target_random,
            provenance=self.ctx.provenance(STAGE),
        )


def _reject(ctx: RunContext, record_id: str, drop: core.Drop, payload: str):
    return ctx.drop(record_id, STAGE, drop.reason, drop.detail, payload)


class PragmaticExamples(beam.PTransform):
    def __init__(self, cfg: PragmaticConfig, ctx: RunContext):
        super().__init__()
        self.cfg, self.ctx = cfg, ctx

    def expand(self, programs):
        sources = []
        if "python" in self.cfg.domains:
            sources.append(programs)
        if "regex" in self.cfg.domains:
            sources.append(programs.pipeline | "RegexTargets" >> beam.Create(regex_targets(self.cfg)))
        # The sandboxed execution is the expensive part, so work is spread across workers first. Spreading the
        # light targets (not the built tasks, ~150 KB each with their inputs and mutants) keeps what a runner
        # buffers at the shuffle small; building and executing then fuse and stream.
        targets = sources | "Targets" >> beam.Flatten(pipeline=programs.pipeline) | "Spread" >> beam.Reshuffle()
        tasks = targets | "BuildTasks" >> beam.ParDo(_Build(self.cfg, self.ctx)).with_outputs("rejected", main="tasks")
        chosen = tasks.tasks | "ExecuteAndChoose" >> beam.ParDo(_ExecuteAndChoose(self.cfg, self.ctx)).with_outputs(
            "rejected", main="examples"
        )
        rejected = (tasks.rejected, chosen.rejected) | "Rejected" >> beam.Flatten()
        return chosen.examples, rejected
