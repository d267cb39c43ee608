"""The same config gives the same dataset, byte for byte, teacher stages included: in-process, across worker
processes, through Beam's portable runner path (the job service Flink and Spark are driven through, here embedded
locally), and on a pool of separate SDK worker processes reached as an EXTERNAL environment, the way a Flink or
Spark cluster runs Python. The teacher is a deterministic local OpenAI-compatible server (tests/echo_model.py)."""

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.echo_model import EchoModel
from tests.job_server import JobServer

ROOT = Path(__file__).resolve().parents[1]

# Every stage, teacher stages included, on a few real HumanEval programs and a file of bad records.
CONFIG = """
seed: 7
allow_benchmark_seeds: true
seeds:
  - {{kind: humaneval, limit: 3}}
  - {{kind: jsonl, path: {root}/tests/data/bad_seeds.jsonl}}
teacher:
  backend: openai
  model: echo-model
  batch_size: 2
  cache_dir: {cache}
  openai: {{base_url: "{url}", max_concurrency: 2, max_retries: 0}}
skills: {{mode: both, num_direct_skills: 4, num_query_types: 2}}
generation: {{num_instructions: 4}}
lintseq: {{samples_per_program: 2}}
pragmatic: {{domains: [python, regex], max_alternatives: 8, max_candidates: 8}}
output: {{path: {out}, num_shards: 2}}
"""


def run_cli(config: Path, *beam_args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "skillseq.pipelines.cli", "run", str(config), "--no-progress", *beam_args],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def dataset_files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WorkerPool:
    """`python -m apache_beam.runners.worker.worker_pool_main`: starts one SDK worker process per worker the runner
    asks for, as a Flink or Spark task manager does with `--environment_type=EXTERNAL`."""

    def __init__(self, log: Path):
        self.port, self.log = free_port(), log
        # The pool starts each worker as `python -c ...`: this interpreter's `python`, with skillseq installed.
        env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
        cmd = [sys.executable, "-m", "apache_beam.runners.worker.worker_pool_main", f"--service_port={self.port}"]
        self.proc = subprocess.Popen(cmd, env=env, stderr=log.open("w"), start_new_session=True)

    def workers_started(self) -> int:
        return self.log.read_text().count("Starting worker with command")

    def stop(self) -> None:
        self.proc.terminate()  # the pool stops its workers on the way out
        self.proc.wait(timeout=60)


@pytest.mark.slow
def test_every_runner_writes_identical_files_with_the_teacher_stages_on(tmp_path):
    pool = WorkerPool(tmp_path / "pool.log")
    runners = {
        "in_process": ("--direct_running_mode=in_memory",),
        "multi_process": ("--direct_running_mode=multi_processing", "--direct_num_workers=2"),
        "portable": ("--runner=PortableRunner", "--job_endpoint=embed", "--environment_type=LOOPBACK"),
        "worker_pool": ("--runner=PortableRunner", "--job_endpoint={job_server}", "--environment_type=EXTERNAL",
                        f"--environment_config=localhost:{pool.port}", "--direct_num_workers=2"),
    }  # fmt: skip
    # One config for every run (the card quotes it): the same teacher URL, the same cache folder, emptied before
    # each run so that every runner calls the teacher itself. The cache is given as an fsspec URL.
    cache = tmp_path / "cache"
    calls = {}
    try:
        with EchoModel() as model, JobServer() as job_server:
            for name, args in runners.items():
                args = [a.format(job_server=job_server) for a in args]
                shutil.rmtree(cache, ignore_errors=True)
                config = tmp_path / f"{name}.yaml"
                config.write_text(
                    CONFIG.format(root=ROOT, cache=f"file://{cache}", url=model.base_url, out=tmp_path / name)
                )
                before = sum(model.calls.values())
                run_cli(config, *args)
                calls[name] = sum(model.calls.values()) - before
        assert pool.workers_started() >= 2, pool.log.read_text()[-3000:]
    finally:
        pool.stop()
    assert calls["in_process"] > 10 and len(set(calls.values())) == 1, calls
    a = dataset_files(tmp_path / "in_process")
    for config in ("skills", "instructions", "edit_sequences", "pragmatic_examples", "rejected"):
        assert any(name.startswith(f"{config}/") for name in a), config
    for name in runners:
        b = dataset_files(tmp_path / name)
        assert sorted(a) == sorted(b), name
        for path in a:
            assert a[path] == b[path], f"{path} differs between the in-process and {name} runs"
