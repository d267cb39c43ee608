r"""What a trainer reads: the prompts of the training configs, built here only.

`pragmatic_prompt` is the one template for `pragmatic_examples`, for the rows the pipeline writes and for any
evaluation that asks a trained model (the downstream benchmark renders people's examples with it), versioned
like the teacher prompts: change the text, bump `TEMPLATE_VERSION` (written into every row as
`prompt_version`). `edit_prompt` is the prompt of an `edit_sequences` row: the seed's instruction, or a neutral
request made from the program's signature when the seed has none.

Every prompt ends with exactly one newline and no completion starts with whitespace other than a space, so the
tokens of prompt + completion start with the prompt's own tokens (TRL masks the prompt by that prefix; blank
lines across the boundary would merge into one token and shift it).

    >>> from skillseq.schema import Example
    >>> print(pragmatic_prompt("regex", [Example("ab1", "True"), Example("a", "False")]), end="")
    Write a regular expression that fully matches every string marked "matches" and no string marked "does not match".
    'ab1' matches
    'a' does not match
    Regular expression:
    >>> print(pragmatic_prompt("python", [Example("(2, 3)", "5"), Example("(1,)", "raises TypeError")], "add"), end="")
    Write a Python function `add` that gives these results.
    add(2, 3) == 5
    add(1) raises TypeError
    Function:
    >>> edit_completion(["@@ -0,0 +1 @@\n+x = 1"])
    '<|diff|>@@ -0,0 +1 @@\n+x = 1\n<|diff|>\n<|diff|>'
    >>> edit_prompt(None, "import math\n\ndef area(r: float) -> float:\n    return math.pi * r * r\n")
    'Write the Python function `area(r: float) -> float`.\n'
"""

from __future__ import annotations

import ast
import re

from skillseq.schema import Example

TEMPLATE_VERSION = "pragmatic-v2"


def _python_call(entry_point: str, args: str) -> str:
    inner = args[1:-1] if args.startswith("(") and args.endswith(")") else args
    return f"{entry_point}({inner.rstrip(',')})"


def pragmatic_prompt(domain: str, examples: list[Example], entry_point: str | None = None) -> str:
    """The examples as a synthesizer's input; the completion is the program (regex or source)."""
    if domain == "regex":
        head = (
            'Write a regular expression that fully matches every string marked "matches" and no string marked'
            ' "does not match".'
        )
        lines = [f"{e.input!r} {'matches' if e.output == 'True' else 'does not match'}" for e in examples]
        return "\n".join([head, *lines, "Regular expression:"]) + "\n"
    if domain == "python":
        name = entry_point or "f"
        lines = []
        for e in examples:
            call = _python_call(name, e.input)
            lines.append(f"{call} {e.output}" if e.output.startswith("raises ") else f"{call} == {e.output}")
        return "\n".join([f"Write a Python function `{name}` that gives these results.", *lines, "Function:"]) + "\n"
    raise ValueError(f"unknown domain {domain!r}")


def _signature(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    return f"{node.name}({ast.unparse(node.args)}){returns}"


def neutral_request(program: str, entry_point: str | None = None) -> str:
    r"""A request that names what the program defines and nothing more (no docstring, no behaviour).

    >>> neutral_request("def f(x):\n    return x\n\nclass Stack:\n    pass\n")
    'Write Python code that defines `f(x)` and class `Stack`.'
    >>> neutral_request("print('hi')\n")
    'Write a Python program.'
    """
    try:
        body = ast.parse(program).body
    except SyntaxError:
        return "Write a Python program."
    functions = [n for n in body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    named = [n for n in functions if n.name == entry_point]
    if named:
        return f"Write the Python function `{_signature(named[0])}`."
    parts = [
        f"`{_signature(n)}`" if not isinstance(n, ast.ClassDef) else f"class `{n.name}`"
        for n in body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    ]
    if not parts:
        return "Write a Python program."
    if len(parts) == 1:
        kind = "class" if parts[0].startswith("class ") else "function"
        return f"Write the Python {kind} {parts[0].removeprefix('class ')}."
    return f"Write Python code that defines {', '.join(parts[:-1])} and {parts[-1]}."


def edit_prompt(instruction: str | None, program: str, entry_point: str | None = None) -> str:
    """The prompt of an `edit_sequences` row: the instruction, stripped, on a line of its own."""
    return ((instruction or "").strip() or neutral_request(program, entry_point)) + "\n"


def program_completion(program: str) -> str:
    r"""A program as the completion of a prompt: without leading blank lines (see the module's docstring).

    >>> program_completion("\n\ndef f():\n    return 1\n")
    'def f():\n    return 1\n'
    """
    return re.sub(r"\A(?:[ \t]*\n)+", "", program)


def edit_completion(diffs: list[str]) -> str:
    """The edits in the reference's format, each after a `<|diff|>`, then the empty edit: `text` after its
    instruction (which `edit_prompt` gives with its surrounding whitespace trimmed)."""
    from skillseq.transforms.lintseq.core import training_text  # here: the LintSeq stage imports this module

    return training_text(None, diffs).removeprefix("\n")
