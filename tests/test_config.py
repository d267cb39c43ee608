"""Configs: every shipped profile validates; bad files fail with the file, the key path and the expectation."""

import subprocess
import sys
from pathlib import Path

import pytest

from skillseq.config import Config, ConfigError, load_config

ROOT = Path(__file__).resolve().parents[1]
PROFILES = sorted((ROOT / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", PROFILES, ids=lambda p: p.name)
def test_shipped_profiles_validate(path):
    cfg = load_config(path)
    assert isinstance(cfg, Config)
    assert any(opt.startswith("--runner=") for opt in cfg.beam_options)


def test_cluster_profiles_differ_only_in_runner_options_and_sizes():
    base = load_config(ROOT / "configs/dataflow.yaml").model_dump()
    for name in ("flink", "spark"):
        other = load_config(ROOT / f"configs/{name}.yaml").model_dump()
        differing = {k for k in base if base[k] != other[k]}
        assert differing <= {"beam_options", "output", "generation", "seeds"}, differing


# Each bad config, and what its error must say.
BAD = {
    "unknown_key.yaml": ("lintseq.samples_per_progam", "Extra inputs are not permitted"),
    "wrong_type.yaml": ("lintseq.samples_per_program", "valid integer"),
    "out_of_range.yaml": ("teacher.temperature", "less than or equal to 2"),
    "bad_backend.yaml": ("teacher.backend", "'transformers', 'vllm' or 'openai'"),
    "malformed.yaml": ("malformed YAML", ""),
    "not_mapping.yaml": ("<root>", "expected a mapping"),
    "jsonl_without_path.yaml": ("seeds.0", "needs `path`"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_config_names_file_key_and_expectation(name):
    path = ROOT / "tests/bad_configs" / name
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    where, what = BAD[name]
    assert str(path) in message
    assert where in message and what in message


def test_missing_and_non_utf8_config_files(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "absent.yaml")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"seed: 1\n\xff\xfe\x00")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(binary)


def test_set_overrides_are_typed_and_validated():
    cfg = load_config(ROOT / "configs/dry_run.yaml", ["lintseq.samples_per_program=3", "output.path=/tmp/x"])
    assert cfg.lintseq.samples_per_program == 3 and cfg.output.path == "/tmp/x"
    with pytest.raises(ConfigError, match="lintseq.samples_per_program"):
        load_config(ROOT / "configs/dry_run.yaml", ["lintseq.samples_per_program=zero"])
    with pytest.raises(ConfigError, match="expected KEY.PATH=VALUE"):
        load_config(ROOT / "configs/dry_run.yaml", ["lintseq"])


def test_config_hash_ignores_output_path_only():
    a = load_config(ROOT / "configs/dry_run.yaml")
    b = load_config(ROOT / "configs/dry_run.yaml", ["output.path=/elsewhere"])
    c = load_config(ROOT / "configs/dry_run.yaml", ["seed=1"])
    assert a.config_hash() == b.config_hash() != c.config_hash()


def test_validate_command(tmp_path):
    ok = subprocess.run(
        [sys.executable, "-m", "skillseq.pipelines.cli", "validate", str(ROOT / "configs/dry_run.yaml")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert ok.returncode == 0, ok.stderr
    assert "samples_per_program: 5" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "skillseq.pipelines.cli", "validate", str(ROOT / "tests/bad_configs/wrong_type.yaml")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert bad.returncode == 2
    assert "lintseq.samples_per_program" in bad.stderr and bad.stdout == ""
