"""benchmarks/downstream.py --quick end to end: both sets built by the stage, both models trained, every guess
scored, the figures computed. The path, not the result (two training steps teach nothing)."""

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from skillseq.transforms.pragmatic.regex_grammar import sampled_regexes

REPO = Path(__file__).resolve().parent.parent
KS = ["1", "3", "5", "all"]
METRICS = ("top1", "greedy_top1", "consistent")

_spec = importlib.util.spec_from_file_location("downstream", REPO / "benchmarks" / "downstream.py")
downstream = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(downstream)


def test_the_listener_guesses_the_most_probable_consistent_program():
    pool = {"[a-z]{3}": -2.0, "[a-z]+": -1.0, "abc": -0.5, "[a-c]{3}": -2.0}
    fits = {"[a-z]{3}": True, "[a-z]+": False, "abc": False, "[a-c]{3}": True}
    assert downstream.choose(pool, fits) == "[a-c]{3}"  # ties go to the first in text order
    assert downstream.choose(pool, dict.fromkeys(pool, False)) == "abc"  # none fits: the most probable


def test_a_guess_is_cut_at_its_first_stop_and_scored_up_to_it():
    import torch

    class Tok:
        def decode(self, ids, skip_special_tokens=True):
            return "".join({5: "a", 6: "b", 2: "", 7: "z"}[int(i)] for i in ids)

    logits = [torch.log(torch.tensor([[0.1, 0.1, 0.2, 0.1, 0.1, 0.3, 0.05, 0.05]] * 2)) for _ in range(3)]
    rows = torch.tensor([[5, 2, 7], [5, 6, 5]])  # the first stops after one token; the second never stops
    (first, lp1), (second, lp2) = downstream._texts_and_logprobs(Tok(), rows, logits, stops=[2])
    assert (first, second) == ("a", "aba")
    assert lp1 == pytest.approx(math.log(0.3) + math.log(0.2))  # "a" and the stop, not the "z" after it
    assert lp2 == pytest.approx(2 * math.log(0.3) + math.log(0.05))


def _episodes(path: Path) -> None:
    """Three small episodes of our own (not the user study); two of them are training targets the sampler draws,
    one as written and one spelled differently, which the benchmark must drop."""
    drawn = dict(sampled_regexes(6, seed=0))
    assert drawn["sampled/1"] == "F{2,4}[^a-z]{4,7}"  # the equivalent spelling below depends on it
    episodes = [
        {"id": "a", "regex": "[a-z]{3}", "examples": [["abc", True], ["ab", False], ["abcd", False], ["xyz", True]]},
        {"id": "b", "regex": drawn["sampled/0"], "examples": [["11", True], ["rr###11", True], ["r", False]]},
        {"id": "c", "regex": "FF{1,3}[^a-z]{4,7}", "examples": [["FFAAAA", True], ["Faaaa", False]]},
    ]
    path.write_text("".join(json.dumps(e) + "\n" for e in episodes), encoding="utf-8")


@pytest.mark.slow
def test_quick_run_builds_trains_and_scores_everything(tmp_path):
    eval_path = tmp_path / "episodes.jsonl"
    _episodes(eval_path)
    out = tmp_path / "results"
    run = subprocess.run(
        [sys.executable, "benchmarks/downstream.py", "--quick", "--eval", str(eval_path), "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    r = json.loads((out / "downstream-pragmatic.json").read_text())
    assert (out / "downstream-pragmatic.txt").read_text().strip() in run.stdout

    # the sets: both from the stage, the same targets, the evaluation targets left out (equal and equivalent)
    assert r["targets_dropped_as_eval"] == 2 and r["targets"] == 4
    for selection in ("pragmatic", "random"):
        s = r["sets"][selection]
        assert s["rows"] + s["rejected"] == r["targets"] and s["rows"] >= 3
        assert 1 <= s["examples_per_row"] <= 3
    assert r["sets"]["pragmatic"]["examples_per_row"] == r["sets"]["random"]["examples_per_row"]

    # both trained
    assert all(math.isfinite(v) and v > 0 for v in r["train_loss"].values()) and len(r["train_loss"]) == 2
    assert r["wall_s"]["train_pragmatic"] > 0 and r["wall_s"]["train_random"] > 0

    # the shared warm-up on other targets' random examples, then both models from it
    warm = r["warmup"]
    assert warm["steps"] == 1 and warm["rows"] == warm["targets"] >= 3 and math.isfinite(warm["loss"])
    assert r["wall_s"]["train_warmup"] > 0

    # every evaluation row scored, by both models: a guess among sampled programs and the greedy one
    assert r["episodes"] == 3 and r["eval_rows_per_model"] == 12 == len(r["rows"])
    assert {(row["episode"], str(row["k"])) for row in r["rows"]} == {(e, k) for e in "abc" for k in KS}
    for row in r["rows"]:
        for s in ("pragmatic", "random"):
            assert isinstance(row[f"{s}_guess"], str) and isinstance(row[f"{s}_greedy_guess"], str)
            assert 1 <= row[f"{s}_candidates"] <= 4  # 3 samples and the greedy guess, repeats merged
            assert 0 <= row[f"{s}_consistent_candidates"] <= row[f"{s}_candidates"]
            assert row[f"{s}_consistent"] == (row[f"{s}_consistent_candidates"] > 0)  # a fitting one is chosen
            assert all(isinstance(row[f"{s}_{m}"], bool) for m in METRICS)

    # the figures: every metric at every k, means of those rows, intervals around them
    assert sorted(r["figures"]) == sorted(f"{m}@{k}" for m in METRICS for k in KS)
    for name, f in r["figures"].items():
        metric, k = name.split("@")
        k = k if k == "all" else int(k)
        for s in ("pragmatic", "random"):
            mean = sum(row[f"{s}_{metric}"] for row in r["rows"] if row["k"] == k) / 3
            assert f[s] == pytest.approx(mean)
            assert f[f"{s}_ci"][0] <= f[s] <= f[f"{s}_ci"][1]
        assert f["difference"] == pytest.approx(f["pragmatic"] - f["random"])
        assert f["difference_ci"][0] <= f["difference"] <= f["difference_ci"][1]
