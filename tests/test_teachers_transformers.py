"""The transformers backend with the real default model, through `Teacher` and through `AskTeacher`, and the
response cache: a second run makes zero model calls and yields the same output."""

from __future__ import annotations

import json

import pytest

from skillseq.teachers import (
    DEFAULT_MODEL_ID,
    Teacher,
    TeacherReply,
    TeacherRequest,
    default_model_dir,
    default_revision,
)
from skillseq.teachers.replies import Failure

pytestmark = pytest.mark.slow

SCHEMA = json.dumps(
    {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}, "required": ["name"]},
    sort_keys=True,
)
TEXT = [TeacherRequest(f"t{i}", (("user", f"Name one Python built-in function, number {i}."),)) for i in range(3)]
JSON = [TeacherRequest("j0", (("user", "Describe a person as a JSON object with name and age."),), json_schema=SCHEMA)]


def test_default_model_folder_loads_offline(default_model):
    assert (default_model / "config.json").is_file() and (default_model / "chat_template.jinja").is_file()
    assert json.loads((default_model / "config.json").read_text())["architectures"] == ["LlamaForCausalLM"]


def test_transformers_teacher_answers_text_and_json(teacher_cfg):
    teacher = Teacher(teacher_cfg.model_copy(update={"cache_dir": None}), run_seed=0)
    outcomes, stats = teacher.answer(TEXT + JSON)
    for reply in outcomes[:3]:
        assert isinstance(reply, TeacherReply) and reply.text.strip() and reply.parsed is None
        assert reply.model_id == DEFAULT_MODEL_ID and reply.model_revision == default_revision()
        assert reply.prompt_tokens > 10 and 0 < reply.completion_tokens <= teacher_cfg.max_new_tokens
        assert reply.finish_reason in ("stop", "length")
    # Constrained decoding: the tiny model's JSON reply parses and matches its schema.
    last = outcomes[3]
    assert isinstance(last, TeacherReply), last
    assert isinstance(last.parsed["name"], str) and isinstance(last.parsed.get("age", 0), int)
    assert last.text == json.dumps(last.parsed, separators=(",", ":"), ensure_ascii=False)  # compact: no whitespace
    assert stats.requests == 4 and stats.cache_hits == 0
    assert stats.model_calls == 4 + stats.retries and stats.retries <= teacher_cfg.json_retries
    # seeded per request: the same requests in another order and batch give the same texts
    again, _ = teacher.answer([TEXT[2], TEXT[0]])
    assert [r.text for r in again] == [outcomes[2].text, outcomes[0].text]
    other_seed, _ = Teacher(teacher.cfg, run_seed=1).answer(TEXT)
    assert [r.text for r in other_seed] != [r.text for r in outcomes[:3]]


def test_ask_teacher_second_run_makes_no_model_calls(teacher_cfg, run_ask):
    pairs = [({"record": r.key}, r) for r in TEXT + JSON]
    first, first_rejected, m1 = run_ask(teacher_cfg, pairs, stage="skills")
    assert len(first) + len(first_rejected) == 4
    assert {p["record"] for p, _, _ in first} >= {"t0", "t1", "t2"}
    assert m1["skills_model_calls"] >= 4 and m1.get("skills_cache_hits", 0) == 0
    assert m1["skills_prompt_tokens"] > 0 and m1["skills_completion_tokens"] > 0

    second, second_rejected, m2 = run_ask(teacher_cfg, list(reversed(pairs)), stage="skills")
    assert m2.get("skills_model_calls", 0) == 0
    assert m2["skills_cache_hits"] == m1["skills_model_calls"]
    assert m2.get("skills_prompt_tokens", 0) == 0

    def strip(rows):
        return sorted((p["record"], r, {**vars(reply), "cached": None}) for p, r, reply in rows)

    assert strip(second) == strip(first) and all(reply.cached for _, _, reply in second)
    assert sorted(map(repr, second_rejected)) == sorted(map(repr, first_rejected))


def test_request_past_timeout_is_rejected_with_timeout(teacher_cfg, run_ask):
    from skillseq.teachers.transformers_backend import TransformersBackend

    cfg = teacher_cfg.model_copy(update={"timeout_s": 1e-6, "cache_dir": None})
    backend = TransformersBackend(str(default_model_dir()), None, cfg)
    outcomes = backend.generate([(r, 0) for r in TEXT[:2]])
    assert [(o.reason, type(o)) for o in outcomes] == [("timeout", Failure)] * 2

    answered, rejected, metrics = run_ask(cfg, [(r.key, r) for r in TEXT[:2]], stage="slow")
    assert answered == [] and sorted(r.reason for r in rejected) == ["timeout", "timeout"]
