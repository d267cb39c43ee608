"""The OpenAI backend through AskTeacher against a local server that misbehaves on purpose (issue 7: faults in
the teacher), and one integration test against a real `vllm serve` of the default model.

The fault server speaks the chat-completions wire format on 127.0.0.1; the last user message picks the fault.
Its error bodies echo the Authorization header, so a leaked API key would show up in `rejected`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from skillseq.config import OpenAIConfig, TeacherConfig
from skillseq.teachers import DEFAULT_MODEL_ID, TeacherRequest

SECRET = "sk-test-DO-NOT-LEAK-4242"
SCHEMA = json.dumps(
    {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}, sort_keys=True
)


class _FaultServer(BaseHTTPRequestHandler):
    calls: Counter = Counter()
    bodies: list = []

    def log_message(self, *args):
        pass

    def _send(self, status: int, body: bytes, content_type="application/json"):
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the slow mode): nothing to answer

    def _error(self, status: int):
        echo = {"error": {"message": f"refused, auth was {self.headers.get('Authorization')}", "code": status}}
        self._send(status, json.dumps(echo).encode())

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        mode = body["messages"][-1]["content"]
        type(self).bodies.append(body)
        type(self).calls[mode] += 1
        n = type(self).calls[mode]
        content, finish = '{"answer": "fine"}', "stop"
        if mode == "flaky" and n == 1:
            return self._error(500)
        if mode == "ratelimit":
            return self._error(429)
        if mode == "badrequest":
            return self._error(400)
        if mode == "slow":
            time.sleep(4.0)  # past the client timeout, with margin for a loaded machine
        if mode == "badbody":
            return self._send(200, b"<html>oops</html>", "text/html")
        if mode == "garbage":
            content = "%%% certainly not json"
        if mode == "truncated":
            content, finish = '{"answer": "cut sho', "length"
        reply = {
            "id": f"c{n}",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
        }
        self._send(200, json.dumps(reply).encode())


@pytest.fixture
def fault_server():
    _FaultServer.calls = Counter()
    _FaultServer.bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FaultServer)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def _cfg(base_url, tmp_path, **openai):
    return TeacherConfig(
        backend="openai",
        model="fake-model",
        json_retries=1,
        batch_size=8,
        cache_dir=str(tmp_path / "responses"),
        openai=OpenAIConfig(base_url=base_url, max_retries=2, backoff_s=0.01, timeout_s=2.0, **openai),
    )


def test_faults_are_retried_within_bounds_then_rejected(fault_server, run_ask, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    modes = ["ok", "flaky", "ratelimit", "badrequest", "slow", "badbody", "garbage", "truncated"]
    requests = [(f"payload-{m}", TeacherRequest(m, (("user", m),), json_schema=SCHEMA)) for m in modes]
    answered, rejected, metrics = run_ask(_cfg(fault_server, tmp_path), requests, stage="faults")

    assert sorted((p, r.key, reply.parsed) for p, r, reply in answered) == [
        ("payload-flaky", "flaky", {"answer": "fine"}),
        ("payload-ok", "ok", {"answer": "fine"}),
    ]
    assert sorted((r.id, r.reason) for r in rejected) == [
        ("badbody", "teacher_error"),
        ("badrequest", "teacher_error"),
        ("garbage", "invalid_json"),
        ("ratelimit", "teacher_error"),
        ("slow", "timeout"),
        ("truncated", "truncated_json"),
    ]
    raw = {r.id: r.payload for r in rejected}
    assert raw["garbage"] == "%%% certainly not json" and raw["truncated"] == '{"answer": "cut sho'
    # bounds: 429/5xx/timeouts get 1 + max_retries tries, a 400 one, bad JSON 1 + json_retries fresh samples
    calls = _FaultServer.calls
    assert (calls["flaky"], calls["ratelimit"], calls["slow"], calls["badrequest"]) == (2, 3, 3, 1)
    assert (calls["garbage"], calls["truncated"], calls["ok"]) == (2, 2, 1)
    seeds = [b["seed"] for b in _FaultServer.bodies if b["messages"][-1]["content"] == "garbage"]
    assert len(set(seeds)) == 2  # a JSON retry is a new sample
    assert all(b["response_format"]["json_schema"]["schema"] == json.loads(SCHEMA) for b in _FaultServer.bodies)
    # the key was sent, and the server echoed it back in its errors, but it appears in no output
    for r in rejected:
        assert SECRET not in r.detail + r.payload, r
    assert "refused, auth was Bearer ***" in {r.id: r.detail for r in rejected}["ratelimit"]
    assert metrics["faults_requests"] == 8
    assert metrics["faults_retries"] == 1 + 2 + 2 + 1 + 1  # flaky, ratelimit, slow, garbage, truncated
    assert metrics["faults_prompt_tokens"] == 11 * 6  # ok, flaky, 2 x garbage, 2 x truncated


def test_a_rerun_asks_only_what_failed(fault_server, run_ask, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    requests = [(i, TeacherRequest(m, (("user", m),), json_schema=SCHEMA)) for i, m in enumerate(["ok", "ratelimit"])]
    cfg = _cfg(fault_server, tmp_path)
    run_ask(cfg, requests, stage="faults")
    before = Counter(_FaultServer.calls)
    answered, rejected, metrics = run_ask(cfg, requests, stage="faults")
    assert [(p, reply.cached) for p, _, reply in answered] == [(0, True)]
    assert [r.id for r in rejected] == ["ratelimit"]
    assert _FaultServer.calls - before == Counter({"ratelimit": 3})
    assert metrics["faults_cache_hits"] == 1 and metrics["faults_model_calls"] == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_against_a_real_vllm_server(default_model, run_ask, tmp_path, monkeypatch):
    port = _free_port()
    cmd = [
        sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(default_model),
        "--served-model-name", DEFAULT_MODEL_ID, "--host", "127.0.0.1", "--port", str(port),
        "--max-model-len", "1024", "--enforce-eager", "--gpu-memory-utilization", "0.3",
    ]  # fmt: skip
    log = open(tmp_path / "vllm.log", "wb")
    server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 420
        while True:
            assert server.poll() is None, (tmp_path / "vllm.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "vllm serve did not come up in time"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(2)
        monkeypatch.setenv("OPENAI_API_KEY", "EMPTY")
        cfg = TeacherConfig(
            backend="openai",
            max_new_tokens=48,
            cache_dir=str(tmp_path / "responses"),
            openai=OpenAIConfig(base_url=f"http://127.0.0.1:{port}/v1", timeout_s=120, max_retries=1),
        )
        person = {"type": "object", "properties": {"name": {"type": "string", "maxLength": 12}}, "required": ["name"]}
        requests = [
            (i, TeacherRequest(f"p{i}", (("user", f"Invent person {i}; answer as JSON."),), json.dumps(person)))
            for i in range(3)
        ]
        answered, rejected, metrics = run_ask(cfg, requests, stage="served")
        assert rejected == []
        assert sorted(p for p, _, _ in answered) == [0, 1, 2]
        for _, _, reply in answered:
            assert isinstance(reply.parsed["name"], str) and reply.model_id == DEFAULT_MODEL_ID
            assert reply.completion_tokens > 0 and reply.prompt_tokens > 0
        assert metrics["served_model_calls"] == 3
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
