"""LintSeq's core on real programs (HumanEval solutions, standard library functions), checked against ruff."""

from __future__ import annotations

import ast
import functools
import json
import subprocess
import tempfile
from pathlib import Path

import pytest
import ruff
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillseq.linters.base import Diagnostic
from skillseq.linters.ruff_linter import RuffLinter
from skillseq.rng import rng
from skillseq.transforms.lintseq.core import (
    DIFF_TOKEN,
    Job,
    apply_diffs,
    candidate_lines,
    child_ends,
    edit_diffs,
    edit_states,
    forward_states,
    line_indents,
    prepare,
    sample_edit_paths,
    string_units,
    training_text,
)
from skillseq.transforms.seeds import humaneval_seeds, stdlib_functions

# The test's own view of "lint-clean": ruff run here on its own, plus CPython's parser.
RULES = "F821,F822,F823,F701,F702,F704,F706,F707,PLE0117,PLE0118"


def ruff_dirty(sources: list[str]) -> set[int]:
    """Indexes of the sources that an independent `ruff check` finds errors in, or CPython cannot compile."""
    dirty = set()
    with tempfile.TemporaryDirectory() as tmp:
        for i, src in enumerate(sources):
            Path(tmp, f"{i}.py").write_text(src, encoding="utf-8", newline="")
            try:
                compile(src, f"<{i}>", "exec")
            except SyntaxError:
                dirty.add(i)
        out = subprocess.run(
            [ruff.find_ruff_bin(), "check", "--isolated", "--no-cache", "--output-format=json", "--exit-zero"]
            + ["--target-version=py311", f"--select={RULES}", tmp],
            capture_output=True,
            check=True,
        ).stdout
    dirty.update(int(Path(row["filename"]).stem) for row in json.loads(out))
    return dirty


@functools.cache
def humaneval() -> list[str]:
    return [seed.program for seed in humaneval_seeds()]


@functools.cache
def stdlib_programs(n: int = 60) -> list[str]:
    """Top-level functions of the top-level standard-library modules, 4 to 60 lines, that lint clean on their own."""
    found = [fn.code for fn in stdlib_functions(packages=False) if 4 <= fn.node.end_lineno - fn.node.lineno < 60]
    dirty = ruff_dirty(found)
    return [f for i, f in enumerate(found) if i not in dirty][:n]


def programs():
    return st.sampled_from(humaneval() + stdlib_programs())


def sample(codes: list[str], seed: int, samples: int = 1) -> list[list[list[int]]]:
    jobs = [Job(prepare(c), rng(seed, "lintseq", k, s)) for k, c in enumerate(codes) for s in range(samples)]
    return sample_edit_paths(jobs, RuffLinter())


def bare_edits(diffs: list[str]) -> list[str]:
    """The diffs that insert only blank lines or only comment lines."""
    added = [[row[1:].strip() for row in d.split("\n") if row.startswith("+")] for d in diffs]
    return [d for d, rows in zip(diffs, added, strict=True) if all(not r or r.startswith("#") for r in rows)]


FAST = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.lists(programs(), min_size=1, max_size=4), st.integers(0, 2**31))
def test_diffs_rebuild_the_program_and_every_state_is_clean(codes, seed):
    paths = sample(codes, seed)
    all_states = []
    for code, path in zip(codes, paths, strict=True):
        states = edit_states(code, path)
        assert states[0] == "" and states[-1] == code
        diffs = edit_diffs(code, path)
        assert all(diffs) and apply_diffs("", diffs) == code  # byte for byte
        for before, diff, after in zip(states, diffs, states[1:], strict=False):
            assert apply_diffs(before, [diff]) == after
            assert all(row.startswith(("@@", "+")) for row in diff.split("\n"))  # insertions only
        assert bare_edits(diffs) == []
        all_states += states
    assert ruff_dirty(all_states) == set()


@FAST
@given(programs(), st.integers(0, 2**31))
def test_same_seed_same_sequences_and_samples_differ(code, seed):
    first = sample([code], seed, samples=5)
    assert sample([code], seed, samples=5) == first
    if len(candidate_lines(code.split("\n"))) > 5:
        assert len({json.dumps(p) for p in first}) > 1


def test_sample_indexes_give_different_sequences_across_humaneval():
    codes = [c for c in humaneval() if len(candidate_lines(c.split("\n"))) > 8]
    paths = sample(codes, 0, samples=2)
    differ = sum(paths[2 * i] != paths[2 * i + 1] for i in range(len(codes)))
    assert differ >= 0.9 * len(codes)


def test_no_edit_inserts_only_blank_lines_or_comments():
    codes = [*humaneval()[:40], "# header\n\n\nimport os\n\n\ndef f():\n    # why\n    return os.sep\n\n# tail\n"]
    paths = sample(codes, 0, samples=3)
    for k, code in enumerate(codes):
        for path in paths[3 * k : 3 * k + 3]:
            diffs = edit_diffs(code, path)
            assert bare_edits(diffs) == [] and apply_diffs("", diffs) == code


def test_lockstep_gives_what_one_program_at_a_time_gives():
    codes = humaneval()[:12]
    together = sample(codes, 7)
    # The rng keys are (program index, sample index), the same alone and together.
    alone = [
        sample_edit_paths([Job(prepare(c), rng(7, "lintseq", k, 0))], RuffLinter())[0] for k, c in enumerate(codes)
    ]
    assert together == alone


def test_one_lint_call_per_round_for_the_whole_batch():
    calls = []

    class Recording(RuffLinter):
        def lint_many(self, sources):
            calls.append(len(sources))
            return super().lint_many(sources)

    codes = humaneval()[:20]
    jobs = [Job(prepare(c), rng(0, "lintseq", k, s)) for k, c in enumerate(codes) for s in range(3)]
    paths = sample_edit_paths(jobs, Recording())
    assert calls[0] == 60  # every sample's first state in the first call
    longest = max(len(p) for p in paths)
    assert len(calls) < 3 * longest  # rounds, not states


def test_comments_and_upper_case_constants_are_never_picked():
    code = "# header\nNAMES = [\n    'a',\n    'b',\n]\n\n\ndef f():\n    # why\n    return NAMES\n"
    assert candidate_lines(code.split("\n")) == [1, 7, 9]
    for path in sample([code], 3, samples=5):
        first_edits = [set(e) for e in path[:-1]]
        # Each picked edit holds a candidate; the comment lines leave only with the last edit to "".
        assert all(e & {1, 7, 9} for e in first_edits)
        assert 0 in path[-1]  # the top comment is never picked: it stays until the step to ""


def test_deeper_lines_are_picked_more_often():
    code = "def f(x):\n    if x:\n        y = 1\n        z = 2\n        return y + z\n    return 0\n"
    prep = prepare(code)
    assert prep.weights[:6] == [1.0, 1.0, 2.0, 2.0, 2.0, 1.0]


def test_preexisting_errors_are_ignored_consistently():
    code = "def f(x):\n    a = x + 1\n    b = a * 2\n    return missing(b)\n"
    linter = RuffLinter()
    pre = linter.lint(code)
    assert [(d.line, d.code) for d in pre] == [(4, "F821")]
    for seed in range(5):
        [path] = sample_edit_paths([Job(prepare(code, pre), rng(seed, "t", 0))], linter)
        for state in edit_states(code, path):
            found = linter.lint(state)
            # The only error ever left standing is the program's own `missing`.
            assert all(d.code == "F821" and "missing" in d.message for d in found)
    # A new error of the same code on another line is not ignored.
    assert prepare(code, pre).ignored == {("F821", 3, "Undefined name `missing`")}


def test_training_text_matches_the_reference_format():
    code = humaneval()[0]
    diffs = edit_diffs(code, sample([code], 0)[0])
    text = training_text("Write it.", diffs)
    assert text.startswith("Write it.\n" + DIFF_TOKEN)
    assert text.endswith(f"\n{DIFF_TOKEN}\n{DIFF_TOKEN}")
    assert text.split(f"\n{DIFF_TOKEN}")[1:-2] == diffs


@pytest.mark.parametrize(
    "code",
    ["x = 1", "x = 1\n\n\n", "\n\nx = 1\n", "x = 1\r\ny = x\r\n", "# c\nx = 1\n# d", "s = 'é'\nt = s\n"],
)
def test_round_trip_edge_cases(code):
    for path in sample([code], 1, samples=3):
        states = edit_states(code, path)
        assert apply_diffs("", edit_diffs(code, path)) == code
    assert ruff_dirty(states) == set()


def test_a_linter_pointing_past_the_end_still_terminates():
    class PastTheEnd:
        def lint_many(self, sources):
            return [[Diagnostic(10_000, "X")] if "y" in s else [] for s in sources]

    code = "x = 1\ny = x\nz = 2\n"
    [path] = sample_edit_paths([Job(prepare(code), rng(0, "t", 0))], PastTheEnd())
    assert apply_diffs("", edit_diffs(code, path)) == code


# ---- a multi-line string (a docstring) stays a string: its first line takes all of it, its closing line is never picked


def string_rows(code: str) -> list[set[int]]:
    """The 0-based line indexes of each multi-line string constant, found by `ast` (not by tokenize)."""
    return [
        set(range(node.lineno - 1, node.end_lineno))
        for node in ast.walk(ast.parse(code))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.end_lineno > node.lineno
    ]


def broken_strings(code: str, paths: list[list[list[int]]]) -> list[tuple[int, list[int]]]:
    """(string's first line, state) for every state that holds a line of a multi-line string without its first
    or its last line: the lines of a string standing as code."""
    bad = []
    for path in paths:
        for kept in forward_states(code, path):
            for rows in string_rows(code):
                held = rows & set(kept)
                if held and not {min(rows), max(rows)} <= held:
                    bad.append((min(rows), kept))
    return bad


def partial_strings(code: str, paths: list[list[list[int]]]) -> int:
    """How many states hold a multi-line string with some of its lines only (it arrives over several edits)."""
    return sum(
        0 < len(rows & set(kept)) < len(rows)
        for path in paths
        for kept in forward_states(code, path)
        for rows in string_rows(code)
    )


def test_a_docstring_is_always_a_string_in_humaneval_0():
    code = humaneval()[0]
    [doc] = string_rows(code)
    lines = code.split("\n")
    assert len(doc) == 7 and "    True" in lines  # the doctest output lines that used to stray
    paths = sample([code], 0, samples=40)
    assert broken_strings(code, paths) == []
    states = [state for path in paths for state in edit_states(code, path)]
    for state in states:
        rows = state.split("\n")
        # The doctest's lone `True` / `False` never stand as statements: only between the docstring's quotes.
        if "    True" in rows or "    False" in rows:
            assert lines[min(doc)] in rows and lines[max(doc)] in rows
    assert partial_strings(code, paths) > 0  # its lines still arrive one edit at a time, as in the reference
    assert ruff_dirty(states) == set()


def test_docstrings_are_always_strings_across_humaneval():
    codes = humaneval()[:40]
    paths = sample(codes, 1, samples=2)
    for k, code in enumerate(codes):
        assert broken_strings(code, paths[2 * k : 2 * k + 2]) == []


def test_a_function_that_is_only_a_docstring_keeps_a_whole_string_in_every_state():
    code = 'def f():\n    """Say nothing.\n\n    True\n    """\n'
    assert candidate_lines(code.split("\n")) == [0, 1, 3]  # not the closing quotes
    for path in sample([code], 2, samples=5):
        for state in edit_states(code, path)[1:]:
            assert '    """Say nothing.' in state and state.rstrip().endswith('"""')


def test_a_multi_line_string_assigned_to_a_variable_stays_a_string():
    # The string's own indentation (2, then 0) is its text, not code: it must not cut the function short.
    code = 'def usage():\n    text = """usage: tool [-h]\n\n  -h  help\n"""\n    return text\n'
    prep = prepare(code)
    assert prep.candidates == [0, 1, 3, 5]
    assert prep.child_end[1] == 5 and prep.child_end[3] == 4 and prep.child_end[0] == 7  # line 1 takes 2..4
    paths = sample([code], 3, samples=10)
    assert broken_strings(code, paths) == []
    assert ruff_dirty([s for p in paths for s in edit_states(code, p)]) == set()


def test_a_closing_bracket_after_a_string_goes_with_the_call_not_the_string():
    code = 'def f():\n    return g(\n        """a\nb"""\n    )\n'
    lines = code.split("\n")
    assert string_units(lines) == [0, 1, 2, 2, 4, 5]
    assert line_indents(lines, string_units(lines)) == [0, 4, 8, 8, 8, 8]
    # Deleting the string (lines 2-3) leaves `return g(` with its `)`; line 1 takes the rest (the blank end too).
    assert prepare(code).child_end[1:3] == [6, 4]


def test_a_diagnostic_on_a_docstring_line_deletes_the_whole_docstring():
    code = 'def f(x):\n    """Double.\n    True\n    """\n    y = x * 2\n    return y\n'

    class PointsAtTrue:  # a linter that objects to the docstring's `True` line, wherever it stands
        def lint_many(self, sources):
            return [
                [Diagnostic(k + 1, "X") for k, row in enumerate(s.split("\n")) if row == "    True"] for s in sources
            ]

    jobs = [Job(prepare(code), rng(s, "t", 0)) for s in range(8)]
    whole = 0
    for path in sample_edit_paths(jobs, PointsAtTrue()):
        states = edit_states(code, path)
        assert all("    True" not in state.split("\n") for state in states[:-1])
        assert broken_strings(code, [path]) == []
        whole += all('"""' not in state for state in states[:-1])  # the diagnostic took the docstring at once
        assert apply_diffs("", edit_diffs(code, path)) == code
    assert whole > 0


def test_code_that_does_not_tokenize_has_no_string_units():
    # The dedent on the last line does not match: tokenize stops, so the docstring is not a unit.
    code = 'def f():\n    """Doc.\n    True\n    """\n        x = 1\n  y = 2\n'
    lines = code.split("\n")
    assert string_units(lines) == list(range(len(lines)))
    prep = prepare(code)
    assert prep.candidates == [0, 1, 2, 3, 4, 5]  # as before units existed
    assert prep.child_end == child_ends(line_indents(lines))
    for path in sample([code], 0, samples=3):
        assert apply_diffs("", edit_diffs(code, path)) == code
