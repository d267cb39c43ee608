"""WriteHuggingFaceDataset: Hub-style shards, a card that load_dataset follows, exact features, atomic output."""

import os

import apache_beam as beam
import datasets
import pyarrow.parquet as pq
import pytest
from apache_beam.testing.test_pipeline import TestPipeline

from skillseq.card import RUN_METRICS, read_card_yaml
from skillseq.config import Config, OutputConfig
from skillseq.context import RunContext
from skillseq.pipelines.build import card_info
from skillseq.schema import SCHEMAS, EditSequence, Skill
from skillseq.transforms.sinks import WriteHuggingFaceDataset, finish_dataset

CFG = Config()
CTX = RunContext.of(CFG)


def _sequences(n):
    return [
        EditSequence(
            id=f"p{i}/lintseq/0",
            source_id=f"p{i}",
            instruction=None if i % 2 else "do",
            program="x = 1\n" * (i + 1),
            diffs=["@@ -0,0 +1 @@\n+x = 1"],
            num_edits=1,
            linter="ruff",
            error_codes=["F821"],
            sample_index=0,
            seed=0,
            text="x",
            prompt="do\n",
            completion="x",
            provenance=CTX.provenance("lintseq"),
        )
        for i in range(n)
    ]


def _skills(n):
    return [Skill(f"skill {i}", "a definition", i + 1, ["HumanEval/0"], CTX.provenance("skills")) for i in range(n)]


def _write(out, outputs, counters=None, **cfg):
    with TestPipeline() as p:
        pcolls = {name: p | f"Create[{name}]" >> beam.Create(rows) for name, rows in outputs.items()}
        pcolls["_counts"] = p | "Counts" >> beam.Create([("read.out", 7), ("read.rejected", 2)])
        pcolls | WriteHuggingFaceDataset(OutputConfig(path=str(out), **cfg))
    # The pipeline leaves a staged folder with its stats and no card; finishing writes the card and moves it.
    assert not out.exists() and not (out.parent / (out.name + ".partial") / "README.md").exists()
    assert (out.parent / (out.name + ".partial") / "stats.json").exists()
    finish_dataset(OutputConfig(path=str(out), **cfg), card_info(CFG), counters)


def test_shards_card_and_load_dataset(tmp_path):
    out = tmp_path / "out"
    _write(out, {"edit_sequences": _sequences(9), "skills": _skills(3), "rejected": []}, num_shards=4)
    names = sorted(os.listdir(out / "edit_sequences"))
    assert names == [f"train-0000{i}-of-00004.parquet" for i in range(4)]
    assert not os.path.exists(str(out) + ".partial")
    card = (out / "README.md").read_text()
    meta = read_card_yaml(card)
    # An empty config is reported in the card but not published: load_dataset cannot load zero rows.
    assert [c["config_name"] for c in meta["configs"]] == ["skills", "edit_sequences"]
    assert "| rejected | 0 |" in card and not (out / "rejected").exists()
    assert "| edit_sequences | 9 |" in card and "| read | 9 | 7 | 2 |" in card
    assert "![length distributions](plots/lengths.png)" in card
    assert (out / "plots/lengths.png").read_bytes()[:4] == b"\x89PNG"
    for name, rows in (("edit_sequences", 9), ("skills", 3)):
        ds = datasets.load_dataset(str(out), name, split="train")
        assert len(ds) == rows
        assert ds.features == datasets.Features.from_arrow_schema(SCHEMAS[name])
    ds = datasets.load_dataset(str(out), "edit_sequences", split="train")
    assert sorted(ds["id"]) == sorted(s.id for s in _sequences(9))
    assert ds[0]["provenance"]["stage"] == "lintseq"


def test_rows_are_sorted_within_shards_and_rerun_is_byte_identical(tmp_path):
    _write(tmp_path / "a", {"edit_sequences": _sequences(20)}, num_shards=3)
    _write(tmp_path / "b", {"edit_sequences": list(reversed(_sequences(20)))}, num_shards=3)
    for name in sorted(os.listdir(tmp_path / "a" / "edit_sequences")):
        a = (tmp_path / "a" / "edit_sequences" / name).read_bytes()
        assert a == (tmp_path / "b" / "edit_sequences" / name).read_bytes()
        ids = pq.read_table(tmp_path / "a" / "edit_sequences" / name).column("id").to_pylist()
        assert ids == sorted(ids)
    assert (tmp_path / "a/README.md").read_text() == (tmp_path / "b/README.md").read_text()


def test_target_shard_size_decides_the_count(tmp_path):
    _write(tmp_path / "o", {"edit_sequences": _sequences(30)}, target_shard_mb=0.002)
    files = os.listdir(tmp_path / "o" / "edit_sequences")
    assert len(files) > 1 and all(f.endswith(f"-of-{len(files):05d}.parquet") for f in files)


def test_the_card_ends_with_the_runs_teacher_accounting(tmp_path):
    counters = {
        "skillseq.teacher/extract_requests": 5,
        "skillseq.teacher/extract_teacher_ms": 4321,  # wall time: differs between identical runs
        "skillseq.lintseq/lint_calls": 2,
    }
    _write(tmp_path / "out", {"skills": _skills(2)}, counters=counters)
    card = (tmp_path / "out/README.md").read_text()
    head, metrics = card.split(RUN_METRICS)
    assert metrics.endswith("| extract_requests | 5 |\n") and "lint_calls" not in card
    assert "teacher_ms" not in card
    _write(tmp_path / "plain", {"skills": _skills(2)})
    assert (tmp_path / "plain/README.md").read_text() == head.rstrip("\n") + "\n"


def test_a_failed_run_leaves_the_previous_output_untouched(tmp_path):
    out = tmp_path / "out"
    _write(out, {"skills": _skills(2)})
    before = (out / "README.md").read_text()

    def explode(x):
        raise RuntimeError("worker died")

    with pytest.raises(Exception, match="worker died"):
        with TestPipeline() as p:
            bad = p | beam.Create(_skills(5)) | beam.Map(explode)
            {"skills": bad} | WriteHuggingFaceDataset(OutputConfig(path=str(out)))
    assert (out / "README.md").read_text() == before
    assert len(datasets.load_dataset(str(out), "skills", split="train")) == 2


def test_unknown_config_name_is_refused():
    with pytest.raises(ValueError, match="unknown configs"):
        with TestPipeline() as p:
            {"skils": p | beam.Create([1])} | WriteHuggingFaceDataset(OutputConfig())
