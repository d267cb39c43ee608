"""Pure helpers around one teacher call: its seed, its cache key, and turning raw text into a reply or a reason.

Nothing here touches a model, so every backend and the tests share the same rules.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

import jsonschema

from skillseq.rng import seed_words
from skillseq.teachers.types import TeacherRequest


@dataclass(frozen=True)
class Generation:
    """What a backend produced for one request: raw text, before any JSON parsing."""

    text: str
    finish_reason: str  # "stop" or "length"
    prompt_tokens: int
    completion_tokens: int
    retries: int = 0  # transport retries (429/5xx/connection) spent on it


@dataclass(frozen=True)
class Failure:
    """A request the teacher could not answer. `reason` is a short code: teacher_error, timeout, invalid_json..."""

    reason: str
    detail: str
    raw: str = ""
    retries: int = 0


def request_seed(run_seed: int, request: TeacherRequest, attempt: int) -> int:
    """The sampling seed of one attempt at one request: same inputs, same seed, on any worker.

    >>> request_seed(0, TeacherRequest("he/0", (("user", "hi"),)), 0) == request_seed(0, TeacherRequest("he/0", ()), 0)
    True
    """
    return seed_words(run_seed, "teacher", request.key, request.sample_index, attempt)[0] & 0x7FFFFFFF


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def cache_key(identity: dict, sampling: dict, request: TeacherRequest, attempt: int) -> str:
    """sha256 of everything that decides the answer: backend, model, revision, sampling (seed included), messages,
    schema, sample index and attempt. The request key is not hashed itself; it enters through the sampling seed
    (`request_seed`), so in a run two records asking the same thing are two samples, cached apart.
    """
    material = {
        "identity": identity,
        "sampling": sampling,
        "messages": [list(m) for m in request.messages],
        "schema": request.json_schema,
        "sample_index": request.sample_index,
        "attempt": attempt,
    }
    return hashlib.sha256(canonical_json(material).encode()).hexdigest()


_FENCE = re.compile(r"```(?:json)?\s*\n?(.*?)```", re.DOTALL)


def extract_json(text: str) -> Any:
    """The JSON value in a reply: the whole text, else a fenced block, else the outermost {...}.

    >>> extract_json('Sure! ```json\\n{"a": 1}\\n```')
    {'a': 1}
    >>> extract_json('{"a": ')
    Traceback (most recent call last):
    ...
    ValueError: no JSON value in the reply
    """
    candidates = [text.strip(), *(m.strip() for m in _FENCE.findall(text))]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    raise ValueError("no JSON value in the reply")


def judge(generation: Generation, schema: str | None) -> tuple[Any, Failure | None]:
    """Parse and validate a generation against the request's schema: `(parsed, None)` or `(None, failure)`.

    Without a schema the text is the answer. A reply cut at max tokens that does not parse is `truncated_json`.
    """
    if schema is None:
        return None, None
    try:
        parsed = extract_json(generation.text)
    except ValueError:
        reason = "truncated_json" if generation.finish_reason == "length" else "invalid_json"
        return None, Failure(reason, f"finish_reason={generation.finish_reason}", raw=generation.text)
    try:
        jsonschema.validate(parsed, json.loads(schema))
    except jsonschema.ValidationError as e:
        return None, Failure("invalid_json", f"does not match the schema: {e.message}"[:500], raw=generation.text)
    return parsed, None


def with_schema_hint(messages: tuple[tuple[str, str], ...], schema: str) -> list[tuple[str, str]]:
    """For backends without constrained decoding: tell the model the schema at the end of the last message."""
    hint = f"\n\nAnswer with one JSON value only, matching this JSON schema:\n{schema}"
    out = list(messages)
    role, content = out[-1]
    out[-1] = (role, content + hint)
    return out
