"""A deterministic OpenAI-compatible chat server on 127.0.0.1, for whole-pipeline fault tests.

Its replies depend only on the request's messages (and seed), never on timing or order, so an interrupted and
resumed run can be compared byte for byte with an uninterrupted one. With a `response_format` JSON schema it
answers with an instance of that schema; otherwise with Markdown holding a small Python code block. It counts
calls per request, so a test can prove that a rerun repeated no finished call, and can slow every call down so
a test has time to kill a run midway.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter

from tests.local_server import JSONHandler, LocalServer


def _digest(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def instance(schema: dict, seed: str, depth: int = 0):
    """A small value matching `schema` (objects, arrays, strings, numbers, booleans, enums), chosen by `seed`."""
    h = int(_digest(seed, depth), 16)
    if "enum" in schema:
        return schema["enum"][h % len(schema["enum"])]
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: instance(v, f"{seed}/{k}", depth + 1) for k, v in props.items()}
    if kind == "array":
        n = max(schema.get("minItems", 1), min(schema.get("maxItems", 3), 2 + h % 2))
        return [instance(schema.get("items", {}), f"{seed}/{i}", depth + 1) for i in range(n)]
    if kind == "integer":
        return h % 10
    if kind == "number":
        return (h % 1000) / 100
    if kind == "boolean":
        return bool(h % 2)
    words = ["parse", "sort", "merge", "cache", "stream", "tree", "graph", "string", "regex", "window"]
    return f"{words[h % 10]} {words[(h // 10) % 10]} {h % 97}"


def answer(body: dict) -> str:
    seed = _digest(body["messages"], body.get("seed"))
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return json.dumps(instance(fmt["json_schema"]["schema"], seed))
    n = int(seed[:4], 16) % 50
    if "Do not solve it" in body["messages"][-1]["content"]:  # asked for a request, not for code
        return (
            f"Write a Python function that takes a list of integers and returns the sum of the items greater "
            f"than {n}. Explain how the loop and the condition work, and keep it to one pass over the list."
        )
    return (
        f"Here is a function that solves it, with a loop and a condition.\n\n```python\n"
        f"def solve_{n}(items: list[int]) -> int:\n    total = 0\n    for x in items:\n"
        f"        if x > {n}:\n            total += x\n    return total\n```\n\n"
        "It adds up the items above the threshold and returns the total, in one pass over the list.\n"
    )


class EchoModel(LocalServer):
    """`with EchoModel(delay_s=0.1) as m: ... m.base_url ...`; `m.calls` counts calls per request digest."""

    def __init__(self, delay_s: float = 0.0, error_status: int | None = None, port: int = 0):
        self.delay_s, self.error_status = delay_s, error_status
        self.calls: Counter = Counter()
        self.auth_headers: list[str] = []
        self._lock = threading.Lock()
        super().__init__(port)

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"

    def _handler(self):
        model = self

        class Handler(JSONHandler):
            _send = JSONHandler.send_json

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                auth = self.headers.get("Authorization", "")
                with model._lock:
                    model.calls[_digest(body["messages"], body.get("seed"))] += 1
                    model.auth_headers.append(auth)
                if model.delay_s:
                    time.sleep(model.delay_s)
                if model.error_status:
                    # Like some real servers, the error quotes the credential it refused.
                    return self._send(model.error_status, {"error": {"message": f"invalid key: {auth}"}})
                text = answer(body)
                self._send(
                    200,
                    {
                        "id": "echo",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body["model"],
                        "choices": [
                            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}
                        ],
                        "usage": {
                            "prompt_tokens": len(json.dumps(body["messages"])) // 4,
                            "completion_tokens": len(text) // 4,
                            "total_tokens": 0,
                        },
                    },
                )

        return Handler
