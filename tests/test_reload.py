"""No stale rows: a finished folder loads as itself through the README's own `load_dataset` line, even where an
earlier run wrote a folder of the same name (one datasets cache for both), and a second `publish` to the same repo
leaves none of the first run's shards beside the second's."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import apache_beam as beam
import datasets
import pyarrow.parquet as pq
import pytest
from apache_beam.testing.test_pipeline import TestPipeline

from skillseq.card import read_card_yaml
from skillseq.config import Config, OutputConfig, load_config
from skillseq.context import RunContext
from skillseq.pipelines.build import card_info
from skillseq.pipelines.run import run
from skillseq.publish import files_to_upload
from skillseq.schema import Skill
from skillseq.transforms.sinks import WriteHuggingFaceDataset, finish_dataset
from tests.hub_server import FakeHub

ROOT = Path(__file__).resolve().parents[1]
REGEXES = ["[a-z]+", "(cat|dog)s?", "x?y{2}z", "[0-9]{3}", "a[bc]+d", "(ab|cd)+e"]


def readme_load_line() -> str:
    """The `load_dataset` line of the README's "What it produces", as a user copies it."""
    section = ROOT.joinpath("README.md").read_text().split("## What it produces", 1)[1].split("\n## ", 1)[0]
    (line,) = [line for line in section.splitlines() if re.match(r"ds = datasets\.load_dataset\(", line)]
    return line


def _regex_run(parent: Path, seed: int, num_shards: int) -> Path:
    """A real run of the pipeline (regex pragmatic examples only: no teacher), into `<parent>/out`."""
    seeds = parent / "seeds.jsonl"
    parent.mkdir()
    seeds.write_text(json.dumps({"id": "s1", "program": "def f(x):\n    return x + 1\n"}) + "\n")
    config = parent / "c.yaml"
    config.write_text(
        f"seed: {seed}\nseeds:\n  - {{kind: jsonl, path: {seeds}}}\n"
        "skills: {enabled: false}\ngeneration: {enabled: false}\nlintseq: {enabled: false}\n"
        f"pragmatic: {{domains: [regex], regexes: {json.dumps(REGEXES)}, max_alternatives: 8, max_candidates: 8}}\n"
        f"output: {{path: {parent / 'out'}, num_shards: {num_shards}}}\n"
    )
    run(load_config(str(config)), ["--direct_running_mode=in_memory"])
    return parent / "out"


def _rows(out: Path, config: str) -> list[dict]:
    files = sorted((out / config).glob("train-*.parquet"))
    return sorted((row for f in files for row in pq.read_table(f).to_pylist()), key=lambda r: r["id"])


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Two runs with other seeds into folders both named `out`: as many rows, other examples."""
    base = tmp_path_factory.mktemp("reload")
    return _regex_run(base / "first", seed=1, num_shards=2), _regex_run(base / "second", seed=2, num_shards=1)


@pytest.mark.slow
def test_a_second_run_into_a_folder_of_the_same_name_loads_as_itself(two_runs, monkeypatch, tmp_path):
    first, second = two_runs
    a, b = _rows(first, "pragmatic_examples"), _rows(second, "pragmatic_examples")
    # The case a row count cannot tell apart: as many rows, and the same ids, with other examples chosen.
    assert len(a) == len(b) == len(REGEXES) and [r["id"] for r in a] == [r["id"] for r in b]
    assert [r["examples"] for r in a] != [r["examples"] for r in b]
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "one-cache"))  # shared by both loads
    line = readme_load_line()
    assert '"out", "pragmatic_examples"' in line
    for out, expected in ((first, a), (second, b)):
        monkeypatch.chdir(out.parent)
        scope = {"datasets": datasets}
        exec(line, scope)
        loaded = sorted(scope["ds"], key=lambda r: r["id"])
        assert [r["examples"] for r in loaded] == [r["examples"] for r in expected], out
        assert [r["prompt"] for r in loaded] == [r["prompt"] for r in expected], out
    cached = [p for p in (tmp_path / "one-cache" / "out" / "pragmatic_examples" / "0.0.0").iterdir() if p.is_dir()]
    assert len(cached) == 2  # one cache entry per content, under the one name


@pytest.mark.slow
def test_a_second_publish_leaves_no_shard_of_the_first(two_runs):
    first, second = two_runs
    assert (first / "pragmatic_examples" / "train-00001-of-00002.parquet").exists()
    with FakeHub() as hub:
        env = dict(os.environ, HF_ENDPOINT=hub.endpoint, HF_TOKEN="hf_test", HF_HUB_DISABLE_XET="1")
        for out in (first, second):
            result = subprocess.run(
                [sys.executable, "-m", "skillseq.pipelines.cli", "publish", str(out), "--repo-id", "me/data"],
                capture_output=True,
                text=True,
                env=env,
                timeout=120,
            )
            assert result.returncode == 0, result.stderr
            hub.files["me/data"].setdefault("LICENSE", b"a file the user added on the Hub: kept")
        files = hub.files["me/data"]
    assert sorted(files) == sorted(files_to_upload(str(second)) + ["LICENSE"])
    for name in files_to_upload(str(second)):
        assert files[name] == (second / name).read_bytes(), name


def _write_skills(out: Path, names: list[str]) -> None:
    """Skills straight through the sink (no pipeline stages): the folder a run with these skills would write."""
    ctx = RunContext.of(Config())
    skills = [Skill(name, "a definition", 1, ["HumanEval/0"], ctx.provenance("skills")) for name in names]
    with TestPipeline() as p:
        {"skills": p | beam.Create(skills)} | WriteHuggingFaceDataset(OutputConfig(path=str(out)))
    finish_dataset(OutputConfig(path=str(out)), card_info(Config()))


def test_equal_sizes_and_counts_still_load_as_themselves(tmp_path, monkeypatch):
    """Rows, Arrow bytes and file sizes all equal: only the files' checksums in the card tell the two apart."""
    _write_skills(tmp_path / "a" / "out", ["skill a", "skill b"])
    _write_skills(tmp_path / "b" / "out", ["skill c", "skill d"])
    info = [read_card_yaml((tmp_path / d / "out" / "README.md").read_text())["dataset_info"][0] for d in "ab"]
    assert {k: v for k, v in info[0].items() if k != "download_checksums"} == {
        k: v for k, v in info[1].items() if k != "download_checksums"
    }
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "one-cache"))
    for d, names in (("a", ["skill a", "skill b"]), ("b", ["skill c", "skill d"])):
        monkeypatch.chdir(tmp_path / d)
        assert sorted(datasets.load_dataset("out", "skills", split="train")["name"]) == names
