"""pylint as LintSeq's linter, the reference's way: in process, one temporary file per check.

Message selection as in the reference (upiterbarg/lintseq, `src/utils.py`): conventions and refactors
disabled (`--disable=C,R`), warnings ignored except bad indentation (W0311) and super-init-not-called
(W0231), every other message (errors, fatals, and the rare enabled informational one) counts. A syntax
error (E0001) "... on line N" points at line N, the header of the body-less block.

This is the slow baseline of the benchmark and the proof that the interface is real; it is not
batched, since pylint's cost is per file, not per process.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections.abc import Sequence

from skillseq.linters.base import Diagnostic, Linter

# Codes are prefixes: "E" counts every error message, "W0311" just that warning.
DEFAULT_ERROR_CODES = ("E", "F", "I", "W0311", "W0231")

_ARGS = (
    "--disable=C,R",
    "--reports=n",
    "--score=n",
    "--unsafe-load-any-extension=y",
    "--generated-members=cv2.*",
    "--msg-template={C}|{msg_id}|{line}|{column}|{msg}",
)
_ON_LINE = re.compile(r"\bon line (\d+)")


class PylintLinter(Linter):
    name = "pylint"

    def __init__(self, error_codes: Sequence[str] | None = None):
        try:
            from pylint.lint import Run  # noqa: F401
        except ImportError:
            raise ImportError(
                "the pylint linter needs pylint (a dependency of skillseq): pip install 'pylint>=3'"
            ) from None
        self.error_codes = tuple(error_codes) if error_codes else DEFAULT_ERROR_CODES

    def lint_many(self, sources: Sequence[str]) -> list[list[Diagnostic]]:
        return [self._lint_one(s) for s in sources]

    def _lint_one(self, source: str) -> list[Diagnostic]:
        from pylint.lint import Run
        from pylint.reporters.text import TextReporter

        out = io.StringIO()
        fd, path = tempfile.mkstemp(suffix=".py")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", errors="surrogatepass", newline="") as f:
                f.write(source)
            Run([*_ARGS, path], reporter=TextReporter(out), exit=False)
        finally:
            os.unlink(path)
        return [d for line in out.getvalue().splitlines() if (d := self._parse(line)) is not None]

    def _parse(self, line: str) -> Diagnostic | None:
        parts = line.split("|", 4)
        if len(parts) != 5 or not parts[2].isdigit():
            return None
        _category, msg_id, row, _column, msg = parts
        if not msg_id.startswith(self.error_codes):
            return None
        if msg_id == "E0001" and (match := _ON_LINE.search(msg)):
            row = match.group(1)
        return Diagnostic(int(row), msg_id, msg)
