"""The records of skillseq: one typed class and one Arrow schema per output, defined here only.

Elements that flow through the pipeline are these frozen dataclasses, never loose dicts. Each output
config of the published dataset (`skills`, `instructions`, `edit_sequences`, `pragmatic_examples`,
`rejected`) is the Arrow schema below, built from the dataclass so the two cannot drift apart.

    >>> row = to_row(Rejected(id="he/0", stage="lintseq", reason="parse_error", detail="line 3", payload="...",
    ...                       provenance=Provenance("lintseq", "ab12", 0, "0.1.0")))
    >>> sorted(row)[:3]
    ['detail', 'id', 'payload']
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field

import pyarrow as pa


@dataclass(frozen=True)
class Provenance:
    """What made a row: stage, config hash, seed, package version, and the teacher where one was used."""

    stage: str
    config_hash: str
    seed: int
    package_version: str
    teacher_model: str | None = None
    teacher_revision: str | None = None


@dataclass(frozen=True)
class Seed:
    """One input record, whatever its source. `program` and `tests` are set for code seeds; `context` is code
    the program needs to run but is not part of it (the module a function was cut from), run before it."""

    id: str
    source: str
    instruction: str | None = None
    response: str | None = None
    program: str | None = None
    entry_point: str | None = None
    tests: str | None = None
    context: str | None = None


@dataclass(frozen=True)
class Program:
    """A program handed to the code stages (LintSeq, pragmatic examples), with where it came from."""

    id: str
    source_id: str
    code: str
    instruction: str | None = None
    entry_point: str | None = None
    tests: str | None = None
    context: str | None = None  # run before the code in the sandbox, never shown (see `Seed.context`)


@dataclass(frozen=True)
class Skill:
    name: str
    definition: str
    support: int
    examples: list[str]
    provenance: Provenance


@dataclass(frozen=True)
class Message:
    """One turn of a conversation, as chat templates and TRL's conversational datasets read it."""

    role: str
    content: str


@dataclass(frozen=True)
class Instruction:
    """An instruction and the teacher's response; `messages` is the same pair as a chat (user, assistant), made
    from the two fields whenever the record is built or replaced, so a trainer reads it without mapping."""

    id: str
    skills: list[str]
    query_type: str
    instruction: str
    response: str
    messages: list[Message] = field(init=False)
    code_blocks: list[str]
    teacher_model: str
    prompt_version: str
    prompt_tokens: int
    completion_tokens: int
    provenance: Provenance

    def __post_init__(self):
        chat = [Message("user", self.instruction), Message("assistant", self.response)]
        object.__setattr__(self, "messages", chat)


@dataclass(frozen=True)
class EditSequence:
    """One LintSeq sample. `text` is the reference's training text (instruction, then the `<|diff|>` edits);
    `prompt` + `completion` are the same for TRL: the instruction on a line of its own (or a neutral request made
    from the program's signature when the seed had none, `skillseq.training.edit_prompt`) and the edits, ending
    as `text` does."""

    id: str
    source_id: str
    instruction: str | None
    program: str
    diffs: list[str]
    num_edits: int
    linter: str
    error_codes: list[str]
    sample_index: int
    seed: int
    text: str
    prompt: str
    completion: str
    provenance: Provenance


@dataclass(frozen=True)
class Example:
    input: str
    output: str


@dataclass(frozen=True)
class SourceCount:
    """How many of a row's inputs or alternatives came from one source."""

    source: str
    count: int


@dataclass(frozen=True)
class PragmaticExample:
    """The examples chosen for one program. `prompt` is them rendered as a synthesizer's input
    (`skillseq.training.pragmatic_prompt`, template `prompt_version`); `completion` is the program (without
    leading blank lines)."""

    id: str
    source_id: str
    domain: str
    program: str
    examples: list[Example]
    num_alternatives: int
    num_candidates: int
    p_target_pragmatic: float
    p_target_random: float
    input_sources: list[SourceCount]  # usable candidate inputs per source (tests, docstring, ..., boundary, ...)
    alternative_sources: list[SourceCount]  # distinct alternative behaviours per source (mutants, teacher)
    distinguishable: bool | None  # every non-equivalent alternative differs on some candidate (regex; else None)
    prompt: str
    completion: str
    prompt_version: str
    provenance: Provenance


@dataclass(frozen=True)
class Rejected:
    """A record some stage would not pass on: the id it had, the stage, a short reason code and detail."""

    id: str
    stage: str
    reason: str
    detail: str
    payload: str
    provenance: Provenance


_ARROW_TYPES = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}


def arrow_type(tp) -> pa.DataType:
    """Arrow type of an annotation: `list[str]` -> list<string>, a dataclass -> struct, `X | None` -> X."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        (inner,) = [a for a in typing.get_args(tp) if a is not type(None)]
        return arrow_type(inner)
    if origin is list:
        return pa.list_(arrow_type(typing.get_args(tp)[0]))
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        return pa.struct([pa.field(f.name, arrow_type(hints[f.name])) for f in dataclasses.fields(tp)])
    return _ARROW_TYPES[tp]


def arrow_schema(cls) -> pa.Schema:
    return pa.schema(list(arrow_type(cls)))


def to_row(record) -> dict:
    return dataclasses.asdict(record)


# The published configs, in the order the card lists them.
OUTPUTS: dict[str, type] = {
    "skills": Skill,
    "instructions": Instruction,
    "edit_sequences": EditSequence,
    "pragmatic_examples": PragmaticExample,
    "rejected": Rejected,
}

SCHEMAS: dict[str, pa.Schema] = {name: arrow_schema(cls) for name, cls in OUTPUTS.items()}


__all__ = [
    "OUTPUTS",
    "SCHEMAS",
    "EditSequence",
    "Example",
    "Instruction",
    "Message",
    "PragmaticExample",
    "Program",
    "Provenance",
    "Rejected",
    "Seed",
    "Skill",
    "SourceCount",
    "arrow_schema",
    "to_row",
]
