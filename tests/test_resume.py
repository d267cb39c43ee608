"""A run killed midway, rerun with the same command, finishes with a dataset byte-identical to an uninterrupted
run, and repeats no model call that had finished (the response cache). The teacher is a deterministic local
OpenAI-compatible server (tests/echo_model.py), so the comparison tests the pipeline, not sampling noise."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from skillseq.card import RUN_METRICS
from tests.echo_model import EchoModel

ROOT = Path(__file__).resolve().parents[1]

CONFIG = """
seed: 3
allow_benchmark_seeds: true
seeds:
  - {{kind: humaneval, limit: 3}}
  - {{kind: jsonl, path: {root}/data/seeds.jsonl}}
teacher:
  backend: openai
  model: echo-model
  batch_size: 2
  cache_dir: {cache}
  openai: {{base_url: "{url}", max_concurrency: 1, max_retries: 0}}
skills: {{mode: both, num_direct_skills: 6, num_query_types: 3}}
generation: {{num_instructions: 6}}
filters: {{judge: true}}  # the optional teacher-as-judge step runs too
lintseq: {{samples_per_program: 2}}
pragmatic: {{domains: [python], max_alternatives: 8, max_candidates: 8}}
output: {{path: {out}, num_shards: 2}}
"""


def _config(tmp_path: Path, name: str, url: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(CONFIG.format(root=ROOT, cache=tmp_path / f"cache-{name}", url=url, out=tmp_path / f"out-{name}"))
    return path


def _command(config: Path) -> list[str]:
    return [sys.executable, "-m", "skillseq.pipelines.cli", "run", str(config), "--no-progress"]


def _cached(cache: Path) -> int:
    return sum(1 for p in cache.rglob("*.json")) if cache.exists() else 0


def _files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_killed_run_resumes_to_the_identical_dataset_without_repeating_finished_calls(tmp_path):
    with EchoModel() as model:
        port = model.server.server_address[1]  # the second server takes the same address: the config is the same
        first = subprocess.run(
            _command(_config(tmp_path, "whole", model.base_url)), capture_output=True, text=True, timeout=900
        )
        assert first.returncode == 0, first.stderr[-3000:]
        calls_uninterrupted = sum(model.calls.values())
    assert calls_uninterrupted > 10
    # The whole pipeline ran, and every stage accounts for every record it was given.
    counts = json.loads((tmp_path / "out-whole/stats.json").read_text())["counts"]
    for stage in ("read", "generation", "lintseq"):
        assert counts.get(f"{stage}.in", counts[f"{stage}.out"] + counts[f"{stage}.rejected"]) == (
            counts[f"{stage}.out"] + counts[f"{stage}.rejected"]
        ), stage
    assert counts["generation.out"] >= 1

    def ids(config, column):
        files = (tmp_path / "out-whole" / config).glob("*.parquet")
        return {v for f in files for v in pq.read_table(f).column(column).to_pylist()}

    assert ids("instructions", "id") & ids("edit_sequences", "source_id"), "response code goes on to LintSeq"

    with EchoModel(delay_s=0.3, port=port) as model:
        config = _config(tmp_path, "killed", model.base_url)
        cache = tmp_path / "cache-killed"
        run = subprocess.Popen(
            _command(config), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + 600
        while _cached(cache) < 6 and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert run.poll() is None, "the run ended before it could be killed midway"
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
        finished_before_kill = _cached(cache)
        assert not (tmp_path / "out-killed").exists(), "a killed run must not leave a loadable folder"

        calls_before = sum(model.calls.values())
        model.delay_s = 0
        rerun = subprocess.run(_command(config), capture_output=True, text=True, timeout=900)
        assert rerun.returncode == 0, rerun.stderr[-3000:]
        calls_rerun = sum(model.calls.values()) - calls_before

    # Every call that had finished before the kill came from the cache; only the rest went to the model.
    assert calls_rerun == calls_uninterrupted - finished_before_kill
    a, b = _files(tmp_path / "out-whole"), _files(tmp_path / "out-killed")
    assert sorted(a) == sorted(b)
    for name in a:
        if name != "README.md":
            assert a[name] == b[name], f"{name} differs after resume"
    # The cards name each run's own cache folder, and their last section accounts for the run itself (the
    # resumed run hit the cache); everything before it is identical.
    card_a, card_b = (x["README.md"].decode().split(RUN_METRICS) for x in (a, b))
    assert card_b[0].replace(str(tmp_path / "cache-killed"), str(tmp_path / "cache-whole")) == card_a[0]

    def hits(text):
        return sum(int(line.rsplit("|", 2)[1]) for line in text.splitlines() if "_cache_hits" in line)

    assert hits(card_b[1]) == finished_before_kill and hits(card_a[1]) == 0
