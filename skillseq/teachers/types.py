"""What goes to a teacher model and what comes back. Every backend speaks these two types.

A request is identified by (key, sample_index): the record it serves and which sample of it. Replies keep
their request attached, as Beam's PredictionResult keeps its example.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TeacherRequest:
    key: str
    messages: tuple[tuple[str, str], ...]  # (role, content) pairs, chat order
    json_schema: str | None = None  # a JSON schema as canonical JSON text (hashable, cache-keyable)
    sample_index: int = 0


@dataclass(frozen=True)
class TeacherReply:
    text: str
    parsed: Any  # the decoded JSON when the request had a schema, else None
    finish_reason: str  # "stop" or "length" (truncated at max tokens)
    prompt_tokens: int
    completion_tokens: int
    model_id: str
    model_revision: str | None = None
    cached: bool = False
    attempt: int = 0  # which try produced it (0 = first; more after unparseable JSON)
