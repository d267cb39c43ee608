"""Parts of the transformers backend without the model: the seeded nucleus sampler, the per-request timeout
(`Watch`), and the live teacher progress it feeds (`skillseq.progress`)."""

from __future__ import annotations

import time

import torch

from skillseq import progress
from skillseq.teachers.transformers_backend import SeededSampler, Watch

EOS = 2


def test_sampler_draws_inside_the_nucleus_and_repeats_per_seed():
    # token 3 holds 0.6 of the mass, token 1 0.3: top_p=0.8 keeps exactly those two
    logits = torch.log(torch.tensor([[0.04, 0.3, 0.06, 0.6]] * 2))
    draws = {i: [] for i in range(2)}
    for seed in range(200):
        picks = SeededSampler([seed, seed], temperature=1.0, top_p=0.8)(None, logits).argmax(dim=-1).tolist()
        assert picks[0] == picks[1]  # same seed, same pick, whatever the row
        draws[0].append(picks[0])
    assert set(draws[0]) == {1, 3} and 0.5 < draws[0].count(3) / 200 < 0.8
    greedy = SeededSampler([0], temperature=0.0, top_p=0.8)(None, logits[:1])
    assert greedy.argmax().item() == 3 and torch.isinf(greedy).sum() == 3


def test_watch_stops_only_the_rows_still_decoding_past_the_deadline():
    watch = Watch(3, {EOS}, timeout_s=3600)
    step = torch.tensor([[5, 7], [5, EOS], [5, 9]])  # row 1 ends at this step
    assert watch(step, None).tolist() == [False, False, False]
    watch.deadline = time.monotonic() - 1  # the deadline passes
    done = watch(torch.tensor([[5, 7, 8], [5, EOS, 0], [5, 9, EOS]]), None)  # row 2 ends now: in time
    assert done.tolist() == [True, False, False]
    assert watch.timed_out.tolist() == [True, False, False]


def test_watch_reports_one_token_per_row_still_decoding():
    progress.TEACHER.clear()
    watch = Watch(2, {EOS}, timeout_s=3600)
    with progress.teacher_stage("skillmix.extract", requests=2):
        watch(torch.tensor([[4, EOS], [4, 6]]), None)  # 2 new tokens, row 0 ends
        watch(torch.tensor([[4, EOS, 0], [4, 6, 7]]), None)  # 1 new token
        assert progress.TEACHER["skillmix.extract"].busy_since is not None
        assert progress.current_stage() == "skillmix.extract"
    entry = progress.TEACHER["skillmix.extract"]
    assert (entry.requests, entry.tokens, entry.busy_since) == (2, 3, None)
    assert entry.seconds > 0 and entry.tokens_per_s() > 0
    progress.generated(5)  # outside any teacher batch: counted nowhere
    assert progress.current_stage() is None and entry.tokens == 3
