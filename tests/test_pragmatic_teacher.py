"""Teacher self-play in the pragmatic stage: argument lists and alternative implementations from the teacher,
through a recorded OpenAI-compatible server and through the default model."""

import json
import threading

import apache_beam as beam
import pytest
from apache_beam.testing import test_pipeline

from skillseq.config import Config, OpenAIConfig, PragmaticConfig, SandboxConfig, TeacherConfig
from skillseq.context import RunContext
from skillseq.schema import Program
from skillseq.transforms.pragmatic import PragmaticExamples, core, teacher
from tests.collect import run_and_collect
from tests.local_server import JSONHandler, LocalServer

LIMITS = SandboxConfig(call_timeout_s=0.5, batch_timeout_s=30)
DOUBLE = Program("t/double", "t", "def double(x):\n    return x * 2\n")  # no docstring: described first
CLAMP = Program(
    "t/clamp", "t", 'def clamp(x, hi):\n    """Clamp x to at most hi."""\n    return hi if x > hi else x\n'
)


class RecordedTeacher(LocalServer):
    """Replies recorded for these prompts: argument lists as JSON, one sentence, or a code block (for the
    described function, only the first time it is asked: later samples get prose without code, which must
    end as `unparsable_code` rejects)."""

    def __init__(self):
        self.bodies = []
        self.lock = threading.Lock()
        super().__init__()

    def _handler(self):
        server = self

        class Handler(JSONHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.bodies.append(body)
                    text = reply(body, first=body["messages"] not in [b["messages"] for b in server.bodies[:-1]])
                self.send_json(200, {"id": "r", "object": "chat.completion", "created": 0, "model": body["model"],
                                     "choices": [{"index": 0, "finish_reason": "stop",
                                                  "message": {"role": "assistant", "content": text}}],
                                     "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})  # fmt: skip

        return Handler


def reply(body: dict, first: bool) -> str:
    ask = body["messages"][-1]["content"]
    clamp = "clamp" in ask
    if body.get("response_format"):
        return json.dumps({"calls": ["7, 3", "-2, 0", "5, 5", "oops("] if clamp else ["21", "-4", "'ab'"]})
    if "one sentence" in ask:
        return "It returns twice the number x."
    if "twice" in ask:
        code = "def twice(x):\n    return x ** 2\n" if first else None
    else:
        code = "def clamp(x, hi):\n    return min(x, hi - 1)\n"
    return f"Here:\n```python\n{code}```\n" if code else "I would loop over the numbers."


def test_requests_and_replies_are_read_without_running_anything():
    assert teacher.stub(DOUBLE, "double") == "def double(x):\n    ..."
    assert "Clamp x to at most hi." in teacher.stub(CLAMP, "clamp")
    assert teacher.has_docstring(CLAMP) and not teacher.has_docstring(DOUBLE)
    requests = teacher.implementation_requests(CLAMP, 3)
    assert [r.sample_index for r in requests] == [0, 1, 2] and "return hi" not in requests[0].messages[-1][1]
    asked = teacher.inputs_request(CLAMP, 4)
    assert json.loads(asked.json_schema)["properties"]["calls"]["maxItems"] == 4
    assert teacher.written_code("```python\ndef f(x):\n    return 1\n```") == "def f(x):\n    return 1\n"
    assert teacher.written_code("def f(x):\n    return 1") and teacher.written_code("no code here (") is None
    assert core.aliased("def g(y):\n    return y\n", "f") == "def g(y):\n    return y\n\nf = g\n"
    assert core.aliased("x = 1\n", "f") is None


def _run(cfg: Config, programs: list[Program], tmp_path):
    p = test_pipeline.TestPipeline()
    examples, rejected = p | beam.Create(programs) | PragmaticExamples(RunContext.of(cfg))
    (examples, rejected), metrics = run_and_collect(p, {"examples": examples, "rejected": rejected}, tmp_path)
    return examples, rejected, metrics


def _pragmatic(**kw) -> PragmaticConfig:
    return PragmaticConfig(
        domains=["python"],
        alternatives=["mutants", "teacher"],
        input_sources=["tests", "docstring", "signature", "body", "teacher", "probe"],
        max_candidates=16,
        sandbox=LIMITS,
        **kw,
    )


def test_recorded_teacher_gives_inputs_and_alternatives(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "EMPTY")
    with RecordedTeacher() as server:
        teacher_cfg = TeacherConfig(
            backend="openai",
            model="recorded",
            cache_dir=str(tmp_path / "cache"),
            openai=OpenAIConfig(base_url=f"{server.root_url}/v1", max_retries=0, timeout_s=10),
        )
        cfg = Config(seed=0, teacher=teacher_cfg, pragmatic=_pragmatic(teacher_samples=2))
        examples, rejected, metrics = _run(cfg, [DOUBLE, CLAMP], tmp_path)
    rows = {e.id: e for e in examples}
    assert set(rows) == {"python:t/double", "python:t/clamp"}
    for row in rows.values():
        sources = {s.source: s.count for s in row.input_sources}
        assert sources.get("teacher", 0) >= 2, row.input_sources  # "oops(" is not a literal and is left out
        assert {s.source: s.count for s in row.alternative_sources}.get("teacher") == 1, row.alternative_sources
    # DOUBLE was described first; its second sample has no code and is rejected with the reply kept.
    assert [(r.id, r.stage, r.reason) for r in rejected] == [("t/double", "pragmatic.alternatives", "unparsable_code")]
    assert metrics["pragmatic.describe_requests"] == 1 and metrics["pragmatic.alternatives_requests"] == 4
    asked = [b for b in server.bodies if "Complete this function" in b["messages"][-1]["content"]]
    assert any("It returns twice the number x." in b["messages"][-1]["content"] for b in asked)
    assert len({b["seed"] for b in asked}) == 4  # each sample seeded on its own


@pytest.mark.slow
def test_default_teacher_path_runs_end_to_end(tmp_path):
    cfg = Config(
        seed=0,
        teacher={"max_new_tokens": 96, "batch_size": 4, "json_retries": 0, "cache_dir": str(tmp_path / "cache")},
        pragmatic=_pragmatic(teacher_samples=2),
    )
    examples, rejected, metrics = _run(cfg, [DOUBLE, CLAMP], tmp_path)
    assert metrics["pragmatic.alternatives_requests"] == 4 and metrics["pragmatic.inputs_requests"] == 2
    assert metrics["pragmatic.alternatives_model_calls"] >= 1
    # Each program still becomes a row (mutants, probing); every teacher sample left as code or a reject.
    assert sorted(e.id for e in examples) == ["python:t/clamp", "python:t/double"]
    bad = [r for r in rejected if r.stage.startswith("pragmatic.")]
    assert all(r.reason in ("unparsable_code", "invalid_json", "truncated_json") for r in bad), bad
