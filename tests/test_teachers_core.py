"""The teacher layer's pure parts: seeds, cache keys, JSON judging, the response cache, the seeded sampler."""

from __future__ import annotations

import json
import os

import pytest
import torch

from skillseq.config import TeacherConfig
from skillseq.teachers.cache import ResponseCache
from skillseq.teachers.replies import Generation, cache_key, extract_json, judge, request_seed, with_schema_hint
from skillseq.teachers.transformers_backend import SeededSampler
from skillseq.teachers.types import TeacherRequest

SCHEMA = json.dumps({"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}, sort_keys=True)
REQ = TeacherRequest("he/0", (("system", "be brief"), ("user", "hi")), json_schema=SCHEMA)
IDENTITY = {"backend": "transformers", "model": "m", "revision": "r"}
SAMPLING = {"temperature": 0.7, "top_p": 0.95, "max_new_tokens": 8, "seed": 1}


def test_request_seed_is_stable_and_varies_with_sample_and_attempt():
    assert request_seed(0, REQ, 0) == request_seed(0, REQ, 0)
    seeds = {
        request_seed(0, REQ, 0),
        request_seed(1, REQ, 0),
        request_seed(0, REQ, 1),
        request_seed(0, TeacherRequest("he/0", REQ.messages, sample_index=1), 0),
        request_seed(0, TeacherRequest("he/1", REQ.messages), 0),
    }
    assert len(seeds) == 5
    assert all(0 <= s < 2**31 for s in seeds)


@pytest.mark.parametrize(
    "change",
    [
        {"identity": {**IDENTITY, "backend": "vllm"}},
        {"identity": {**IDENTITY, "revision": "r2"}},
        {"sampling": {**SAMPLING, "seed": 2}},
        {"sampling": {**SAMPLING, "temperature": 0.0}},
        {"request": TeacherRequest("he/0", (("user", "hi"),), json_schema=SCHEMA)},
        {"request": TeacherRequest("he/0", REQ.messages)},
        {"request": TeacherRequest("he/0", REQ.messages, json_schema=SCHEMA, sample_index=3)},
        {"attempt": 1},
    ],
)
def test_cache_key_changes_with_everything_that_decides_the_answer(change):
    base = {"identity": IDENTITY, "sampling": SAMPLING, "request": REQ, "attempt": 0}
    assert cache_key(**base) == cache_key(**{**base})
    assert cache_key(**base) != cache_key(**{**base, **change})


def test_the_record_key_reaches_the_cache_key_only_through_the_seed():
    other = TeacherRequest("another-record", REQ.messages, json_schema=SCHEMA)
    # Not hashed itself: with one sampling seed, two keys asking the same thing share a reply ...
    assert cache_key(IDENTITY, SAMPLING, REQ, 0) == cache_key(IDENTITY, SAMPLING, other, 0)

    # ... but in a run the seed derives from the key, so two records asking the same thing are sampled apart.
    def key(request):
        return cache_key(IDENTITY, {**SAMPLING, "seed": request_seed(0, request, 0)}, request, 0)

    assert key(REQ) != key(other) and key(REQ) == key(TeacherRequest(REQ.key, REQ.messages, json_schema=SCHEMA))


@pytest.mark.parametrize(
    "text,expected",
    [
        ('{"a": 1}', {"a": 1}),
        ('  {"a": 1}\n', {"a": 1}),
        ('Here you go:\n```json\n{"a": 2}\n```\nBye', {"a": 2}),
        ('noise {"a": 3} noise', {"a": 3}),
        ("[1, 2]", [1, 2]),
    ],
)
def test_extract_json_finds_the_value(text, expected):
    assert extract_json(text) == expected


@pytest.mark.parametrize("text", ["", "no json here", '{"a": ', "```json\n{oops}\n```"])
def test_extract_json_rejects_non_json(text):
    with pytest.raises(ValueError):
        extract_json(text)


@pytest.mark.parametrize(
    "text,finish,reason",
    [
        ('{"a": 1}', "stop", None),
        ("garbage", "stop", "invalid_json"),
        ('{"a": "one"}', "stop", "invalid_json"),  # parses, but breaks the schema
        ('{"a": ', "length", "truncated_json"),
        ('{"a": 1}', "length", None),  # cut at max tokens right after a complete value: still fine
    ],
)
def test_judge(text, finish, reason):
    parsed, failure = judge(Generation(text, finish, 3, 4), SCHEMA)
    if reason is None:
        assert failure is None and parsed == {"a": 1}
    else:
        assert parsed is None and failure.reason == reason and failure.raw == text


def test_judge_without_schema_keeps_text():
    assert judge(Generation("anything", "stop", 1, 1), None) == (None, None)


def test_schema_hint_goes_to_the_last_message_only():
    hinted = with_schema_hint(REQ.messages, SCHEMA)
    assert hinted[0] == REQ.messages[0]
    assert hinted[1][0] == "user" and hinted[1][1].startswith("hi") and SCHEMA in hinted[1][1]


@pytest.mark.parametrize(
    "url_of", [lambda tmp: str(tmp / "c"), lambda tmp: f"file://{tmp}/c", lambda tmp: "memory://skillseq-test"]
)
def test_response_cache_round_trip(tmp_path, url_of):
    cache = ResponseCache(url_of(tmp_path))
    key = cache_key(IDENTITY, SAMPLING, REQ, 0)
    assert cache.get(key) is None
    gen = Generation('{"a": 1} é', "stop", 5, 6)
    cache.put(key, gen, {"seed": 1})
    assert cache.get(key) == gen
    cache.put(key, gen, {"seed": 1})  # idempotent overwrite
    assert cache.get(key) == gen


def test_response_cache_leaves_no_temporary_files_and_survives_damage(tmp_path):
    cache = ResponseCache(str(tmp_path))
    keys = [cache_key(IDENTITY, {**SAMPLING, "seed": s}, REQ, 0) for s in range(5)]
    for k in keys:
        cache.put(k, Generation("x", "stop", 1, 1), {})
    files = sorted(p.name for p in tmp_path.rglob("*") if p.is_file())
    assert files == sorted(f"{k}.json" for k in keys)
    (tmp_path / keys[0][:2] / f"{keys[0]}.json").write_text('{"text": "trunc')
    assert cache.get(keys[0]) is None
    assert cache.get(keys[1]) == Generation("x", "stop", 1, 1)


def test_seeded_sampler_rows_are_independent_of_their_batch():
    torch.manual_seed(0)
    scores = torch.randn(3, 50)
    alone = [SeededSampler([7], 1.0, 0.9)(None, scores[i : i + 1]).argmax(-1).item() for i in range(3)]
    together = SeededSampler([7, 7, 7], 1.0, 0.9)(None, scores).argmax(-1).tolist()
    assert alone == together
    other_seed = [SeededSampler([s], 1.0, 1.0)(None, scores[:1]).argmax(-1).item() for s in range(20)]
    assert len(set(other_seed)) > 1


def test_seeded_sampler_top_p_and_greedy():
    scores = torch.tensor([[10.0, 9.0, -5.0, -5.0]])
    picks = {SeededSampler([s], 1.0, 0.5)(None, scores).argmax(-1).item() for s in range(30)}
    assert picks == {0}  # top-p 0.5 keeps only the most likely token
    out = SeededSampler([0], 0.0, 1.0)(None, torch.tensor([[0.0, 3.0, 1.0]]))
    assert out.tolist() == [[float("-inf"), 0.0, float("-inf")]]


class _ExplodingEngine:
    """An engine that raises on any batch holding a request whose key starts with "boom" (the error text carries
    the API key, as a careless library's might)."""

    def generate(self, jobs):
        if any(r.key.startswith("boom") for r, _ in jobs):
            raise RuntimeError(f"engine died; key={os.environ.get('OPENAI_API_KEY')}")
        return [Generation(f"echo {r.key}", "stop", 3, 2) for r, _ in jobs]


def exploding_engine(cfg):
    return _ExplodingEngine()


def test_a_crashing_engine_rejects_its_batch_and_the_run_goes_on(run_ask, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-crash-1234")
    cfg = TeacherConfig(batch_size=2, cache_dir=str(tmp_path / "c"))
    # batches of 2 in input order: [ok0, ok1], [boom, ok3] -> the second batch is lost, the run is not
    requests = [(k, TeacherRequest(k, (("user", k),))) for k in ["ok0", "ok1", "boom", "ok3"]]
    answered, rejected, metrics = run_ask(cfg, requests, stage="crash", backend_factory=exploding_engine)
    assert {p for p, _, _ in answered} | {r.id for r in rejected} == {"ok0", "ok1", "boom", "ok3"}
    assert "boom" in {r.id for r in rejected}
    assert all(r.reason == "teacher_error" and "engine died" in r.detail for r in rejected)
    assert all("sk-secret-crash-1234" not in r.detail + r.payload for r in rejected)
    assert all(reply.text == f"echo {p}" for p, _, reply in answered)


class _ScriptedEngine:
    """Valid JSON from the attempts listed per request key, `{"a": "no"}` (breaks the schema) from the others."""

    def __init__(self, valid: dict[str, set[int]]):
        self.valid = valid
        self.batches: list[list[tuple[str, int]]] = []

    def generate(self, jobs):
        attempts = [
            (r.key, next(a for a in range(5) if request_seed(0, r, a) == seed)) for r, seed in jobs
        ]  # which attempt a seed belongs to
        self.batches.append(attempts)
        return [
            Generation(json.dumps({"a": a}) if a in self.valid[k] else '{"a": "no"}', "stop", 3, 4)
            for k, a in attempts
        ]


def test_json_retries_go_out_together_and_the_first_valid_attempt_wins():
    from skillseq.teachers import Teacher

    engine = _ScriptedEngine({"a": {1, 2}, "b": {0}, "c": set(), "d": {2}})
    teacher = Teacher(TeacherConfig(json_retries=2, cache_dir=None), run_seed=0, backend_factory=lambda cfg: engine)
    requests = [TeacherRequest(k, (("user", k),), json_schema=SCHEMA) for k in "abcd"]
    outcomes, stats = teacher.answer(requests)
    # two rounds, not three: every remaining attempt of the failed requests in one batch
    assert engine.batches == [
        [("a", 0), ("b", 0), ("c", 0), ("d", 0)],
        [("a", 1), ("a", 2), ("c", 1), ("c", 2), ("d", 1), ("d", 2)],
    ]
    assert [(o.parsed, o.attempt) for o in (outcomes[0], outcomes[1], outcomes[3])] == [
        ({"a": 1}, 1),  # attempt 2 was valid too, but asking again after each failure would have stopped at 1
        ({"a": 0}, 0),
        ({"a": 2}, 2),
    ]
    assert outcomes[2].reason == "invalid_json"
    assert (stats.model_calls, stats.retries, dict(stats.failures)) == (10, 6, {"invalid_json": 1})
