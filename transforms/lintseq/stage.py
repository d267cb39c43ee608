r"""LintSeq as a Beam stage: programs in, linter-clean edit sequences out (`edit_sequences`), with rejects.

Programs are batched (`cfg.batch_size` per batch) so that all samples of all programs of a batch advance
in lockstep and each round of deletions is ONE linter call (see `lintseq_core`). Before sampling, a
program is screened and linted once; it is rejected, never repaired, when it is:

    >>> screen("", 2000), screen("x = 1\nif x\n    y = 2\n", 2000)[0], screen("Thanks, that helps a lot!\n", 2000)[0]
    (('empty_program', 'no code'), 'parse_error', 'not_python')

or when it lints dirty (`lint_errors_before_start`, unless `ignore_preexisting_errors`: then those exact
diagnostics, by code, original line and message, are ignored in every later state), or when it has no
line a sample could pick (`no_candidate_lines`: only comments). Duplicate sequences of one program are
dropped (counted, not rejected). A program that makes the sampler itself crash is sampled again alone;
if it still crashes it goes to `rejected` with reason `crash` and the traceback.
"""

from __future__ import annotations

import traceback

import apache_beam as beam
from apache_beam.metrics import Metrics

from skillseq.config import LintSeqConfig
from skillseq.context import RunContext
from skillseq.linters import Linter, LinterError, make_linter
from skillseq.linters.base import python_syntax_error
from skillseq.rng import rng
from skillseq.schema import EditSequence, Program
from skillseq.training import edit_completion, edit_prompt
from skillseq.transforms.lintseq.core import Job, edit_diffs, prepare, sample_edit_paths, training_text

STAGE = "lintseq"
_NS = f"skillseq.{STAGE}"


def sequence_id(program_id: str, k: int) -> str:
    """The id of a program's k-th edit sequence; `program_of` inverts it.

    >>> sequence_id("HumanEval/0", 3)
    'HumanEval/0/lintseq/3'
    """
    return f"{program_id}/{STAGE}/{k}"


def program_of(sequence: EditSequence) -> str:
    """The id of the program an edit sequence was sampled from (program ids may hold `/`, so from the right)."""
    return sequence.id.rsplit(f"/{STAGE}/", 1)[0]


def screen(code: str, max_lines: int) -> tuple[str, str] | None:
    """Why a program cannot be sampled, as `(reason, detail)`, or None when it can (before linting)."""
    if not code.strip():
        return "empty_program", "no code"
    if "\x00" in code:
        return "not_python", "contains NUL bytes"
    try:
        code.encode("utf-8")
    except UnicodeEncodeError as e:
        return "not_python", f"not encodable as UTF-8 at character {e.start}"
    if "\r" in code.replace("\r\n", ""):
        return "unsupported_newlines", "a carriage return without a newline: linter line numbers would disagree"
    lines = code.split("\n")
    if len(lines) > max_lines:
        return "too_many_lines", f"{len(lines)} lines > max_lines={max_lines}"
    error = python_syntax_error(code)
    if error is None:
        return None
    if _looks_like_prose(lines):
        return "not_python", f"most lines are not Python statements ({error.message}, line {error.line})"
    return "parse_error", f"line {error.line}: {error.message}"


def _looks_like_prose(lines: list[str]) -> bool:
    """Fewer than half the non-blank lines parse as Python statements on their own."""
    body = [line.strip() for line in lines if line.strip()]
    ok = sum(
        python_syntax_error(line + " pass" if line.endswith(":") else line, parse_only=True) is None for line in body
    )
    return ok * 2 < len(body)


class _SampleBatch(beam.DoFn):
    """A batch of programs -> EditSequence records, and Rejected rows on the 'rejected' output."""

    def __init__(self, cfg: LintSeqConfig, ctx: RunContext):
        self.cfg, self.ctx = cfg, ctx

    def setup(self):
        self.linter: Linter = make_linter(self.cfg.linter, self.cfg.error_codes)
        self.provenance = self.ctx.provenance(STAGE)
        self.sequences = Metrics.counter(_NS, "edit_sequences")
        self.duplicates = Metrics.counter(_NS, "duplicate_sequences")
        self.lint_calls = Metrics.counter(_NS, "lint_calls")

    def process(self, batch: list[Program]):
        ready = []
        for program in batch:
            why = screen(program.code, self.cfg.max_lines)
            if why:
                yield self._drop(program, *why)
            else:
                ready.append(program)
        preexisting = self.linter.lint_many([p.code for p in ready]) if ready else []
        prepared = []
        for program, diags in zip(ready, preexisting, strict=True):
            if diags and not self.cfg.ignore_preexisting_errors:
                detail = "; ".join(f"line {d.line}: {d.code} {d.message}" for d in diags[:20])
                yield self._drop(program, "lint_errors_before_start", detail)
                continue
            prep = prepare(program.code, diags)
            if not prep.candidates:
                yield self._drop(program, "no_candidate_lines", "only comments and blank lines")
                continue
            prepared.append((program, prep))
        for program, paths in self._sample(prepared):
            if isinstance(paths, str):
                yield self._drop(program, "crash", paths)
            else:
                yield from self._records(program, paths)

    def _sample(self, prepared):
        """(program, its paths) per program; paths is a traceback string for a program that crashes."""
        s = self.cfg.samples_per_program
        jobs = [Job(prep, rng(self.ctx.seed, STAGE, p.id, k)) for p, prep in prepared for k in range(s)]
        try:
            paths = self._paths(jobs)
            return [(p, paths[i * s : (i + 1) * s]) for i, (p, _) in enumerate(prepared)]
        except LinterError:
            raise
        except Exception:
            if len(prepared) == 1:
                return [(prepared[0][0], traceback.format_exc())]
        return [out for one in prepared for out in self._sample([one])]  # isolate the program that crashes

    def _paths(self, jobs):
        calls = _Counting(self.linter)
        paths = sample_edit_paths(jobs, calls)
        self.lint_calls.inc(calls.calls)
        return paths

    def _records(self, program: Program, paths):
        seen = set()
        for k, path in enumerate(paths):
            key = tuple(map(tuple, path))
            if key in seen:
                self.duplicates.inc()
                continue
            seen.add(key)
            diffs = edit_diffs(program.code, path)
            self.sequences.inc()
            yield EditSequence(
                id=sequence_id(program.id, k),
                source_id=program.source_id,
                instruction=program.instruction,
                program=program.code,
                diffs=diffs,
                num_edits=len(diffs),
                linter=self.linter.name,
                error_codes=list(self.linter.error_codes),
                sample_index=k,
                seed=self.ctx.seed,
                text=training_text(program.instruction, diffs),
                prompt=edit_prompt(program.instruction, program.code, program.entry_point),
                completion=edit_completion(diffs),
                provenance=self.provenance,
            )

    def _drop(self, program: Program, reason: str, detail: str):
        return self.ctx.drop(program.id, STAGE, reason, detail, program.code)


class _Counting:
    """A linter wrapper counting calls, for the `lint_calls` metric."""

    def __init__(self, linter: Linter):
        self.linter, self.calls = linter, 0

    def lint_many(self, sources):
        self.calls += 1
        return self.linter.lint_many(sources)


class LintSeq(beam.PTransform):
    """Programs -> `(edit_sequences, rejected)`: `cfg.samples_per_program` LintSeq samples per program."""

    def __init__(self, ctx: RunContext):
        super().__init__()
        self.cfg, self.ctx = ctx.config.lintseq, ctx

    def expand(self, programs):
        size = self.cfg.batch_size
        results = (
            programs
            | "Batch" >> beam.BatchElements(min_batch_size=size, max_batch_size=size)
            | "Sample" >> beam.ParDo(_SampleBatch(self.cfg, self.ctx)).with_outputs("rejected", main="sequences")
        )
        return results.sequences, results.rejected
