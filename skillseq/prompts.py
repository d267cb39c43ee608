"""Every SkillMix prompt, in one place, under one version.

Change any text here and bump `PROMPT_VERSION`: it is written into each `instructions` row, and the teacher
cache keys on the messages, so old and new answers never mix silently. Prompts are short and concrete
because the default teacher is a 135M-parameter model; stronger teachers do not need more words.

    >>> messages = instruction_messages("Python programming", [("recursion", "a function calling itself")], "debugging")
    >>> messages[0][0], "recursion" in messages[1][1]
    ('system', True)
"""

from __future__ import annotations

import json

PROMPT_VERSION = "skillmix-v3"

Messages = tuple[tuple[str, str], ...]


def schema_text(schema: dict) -> str:
    """A JSON schema as canonical text (hashable and cache-keyable), as `TeacherRequest.json_schema` wants."""
    return json.dumps(schema, sort_keys=True, separators=(",", ":"))


def _named_list(max_items: int | None = None) -> dict:
    # Every backend decodes under this schema (vLLM and OpenAI natively, transformers through xgrammar), so
    # it is strict: both fields, short strings, no extras. Short bounds also keep a tiny teacher from rambling
    # past its token budget inside one string.
    item = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 2, "maxLength": 60},
            "definition": {"type": "string", "minLength": 5, "maxLength": 160},
        },
        "required": ["name", "definition"],
        "additionalProperties": False,
    }
    out = {"type": "array", "items": item, "minItems": 1}
    if max_items:
        out["maxItems"] = max_items
    return out


def seed_skills_schema(max_skills: int | None = None) -> dict:
    return {
        "type": "object",
        "properties": {
            "skills": _named_list(max_skills),
            "query_type": {"type": "string", "minLength": 3, "maxLength": 60},
        },
        "required": ["skills", "query_type"],
        "additionalProperties": False,
    }


def direct_skills_schema(n: int | None = None) -> dict:
    return {
        "type": "object",
        "properties": {"skills": _named_list(n)},
        "required": ["skills"],
        "additionalProperties": False,
    }


def query_types_schema(n: int | None = None) -> dict:
    return {
        "type": "object",
        "properties": {"query_types": _named_list(n)},
        "required": ["query_types"],
        "additionalProperties": False,
    }


JUDGE_SCHEMA = {
    "type": "object",
    "properties": {
        "uses_all_skills": {"type": "boolean"},
        "missing_skills": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["uses_all_skills"],
}

_ANALYST = "You analyse programming tasks and answer only with JSON."


def seed_skills_messages(instruction: str, program: str | None, max_skills: int) -> Messages:
    task = instruction.strip()
    if program:
        task += f"\n\nSolution:\n```python\n{program.strip()}\n```"
    user = (
        f"Task:\n{task}\n\n"
        f"Name at most {max_skills} skills a programmer needs for this task, each with a one-line definition, "
        "and the type of request it is (for example: write a function, fix a bug, explain code). "
        'Answer as JSON: {"skills": [{"name": "...", "definition": "..."}], "query_type": "..."}'
    )
    return (("system", _ANALYST), ("user", user))


# Direct extraction asks each chunk about a different area, so that `num_direct_skills` are different asks
# (the same prompt in every chunk gets the same few skills back, however many are asked for).
FOCUS_AREAS = (
    "strings and text processing",
    "lists, dictionaries and sets",
    "control flow and iteration",
    "functions and closures",
    "classes and objects",
    "errors and exceptions",
    "files and input/output",
    "searching and sorting algorithms",
    "recursion and dynamic programming",
    "numbers and arithmetic",
    "regular expressions and parsing",
    "testing and debugging",
    "generators and iterators",
    "modules and the standard library",
    "dates and times",
    "concurrency",
    "performance and complexity",
    "data formats such as JSON and CSV",
)


def focus_area(chunk: int) -> str:
    """The area chunk `chunk` of direct extraction asks about (cycling when there are more chunks than areas)."""
    return FOCUS_AREAS[chunk % len(FOCUS_AREAS)]


def direct_skills_messages(domain: str, n: int, focus: str = "") -> Messages:
    about = f" in the area of {focus}" if focus else ""
    user = (
        f"List {n} distinct skills needed for {domain}{about}, each with a short name and a one-line definition. "
        'Answer as JSON: {"skills": [{"name": "...", "definition": "..."}]}'
    )
    return (("system", _ANALYST), ("user", user))


def query_types_messages(domain: str, n: int) -> Messages:
    user = (
        f"List {n} different kinds of requests users send to a {domain} assistant "
        "(for example: write a function, fix a bug, explain code), each with a one-line definition. "
        'Answer as JSON: {"query_types": [{"name": "...", "definition": "..."}]}'
    )
    return (("system", _ANALYST), ("user", user))


def instruction_messages(domain: str, skills: list[tuple[str, str]], query_type: str) -> Messages:
    listed = "\n".join(f"{i}. {name}: {definition}" for i, (name, definition) in enumerate(skills, 1))
    user = (
        f"Write one {domain} request of this type: {query_type}.\n"
        f"Solving it must need every one of these skills:\n{listed}\n\n"
        "Write only the request, as a user would send it, in two to five sentences. Do not solve it."
    )
    return (("system", "You write realistic requests for a programming assistant."), ("user", user))


def response_messages(instruction: str) -> Messages:
    system = (
        "You are an expert Python programmer. Answer the request completely and correctly. "
        "Put code in ```python blocks."
    )
    return (("system", system), ("user", instruction))


def judge_messages(instruction: str, response: str, skills: list[str]) -> Messages:
    user = (
        f"Request:\n{instruction}\n\nResponse:\n{response}\n\n"
        f"Does the response use every one of these skills: {', '.join(skills)}? "
        'Answer as JSON: {"uses_all_skills": true or false, "missing_skills": ["..."]}'
    )
    return (("system", _ANALYST), ("user", user))


# Used only when extraction produced no query type at all (a weak teacher can fail every JSON reply).
FALLBACK_QUERY_TYPES = ("write a function", "fix a bug", "explain code")
