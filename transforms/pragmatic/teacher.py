"""The teacher's part in pragmatic examples (the paper's self-play): argument lists to try, and alternative
implementations written from the function's signature and docstring.

`TeacherHelp` turns `Program`s into `(Program, argument lists, implementations)` triples, asking through
`AskTeacher` (so every call is batched, cached and seeded per request and sample):
- `pragmatic.inputs`: one JSON request per program, `{"calls": ["<arguments as written in a call>", ...]}`;
- `pragmatic.describe`: for a function without a docstring, a one-line description written first;
- `pragmatic.alternatives`: `teacher_samples` implementations of the stub (signature + docstring or
  description), sample i seeded by i; the first fenced block of each reply (or the whole reply) is kept.
Requests the teacher fails, and replies with no parsable code, leave as `rejected` rows of those stages; the
program goes on with what it got. The code the teacher writes is only parsed here, never run: it runs in the
sandbox with the other alternatives.

    >>> print(stub(Program("x", "x", "def add(a, b=1):\\n    return a + b\\n"), "add", "Add b to a."))
    def add(a, b=1):
        \"\"\"Add b to a.\"\"\"
        ...
"""

from __future__ import annotations

import ast
import copy

import apache_beam as beam

from skillseq.config import PragmaticConfig
from skillseq.context import RunContext
from skillseq.prompts import schema_text
from skillseq.schema import Program
from skillseq.teachers import AskTeacher
from skillseq.teachers.types import TeacherRequest
from skillseq.transforms.pragmatic import python_domain
from skillseq.transforms.pragmatic.core import infer_entry_point
from skillseq.transforms.programs import extract_code_blocks

INPUTS, DESCRIBE, ALTERNATIVES = "pragmatic.inputs", "pragmatic.describe", "pragmatic.alternatives"
_SYSTEM = "You are a careful Python programmer."


def inputs_schema(n: int) -> dict:
    calls = {"type": "array", "items": {"type": "string", "maxLength": 200}, "minItems": 1, "maxItems": n}
    return {"type": "object", "properties": {"calls": calls}, "required": ["calls"], "additionalProperties": False}


def _entry(program: Program) -> str | None:
    return program.entry_point or infer_entry_point(program.code)


def stub(program: Program, entry_point: str, description: str | None = None) -> str | None:
    """The function's signature with its docstring (or `description`) and `...` for a body."""
    fn = python_domain.function_node(program.code, entry_point)
    if fn is None:
        return None
    doc = description or ast.get_docstring(fn)
    header = copy.copy(fn)
    header.decorator_list = []
    header.body = [*([ast.Expr(ast.Constant(doc))] if doc else []), ast.Expr(ast.Constant(...))]
    return ast.unparse(ast.fix_missing_locations(header))


def inputs_request(program: Program, n: int) -> TeacherRequest | None:
    entry = _entry(program)
    if not entry or python_domain.function_node(program.code, entry) is None:
        return None
    ask = (
        f"```python\n{program.code.strip()}\n```\n\nPropose {n} different, small argument lists for calling "
        f"`{entry}`, each written as it would appear between the parentheses of the call, using only Python "
        'literals (numbers, strings, lists, tuples, dicts, None, True, False). Answer as {"calls": ["...", ...]}.'
    )
    return TeacherRequest(program.id, (("system", _SYSTEM), ("user", ask)), schema_text(inputs_schema(n)))


def describe_request(program: Program) -> TeacherRequest | None:
    entry = _entry(program)
    text = stub(program, entry) if entry else None
    if text is None:
        return None
    ask = f"```python\n{program.code.strip()}\n```\n\nSay in one sentence what `{entry}` does."
    return TeacherRequest(program.id, (("system", _SYSTEM), ("user", ask)))


def implementation_requests(program: Program, n: int, description: str | None = None) -> list[TeacherRequest]:
    entry = _entry(program)
    text = stub(program, entry, description) if entry else None
    if text is None:
        return []
    ask = f"Complete this function. Answer with one ```python code block.\n\n```python\n{text}\n```"
    return [TeacherRequest(program.id, (("system", _SYSTEM), ("user", ask)), sample_index=i) for i in range(n)]


def has_docstring(program: Program) -> bool:
    fn = python_domain.function_node(program.code, _entry(program) or "")
    return bool(fn and ast.get_docstring(fn))


def written_code(text: str) -> str | None:
    """The implementation in a reply: its first fenced block that parses, else the whole reply if it parses."""
    for block in [*extract_code_blocks(text), text]:
        try:
            ast.parse(block)
        except (SyntaxError, ValueError, RecursionError):
            continue
        if any(isinstance(n, ast.FunctionDef) for n in ast.parse(block).body):
            return block
    return None


class _ReadImplementation(beam.DoFn):
    def __init__(self, ctx: RunContext):
        self.ctx = ctx

    def process(self, answered):
        program, request, reply = answered
        code = written_code(reply.text)
        if code is None:
            detail = f"sample {request.sample_index}: no fenced or whole-reply Python function"
            yield self.ctx.drop(program.id, ALTERNATIVES, "unparsable_code", detail, reply.text)
        else:
            yield program.id, ("alternative", (request.sample_index, code))


def description(text: str) -> str | None:
    """The description in a `describe_request` reply: its first non-blank line (at most 300 characters)."""
    return next((s.strip() for s in text.splitlines() if s.strip()), "")[:300] or None


def _implementations_after_description(answered, n: int):
    program, _, reply = answered
    return [(program, r) for r in implementation_requests(program, n, description(reply.text))]


def _join(element):
    _, grouped = element
    found = grouped["answers"]
    inputs = [t for kind, calls in found if kind == "inputs" for t in calls]
    written = [code for _, code in sorted(v for kind, v in found if kind == "alternative")]
    return [(program, inputs, written) for program in grouped["program"]]


class _ProposeInputs(beam.PTransform):
    """Programs -> ((id, ("inputs", argument lists)), rejected): one JSON request per program."""

    def __init__(self, cfg: PragmaticConfig, ctx: RunContext):
        super().__init__()
        self.cfg, self.ctx = cfg, ctx

    def expand(self, programs):
        n = self.cfg.teacher_inputs
        asked, refused = (
            programs
            | "InputRequests" >> beam.FlatMap(lambda p: [(p, r)] if (r := inputs_request(p, n)) else [])
            | "AskForInputs" >> AskTeacher(self.ctx, INPUTS)
        )
        return asked | "ReadInputs" >> beam.Map(lambda a: (a[0].id, ("inputs", a[2].parsed["calls"]))), refused


class _WriteAlternatives(beam.PTransform):
    """Programs -> ((id, ("alternative", (sample, code))), rejected): describe the undocumented, then n samples."""

    def __init__(self, cfg: PragmaticConfig, ctx: RunContext):
        super().__init__()
        self.cfg, self.ctx = cfg, ctx

    def expand(self, programs):
        n, ctx = self.cfg.teacher_samples, self.ctx
        described, refused = (
            programs
            | "Undocumented" >> beam.Filter(lambda p: not has_docstring(p))
            | "DescribeRequests" >> beam.FlatMap(lambda p: [(p, r)] if (r := describe_request(p)) else [])
            | "AskForDescription" >> AskTeacher(ctx, DESCRIBE)
        )
        documented = (
            programs
            | "Documented" >> beam.Filter(has_docstring)
            | "ImplementationRequests" >> beam.FlatMap(lambda p: [(p, r) for r in implementation_requests(p, n)])
        )
        after = described | "RequestsAfterDescription" >> beam.FlatMap(_implementations_after_description, n)
        written, unanswered = (
            (documented, after) | "AllImplementationRequests" >> beam.Flatten()
        ) | "AskForImplementations" >> AskTeacher(ctx, ALTERNATIVES)
        read = written | "ReadImplementations" >> beam.ParDo(_ReadImplementation(ctx)).with_outputs(
            "rejected", main="code"
        )
        return read.code, (refused, unanswered, read.rejected) | "AlternativeRejects" >> beam.Flatten()


class TeacherHelp(beam.PTransform):
    """Programs -> `((Program, argument lists, implementations) triples, rejected)`; see the module docstring."""

    def __init__(self, ctx: RunContext):
        super().__init__()
        self.cfg, self.ctx = ctx.config.pragmatic, ctx

    def expand(self, programs):
        answers, rejected = [], []
        if "teacher" in self.cfg.input_sources:
            inputs, refused = programs | "ProposeInputs" >> _ProposeInputs(self.cfg, self.ctx)
            answers.append(inputs)
            rejected.append(refused)
        if "teacher" in self.cfg.alternatives:
            written, refused = programs | "WriteAlternatives" >> _WriteAlternatives(self.cfg, self.ctx)
            answers.append(written)
            rejected.append(refused)
        joined = (
            {
                "program": programs | "KeyPrograms" >> beam.Map(lambda p: (p.id, p)),
                "answers": answers | "AllAnswers" >> beam.Flatten(pipeline=programs.pipeline),
            }
            | "JoinAnswers" >> beam.CoGroupByKey()
            | "Assemble" >> beam.FlatMap(_join)
        )
        return joined, rejected | "TeacherRejects" >> beam.Flatten(pipeline=programs.pipeline)
