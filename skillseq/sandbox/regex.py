"""Regex full-match labels computed in the sandbox: Python's `re` has no timeout, the sandbox gives one.

    >>> fullmatch_matrix([r"a+", r"b"], ["aa", "b"]).tolist()
    [[True, False], [False, True]]

Rows are strings, columns patterns. A pattern that does not compile, raises, or runs past the per-call time
limit (1 s by default, as in the paper's reference) labels the string "no"; after its first timeout a
pattern's remaining strings are skipped (also "no") so one catastrophic pattern costs one timeout.
"""

from __future__ import annotations

import numpy as np

from skillseq.sandbox.runner import BatchResult, Call, run_batch


def regex_program(pattern: str) -> str:
    return f"import re\n_P = re.compile({pattern!r})\n\ndef match(s):\n    return _P.fullmatch(s) is not None\n"


def fullmatch_batch(patterns: list[str], strings: list[str], limits=None) -> tuple[np.ndarray, BatchResult]:
    """(labels[string, pattern], the raw batch result)."""
    calls = [Call(p, "match", repr((s,))) for p in range(len(patterns)) for s in strings]
    result = run_batch([regex_program(p) for p in patterns], calls, limits)
    labels = np.array([o.ok and o.value == "True" for o in result.outcomes], dtype=bool)
    return labels.reshape(len(patterns), len(strings)).T, result


def fullmatch_matrix(patterns: list[str], strings: list[str], limits=None) -> np.ndarray:
    return fullmatch_batch(patterns, strings, limits)[0]
