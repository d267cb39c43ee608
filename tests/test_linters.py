"""The linter adapters: ruff (batched and one process per source) and pylint, on real sources."""

from __future__ import annotations

import pytest

from skillseq.linters import Diagnostic, make_linter
from skillseq.linters.base import python_syntax_error
from skillseq.linters.ruff_linter import DEFAULT_ERROR_CODES, RuffLinter
from skillseq.transforms.seeds import humaneval_seeds

SOURCES = {
    "clean": "import os\n\ndef f(x):\n    return x\n",
    "undefined": "def f(x):\n    return y\n",
    "unused_import": "import os\n",
    "unused_variable": "def f():\n    x = 1\n",
    "bodyless_def": "def f():\nx = 1\n",
    "bodyless_if": "def f(x):\n    if x:\n    return 2\n",
    "return_outside": "x = 1\nreturn x\n",
    "unterminated_doc": 'def f():\n    """Doc.\n    return 1\n',
}


@pytest.fixture(scope="module")
def ruff_linter():
    return RuffLinter()


def by_name(linter) -> dict[str, list[Diagnostic]]:
    return dict(zip(SOURCES, linter.lint_many(list(SOURCES.values())), strict=True))


def test_ruff_points_at_the_lines_to_delete(ruff_linter):
    found = {k: [(d.line, d.code) for d in v] for k, v in by_name(ruff_linter).items()}
    assert found["clean"] == []
    assert found["undefined"] == [(2, "F821")]
    assert found["return_outside"] == [(2, "F706")]
    # A body-less block points at its header (as CPython, and the reference's pylint, do), not the next line.
    assert found["bodyless_def"] == [(1, "invalid-syntax")]
    assert found["bodyless_if"] == [(2, "invalid-syntax")]
    assert found["unterminated_doc"] == [(2, "invalid-syntax")]


def test_ruff_default_set_ignores_style(ruff_linter):
    found = by_name(ruff_linter)
    assert found["unused_import"] == [] and found["unused_variable"] == []
    assert "F401" not in DEFAULT_ERROR_CODES and "F841" not in DEFAULT_ERROR_CODES


def test_ruff_error_codes_are_configurable():
    linter = make_linter("ruff", ["F401"])
    assert linter.error_codes == ("F401",)
    assert [d.code for d in linter.lint(SOURCES["unused_import"])] == ["F401"]
    assert linter.lint(SOURCES["undefined"]) == []


def test_ruff_rejects_a_set_without_rules():
    with pytest.raises(ValueError, match="F821"):
        RuffLinter(["invalid-syntax"])


def test_batched_equals_one_process_per_source(ruff_linter):
    sources = [seed.program for seed in humaneval_seeds(40)]
    # Break some: drop a line from each, so the batch holds dirty and clean sources.
    broken = ["\n".join(s.split("\n")[:k] + s.split("\n")[k + 1 :]) for k, s in enumerate(sources)]
    batch = sources + broken
    slow = RuffLinter(one_process_per_source=True)
    assert ruff_linter.lint_many(batch) == slow.lint_many(batch)
    assert any(ruff_linter.lint_many(broken))
    # Fewer sources than the call before: the stale files of the bigger call must not be linted.
    assert ruff_linter.lint_many(["x = 1\n"]) == [[]]


def test_ruff_counts_its_processes():
    linter = RuffLinter()
    linter.lint_many(list(SOURCES.values()))
    assert linter.processes == 1 and linter.ruff_seconds > 0


def test_python_syntax_error_names_the_header():
    assert python_syntax_error("x = 1\n") is None
    assert python_syntax_error("for i in x:\n# c\ny = 1\n").line == 1
    assert python_syntax_error("x = (1,\n").line == 1


def test_pylint_reproduces_the_reference_selection():
    found = {k: [(d.line, d.code) for d in v] for k, v in by_name(make_linter("pylint")).items()}
    assert found["clean"] == []  # W0611 unused-import and C/R messages do not count
    assert found["unused_import"] == [] and found["unused_variable"] == []
    assert found["undefined"] == [(2, "E0602")]
    assert found["bodyless_def"] == [(1, "E0001")]
    assert found["bodyless_if"] == [(2, "E0001")]
    bad_indent = make_linter("pylint").lint("def f():\n   return 1\n")
    assert [d.code for d in bad_indent] == ["W0311"]


def test_unknown_linter():
    with pytest.raises(ValueError, match="ruff"):
        make_linter("flake9")
