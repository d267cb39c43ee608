"""The LintSeq Beam stage: records, ids, rejects with reasons, on a real TestPipeline with real ruff."""

from __future__ import annotations

import json

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to, is_not_empty

from skillseq.config import Config, LintSeqConfig
from skillseq.context import RunContext
from skillseq.linters.ruff_linter import RuffLinter
from skillseq.rng import rng
from skillseq.schema import Program
from skillseq.transforms.lintseq import LintSeq
from skillseq.transforms.lintseq.core import DIFF_TOKEN, Job, apply_diffs, edit_diffs, prepare, sample_edit_paths
from skillseq.transforms.seeds import humaneval_seeds

CTX = RunContext.of(Config(seed=3))


def _ctx(cfg: LintSeqConfig) -> RunContext:
    return RunContext.of(Config(seed=3, lintseq=cfg))


def humaneval_programs(n: int) -> list[Program]:
    return [Program(id=s.id, source_id=s.id, code=s.program, instruction=s.instruction) for s in humaneval_seeds(n)]


BAD = [
    Program(id="empty", source_id="empty", code="  \n\n"),
    Program(id="unparsable", source_id="unparsable", code="def f(x):\n    return (x +\n\ny = 2\n"),
    Program(id="prose", source_id="prose", code="Sure! Here is how you do it.\nFirst, open the file and read it.\n"),
    Program(id="dirty", source_id="dirty", code="def f(x):\n    return x + missing\n"),
    Program(id="huge", source_id="huge", code="x = 1\n" * 50),
    Program(id="comments", source_id="comments", code="# nothing\n# here\n"),
]


def test_sequences_and_rejects():
    good = humaneval_programs(6)
    cfg = LintSeqConfig(samples_per_program=3, max_lines=40, batch_size=4)

    def check_sequences(records):
        assert records, "no edit sequences"
        by_id = {r.id: r for r in records}
        assert len(by_id) == len(records)
        sources = {p.id: p for p in good}
        for r in records:
            program = sources[r.source_id]
            assert r.id == f"{program.id}/lintseq/{r.sample_index}" and 0 <= r.sample_index < 3
            assert apply_diffs("", r.diffs) == r.program == program.code
            assert r.num_edits == len(r.diffs) > 0
            assert r.instruction == program.instruction and r.text.startswith(program.instruction + "\n" + DIFF_TOKEN)
            assert r.linter == "ruff" and "F821" in r.error_codes and r.seed == 3
            assert r.provenance.stage == "lintseq"
        assert {r.source_id for r in records} == set(sources)

    with TestPipeline() as p:
        sequences, rejected = p | beam.Create(good + BAD) | LintSeq(_ctx(cfg))
        assert_that(sequences, check_sequences, label="Sequences")
        reasons = rejected | beam.Map(lambda r: (r.id, r.reason, r.stage))
        expected = [
            ("empty", "empty_program", "lintseq"),
            ("unparsable", "parse_error", "lintseq"),
            ("prose", "not_python", "lintseq"),
            ("dirty", "lint_errors_before_start", "lintseq"),
            ("huge", "too_many_lines", "lintseq"),
            ("comments", "no_candidate_lines", "lintseq"),
        ]
        assert_that(reasons, equal_to(expected), label="Rejects")


def test_preexisting_errors_can_be_ignored():
    dirty = Program(id="dirty", source_id="dirty", code="def f(x):\n    y = x * 2\n    return y + missing\n")
    cfg = LintSeqConfig(samples_per_program=2, ignore_preexisting_errors=True)
    with TestPipeline() as p:
        sequences, rejected = p | beam.Create([dirty]) | LintSeq(_ctx(cfg))
        assert_that(sequences | beam.Map(lambda r: apply_diffs("", r.diffs)), is_not_empty(), label="Some")
        assert_that(rejected, equal_to([]), label="NoRejects")


def expected_sequences(programs, samples):
    """What the stage must output, from the core alone: same rng keys, duplicates dropped."""
    out = []
    for prog in programs:
        jobs = [Job(prepare(prog.code), rng(CTX.seed, "lintseq", prog.id, k)) for k in range(samples)]
        seen = set()
        for k, path in enumerate(sample_edit_paths(jobs, RuffLinter())):
            if json.dumps(path) not in seen:
                seen.add(json.dumps(path))
                out.append((f"{prog.id}/lintseq/{k}", tuple(edit_diffs(prog.code, path))))
    return out


def test_same_seed_same_output_and_duplicates_dropped():
    tiny = Program(id="tiny", source_id="tiny", code="x = 1\ny = x + 1\n")
    programs = [tiny, *humaneval_programs(2)]
    expected = expected_sequences(programs, 5)
    # Two lines have at most two distinct sequences: the five samples collapse.
    assert 1 <= sum(i.startswith("tiny/") for i, _ in expected) <= 2
    for run in range(2):  # same seed, same output, run after run
        with TestPipeline() as p:
            sequences, _ = (
                p | beam.Create(programs) | LintSeq(_ctx(LintSeqConfig(samples_per_program=5, batch_size=2)))
            )
            got = sequences | beam.Map(lambda r: (r.id, tuple(r.diffs)))
            assert_that(got, equal_to(expected), label=f"Same{run}")
