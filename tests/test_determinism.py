"""The same config gives the same dataset, byte for byte: in-process, across worker processes, and through
Beam's portable runner path (the job service Flink and Spark are driven through, here embedded locally)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# The teacher-free stages on real HumanEval programs; every random choice is seeded per record.
CONFIG = """
seed: 7
allow_benchmark_seeds: true
seeds:
  - kind: humaneval
    limit: 6
  - kind: jsonl
    path: {root}/tests/data/bad_seeds.jsonl
skills: {{enabled: false}}
generation: {{enabled: false}}
lintseq: {{samples_per_program: 2}}
pragmatic: {{domains: [python, regex], max_alternatives: 16, max_candidates: 16}}
output: {{path: {out}, num_shards: 2}}
"""


def run_cli(config: Path, *beam_args: str) -> None:
    result = subprocess.run([sys.executable, "-m", "skillseq.pipelines.cli", "run", str(config), "--no-progress", *beam_args],
                            capture_output=True, text=True, timeout=900)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]


def dataset_files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_in_process_multi_process_and_portable_runs_write_identical_files(tmp_path):
    outs = {}
    for mode, args in {
        "in_process": ("--direct_running_mode=in_memory",),
        "multi_process": ("--direct_running_mode=multi_processing", "--direct_num_workers=2"),
        "portable": ("--runner=PortableRunner", "--job_endpoint=embed", "--environment_type=LOOPBACK"),
    }.items():
        config = tmp_path / f"{mode}.yaml"
        config.write_text(CONFIG.format(root=ROOT, out=tmp_path / mode))
        run_cli(config, *args)
        outs[mode] = dataset_files(tmp_path / mode)
    a = outs["in_process"]
    assert any(name.startswith("edit_sequences/") for name in a)
    assert any(name.startswith("pragmatic_examples/") for name in a)
    for mode in ("multi_process", "portable"):
        b = outs[mode]
        assert sorted(a) == sorted(b)
        for name in a:
            assert a[name] == b[name], f"{name} differs between the in-process and {mode} runs"
