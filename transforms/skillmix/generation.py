"""SkillMix stage 2: draw skill combinations, then ask the teacher for an instruction and for its response.

Sampling is least-used-first, as a balanced design: the first skill is the least used one, each next skill the
one that forms the fewest already-drawn pairs with those chosen (then the least used), ties broken by a key per
skill and usage level, `rng(seed, "skillmix.sample", "level", u)` (then the lowest index). Every skill is used
within one draw of every other, and every pair is drawn once before any pair repeats (for k=2 and n >= m(m-1)/2
the draws cover all pairs). The query type is the least used one. Draws are sequential over the whole catalog, one
worker, on a heap of the skills by (usage, key): a pick skips only the skills chosen in its draw and their partners,
so n draws cost O((n k (1 + d) + m) log m) time, d the pairs a skill is in (about n k^2 / m), and O(m + n k^2)
memory.

Two teacher calls per record, as in the paper: the instruction (it must need all k skills and fit the query
type), then the response. Token counts in a row are the sums over both calls.

    >>> sample_combos(4, 2, 6, seed=0)
    [(1, 2), (0, 3), (1, 3), (0, 2), (2, 3), (0, 1)]
"""

from __future__ import annotations

import ast
import heapq
import itertools
import math
import re
from dataclasses import dataclass

import apache_beam as beam
import numpy as np

from skillseq import prompts
from skillseq.config import Config
from skillseq.context import RunContext
from skillseq.rng import rng
from skillseq.schema import Instruction, Skill
from skillseq.teachers import AskTeacher
from skillseq.teachers.types import TeacherReply, TeacherRequest
from skillseq.transforms.programs import extract_code_blocks

SAMPLE = "skillmix.sample"
INSTRUCTION = "skillmix.instruction"
RESPONSE = "skillmix.response"
_MIN_INSTRUCTION_CHARS = 20


@dataclass(frozen=True)
class Combo:
    """One draw: the skills (name, definition) an instruction must combine, and its query type."""

    id: str
    index: int
    skills: tuple[tuple[str, str], ...]
    query_type: str


@dataclass(frozen=True)
class Draft:
    """A generated record before the quality filters, with what they need that the row does not keep."""

    record: Instruction
    finish_reason: str


def sample_combos(m: int, k: int, n: int, seed: int) -> list[tuple[int, ...]]:
    """n sorted k-tuples of skill indices in range(m), least-used-first with seeded tie-breaks.

    Each next skill is the first, in the order (pairs with those chosen, usage, noise, index), that is not chosen
    yet; a skill's noise is its entry in its usage level's `rng(seed, SAMPLE, "level", u).random(m)`. One heap
    holds every skill at its level in that order (usage, noise, index), one heap for all levels rather than one
    per level: the same order. A pick pops from it, setting aside the skills chosen in this draw and their
    partners (the only ones with pairs > 0) until the first other one. When every free skill is a partner (tiny
    catalogs) the pick takes the dense minimum instead, the same order over all m, which then costs no more than
    the partners did. Noise is kept for the levels some skill is at; pair counts per skill, sparse.
    """
    if n and m < k:
        raise ValueError(f"cannot draw {k} distinct skills from a catalog of {m}")
    usage = [0] * m
    pairs: list[dict[int, int]] = [{} for _ in range(m)]
    noise = _LevelNoise(seed, m)
    heap = [(0, key, j) for j, key in enumerate(noise[0])]  # (level, noise, index); stale once usage[j] != level
    heapq.heapify(heap)
    draws = []
    for _ in range(n):
        chosen: list[int] = []
        pair_use: dict[int, int] = {}  # pairs already drawn with the chosen skills, partners only
        blocked: set[int] = set()  # the chosen skills and their partners
        aside: list[tuple[int, float, int]] = []
        for _ in range(k):
            if len(blocked) < m:
                pick = _first_unblocked(heap, usage, blocked, aside)
            else:
                pick = _dense_pick(usage, chosen, pair_use, noise)
            chosen.append(pick)
            blocked.add(pick)
            for other, count in pairs[pick].items():
                pair_use[other] = pair_use.get(other, 0) + count
                blocked.add(other)
        for a, b in itertools.combinations(chosen, 2):
            pairs[a][b] = pairs[a].get(b, 0) + 1
            pairs[b][a] = pairs[b].get(a, 0) + 1
        for j in chosen:
            usage[j] += 1
            heapq.heappush(heap, (usage[j], noise[usage[j]][j], j))
        for entry in aside:
            heapq.heappush(heap, entry)
        while heap and usage[heap[0][2]] != heap[0][0]:
            heapq.heappop(heap)
        if heap:  # every skill has a live entry: the top's level is the least usage
            noise.drop_below(heap[0][0])
        draws.append(tuple(sorted(chosen)))
    return draws


class _LevelNoise:
    """Tie-break keys per usage level, drawn m at a time the first time a level is reached."""

    def __init__(self, seed: int, m: int):
        self.seed, self.m, self.levels, self.lowest = seed, m, {}, 0

    def __getitem__(self, level: int) -> list[float]:
        if level not in self.levels:
            self.levels[level] = rng(self.seed, SAMPLE, "level", level).random(self.m).tolist()
        return self.levels[level]

    def drop_below(self, level: int) -> None:
        """Forget the levels no skill is at any more (usage only grows)."""
        for old in range(self.lowest, level):
            self.levels.pop(old, None)
        self.lowest = max(self.lowest, level)


def _first_unblocked(heap: list, usage: list[int], blocked: set[int], aside: list) -> int:
    """Pop the heap to its first live entry that is not blocked; blocked ones go to `aside` for after the draw."""
    while True:
        entry = heapq.heappop(heap)
        level, _, j = entry
        if usage[j] != level:
            continue
        if j in blocked:
            aside.append(entry)
            continue
        return j


def _dense_pick(usage: list[int], chosen: list[int], pair_use: dict[int, int], noise: _LevelNoise) -> int:
    """The rule over the whole catalog, for a pick where every free skill has pairs with the chosen."""
    free = (j for j in range(len(usage)) if j not in chosen)
    return min(free, key=lambda j: (pair_use.get(j, 0), usage[j], noise[usage[j]][j], j))


def pair_coverage(draws: list[tuple[int, ...]], m: int) -> dict:
    """How much of the catalog the draws reach: distinct pairs over all m(m-1)/2 pairs, skills used over m.

    >>> pair_coverage([(0, 1), (1, 2), (0, 1)], 4)
    {'combos': 3, 'skills_total': 4, 'skills_used': 3, 'pairs_total': 6, 'pairs_covered': 2, 'pair_coverage': 0.333}
    """
    covered = {p for d in draws for p in itertools.combinations(d, 2)}
    total = math.comb(m, 2)
    return {
        "combos": len(draws),
        "skills_total": m,
        "skills_used": len({s for d in draws for s in d}),
        "pairs_total": total,
        "pairs_covered": len(covered),
        "pair_coverage": round(len(covered) / total, 3) if total else 0.0,
    }


def draw_combos(skills: list[Skill], query_types: list[str], n: int, k: int, seed: int) -> tuple[list[Combo], dict]:
    """Combos over a catalog (sorted by name first, so the side input's order does not matter), with coverage."""
    skills = sorted(skills, key=lambda s: s.name)
    query_types = sorted(query_types)
    draws = sample_combos(len(skills), k, n, seed)
    qt_usage = np.zeros(len(query_types), dtype=np.int64)
    combos = []
    for i, draw in enumerate(draws):
        qt = int(np.lexsort((rng(seed, SAMPLE, i, "query_type").random(len(query_types)), qt_usage))[0])
        qt_usage[qt] += 1
        chosen = tuple((skills[j].name, skills[j].definition) for j in draw)
        combos.append(Combo(f"skillmix/{i:06d}", i, chosen, query_types[qt]))
    return combos, pair_coverage(draws, len(skills))


def instruction_request(combo: Combo, domain: str) -> TeacherRequest:
    messages = prompts.instruction_messages(domain, list(combo.skills), combo.query_type)
    return TeacherRequest(key=combo.id, messages=messages)


def response_request(combo: Combo, instruction: str) -> TeacherRequest:
    return TeacherRequest(key=combo.id, messages=prompts.response_messages(instruction))


_LABEL = re.compile(r"^\s*(?:here(?:'s| is)[^:\n]*:|(?:user )?(?:request|instruction|task|prompt)\s*:)\s*", re.I)


def clean_instruction(text: str) -> str:
    """Drop a leading label ('Request:', 'Here is the request:') and wrapping quotes.

    >>> clean_instruction('Here is a request:\\n"Write a function that sorts a list."')
    'Write a function that sorts a list.'
    """
    text = _LABEL.sub("", text.strip(), count=1).strip()
    if len(text) > 1 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text


def instruction_problem(instruction: str, finish_reason: str) -> str | None:
    """Why a cleaned instruction cannot be sent on for a response, or None.

    >>> instruction_problem("```python\\ndef solve(): ...\\n```", "stop")  # the teacher solved instead of asking
    'code_not_request'
    """
    if len(instruction) < _MIN_INSTRUCTION_CHARS:
        return "empty_instruction"
    if finish_reason == "length":
        return "truncated_instruction"
    if instruction.startswith("```") or solution_in(instruction):
        return "code_not_request"
    return None


_WRITE = re.compile(r"\b(write|implement|create|build|define|develop|make|code|need|want)\b", re.I)
_GIVEN = re.compile(r"\b(fix|debug|explain|refactor|review|optimi[sz]e|improve|speed up|why does|what does)\b", re.I)
_ASKED_NAME = re.compile(r"`(\w+)(?:\([^`]*\))?`|\b(?:called|named)\s+`?(\w+)|\b(\w+)\([^()\n]*\)")
_CODE_START = re.compile(r"^```|^\s*(?:async\s+)?(?:def|class)\s", re.M)


def solution_in(instruction: str) -> str | None:
    r"""The name of a function the instruction asks for and already defines (with a body), anywhere in it.

    A request to fix or explain code rightly holds code; a request to write a function that holds the function
    is a solution, not a request. When the prose names the function it asks for, only that one counts.

    >>> solution_in("Write a function `add` that adds two numbers.\n\n```python\ndef add(a, b):\n    return a + b\n```")
    'add'
    >>> solution_in("Fix this function:\n```python\ndef add(a, b):\n    return a - b\n```") is None
    True
    >>> solution_in("Write `mean(xs)`, using this helper:\ndef total(xs):\n    return sum(xs)\n") is None
    True
    """
    if not _WRITE.search(instruction) or _GIVEN.search(instruction):
        return None
    prose = instruction[: m.start()] if (m := _CODE_START.search(instruction)) else instruction
    asked = {name for groups in _ASKED_NAME.findall(prose) for name in groups if name}
    for code in [*extract_code_blocks(instruction), *_unfenced_code(instruction)]:
        for name in _defined_with_body(code):
            if not asked or name in asked:
                return name
    return None


def _unfenced_code(text: str) -> list[str]:
    """Code pasted without a fence: from a line starting `def`/`class` to the longest prefix that parses."""
    lines = text.split("\n")
    out = []
    for i, line in enumerate(lines):
        if re.match(r"\s*(async\s+)?(def|class)\s+\w+", line):
            block = [raw[len(line) - len(line.lstrip()) :] for raw in lines[i : i + 200]]
            for end in range(len(block), 0, -1):
                code = "\n".join(block[:end]) + "\n"
                if _parses(code):
                    out.append(code)
                    break
    return out


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def _defined_with_body(code: str) -> list[str]:
    """Functions (and methods) a block defines with more than a docstring, `pass` or `...`."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return []
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            body = [b for b in node.body if not (isinstance(b, ast.Expr) and isinstance(b.value, ast.Constant))]
            if any(not isinstance(b, ast.Pass) for b in body):
                names.append(node.name)
    return names


def assemble(combo: Combo, instruction: str, asked: TeacherReply, answered: TeacherReply, ctx: RunContext) -> Draft:
    response = answered.text.strip()
    record = Instruction(
        id=combo.id,
        skills=[name for name, _ in combo.skills],
        query_type=combo.query_type,
        instruction=instruction,
        response=response,
        code_blocks=extract_code_blocks(response),
        teacher_model=answered.model_id,
        prompt_version=prompts.PROMPT_VERSION,
        prompt_tokens=asked.prompt_tokens + answered.prompt_tokens,
        completion_tokens=asked.completion_tokens + answered.completion_tokens,
        provenance=ctx.provenance(RESPONSE, answered.model_id, answered.model_revision),
    )
    return Draft(record, answered.finish_reason)


class _Draw(beam.DoFn):
    def __init__(self, cfg: Config, ctx: RunContext):
        self.cfg, self.ctx = cfg, ctx
        self.ns = f"skillseq.{SAMPLE}"

    def process(self, skills: list[Skill], query_types: list[Skill]):
        n, k = self.cfg.generation.num_instructions, self.cfg.generation.skills_per_instruction
        if len(skills) < k:
            detail = f"catalog has {len(skills)} skills, each instruction needs {k}"
            for i in range(n):
                yield self.ctx.drop(f"skillmix/{i:06d}", SAMPLE, "catalog_too_small", detail)
            yield beam.pvalue.TaggedOutput("stats", pair_coverage([], len(skills)))
            return
        names = [q.name for q in query_types]
        if not names:
            beam.metrics.Metrics.counter(self.ns, "fallback_query_types").inc()
            names = list(prompts.FALLBACK_QUERY_TYPES)
        combos, stats = draw_combos(skills, names, n, k, self.ctx.seed)
        beam.metrics.Metrics.counter(self.ns, "pairs_covered").inc(stats["pairs_covered"])
        beam.metrics.Metrics.counter(self.ns, "pairs_total").inc(stats["pairs_total"])
        yield from combos
        yield beam.pvalue.TaggedOutput("stats", stats)


class SampleSkillCombos(beam.PTransform):
    """Catalog -> `(combos, stats, rejected)`; `stats` holds one `pair_coverage` dict for the card."""

    def __init__(self, ctx: RunContext, query_types):
        super().__init__()
        self.cfg, self.ctx, self.query_types = ctx.config, ctx, query_types

    def expand(self, catalog):
        # One worker draws every combo: it holds the catalog after merging and the query types (sizes of the
        # catalogs, not of the seeds), and sparse pair counts.
        drawn = (
            catalog
            | "Gather" >> beam.combiners.ToList()
            | "Draw"
            >> beam.ParDo(_Draw(self.cfg, self.ctx), beam.pvalue.AsList(self.query_types)).with_outputs(
                "stats", "rejected", main="combos"
            )
        )
        return drawn.combos | "Spread" >> beam.Reshuffle(), drawn.stats, drawn.rejected


class _ReadInstruction(beam.DoFn):
    """Instruction reply -> the response request, or a reject when the instruction is cut off or empty."""

    def __init__(self, ctx: RunContext):
        self.ctx = ctx

    def process(self, answered):
        combo, _, reply = answered
        instruction = clean_instruction(reply.text)
        reason = instruction_problem(instruction, reply.finish_reason)
        if reason:
            yield self.ctx.drop(combo.id, INSTRUCTION, reason, "", reply.text)
            return
        yield (combo, instruction, reply), response_request(combo, instruction)


def _assemble(answered, ctx: RunContext) -> Draft:
    (combo, instruction, asked), _, reply = answered
    return assemble(combo, instruction, asked, reply, ctx)


class GenerateInstructions(beam.PTransform):
    """Combos -> `(drafts, rejected)`: instruction call, then response call, assembled into `Draft`s."""

    def __init__(self, ctx: RunContext):
        super().__init__()
        self.ctx = ctx

    def expand(self, combos):
        domain = self.ctx.config.skills.domain
        asked, refused = (
            combos
            | "InstructionRequests" >> beam.Map(lambda c: (c, instruction_request(c, domain)))
            | "AskForInstruction" >> AskTeacher(self.ctx, INSTRUCTION)
        )
        written = asked | "ReadInstruction" >> beam.ParDo(_ReadInstruction(self.ctx)).with_outputs(
            "rejected", main="requests"
        )
        answered, unanswered = written.requests | "AskForResponse" >> AskTeacher(self.ctx, RESPONSE)
        drafts = answered | "Assemble" >> beam.Map(_assemble, self.ctx)
        return drafts, (refused, written.rejected, unanswered) | "GenerationRejects" >> beam.Flatten()
