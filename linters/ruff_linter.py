"""ruff as LintSeq's linter: many sources, one ruff process.

Each call writes every source to its own file in a scratch folder (on /dev/shm when there is one: a
file there costs ~16 us to write, against ~200 us on disk) and runs `ruff check` once over the folder.
A ruff process costs ~6 ms to start and ~15 us per small file, so one call per round of LintSeq, with
all samples of all programs of a bundle in it, leaves ruff doing most of the work.

Syntax errors: ruff's parser recovers and reports every error it meets, at places CPython would not
name (a body-less `if` is reported on the next statement; an unterminated docstring on each line of
its text). The reference method lints with pylint, whose syntax error is CPython's: one error, on the
line CPython names, or on the header of a body-less block. So when ruff says a source does not parse,
CPython locates the error and that one diagnostic is all the source gets, as with pylint. CPython
runs only on those sources, and ruff's verdict stays the judge when CPython accepts the source.

Shortcut: files are named by slot (0.py, 1.py, ...) and overwritten call after call; the folder is
private to this linter object, which one thread uses at a time (one per DoFn instance).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Sequence

from skillseq.linters.base import Diagnostic, Linter, LinterError, python_syntax_error

SYNTAX = "invalid-syntax"  # ruff's code for parse errors; always reported, cannot be deselected

# The default error set: what deleting lines from a clean program can break, nothing about style.
DEFAULT_ERROR_CODES = (
    SYNTAX,  # a block left without a body, a dangling `else:`, an unterminated string
    "F821",  # undefined name: a use whose definition (assignment, def, import, parameter) was deleted
    "F822",  # undefined name in `__all__`: an exported definition was deleted
    "F823",  # local referenced before assignment: the local's earlier binding was deleted
    "F701",  # `break` outside loop (a loop's header takes its body along, so rare; cheap to keep)
    "F702",  # `continue` outside loop
    "F704",  # `yield`/`await` outside function
    "F706",  # `return` outside function
    "F707",  # bare `except:` not last: an `except` clause after it was deleted
    "PLE0117",  # `nonlocal` without a binding: the enclosing function's binding was deleted
    "PLE0118",  # name used before its `global` declaration
)
# Not in the set, on purpose: F401/F841 (unused import/variable). Deleting the last use of a name must not
# make its definition an error, or every sample would collapse to deleting definitions with their uses;
# the reference's pylint selection ignores those warnings too.


def _default_target() -> str:
    # The syntax ruff accepts must be the syntax of the Python that runs the programs (and our CPython check).
    return f"py3{min(sys.version_info.minor, 14)}"


def _scratch_root() -> str | None:
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


class RuffLinter(Linter):
    """`RuffLinter().lint_many(["x = y\\n", "x = 1\\n"])` -> `[[Diagnostic(1, "F821", ...)], []]`.

    `one_process_per_source=True` runs one `ruff check -` per source instead: the slow way, kept for the
    benchmark's baseline (b).
    """

    name = "ruff"

    def __init__(
        self,
        error_codes: Sequence[str] | None = None,
        *,
        one_process_per_source: bool = False,
        target_version: str | None = None,
    ):
        import ruff

        self.error_codes = tuple(error_codes) if error_codes else DEFAULT_ERROR_CODES
        rules = [c for c in self.error_codes if c != SYNTAX]
        if not rules:
            raise ValueError("error_codes needs at least one ruff rule code besides invalid-syntax, e.g. F821")
        self.one_process_per_source = one_process_per_source
        self._bin = ruff.find_ruff_bin()
        self._args = [
            "check",
            "--output-format=json",
            "--no-cache",
            "--isolated",
            "--exit-zero",
            f"--target-version={target_version or _default_target()}",
            f"--select={','.join(rules)}",
        ]
        self._dir = tempfile.mkdtemp(prefix="skillseq-ruff-", dir=_scratch_root())
        self._slots = 0  # files 0.py .. (slots-1).py exist in the folder
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._dir, True)
        self.processes, self.ruff_seconds = 0, 0.0  # for the benchmark: how much of the time ruff takes

    def lint_many(self, sources: Sequence[str]) -> list[list[Diagnostic]]:
        if not sources:
            return []
        if self.one_process_per_source:
            found = [self._run_stdin(s) for s in sources]
        else:
            found = self._run_folder(sources)
        return [self._finish(src, diags) for src, diags in zip(sources, found, strict=True)]

    def _run_folder(self, sources: Sequence[str]) -> list[list[Diagnostic]]:
        for i, src in enumerate(sources):
            fd = os.open(f"{self._dir}/{i}.py", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, src.encode("utf-8", "surrogatepass"))
            finally:
                os.close(fd)
        for i in range(len(sources), self._slots):
            os.unlink(f"{self._dir}/{i}.py")
        self._slots = len(sources)
        rows = self._ruff([self._dir])
        found: list[list[Diagnostic]] = [[] for _ in sources]
        for row in rows:
            slot = int(os.path.basename(row["filename"])[:-3])
            found[slot].append(_diagnostic(row))
        return found

    def _run_stdin(self, source: str) -> list[Diagnostic]:
        return [_diagnostic(row) for row in self._ruff(["--stdin-filename=state.py", "-"], source)]

    def _ruff(self, paths: list[str], stdin: str | None = None) -> list[dict]:
        start = time.perf_counter()
        proc = subprocess.run(
            [self._bin, *self._args, *paths],
            input=None if stdin is None else stdin.encode("utf-8", "surrogatepass"),
            capture_output=True,
            check=False,
        )
        self.processes += 1
        self.ruff_seconds += time.perf_counter() - start
        if proc.returncode != 0:
            raise LinterError(f"ruff exited with {proc.returncode}: {proc.stderr.decode(errors='replace')[:2000]}")
        return json.loads(proc.stdout)

    @staticmethod
    def _finish(source: str, diags: list[Diagnostic]) -> list[Diagnostic]:
        if any(d.code == SYNTAX for d in diags):
            located = python_syntax_error(source)
            if located is not None:
                return [located]
        return diags


def _diagnostic(row: dict) -> Diagnostic:
    return Diagnostic(row["location"]["row"], row["code"] or SYNTAX, row["message"])
