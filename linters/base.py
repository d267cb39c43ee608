"""The linter interface LintSeq needs: lint many sources at once, get back the lines each one points at.

    >>> class NoName(Linter):
    ...     name, error_codes = "toy", ("undefined",)
    ...     def lint_many(self, sources):
    ...         return [[Diagnostic(1, "undefined")] if "y" in s else [] for s in sources]
    >>> NoName().lint_many(["x = 1", "x = y"])
    [[], [Diagnostic(line=1, code='undefined', message='')]]

A `Diagnostic.line` is the 1-based line to delete, already moved where the method wants it (a syntax
error "expected an indented block after the `if` on line 3" points at line 3, the header).
"""

from __future__ import annotations

import abc
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Diagnostic:
    line: int
    code: str
    message: str = ""


class LinterError(RuntimeError):
    """The linter itself failed (not the program): a broken binary, a crash. Beam retries the bundle."""


class Linter(abc.ABC):
    name: str
    error_codes: tuple[str, ...]

    @abc.abstractmethod
    def lint_many(self, sources: Sequence[str]) -> list[list[Diagnostic]]:
        """One list of error diagnostics per source, in order; an empty list means lint-clean."""

    def lint(self, source: str) -> list[Diagnostic]:
        return self.lint_many([source])[0]


_ON_LINE = re.compile(r"\bon line (\d+)")


def python_syntax_error(source: str, *, parse_only: bool = False) -> Diagnostic | None:
    """CPython's own verdict on a source: None if it compiles, else where the error is.

    The whole compiler runs (`compile(source, name, "exec")`), not just the parser: `return` or `nonlocal`
    at module level parse but do not compile. `parse_only=True` asks the parser alone. The line is the one
    CPython names, except that "expected an indented block after 'if' statement on line 3" points at line 3,
    the header whose body is missing (the reference does the same with pylint). Compiler warnings (an
    invalid escape, `is` with a literal) are not errors and are not shown.

    >>> python_syntax_error("def f():\\nx = 1\\n")
    Diagnostic(line=1, code='invalid-syntax', message='expected an indented block after function definition on line 1')
    >>> python_syntax_error("x = 1\\nreturn x\\n")
    Diagnostic(line=2, code='invalid-syntax', message="'return' outside function")
    >>> python_syntax_error("x = 1\\n") is None
    True
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _compile_error(source, _ONLY_AST if parse_only else 0)


def _compile_error(source: str, flags: int) -> Diagnostic | None:
    try:
        compile(source, "<lintseq>", "exec", flags=flags, dont_inherit=True)
    except SyntaxError as e:
        msg = str(e.msg)
        match = _ON_LINE.search(msg)
        line = int(match.group(1)) if match else (e.lineno or 1)
        return Diagnostic(line, "invalid-syntax", msg)
    except ValueError as e:  # null bytes, on older Pythons
        return Diagnostic(1, "invalid-syntax", str(e))
    return None


def with_compile_errors(sources: Sequence[str], verdicts: list[list[Diagnostic]]) -> list[list[Diagnostic]]:
    """The linter's verdicts, where each source the linter passed must also compile under CPython.

    Linters parse with their own parsers, which accept a few programs CPython refuses (ruff 0.17.6 passes a
    `try` with `else` and `finally` but no `except`); LintSeq's invariant is that every state is a program.

    >>> with_compile_errors(["try:\\n    x = 1\\nelse:\\n    y = 2\\nfinally:\\n    z = 3\\n"], [[]])
    [[Diagnostic(line=3, code='invalid-syntax', message="expected 'except' or 'finally' block")]]
    """
    out = []
    with warnings.catch_warnings():  # once per batch: entering it costs more than compiling a small state
        warnings.simplefilter("ignore")
        for source, diags in zip(sources, verdicts, strict=True):
            error = None if diags else _compile_error(source, 0)
            out.append([error] if error else diags)
    return out


_ONLY_AST = 0x400  # ast.PyCF_ONLY_AST: parse only, the way linters see a file
