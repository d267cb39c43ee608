"""SkillMix quality filters: shirkers, near-duplicate instructions, benchmark contamination.

Each shirker check is a small class with one job, datatrove-style: called on a `Draft`, it returns `True` or
`(False, reason)`. The first failing check rejects the record with its reason, a `dropped_<reason>` counter
and the row as payload. Near-duplicates and contamination are global steps:

- near-duplicates: word-shingle sets compared by MinHash LSH (datasketch) for candidates, confirmed by exact
  Jaccard; records are visited in id order and the first of a group is kept, so the result is deterministic.
  Keyed steps, no worker holds every instruction (`transforms/skillmix/dedup.py`).
- contamination: `transforms/decontaminate.py` (a benchmark program, or a shared 13-gram with a benchmark's
  text), run on the instructions under the stage name `skillmix.decontaminate`.

Shortcuts: refusals and evasions are found by English phrases at the start of a response; "too short" is a
character count against a floor and a fraction of the instruction's length.

    >>> Refusal()(Draft(_example("I'm sorry, but I can't help with that."), "stop"))
    (False, 'refusal')
"""

from __future__ import annotations

import ast
import json
import re

import apache_beam as beam

from skillseq import prompts
from skillseq.config import FiltersConfig
from skillseq.context import RunContext
from skillseq.schema import Instruction, to_row
from skillseq.teachers import AskTeacher
from skillseq.teachers.types import TeacherRequest

# Near-duplicate removal lives in dedup.py; its public names are re-exported here, beside the other filters.
from skillseq.transforms.skillmix.dedup import DEDUP as DEDUP
from skillseq.transforms.skillmix.dedup import DropNearDuplicates as DropNearDuplicates
from skillseq.transforms.skillmix.dedup import jaccard, shingles
from skillseq.transforms.skillmix.dedup import near_duplicates as near_duplicates
from skillseq.transforms.skillmix.generation import Draft

FILTER = "skillmix.filter"
JUDGE = "skillmix.judge"
DECONTAMINATE = "skillmix.decontaminate"


def _example(response: str, instruction: str = "Write a function that adds two numbers.") -> Instruction:
    return Instruction("x", ["a", "b"], "q", instruction, response, [], "m", "v", 0, 0, None)


# ---- shirkers: one check per class

_REFUSAL = re.compile(
    r"\b(i'?m sorry|i am sorry|i apologi[sz]e|i can(?:'?t|not) (?:help|assist|provide|do|write|complete)|"
    r"i(?:'m| am) (?:not able|unable) to|as an ai\b|as a language model)",
    re.I,
)
_EVASION = re.compile(
    r"^\W*(could you (?:please )?(?:provide|clarify|share|give)|please (?:provide|clarify|share)|"
    r"can you (?:provide|clarify|share)|i need more (?:information|details|context))|"
    r"\b(i(?:'m| am) here to help|i can (?:help|assist) you with|how can i help|what do you need)\b",
    re.I,
)
_DEMANDS_CODE = re.compile(r"\b(write|implement|create|code|function|program|script|class|fix|debug|refactor)\b", re.I)


class Refusal:
    """A response that declines ('I'm sorry, I can't...') in its first 200 characters."""

    def __call__(self, draft: Draft):
        return (False, "refusal") if _REFUSAL.search(draft.record.response[:200]) else True


class Evasion:
    """A response that asks for more information, or offers help, instead of answering (first 300 characters)."""

    def __call__(self, draft: Draft):
        return (False, "evasion") if _EVASION.search(draft.record.response[:300]) else True


class Echo:
    """A response that mostly repeats its instruction (word-trigram Jaccard at or above `threshold`).

    >>> Echo()(Draft(_example("Write a function that adds two numbers."), "stop"))
    (False, 'echo')
    """

    def __init__(self, threshold: float = 0.5):
        self.threshold = threshold

    def __call__(self, draft: Draft):
        similarity = jaccard(shingles(draft.record.instruction, 3), shingles(draft.record.response, 3))
        return (False, "echo") if similarity >= self.threshold else True


class Truncated:
    """A response the teacher stopped at its token limit."""

    def __call__(self, draft: Draft):
        return (False, "truncated") if draft.finish_reason == "length" else True


class TooShort:
    """A response shorter than `min_chars`, or than `ratio` times its instruction.

    >>> TooShort(40, 0.3)(Draft(_example("def add(a, b): return a + b  # done, tested and documented"), "stop"))
    True
    """

    def __init__(self, min_chars: int, ratio: float):
        self.min_chars, self.ratio = min_chars, ratio

    def __call__(self, draft: Draft):
        need = max(self.min_chars, self.ratio * len(draft.record.instruction))
        return (False, "too_short") if len(draft.record.response.strip()) < need else True


class MissingCode:
    """An instruction that asks for code (write, implement, fix...) answered without a code block."""

    def __call__(self, draft: Draft):
        record = draft.record
        return (False, "no_code") if _DEMANDS_CODE.search(record.instruction) and not record.code_blocks else True


class CodeSyntax:
    """A code block that `ast.parse` rejects."""

    def __call__(self, draft: Draft):
        for block in draft.record.code_blocks:
            try:
                ast.parse(block)
            except (SyntaxError, ValueError):
                return False, "code_syntax_error"
        return True


def shirker_checks(cfg: FiltersConfig) -> list:
    """The checks, in the order they run (cheapest and most telling first)."""
    return [
        Truncated(),
        Refusal(),
        Evasion(),
        Echo(),
        TooShort(cfg.min_response_chars, cfg.min_response_ratio),
        MissingCode(),
        CodeSyntax(),
    ]


def first_failure(checks: list, draft: Draft) -> str | None:
    """The reason of the first check that fails, or None when all pass."""
    for check in checks:
        verdict = check(draft)
        if verdict is not True:
            return verdict[1]
    return None


class _Shirkers(beam.DoFn):
    def __init__(self, cfg: FiltersConfig, ctx: RunContext):
        self.cfg, self.ctx = cfg, ctx

    def setup(self):
        self.checks = shirker_checks(self.cfg)

    def process(self, draft: Draft):
        reason = first_failure(self.checks, draft)
        if reason is None:
            yield draft.record
            return
        yield self.ctx.drop(draft.record.id, FILTER, reason, "", json.dumps(to_row(draft.record), default=str))


# ---- teacher as judge (optional)


def judge_request(record: Instruction) -> TeacherRequest:
    messages = prompts.judge_messages(record.instruction, record.response, record.skills)
    return TeacherRequest(key=record.id, messages=messages, json_schema=prompts.schema_text(prompts.JUDGE_SCHEMA))


class _Verdict(beam.DoFn):
    def __init__(self, ctx: RunContext):
        self.ctx = ctx

    def process(self, answered):
        record, _, reply = answered
        parsed = reply.parsed if isinstance(reply.parsed, dict) else {}
        if parsed.get("uses_all_skills") is True:
            yield record
            return
        detail = f"missing: {parsed.get('missing_skills')}"
        yield self.ctx.drop(record.id, JUDGE, "ignores_skill", detail, json.dumps(to_row(record), default=str))


class FilterShirkers(beam.PTransform):
    """Drafts -> `(instructions, rejected)`: the shirker checks, then the teacher as judge if `filters.judge`."""

    def __init__(self, ctx: RunContext):
        super().__init__()
        self.cfg, self.ctx = ctx.config.filters, ctx

    def expand(self, drafts):
        checked = drafts | "Checks" >> beam.ParDo(_Shirkers(self.cfg, self.ctx)).with_outputs("rejected", main="kept")
        if not self.cfg.judge:
            return checked.kept, checked.rejected
        answered, refused = (
            checked.kept
            | "JudgeRequests" >> beam.Map(lambda r: (r, judge_request(r)))
            | "AskJudge" >> AskTeacher(self.ctx, JUDGE)
        )
        judged = answered | "Verdict" >> beam.ParDo(_Verdict(self.ctx)).with_outputs("rejected", main="kept")
        return judged.kept, (checked.rejected, refused, judged.rejected) | "ShirkerRejects" >> beam.Flatten()
