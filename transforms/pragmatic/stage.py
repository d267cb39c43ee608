"""PragmaticExamples: for each program, the input/output examples that best single it out (RSA, sandboxed).

Vaduguru, Fried & Pu (2024): gather alternative programs and candidate inputs, run them all, and let a
pragmatic speaker choose the examples under which a literal listener is most sure of the target.
Input: `Program` records (Python; HumanEval seeds carry `entry_point` and `tests`). With "regex" in
`cfg.domains` the stage also makes regex targets, from `cfg.regexes` and `cfg.regex_sampler` (the grammar of
`regex_grammar`), or the shipped `data/regexes.txt`. `cfg.selection: random` writes, instead of the chosen
examples, as many drawn at random from the same usable candidates (the baseline a trained model is compared to).
Output: (`PragmaticExample` records, `Rejected` records). Each example row carries P_L0(h*|chosen) and
the same for k examples drawn at random, so the row shows what pragmatics gained.

The pieces: `pragmatic_core` (task building, execution, choice), `rsa` (the inference), `mutants` and
`python_domain` (the Python domain: candidate inputs from six sources), `regex_domain` (the paper's domain,
with boundary strings), `teacher` (the paper's self-play: teacher-written alternatives and argument lists,
with `alternatives: [mutants, teacher]` and `input_sources: [..., teacher, ...]`), `skillseq.sandbox`.
Rows count their usable inputs and distinct alternatives per source, and say for a regex whether the target
is told apart from every non-equivalent alternative on the candidates.
"""

from __future__ import annotations

import traceback
from importlib import resources

import apache_beam as beam

from skillseq.config import PragmaticConfig
from skillseq.context import RunContext
from skillseq.sandbox import SandboxUnavailable
from skillseq.schema import Example, PragmaticExample, Program, SourceCount
from skillseq.training import TEMPLATE_VERSION, pragmatic_prompt, program_completion
from skillseq.transforms.pragmatic import core
from skillseq.transforms.pragmatic.regex_grammar import sampled_regexes
from skillseq.transforms.pragmatic.teacher import TeacherHelp

STAGE = core.STAGE
_NS = f"skillseq.{STAGE}"


def target_of(example: PragmaticExample) -> str:
    """The target (program or regex) an example row was chosen for: one row per target, named after it."""
    return example.id


def shipped_regexes() -> list[str]:
    """The target regexes in `data/regexes.txt` (lines starting with "# " are comments)."""
    text = resources.files("skillseq.data").joinpath("regexes.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("# ")]


def regex_targets(cfg: PragmaticConfig, seed: int = 0) -> list[tuple[str, str]]:
    """(id, pattern) pairs: `regex/<n>` in config order, then `sampled/<n>` from `cfg.regex_sampler` (seeded by
    the config seed and the key); the shipped regexes when neither is given."""
    sampled = sampled_regexes(cfg.regex_sampler.count, seed) if cfg.regex_sampler else []
    patterns = cfg.regexes or ([] if sampled else shipped_regexes())
    return [(f"regex/{i}", p) for i, p in enumerate(patterns)] + sampled


class _Build(beam.DoFn):
    """(Program, teacher's argument lists, teacher's implementations) or (id, regex) -> Task; expected drops go
    to `rejected`."""

    def __init__(self, cfg: PragmaticConfig, ctx: RunContext):
        self.cfg, self.ctx = cfg, ctx

    def process(self, element):
        cfg, seed = self.cfg, self.ctx.seed
        if isinstance(element[0], Program):
            program, proposed, written = element
            record_id, payload = program.id, program.code
            task = core.python_task(
                program.id,
                program.source_id,
                program.code,
                program.entry_point,
                program.tests,
                cfg.max_alternatives,
                cfg.max_candidates,
                seed,
                alternatives=tuple(cfg.alternatives),
                input_sources=tuple(cfg.input_sources),
                teacher_inputs=proposed,
                teacher_alternatives=written,
                context=program.context,
            )
        else:
            record_id, payload = element
            task = core.regex_task(record_id, "regexes", payload, cfg.max_alternatives, cfg.max_candidates, seed)
        if isinstance(task, core.Drop):
            yield _drop(self.ctx, record_id, task, payload)
        else:
            yield task


def _counts(counts: dict[str, int]) -> list[SourceCount]:
    return [SourceCount(source, n) for source, n in counts.items()]


class _ExecuteAndChoose(beam.DoFn):
    """Task -> PragmaticExample: one sandbox child per record, then RSA over the consistency matrix."""

    def __init__(self, cfg: PragmaticConfig, ctx: RunContext):
        self.cfg, self.ctx = cfg, ctx
        self.made = beam.metrics.Metrics.counter(_NS, "examples")

    def process(self, task: core.Task):
        try:
            outcomes = core.execute(task, self.cfg.sandbox)
            choice = core.choose(
                task, outcomes, self.cfg.num_examples, self.ctx.seed, self.cfg.recursion, self.cfg.selection
            )
        except SandboxUnavailable:
            raise  # sandbox.require: the stage fails rather than run untrusted code without a required wall
        except Exception as e:  # a bug or a broken sandbox: the record leaves with its traceback, the run goes on
            detail = f"{type(e).__name__}: {e}\n{traceback.format_exc()}"
            yield _drop(self.ctx, task.id, core.Drop("crash", detail), task.target)
            return
        if isinstance(choice, core.Drop):
            yield _drop(self.ctx, task.id, choice, task.target)
            return
        self.made.inc()
        examples = [Example(input=i, output=o) for i, o in choice.examples]
        yield PragmaticExample(
            id=f"{task.domain}:{task.id}",
            source_id=task.source_id,
            domain=task.domain,
            program=task.target,
            examples=examples,
            num_alternatives=choice.num_alternatives,
            num_candidates=choice.num_candidates,
            p_target_pragmatic=choice.p_target_pragmatic,
            p_target_random=choice.p_target_random,
            input_sources=_counts(choice.input_sources),
            alternative_sources=_counts(choice.alternative_sources),
            distinguishable=choice.distinguishable,
            prompt=pragmatic_prompt(task.domain, examples, task.entry_point),
            completion=program_completion(task.target),
            prompt_version=TEMPLATE_VERSION,
            provenance=self.ctx.provenance(STAGE),
        )


def _drop(ctx: RunContext, record_id: str, drop: core.Drop, payload: str):
    return ctx.drop(record_id, STAGE, drop.reason, drop.detail, payload)


class PragmaticExamples(beam.PTransform):
    def __init__(self, ctx: RunContext):
        super().__init__()
        self.cfg, self.ctx = ctx.config.pragmatic, ctx

    def expand(self, programs):
        sources, rejected = [], []
        if "python" in self.cfg.domains and self._asks_teacher():
            helped, refused = programs | "TeacherHelp" >> TeacherHelp(self.ctx)
            sources.append(helped)
            rejected.append(refused)
        elif "python" in self.cfg.domains:
            sources.append(programs | "NoTeacher" >> beam.Map(lambda p: (p, [], [])))
        if "regex" in self.cfg.domains:
            sources.append(programs.pipeline | "RegexTargets" >> beam.Create(regex_targets(self.cfg, self.ctx.seed)))
        # The sandboxed execution is the expensive part, so work is spread across workers first. Spreading the
        # light targets (not the built tasks, ~150 KB each with their inputs and mutants) keeps what a runner
        # buffers at the shuffle small; building and executing then fuse and stream.
        targets = sources | "Targets" >> beam.Flatten(pipeline=programs.pipeline) | "Spread" >> beam.Reshuffle()
        tasks = targets | "BuildTasks" >> beam.ParDo(_Build(self.cfg, self.ctx)).with_outputs("rejected", main="tasks")
        chosen = tasks.tasks | "ExecuteAndChoose" >> beam.ParDo(_ExecuteAndChoose(self.cfg, self.ctx)).with_outputs(
            "rejected", main="examples"
        )
        rejected = (*rejected, tasks.rejected, chosen.rejected) | "Rejected" >> beam.Flatten()
        return chosen.examples, rejected

    def _asks_teacher(self) -> bool:
        return "teacher" in self.cfg.alternatives or "teacher" in self.cfg.input_sources
