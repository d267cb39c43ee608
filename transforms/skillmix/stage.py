"""Instruct-SkillMix for code, as one composite: seeds -> skills catalog -> skill combos -> instructions.

    seeds ─► ExtractSkills ─► BuildSkillCatalog ─► SampleSkillCombos ─► GenerateInstructions
                   └──► BuildQueryTypes ──────────────┘ (side input)           │
                     FilterShirkers ─► DropNearDuplicates ─► Decontaminate ◄───┘ ─► instructions

`SkillMix(ctx)` takes a PCollection of `Seed` (ignored in direct mode) and returns a dict of
PCollections: `skills` (the catalog, `Skill`), `query_types` (`Skill` records of the query-type catalog),
`instructions` (`Instruction`), `rejected` (`Rejected`, every stage), `stats` (one `pair_coverage` dict) and
`counts` (`(name, n)` pairs for the card: query types, combos, skills used, pairs covered and total, and the
`generation` accounting). With `generation.num_instructions` = n: n = len(instructions) + rejected rows of the
generation and filter stages (`GENERATION_STAGES`).
"""

from __future__ import annotations

import apache_beam as beam

from skillseq.context import RunContext
from skillseq.transforms.accounting import StageCounts
from skillseq.transforms.decontaminate import Decontaminate
from skillseq.transforms.skillmix.catalog import BuildSkillCatalog
from skillseq.transforms.skillmix.filters import (
    DECONTAMINATE,
    DEDUP,
    FILTER,
    JUDGE,
    DropNearDuplicates,
    FilterShirkers,
)
from skillseq.transforms.skillmix.generation import (
    INSTRUCTION,
    RESPONSE,
    SAMPLE,
    GenerateInstructions,
    SampleSkillCombos,
)
from skillseq.transforms.skillmix.skills import ExtractSkills

OUTPUTS = ("skills", "query_types", "instructions", "rejected", "stats", "counts")
# Every draw ends as an instruction or as a rejected row of exactly one of these stages.
GENERATION_STAGES = (SAMPLE, INSTRUCTION, RESPONSE, FILTER, JUDGE, DEDUP, DECONTAMINATE)


def card_counts(stats: dict) -> list[tuple[str, int]]:
    """The coverage numbers the card reports, as `(name, n)` pairs.

    >>> card_counts({"combos": 4, "skills_total": 5, "skills_used": 5, "pairs_total": 10, "pairs_covered": 4,
    ...              "pair_coverage": 0.4})[:2]
    [('skillmix.combos', 4), ('skillmix.skills_used', 5)]
    """
    names = ("combos", "skills_used", "skills_total", "pairs_covered", "pairs_total")
    return [(f"skillmix.{name}", int(stats[name])) for name in names]


class SkillMix(beam.PTransform):
    def __init__(self, ctx: RunContext):
        super().__init__()
        self.cfg, self.ctx = ctx.config, ctx

    def expand(self, seeds):
        if not self.cfg.skills.enabled:
            return {name: seeds.pipeline | f"No_{name}" >> beam.Create([]) for name in OUTPUTS}
        skill_mentions, query_type_mentions, unread = seeds | "ExtractSkills" >> ExtractSkills(self.ctx)
        skills, rare_skills = skill_mentions | "BuildSkillCatalog" >> BuildSkillCatalog(self.ctx)
        query_types, rare_types = query_type_mentions | "BuildQueryTypes" >> BuildSkillCatalog(
            self.ctx, kind="query_type"
        )
        out = {"skills": skills, "query_types": query_types}
        rejected = [unread, rare_skills, rare_types]
        counts = []
        if self.cfg.generation.enabled:
            combos, out["stats"], unsampled = skills | "SampleSkillCombos" >> SampleSkillCombos(self.ctx, query_types)
            drafts, unwritten = combos | "GenerateInstructions" >> GenerateInstructions(self.ctx)
            kept, shirkers = drafts | "FilterShirkers" >> FilterShirkers(self.ctx)
            kept, duplicates = kept | "DropNearDuplicates" >> DropNearDuplicates(self.ctx)
            out["instructions"], contaminated = kept | "Decontaminate" >> Decontaminate(self.ctx, DECONTAMINATE)
            generation_rejected = [unsampled, unwritten, shirkers, duplicates, contaminated]
            rejected += generation_rejected
            counts += [
                seeds.pipeline | "Draws" >> beam.Create([("generation.in", self.cfg.generation.num_instructions)]),
                {
                    "out": out["instructions"],
                    "rejected": generation_rejected | "GenerationRejects" >> beam.Flatten(),
                }
                | StageCounts("generation"),
            ]
        else:
            out["instructions"] = seeds.pipeline | "NoInstructions" >> beam.Create([])
            out["stats"] = seeds.pipeline | "NoStats" >> beam.Create([])
        counts.append(out["stats"] | "CoverageCounts" >> beam.FlatMap(card_counts))
        counts.append(  # a combiner: integers meet on one worker, not the query types
            query_types
            | "CountQueryTypes" >> beam.combiners.Count.Globally()
            | "NameQueryTypes" >> beam.Map(lambda n: ("skillmix.query_types", n))
        )
        out["counts"] = counts | "AllCounts" >> beam.Flatten()
        out["rejected"] = rejected | "AllRejects" >> beam.Flatten()
        return out
