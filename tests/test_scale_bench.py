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


@pytest.mark.parametrize("stage", ["lintseq", "pragmatic", "dedup"])
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


@pytest.mark.slow
def test_skillmix_runs_at_n20(tmp_path):
    """The whole SkillMix stage against the benchmark teacher, 20 seeds and 20 instructions asked for."""
    (row,) = scale.run(["skillmix"], {"skillmix": [20]}, tmp_path, log=lambda _: None)
    assert "crashed" not in row, row.get("crashed")
    assert row["n"] == 20 and row["peak_mb"] >= row["baseline_mb"] > 0
    assert 40 <= row["distinct_names"] <= 80  # 2 or 3 new names a seed, and a few classic ones
    assert 0.9 * row["distinct_names"] <= row["catalog"] <= row["distinct_names"]  # the catalog keeps them
    assert row["records"] >= 16 and row["teacher_errors"] == 0  # the requests and answers pass the filters
    assert "| skillmix | 20 | 20 |" in scale.table([row])


def test_skillmix_targets_and_a_crash_are_reported():
    rows = [
        {"stage": "skillmix", "n": n, "wall_s": w, "peak_mb": 900, "baseline_mb": 450, "trace": [(0, 450), (w, 900)]}
        for n, w in [(1000, 20.0), (10000, 260.0)]
    ]
    assert "time(10N)/time(N) 13.00 at N=1000 (target <= 12: MISSED)" in scale.ratios(rows)
    doubled = [{**rows[1], "n": 20000, "wall_s": 600.0}]
    assert "time(10N)/time(N) not measured" in scale.ratios([rows[1], *doubled])  # 10 000 -> 20 000 only
    assert "time(10N)/time(N) 13.00 at N=1000" in scale.ratios([*rows, *doubled])  # measured, not scaled
    crashed = {"stage": "skillmix", "n": 100000, "crashed": "exit -11"}
    assert "skillmix: CRASHED at N=100000" in scale.ratios([*rows, crashed])
    assert "| skillmix | 100000 | 100000 | crashed |" in scale.skillmix_table([crashed])
