"""The OpenAI-compatible backend: any `vllm serve`, or a hosted endpoint, through the `openai` client.

A batch fans out over a thread pool of `openai.max_concurrency` requests. There is one retry layer, here: the
client is built with `max_retries=0`, and a request is retried with exponential backoff (`backoff_s * 2**n`, at
most `openai.max_retries` times) on 429, 5xx, timeouts and connection errors; any other error fails that request
alone. The API key is read from the environment variable named by `openai.api_key_env` and redacted from every
error text this module produces.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

import openai

from skillseq.config import TeacherConfig
from skillseq.redaction import redact
from skillseq.teachers.replies import Failure, Generation


def _retryable(e: Exception) -> bool:
    if isinstance(e, openai.APIStatusError):
        return e.status_code == 429 or e.status_code >= 500
    return isinstance(e, openai.APIConnectionError)  # timeouts are connection errors too


class OpenAIBackend:
    def __init__(self, model_name: str, cfg: TeacherConfig, sleep=time.sleep):
        self.cfg = cfg
        self.model_name = model_name
        self._key = os.environ.get(cfg.openai.api_key_env, "")
        self._sleep = sleep
        self.client = openai.OpenAI(
            base_url=cfg.openai.base_url,
            api_key=self._key or "EMPTY",  # local servers take any key; the client insists on one
            max_retries=0,
            timeout=cfg.openai.timeout_s,
        )
        self.pool = ThreadPoolExecutor(cfg.openai.max_concurrency, thread_name_prefix="skillseq-openai")

    def body(self, request, seed: int) -> dict:
        body = {
            "model": self.model_name,
            "messages": [{"role": role, "content": content} for role, content in request.messages],
            "temperature": self.cfg.temperature,
            "top_p": self.cfg.top_p,
            "max_tokens": self.cfg.max_new_tokens,
            "seed": seed,
        }
        if request.json_schema is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "reply", "schema": json.loads(request.json_schema)},
            }
        return body

    def generate(self, jobs) -> list[Generation | Failure]:
        """`jobs` are (request, seed) pairs; one generation or failure per job, in order."""
        return list(self.pool.map(lambda job: self._one(*job), jobs))

    def _one(self, request, seed: int) -> Generation | Failure:
        body = self.body(request, seed)
        for attempt in range(self.cfg.openai.max_retries + 1):
            try:
                response = self.client.chat.completions.create(**body)
                choice = response.choices[0]
                usage = response.usage
                return Generation(
                    text=choice.message.content or "",
                    finish_reason="length" if choice.finish_reason == "length" else "stop",
                    prompt_tokens=usage.prompt_tokens if usage else 0,
                    completion_tokens=usage.completion_tokens if usage else 0,
                    retries=attempt,
                )
            except Exception as e:  # classified below: retried, or this request's failure
                error = e
                if not _retryable(e):
                    break
                if attempt < self.cfg.openai.max_retries:
                    self._sleep(self.cfg.openai.backoff_s * 2**attempt)
        reason = "timeout" if isinstance(error, openai.APITimeoutError) else "teacher_error"
        detail = redact(f"{type(error).__name__}: {error}", (self.cfg.openai.api_key_env,))
        return Failure(reason, detail[:2000], retries=attempt)
