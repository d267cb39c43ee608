"""Per-request timeouts (transformers' `Watch`) and the live teacher progress (`skillseq.progress`)."""

from __future__ import annotations

import time

import torch

from skillseq import progress
from skillseq.teachers.transformers_backend import Watch

EOS = 2


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
