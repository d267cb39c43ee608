"""Tokens and API keys never reach logs, cards, rows, caches or error messages: a whole run with fake secrets
in the environment, a teacher server that quotes the key back in its errors, and a grep of everything written."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.echo_model import EchoModel

ROOT = Path(__file__).resolve().parents[1]
SECRETS = {"HF_TOKEN": "hf_FAKEsecretTOKEN_abcdefghij", "OPENAI_API_KEY": "sk-FAKE-secret-key-0123456789"}


def _config(tmp_path, url, name):
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        f"allow_benchmark_seeds: true\nseeds: [{{kind: humaneval, limit: 2}}]\n"
        f"teacher: {{backend: openai, model: echo-model, cache_dir: {tmp_path / ('cache-' + name)},"
        f" openai: {{base_url: '{url}', max_retries: 1, backoff_s: 0}}}}\n"
        "skills: {mode: both, num_direct_skills: 4, num_query_types: 2}\ngeneration: {num_instructions: 3}\n"
        "lintseq: {samples_per_program: 1}\npragmatic: {domains: [python], max_alternatives: 4, max_candidates: 4}\n"
        f"output: {{path: {tmp_path / ('out-' + name)}}}\n"
    )
    return path


def _grep_everything(tmp_path: Path, *texts: str) -> list[str]:
    leaks = []
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            leaks += [f"{path}: {name}" for name, value in SECRETS.items() if value.encode() in data]
    for text in texts:
        leaks += [f"process output: {name}" for name, value in SECRETS.items() if value in text]
    return leaks


@pytest.mark.slow
@pytest.mark.parametrize("error_status", [None, 401], ids=["teacher-answers", "teacher-quotes-the-key-in-errors"])
def test_no_secret_is_written_anywhere(tmp_path, error_status):
    env = dict(os.environ, **SECRETS)
    with EchoModel(error_status=error_status) as model:
        name = "err" if error_status else "ok"
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "skillseq.pipelines.cli",
                "run",
                str(_config(tmp_path, model.base_url, name)),
                "--no-progress",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=900,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        # The key was really used (so hiding it is not trivial) ...
        assert model.auth_headers and all(h == f"Bearer {SECRETS['OPENAI_API_KEY']}" for h in model.auth_headers)
    if error_status:
        rejected = (tmp_path / f"out-{name}" / "rejected").rglob("*.parquet")
        import pyarrow.parquet as pq

        details = [d for f in rejected for d in pq.read_table(f).column("detail").to_pylist()]
        assert any("invalid key" in d for d in details), "the server's error text reached `rejected` ..."
    # ... and yet it appears in no file of the run (outputs, card, cache, config) and in no output of the process.
    assert _grep_everything(tmp_path, result.stdout, result.stderr) == []
