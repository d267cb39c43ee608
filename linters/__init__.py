"""Linters behind one interface (`Linter.lint_many`): ruff, batched (the default), and pylint (the paper's)."""

from __future__ import annotations

from skillseq.linters.base import Diagnostic, Linter, LinterError


def make_linter(name: str, error_codes: list[str] | None = None) -> Linter:
    """`make_linter("ruff")` -> a RuffLinter with its default error set; "pylint" -> the reference's selection."""
    if name == "ruff":
        from skillseq.linters.ruff_linter import RuffLinter

        return RuffLinter(error_codes)
    if name == "pylint":
        from skillseq.linters.pylint_linter import PylintLinter

        return PylintLinter(error_codes)
    raise ValueError(f"unknown linter {name!r}: use 'ruff' or 'pylint'")


__all__ = ["Diagnostic", "Linter", "LinterError", "make_linter"]
