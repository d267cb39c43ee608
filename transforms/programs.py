r"""Programs for the code stages: from seeds (a program field) and from teacher responses (code blocks).

>>> extract_code_blocks("Try:\n```python\nx = 1\n```\nand\n```\ny = 2\n```")
['x = 1\n', 'y = 2\n']
"""

from __future__ import annotations

import re

import apache_beam as beam

from skillseq.schema import Instruction, Program, Seed

_FENCE = re.compile(r"^```[ \t]*([\w+-]*)[^\n]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)
_PYTHON_TAGS = {"", "python", "py", "python3"}


def extract_code_blocks(text: str) -> list[str]:
    """The fenced ```python (or untagged) blocks of a Markdown response, in order, each ending in a newline."""
    blocks = []
    for tag, body in _FENCE.findall(text or ""):
        if tag.lower() in _PYTHON_TAGS and body.strip():
            blocks.append(body if body.endswith("\n") else body + "\n")
    return blocks


def seed_program(seed: Seed) -> Program | None:
    """A seed's program: HumanEval-style seeds give prompt + solution; others their `program` field."""
    if not seed.program:
        return None
    return Program(
        id=seed.id,
        source_id=seed.id,
        code=seed.program,
        instruction=seed.instruction,
        entry_point=seed.entry_point,
        tests=seed.tests,
        context=seed.context,
    )


def instruction_programs(record: Instruction) -> list[Program]:
    """One program per code block of a SkillMix response (`<id>#0`, `<id>#1`, ...)."""
    return [
        Program(id=f"{record.id}#{i}", source_id=record.id, code=block, instruction=record.instruction)
        for i, block in enumerate(record.code_blocks)
    ]


class SeedsToPrograms(beam.PTransform):
    def expand(self, seeds):
        return seeds | "ProgramOfSeed" >> beam.FlatMap(lambda s: [p] if (p := seed_program(s)) else [])


class InstructionsToPrograms(beam.PTransform):
    def expand(self, instructions):
        return instructions | "CodeBlocks" >> beam.FlatMap(instruction_programs)
