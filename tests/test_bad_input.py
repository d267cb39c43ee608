"""Bad input: every bad seed record ends in `rejected` with its reason, source-level problems stop the run
before any work with a clear message, and the card's accounting adds up (in = out + rejected per stage)."""

import json
import subprocess
import sys
from pathlib import Path

import datasets
import pytest

from skillseq.card import read_card_yaml

ROOT = Path(__file__).resolve().parents[1]
BAD_SEEDS = ROOT / "tests/data/bad_seeds.jsonl"

# The expected fate of each record of tests/data/bad_seeds.jsonl (+ the generated ones below).
EXPECTED = {
    "bad/missing": ("read", "missing_fields"),
    "bad/type": ("read", "bad_field_type"),
    "bad/notpython": ("lintseq", "not_python"),
    "bad/unparsable": ("lintseq", "parse_error"),
    "bad/dirty": ("lintseq", "lint_errors_before_start"),
    "big/10mb": ("lintseq", "too_many_lines"),
    "big/100k_lines": ("lintseq", "too_many_lines"),
}
# Records that are not even JSON or not UTF-8 have no id of their own: they are named by content hash.
ANONYMOUS = [("read", "malformed_json"), ("read", "not_utf8"), ("read", "not_utf8")]


def _seeds(tmp_path) -> Path:
    path = tmp_path / "seeds.jsonl"
    ten_mb = "".join(f"value_{i:08d} = {i} + {i} * 2  # a long enough line\n" for i in range(200_000))
    assert len(ten_mb) >= 10_000_000
    long_lines = "".join(f"x{i} = {i}\n" for i in range(100_000))
    extra = [{"id": "big/10mb", "program": ten_mb}, {"id": "big/100k_lines", "program": long_lines}]
    path.write_bytes(BAD_SEEDS.read_bytes() + b"".join(json.dumps(r).encode() + b"\n" for r in extra))
    return path


def _run(config: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "skillseq.pipelines.cli", "run", str(config), "--no-progress"],
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.slow
def test_every_bad_record_is_rejected_with_its_reason(tmp_path):
    seeds = _seeds(tmp_path)
    config = tmp_path / "c.yaml"
    config.write_text(
        f"seeds: [{{kind: jsonl, path: {seeds}}}]\nskills: {{enabled: false}}\ngeneration: {{enabled: false}}\n"
        f"pragmatic: {{enabled: false}}\nlintseq: {{samples_per_program: 2}}\noutput: {{path: {tmp_path / 'out'}}}\n"
    )
    result = _run(config)
    assert result.returncode == 0, result.stderr[-3000:]
    rejected = datasets.load_dataset(str(tmp_path / "out"), "rejected", split="train")
    fate = {r["id"]: (r["stage"], r["reason"]) for r in rejected}
    for record_id, expected in EXPECTED.items():
        assert fate.pop(record_id) == expected, record_id
    assert sorted(fate.values()) == sorted(ANONYMOUS)
    assert all(r["detail"] for r in rejected), "every reject says why"
    sequences = datasets.load_dataset(str(tmp_path / "out"), "edit_sequences", split="train")
    assert set(sequences["source_id"]) == {"ok/add"}

    # Nothing silently dropped: every line of the source is a seed or a reject, every program is accounted for.
    stats = json.loads((tmp_path / "out/stats.json").read_text())["counts"]
    lines = [line for line in seeds.read_bytes().split(b"\n") if line.strip()]
    assert stats["read.out"] + stats["read.rejected"] == len(lines)
    assert stats["lintseq.in"] == stats["lintseq.out"] + stats["lintseq.rejected"] == stats["read.out"]
    card = (tmp_path / "out/README.md").read_text()
    assert f"| read | {len(lines)} | {stats['read.out']} | {stats['read.rejected']} |" in card
    assert [c["config_name"] for c in read_card_yaml(card)["configs"]] == ["edit_sequences", "rejected"]


@pytest.mark.parametrize(
    "source, message",
    [
        ("{kind: jsonl, path: /nonexistent/seeds*.jsonl}", "no file matches"),
        ("{kind: jsonl, path: EMPTY}", "the files are empty"),
        ("{kind: parquet, path: /nonexistent/x.parquet}", "no file matches"),
        ("{kind: hf, name: /nonexistent/dataset}", "hf source '/nonexistent/dataset'"),
    ],
)
def test_source_level_problems_stop_before_any_work(tmp_path, source, message):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    config = tmp_path / "c.yaml"
    config.write_text(f"seeds: [{source.replace('EMPTY', str(empty))}]\noutput: {{path: {tmp_path / 'out'}}}\n")
    result = _run(config)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.partial").exists()
