r"""Benchmark decontamination, for every output that carries text or code.

A record leaks a benchmark when one of its programs *is* a benchmark program (the same syntax tree, whatever
the formatting and comments) or when its text shares a word n-gram (`filters.decontaminate_ngram`, 13 by
default, lower-cased `\w+` tokens) with a benchmark's prompt, solution or response. The benchmarks are
HumanEval, always, plus the sources in `filters.decontaminate_with`.

Where it sits: every output is made from seeds or from the teacher's instructions, so the check runs at those
two places and everything downstream inherits it. Seeds are checked right after they are read (their
programs become edit sequences and pragmatic examples; their text feeds skill extraction), and instructions
after the SkillMix filters (their code blocks become programs too). Seeds from a benchmark source
(`kind: humaneval`, allowed only with `allow_benchmark_seeds: true`) are the one exception: the user asked
for those programs, so they pass unchecked, and the card says the data holds benchmark programs.

A leaking record goes to `rejected` with reason `contaminated` and a detail naming the benchmark record; its
payload is left empty, since the `rejected` config is published too and the payload would be the leak.

    >>> index = build_index([Seed("B/1", "bench", "Return the sum of a list of numbers, or zero when it is empty.",
    ...                           None, "def total(xs):\n    return sum(xs)\n")], 13)
    >>> index.leak(["Hi."], ["def total(xs):  # add\n    return sum(xs)\n"])
    'is the program of B/1'
    >>> index.leak(["please return the sum of a list of numbers or zero when it is empty thanks"], [])
    'shares a 13-gram with B/1'
    >>> index.leak(["Return the sum of a list."], ["def total(ys):\n    return sum(ys)\n"]) is None
    True
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import apache_beam as beam

from skillseq.config import BENCHMARK_KINDS, FiltersConfig, SeedSource
from skillseq.context import RunContext
from skillseq.schema import Instruction, Seed

REASON = "contaminated"
SEED_STAGE = "decontaminate"  # the seeds' check; SkillMix checks its instructions as `skillmix.decontaminate`


def ngram_hashes(text: str, n: int) -> set[int]:
    """Stable 64-bit hashes of the word n-grams of a text (the same in every process, unlike `hash`)."""
    words = re.findall(r"\w+", text.lower())
    return {
        int.from_bytes(hashlib.blake2b(" ".join(words[i : i + n]).encode(), digest_size=8).digest(), "little")
        for i in range(len(words) - n + 1)
    }


def program_key(code: str) -> str:
    """What makes two programs the same program: their syntax tree, with the whitespace inside strings
    (docstrings re-indented) collapsed; or, for text that does not parse, its words."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return hashlib.sha256(" ".join(code.split()).encode()).hexdigest()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = " ".join(node.value.split())
    return hashlib.sha256(ast.dump(tree).encode()).hexdigest()


@dataclass(frozen=True)
class BenchmarkIndex:
    n: int
    ngrams: dict[int, str]  # n-gram hash -> benchmark record id
    programs: dict[str, str]  # program_key -> benchmark record id

    def leak(self, texts: Iterable[str | None], programs: Iterable[str]) -> str | None:
        """How a record with these texts and programs leaks a benchmark, or None when it does not."""
        for code in programs:
            if hit := self.programs.get(program_key(code)):
                return f"is the program of {hit}"
        grams = ngram_hashes("\n".join(t for t in texts if t), self.n)
        hits = sorted({self.ngrams[h] for h in grams if h in self.ngrams})
        return f"shares a {self.n}-gram with {hits[0]}" if hits else None


def build_index(benchmarks: list[Seed], n: int) -> BenchmarkIndex:
    """The index of benchmark records (the smallest id wins where two share an n-gram or a program)."""
    ngrams: dict[int, str] = {}
    programs: dict[str, str] = {}
    for seed in sorted(benchmarks, key=lambda s: s.id):
        for text in (seed.instruction, seed.response, seed.program):
            for h in ngram_hashes(text or "", n):
                ngrams.setdefault(h, seed.id)
        if seed.program:
            programs.setdefault(program_key(seed.program), seed.id)
    return BenchmarkIndex(n, ngrams, programs)


def benchmark_sources(cfg: FiltersConfig) -> list[SeedSource]:
    """HumanEval, always, and the configured sources."""
    return [SeedSource(kind="humaneval"), *(s for s in cfg.decontaminate_with if s.kind != "humaneval")]


def seed_parts(seed: Seed) -> tuple[list[str | None], list[str]]:
    return [seed.instruction, seed.response, seed.program], [seed.program] if seed.program else []


def instruction_parts(record: Instruction) -> tuple[list[str | None], list[str]]:
    return [record.instruction, record.response], record.code_blocks


class _Check(beam.DoFn):
    def __init__(self, stage: str, parts: Callable, ctx: RunContext):
        self.stage, self.parts, self.ctx = stage, parts, ctx

    def process(self, record, index: BenchmarkIndex):
        leak = index.leak(*self.parts(record))
        if leak is None:
            yield record
        else:
            yield self.ctx.drop(record.id, self.stage, REASON, f"{record.id} {leak}")


class Decontaminate(beam.PTransform):
    """Records -> `(kept, rejected)`; `parts(record)` gives a record's `(texts, programs)`."""

    def __init__(self, ctx: RunContext, stage: str, parts: Callable = instruction_parts):
        super().__init__()
        self.cfg, self.ctx, self.stage, self.parts = ctx.config.filters, ctx, stage, parts

    def expand(self, records):
        from skillseq.transforms.seeds import ReadSeeds

        benchmarks, _ = records.pipeline | "ReadBenchmarks" >> ReadSeeds(benchmark_sources(self.cfg), self.ctx)
        # One worker builds the index, every worker gets it: its size is the benchmarks' (HumanEval's 164 problems
        # and `decontaminate_with`), whatever the number of records checked.
        index = (
            benchmarks
            | "GatherBenchmarks" >> beam.combiners.ToList()
            | "Index" >> beam.Map(build_index, self.cfg.decontaminate_ngram)
        )
        checked = records | "Check" >> beam.ParDo(
            _Check(self.stage, self.parts, self.ctx), beam.pvalue.AsSingleton(index)
        ).with_outputs("rejected", main="kept")
        return checked.kept, checked.rejected


class DecontaminateSeeds(beam.PTransform):
    """Seeds -> `(kept, rejected)`: seeds from a benchmark source (allowed by the config) pass unchecked."""

    def __init__(self, ctx: RunContext):
        super().__init__()
        self.ctx = ctx

    def expand(self, seeds):
        benchmark, other = seeds | "ByOrigin" >> beam.Partition(
            lambda s, _: 0 if s.source in BENCHMARK_KINDS else 1, 2
        )
        kept, rejected = other | "Check" >> Decontaminate(self.ctx, SEED_STAGE, seed_parts)
        return (benchmark, kept) | "Kept" >> beam.Flatten(), rejected
