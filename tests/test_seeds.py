"""Reading seeds: real HumanEval, local JSONL and Parquet, and bad records sent to `rejected` with reasons."""

import hashlib
import json

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from skillseq.config import Config, SeedSource
from skillseq.context import RunContext
from skillseq.transforms.seeds import ReadSeeds, SourceError, humaneval_seeds, stdlib_seeds

CTX = RunContext.of(Config())


def test_humaneval_seeds_are_the_real_problems():
    seeds = humaneval_seeds()
    assert len(seeds) == 164
    first = seeds[0]
    assert first.id == "HumanEval/0" and first.entry_point == "has_close_elements"
    assert first.program.startswith(first.instruction) and "return" in first.program
    assert "check(has_close_elements)" in first.tests


def test_stdlib_seeds_are_many_real_distinct_functions():
    seeds = stdlib_seeds()
    assert len(seeds) > 2000
    assert len({s.id for s in seeds}) == len(seeds)
    assert stdlib_seeds(50) == seeds[:50]
    for seed in seeds[:200]:
        assert seed.program.lstrip().startswith(("def ", "async def ")) and seed.entry_point in seed.program
        compile(seed.program, seed.id, "exec")


def test_jsonl_good_and_bad_records(tmp_path):
    path = tmp_path / "seeds.jsonl"
    lines = [
        json.dumps({"id": "ok1", "instruction": "Reverse a string."}).encode(),
        json.dumps({"task": "renamed", "code": "x = 1\n"}).encode(),
        b"",
        b"{not json",
        b"\xff\xfe\xfa not utf8",
        json.dumps({"id": "bad-type", "instruction": ["a", "list"]}).encode(),
        json.dumps({"id": "no-fields", "title": "nothing usable"}).encode(),
        json.dumps([1, 2]).encode(),
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    source = SeedSource(kind="jsonl", path=str(path), fields={"program": "code"})
    with TestPipeline() as p:
        seeds, rejected = p | ReadSeeds([source], CTX)
        assert_that(
            seeds | beam.Map(lambda s: (s.instruction, s.program)),
            equal_to([("Reverse a string.", None), (None, "x = 1\n")]),
            label="seeds",
        )
        assert_that(
            rejected | beam.Map(lambda r: r.reason),
            equal_to(["malformed_json", "not_utf8", "bad_field_type", "missing_fields", "not_an_object"]),
            label="reasons",
        )
        assert_that(
            rejected | beam.Map(lambda r: (r.stage, bool(r.detail), bool(r.payload))),
            equal_to([("read", True, True)] * 5),
            label="details",
        )


def test_ids_are_stable_content_hashes(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps({"instruction": "Sum two numbers."}) + "\n")
    source = SeedSource(kind="jsonl", path=str(path))
    with TestPipeline() as p:
        seeds, _ = p | ReadSeeds([source], CTX)
        expected = hashlib.sha256(path.read_bytes().rstrip(b"\n")).hexdigest()[:16]
        assert_that(seeds | beam.Map(lambda s: s.id), equal_to([f"jsonl:{path}/{expected}"]))


def test_parquet_source_with_limit_keeps_smallest_ids(tmp_path):
    path = tmp_path / "s.parquet"
    pq.write_table(pa.table({"id": [f"r{i}" for i in range(9, -1, -1)], "instruction": ["do it"] * 10}), path)
    source = SeedSource(kind="parquet", path=str(path), limit=3)
    with TestPipeline() as p:
        seeds, _ = p | ReadSeeds([source], CTX)
        assert_that(seeds | beam.Map(lambda s: s.id), equal_to(["r0", "r1", "r2"]))


def test_source_level_errors_stop_before_any_work(tmp_path):
    with pytest.raises(SourceError, match="no file matches"):
        TestPipeline() | ReadSeeds([SeedSource(kind="jsonl", path=str(tmp_path / "absent*.jsonl"))], CTX)
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    with pytest.raises(SourceError, match="empty"):
        TestPipeline() | ReadSeeds([SeedSource(kind="jsonl", path=str(empty))], CTX)
    with pytest.raises(SourceError, match="hf source"):
        TestPipeline() | ReadSeeds([SeedSource(kind="hf", name=str(tmp_path / "no-such-dataset"))], CTX)


def test_hf_source_reads_a_local_datasets_folder(tmp_path):
    pq.write_table(pa.table({"question": ["Add one.", "Double it."]}), tmp_path / "train.parquet")
    source = SeedSource(kind="hf", name=str(tmp_path), split="train", fields={"instruction": "question"})
    with TestPipeline() as p:
        seeds, rejected = p | ReadSeeds([source], CTX)
        assert_that(seeds | beam.Map(lambda s: s.instruction), equal_to(["Add one.", "Double it."]))
