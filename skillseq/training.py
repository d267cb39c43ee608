"""What a trainer reads: the prompt a synthesizer is given for a row of `pragmatic_examples`.

One template for the rows the pipeline writes and for any evaluation that asks a trained model (the
downstream benchmark renders people's examples with it), versioned like the teacher prompts: change the
text, bump `TEMPLATE_VERSION` (written into every row as `prompt_version`).

    >>> from skillseq.schema import Example
    >>> print(pragmatic_prompt("regex", [Example("ab1", "True"), Example("a", "False")]))
    Write a regular expression that fully matches every string marked "yes" and no string marked "no".
    ab1 -> yes
    a -> no
    Regular expression:
    >>> print(pragmatic_prompt("python", [Example("(2, 3)", "5")], entry_point="add"))
    Write a Python function `add` that gives these results.
    add(2, 3) == 5
    Function:
"""

from __future__ import annotations

from skillseq.schema import Example

TEMPLATE_VERSION = "pragmatic-v1"


def _python_call(entry_point: str, args: str) -> str:
    inner = args[1:-1] if args.startswith("(") and args.endswith(")") else args
    return f"{entry_point}({inner.rstrip(',')})"


def pragmatic_prompt(domain: str, examples: list[Example], entry_point: str | None = None) -> str:
    """The examples as a synthesizer's input; the completion is the program (regex or source)."""
    if domain == "regex":
        lines = [f"{e.input} -> {'yes' if e.output == 'True' else 'no'}" for e in examples]
        head = 'Write a regular expression that fully matches every string marked "yes" and no string marked "no".'
        return "\n".join([head, *lines, "Regular expression:"])
    if domain == "python":
        name = entry_point or "f"
        lines = []
        for e in examples:
            call = _python_call(name, e.input)
            lines.append(f"{call} {e.output}" if e.output.startswith("raises ") else f"{call} == {e.output}")
        return "\n".join([f"Write a Python function `{name}` that gives these results.", *lines, "Function:"])
    raise ValueError(f"unknown domain {domain!r}")
