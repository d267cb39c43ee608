"""The `skillseq` command end to end on a small real run: run (with live progress), show, summary."""

import json
import subprocess
import sys

import datasets
from apache_beam.testing.test_pipeline import TestPipeline

from skillseq import progress
from skillseq.config import load_config
from skillseq.pipelines.build import build


def _config(tmp_path, extra=""):
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text(json.dumps({"id": "s1", "program": "def f(x):\n    return x + 1\n"}) + "\n{broken\n")
    path = tmp_path / "c.yaml"
    path.write_text(
        f"allow_benchmark_seeds: true\nseeds:\n  - kind: humaneval\n    limit: 2\n  - kind: jsonl\n    path: {seeds}\n"
        "skills: {enabled: false}\ngeneration: {enabled: false}\nlintseq: {enabled: false}\n"
        f"pragmatic: {{enabled: false}}\noutput: {{path: {tmp_path / 'out'}}}\n{extra}"
    )
    return path


def test_run_then_show(tmp_path):
    cfg = _config(tmp_path)
    run = subprocess.run(
        [sys.executable, "-m", "skillseq.pipelines.cli", "run", str(cfg), "--no-progress"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "dropped_malformed_json" in run.stderr and "rejected" in run.stderr
    ds = datasets.load_dataset(str(tmp_path / "out"), "rejected", split="train")
    assert ds["reason"] == ["malformed_json"]
    show = subprocess.run(
        [sys.executable, "-m", "skillseq.pipelines.cli", "show", str(tmp_path / "out"), "-n", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert show.returncode == 0, show.stderr
    assert "rejected: 1 shown" in show.stdout and "malformed_json" in show.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "skillseq.pipelines.cli", "show", str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 1 and "not a finished skillseq output folder" in missing.stderr


def test_beam_flags_pass_through_untouched(tmp_path):
    bad = subprocess.run(
        [sys.executable, "-m", "skillseq.pipelines.cli", "run", str(_config(tmp_path)), "--runner=NoSuchRunner"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode != 0 and "NoSuchRunner" in bad.stderr


def test_progress_taps_count_records_per_stage(tmp_path):
    progress.COUNTS.clear()
    cfg = load_config(_config(tmp_path))
    with TestPipeline() as p:
        build(p, cfg, progress=True)
    assert progress.COUNTS["seeds"] == 3 and progress.COUNTS["rejected"] == 1
    assert progress.COUNTS["programs"] == 3
    assert progress.is_local_in_process(["--runner=DirectRunner"])
    assert not progress.is_local_in_process(["--runner=DirectRunner", "--direct_running_mode=multi_processing"])
    assert not progress.is_local_in_process(["--runner=DataflowRunner"])
