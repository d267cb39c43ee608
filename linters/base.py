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


def python_syntax_error(source: str) -> Diagnostic | None:
    """CPython's own verdict on a source: None if it parses, else where the error is.

    The line is the one CPython names, except that "expected an indented block after 'if' statement on
    line 3" points at line 3, the header whose body is missing (the reference does the same with pylint).

    >>> python_syntax_error("def f():\\nx = 1\\n")
    Diagnostic(line=1, code='invalid-syntax', message='expected an indented block after function definition on line 1')
    >>> python_syntax_error("x = 1\\n") is None
    True
    """
    try:
        compile(source, "<lintseq>", "exec", flags=_ONLY_AST, dont_inherit=True)
    except SyntaxError as e:
        msg = str(e.msg)
        match = _ON_LINE.search(msg)
        line = int(match.group(1)) if match else (e.lineno or 1)
        return Diagnostic(line, "invalid-syntax", msg)
    except ValueError as e:  # null bytes, on older Pythons
        return Diagnostic(1, "invalid-syntax", str(e))
    return None


_ONLY_AST = 0x400  # ast.PyCF_ONLY_AST: parse only, the way linters see a file
