"""Stage 2 of SkillMix: combo sampling (reproducible, balanced, covering the pairs) and record assembly."""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from pathlib import Path

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from skillseq import prompts
from skillseq.config import Config, GenerationConfig
from skillseq.context import RunContext
from skillseq.rng import rng
from skillseq.schema import Skill
from skillseq.teachers.types import TeacherReply
from skillseq.transforms.programs import extract_code_blocks
from skillseq.transforms.skillmix import generation
from skillseq.transforms.skillmix.generation import (
    SAMPLE,
    Combo,
    SampleSkillCombos,
    assemble,
    clean_instruction,
    draw_combos,
    instruction_problem,
    instruction_request,
    pair_coverage,
    sample_combos,
)

_DENSE_PICK = generation._dense_pick

RECORDED = json.loads((Path(__file__).parent / "data" / "recorded_skillmix.json").read_text())
CTX = RunContext.of(Config())


def _skill(name: str) -> Skill:
    return Skill(name, f"definition of {name}", 1, [], None)


def test_sampling_is_reproducible_and_depends_on_the_seed():
    assert sample_combos(15, 2, 40, seed=3) == sample_combos(15, 2, 40, seed=3)
    assert sample_combos(15, 2, 40, seed=3) != sample_combos(15, 2, 40, seed=4)


def _dense_sampler(m: int, k: int, n: int, seed: int) -> tuple[list[tuple[int, ...]], int]:
    """The rule as defined, with an m x m matrix of pair counts and a full sort per pick: the oracle. Also the
    number of picks at which every free skill already had a pair with those chosen (the sampler's dense path)."""
    usage, pairs, draws, crowded = np.zeros(m, dtype=np.int64), np.zeros((m, m), dtype=np.int64), [], 0
    levels = [rng(seed, SAMPLE, "level", u).random(m) for u in range(n + 1)]  # usage <= n
    for _ in range(n):
        chosen: list[int] = []
        for _ in range(k):
            pair_use = pairs[chosen].sum(axis=0) if chosen else np.zeros(m, dtype=np.int64)
            crowded += all(pair_use[j] > 0 for j in range(m) if j not in chosen)
            noise = np.array([levels[u][j] for j, u in enumerate(usage)])
            order = np.lexsort((np.arange(m), noise, usage, pair_use))
            chosen.append(int(next(j for j in order if j not in chosen)))
        for a, b in itertools.combinations(chosen, 2):
            pairs[a, b] += 1
            pairs[b, a] += 1
        usage[chosen] += 1
        draws.append(tuple(sorted(chosen)))
    return draws, crowded


@pytest.mark.parametrize(
    "m,k,n",
    [(2, 2, 5), (3, 2, 20), (4, 3, 25), (5, 2, 40), (6, 4, 30), (12, 2, 150), (9, 3, 60), (30, 2, 1000),
     (6, 1, 13), (40, 4, 90), (200, 2, 300), (7, 7, 5)],
)  # fmt: skip
def test_the_heap_draws_what_the_dense_rule_draws(m, k, n, monkeypatch):
    dense_picks = []

    def counted(*args):
        dense_picks.append(args)
        return _DENSE_PICK(*args)

    monkeypatch.setattr(generation, "_dense_pick", counted)
    crowded = 0
    for seed in (0, 5, 9):
        expected, crowded_here = _dense_sampler(m, k, n, seed)
        assert sample_combos(m, k, n, seed) == expected
        crowded += crowded_here
    assert len(dense_picks) == crowded
    if m <= 6 and k > 1:  # tiny catalogs: partners cover every free skill, the dense path ran
        assert crowded > 0


@pytest.mark.parametrize("m,k,n", [(2, 2, 5), (5, 2, 3), (12, 2, 66), (9, 3, 30), (30, 2, 1000), (6, 1, 13)])
def test_draws_are_distinct_sorted_k_tuples(m, k, n):
    draws = sample_combos(m, k, n, seed=0)
    assert len(draws) == n
    assert all(len(set(d)) == k and list(d) == sorted(d) and 0 <= d[0] and d[-1] < m for d in draws)


@pytest.mark.parametrize("m", [5, 12, 21])
def test_pairs_all_covered_once_before_any_repeats(m):
    total = math.comb(m, 2)
    draws = sample_combos(m, 2, total, seed=7)
    assert len(set(draws)) == total
    assert pair_coverage(draws, m)["pair_coverage"] == 1.0


@pytest.mark.parametrize("m,k,n", [(20, 2, 37), (40, 3, 500), (7, 2, 4)])
def test_skill_counts_within_binomial_bounds(m, k, n):
    """Against uniform independent draws, every skill's count stays within 3 standard deviations (binomial)."""
    counts = Counter(s for d in sample_combos(m, k, n, seed=11) for s in d)
    p = k / m
    mean, sd = n * p, math.sqrt(n * p * (1 - p))
    assert all(abs(counts.get(s, 0) - mean) <= 3 * sd + 1 for s in range(m))
    # Least-used-first is a balanced design: far tighter than the binomial bound.
    assert max(counts.get(s, 0) for s in range(m)) - min(counts.get(s, 0) for s in range(m)) <= 1


def test_small_n_spreads_over_distinct_skills():
    draws = sample_combos(20, 2, 8, seed=0)
    assert len({s for d in draws for s in d}) == 16


def test_pair_coverage_numbers():
    assert pair_coverage([], 3) == {
        "combos": 0,
        "skills_total": 3,
        "skills_used": 0,
        "pairs_total": 3,
        "pairs_covered": 0,
        "pair_coverage": 0.0,
    }
    assert pair_coverage([(0, 1, 2)], 4)["pairs_covered"] == 3


def test_draw_combos_ignores_catalog_order_and_balances_query_types():
    skills = [_skill(n) for n in "abcdefg"]
    combos, stats = draw_combos(skills, ["explain", "debug", "write"], 21, 2, seed=5)
    again, _ = draw_combos(list(reversed(skills)), ["write", "debug", "explain"], 21, 2, seed=5)
    assert combos == again
    assert Counter(c.query_type for c in combos) == {"explain": 7, "debug": 7, "write": 7}
    assert stats["pair_coverage"] == 1.0
    assert [c.id for c in combos] == [f"skillmix/{i:06d}" for i in range(21)]
    assert combos[0].skills[0][1].startswith("definition of ")


@pytest.mark.parametrize(
    "raw,clean",
    [
        ("Write a function that reverses a string.", "Write a function that reverses a string."),
        ('Request: "Sort a list of tuples by their second item."', "Sort a list of tuples by their second item."),
        ("Here's the request:\n  Parse a CSV file into dicts.", "Parse a CSV file into dicts."),
        ("  ", ""),
    ],
)
def test_clean_instruction(raw, clean):
    assert clean_instruction(raw) == clean


def test_instruction_prompt_names_every_skill_and_the_query_type():
    combo = Combo(
        "skillmix/000000", 0, (("recursion", "a function calls itself"), ("memoization", "cache results")), "fix a bug"
    )
    text = instruction_request(combo, "Python programming").messages[-1][1]
    assert all(word in text for word in ("recursion", "memoization", "fix a bug", "cache results"))


def _reply(row: dict) -> TeacherReply:
    return TeacherReply(**row)


@pytest.mark.parametrize("row", RECORDED["generation"], ids=lambda r: r["combo"]["id"])
def test_assemble_recorded_replies(row):
    combo = Combo(**{**row["combo"], "skills": tuple(map(tuple, row["combo"]["skills"]))})
    asked, answered = _reply(row["instruction_reply"]), _reply(row["response_reply"])
    draft = assemble(combo, row["instruction"], asked, answered, CTX)
    record = draft.record
    assert record.id == combo.id and record.skills == [s for s, _ in combo.skills]
    assert record.code_blocks == extract_code_blocks(answered.text.strip())
    assert record.prompt_tokens == asked.prompt_tokens + answered.prompt_tokens
    assert record.completion_tokens == asked.completion_tokens + answered.completion_tokens
    assert record.teacher_model == RECORDED["model_id"] and record.prompt_version == prompts.PROMPT_VERSION
    assert draft.finish_reason == answered.finish_reason


def test_sample_skill_combos_in_a_pipeline():
    cfg = Config(generation=GenerationConfig(num_instructions=10, skills_per_instruction=2))
    skills = [_skill(n) for n in "abcde"]
    expected, stats = draw_combos(skills, ["write a function"], 10, 2, cfg.seed)
    with TestPipeline() as p:
        query_types = p | "QueryTypes" >> beam.Create([_skill("write a function")])
        combos, got_stats, rejected = p | beam.Create(skills) | SampleSkillCombos(RunContext.of(cfg), query_types)
        assert_that(combos, equal_to(expected), label="combos")
        assert_that(got_stats, equal_to([stats]), label="stats")
        assert_that(rejected, equal_to([]), label="rejected")
    assert stats["pair_coverage"] == 1.0


def test_a_catalog_smaller_than_k_rejects_every_index():
    cfg = Config(generation=GenerationConfig(num_instructions=3, skills_per_instruction=2))
    with TestPipeline() as p:
        query_types = p | "QueryTypes" >> beam.Create([])
        combos, _, rejected = p | beam.Create([_skill("only")]) | SampleSkillCombos(RunContext.of(cfg), query_types)
        assert_that(combos, equal_to([]), label="combos")
        assert_that(
            rejected | beam.Map(lambda r: (r.id, r.reason)),
            equal_to([(f"skillmix/{i:06d}", "catalog_too_small") for i in range(3)]),
            label="rejected",
        )


def test_query_types_fall_back_when_extraction_found_none():
    cfg = Config(generation=GenerationConfig(num_instructions=6))
    with TestPipeline() as p:
        query_types = p | "QueryTypes" >> beam.Create([])
        combos, _, _ = p | beam.Create([_skill(n) for n in "abc"]) | SampleSkillCombos(RunContext.of(cfg), query_types)
        assert_that(
            combos | beam.Map(lambda c: c.query_type) | beam.Distinct(),
            equal_to(list(prompts.FALLBACK_QUERY_TYPES)),
        )


def test_pairs_helper_agrees_with_itertools():
    draws = sample_combos(6, 3, 10, seed=2)
    covered = {p for d in draws for p in itertools.combinations(d, 2)}
    assert pair_coverage(draws, 6)["pairs_covered"] == len(covered)


# ---- an instruction that holds its own solution


SOLVED_AFTER_FIRST_SENTENCE = (
    "Write a function `merge_intervals` that merges overlapping intervals. Here is how it could look:\n\n"
    "```python\ndef merge_intervals(intervals):\n    out = []\n    for start, end in sorted(intervals):\n"
    "        if out and start <= out[-1][1]:\n            out[-1][1] = max(out[-1][1], end)\n"
    "        else:\n            out.append([start, end])\n    return out\n```\n"
)


@pytest.mark.parametrize(
    "instruction,verdict",
    [
        (SOLVED_AFTER_FIRST_SENTENCE, "code_not_request"),
        # unfenced, after two sentences, the function named only by its definition
        (
            "I need a helper. It should count vowels.\ndef count_vowels(s):\n    return sum(c in 'aeiou' for c in s)\n",
            "code_not_request",
        ),
        # code to work on is part of a fix or explain request
        (
            "Fix the bug in this function, which should merge intervals:\n```python\ndef merge(xs):\n    return xs\n```",
            None,
        ),
        # a signature to fill in is a request, not a solution
        (
            'Write a function that merges overlapping intervals:\n```python\ndef merge(xs):\n    """Merge."""\n'
            "    ...\n```",
            None,
        ),
        # the code is a given helper, not the function asked for
        (
            "Write `mean(xs)` that averages a list, using this helper:\n```python\ndef total(xs):\n    return sum(xs)\n```",
            None,
        ),
        ("Write a function that merges overlapping intervals and returns them sorted by start.", None),
    ],  # fmt: skip
)
def test_a_solution_anywhere_in_the_instruction_is_not_a_request(instruction, verdict):
    assert instruction_problem(instruction, "stop") == verdict
