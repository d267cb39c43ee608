"""The scale benchmark's core runs: both stages at N=5 in fresh processes, and the report renders."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "scale.py"
_spec = importlib.util.spec_from_file_location("scale_bench", _PATH)
scale = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scale)


def test_stdlib_programs_are_distinct_prefixes():
    more = scale.stdlib_functions(10000)  # the largest N of the benchmark is available
    assert scale.stdlib_functions(5) == more[:5]
    assert len({p["id"] for p in more}) == len({p["code"] for p in more}) == 10000


def test_humaneval_cycle_has_distinct_ids():
    programs = scale.humaneval_cycled(170)
    assert len({p["id"] for p in programs}) == 170
    assert programs[164]["id"] == "HumanEval/0#1" and programs[164]["code"] == programs[0]["code"]


@pytest.mark.parametrize("stage", ["lintseq", "pragmatic"])
def test_stage_runs_at_n5(stage, tmp_path):
    (row,) = scale.run([stage], {stage: [5]}, tmp_path, log=lambda _: None)
    assert row["n"] == 5 and row["rejected"] == 0
    assert row["records"] >= 5  # lintseq: up to 5 samples per program; pragmatic: one example row each
    assert row["peak_mb"] >= row["baseline_mb"] > 0
    assert f"| {stage} |" in scale.table([row])


def test_ratios_and_plot(tmp_path):
    rows = [
        {"stage": "lintseq", "n": n, "wall_s": w, "peak_mb": 300, "baseline_mb": 250, "trace": [(0, 250), (w, 300)]}
        for n, w in [(100, 2.0), (1000, 20.0)]
    ]
    assert "time 10.00x (linear: 10x), peak RSS 1.00x" in scale.ratios(rows)
    scale.plot(rows, tmp_path / "scale.png")
    assert (tmp_path / "scale.png").read_bytes()[:4] == b"\x89PNG"
