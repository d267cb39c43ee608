"""Record real replies of the default teacher for the SkillMix tests: `python tests/data/record_teacher_outputs.py`.

Runs the same requests the pipeline sends (seed extraction on `data/seeds.jsonl`, direct extraction, then
instruction and response for a few combos drawn from the resulting catalog) through `skillseq.teachers.Teacher`
with the default model, no cache, and writes `tests/data/recorded_skillmix.json`. The tests read that file as
fixed teacher outputs; rerun this script (and fix the tests' expectations) only when the prompts change.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from pathlib import Path

from skillseq import prompts
from skillseq.config import SkillsConfig, TeacherConfig
from skillseq.schema import Seed
from skillseq.teachers import Teacher
from skillseq.transforms.skillmix.catalog import build_catalog, ngram_pairs, split_not_skills
from skillseq.transforms.skillmix.generation import (
    clean_instruction,
    draw_combos,
    instruction_request,
    response_request,
)
from skillseq.transforms.skillmix.skills import direct_requests, mentions_of_reply, seed_request

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).with_name("recorded_skillmix.json")
SKILLS = SkillsConfig(num_direct_skills=10, num_query_types=4)  # two chunks: two focus areas
# A cache outside the repository: an interrupted recording resumes instead of starting over.
TEACHER = TeacherConfig(cache_dir="/tmp/skillseq-record-cache", max_new_tokens=200, json_retries=1)
RUN_SEED = 0
NUM_SEEDS = 8
NUM_COMBOS = 6
# Only if the recorded extraction yields fewer than two skills (a 135M teacher may): draw from these instead.
FALLBACK_SKILLS = [
    ("recursion", "a function that calls itself"),
    ("string parsing", "reading structure from text"),
    ("error handling", "raising and catching exceptions"),
    ("list comprehension", "building lists"),
]


def _entry(payload, request, outcome) -> dict:
    row = {"payload": payload, "key": request.key, "sample_index": request.sample_index}
    if hasattr(outcome, "parsed"):
        row.update(reply=dataclasses.asdict(outcome), failure=None)
    else:
        row.update(reply=None, failure=dataclasses.asdict(outcome))
    return row


def main() -> None:
    teacher = Teacher(TEACHER, RUN_SEED)
    seeds = [Seed(source="jsonl:data/seeds.jsonl", **json.loads(line)) for line in open(ROOT / "data/seeds.jsonl")][
        :NUM_SEEDS
    ]
    asks = [(["seed", s.id], seed_request(s, SKILLS)) for s in seeds]
    asks += [(list(payload), request) for payload, request in direct_requests(SKILLS)]
    outcomes, _ = teacher.answer([r for _, r in asks])
    extraction = [_entry(p, r, o) for (p, r), o in zip(asks, outcomes, strict=True)]

    mentions, query_types = [], []
    for row in extraction:
        if row["reply"]:
            skills, qts = mentions_of_reply(row["payload"][0], row["reply"]["parsed"], SKILLS)
            mentions += [_mention(n, d, row["payload"][1]) for n, d in skills]
            query_types += [_mention(n, d, row["payload"][1]) for n, d in qts]
    mentions, refused = split_not_skills(mentions)
    print(f"not skills: {refused}")
    catalog, _ = build_catalog(mentions, ngram_pairs, SKILLS.merge_threshold, 1, 5, None)
    print(f"catalog: {[s.name for s in catalog]}")
    if len(catalog) < 2:
        catalog = [_mention(n, d, "fallback") for n, d in FALLBACK_SKILLS]
    types, _ = build_catalog(query_types, ngram_pairs, SKILLS.merge_threshold, 1, 5, None)
    combos, _ = draw_combos(catalog, [t.name for t in types] or list(prompts.FALLBACK_QUERY_TYPES), NUM_COMBOS, 2, 0)

    asked, _ = teacher.answer([instruction_request(c, SKILLS.domain) for c in combos])
    instructions = [clean_instruction(a.text) if hasattr(a, "text") else "" for a in asked]
    answered, _ = teacher.answer([response_request(c, i) for c, i in zip(combos, instructions, strict=True)])
    generation = [
        {
            "combo": dataclasses.asdict(c),
            "instruction_reply": dataclasses.asdict(a),
            "instruction": i,
            "response_reply": dataclasses.asdict(r),
        }
        for c, a, i, r in zip(combos, asked, instructions, answered, strict=True)
    ]
    record = {
        "recorded": "real replies of the default teacher; do not edit by hand (rerun this script)",
        "model_id": teacher.model_id,
        "model_revision": teacher.revision,
        "date": datetime.date.today().isoformat(),
        "prompt_version": prompts.PROMPT_VERSION,
        "teacher": TEACHER.model_dump(mode="json", include={"backend", "max_new_tokens", "temperature", "top_p"}),
        "run_seed": RUN_SEED,
        "generation_skills": "fallback list" if catalog[0].examples == ["fallback"] else "recorded catalog",
        "extraction": extraction,
        "generation": generation,
    }
    OUT.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT}: {len(extraction)} extraction replies, {len(generation)} instruction/response pairs")


def _mention(name: str, definition: str, source: str):
    from skillseq.schema import Skill

    return Skill(name, definition, 1, [source], None)


if __name__ == "__main__":
    main()
