r"""LintSeq's core, without Beam: sample edit sequences backwards, many at once, then turn them into diffs.

One sample (Piterbarg, Pinto & Fergus 2024; reference code upiterbarg/lintseq) deletes a program line
by line: pick a line (weighted by indentation depth; comments, blank lines, the continuation lines
of multi-line upper-case constants and the closing line of a multi-line string, such as a docstring,
are never picked), delete it with the lines indented under it and, for the first line of a multi-line
string, the rest of the string (a line inside it goes alone: the string shrinks but stays a string),
lint, delete every line the linter points at (with the lines under those; a line of a multi-line string
takes the whole string), lint again until clean
(clean: the linter finds no error and CPython compiles the state);
that is one edit. Repeat until no candidate line is left, then the empty program. Reversed, the
states grow from "" to the program and every state is lint-clean.

The speed trick: `sample_edit_paths` advances every sample of every program it is given in lockstep,
so each round sends all the states that need a check to the linter in ONE call.

    >>> from skillseq.linters.ruff_linter import RuffLinter
    >>> from skillseq.rng import rng
    >>> code = "import math\n\ndef area(r):\n    return math.pi * r * r\n"
    >>> [path] = sample_edit_paths([Job(prepare(code), rng(0, "doc", 0))], RuffLinter())
    >>> states = edit_states(code, path)
    >>> states[0], states[-1] == code, all(RuffLinter().lint_many(states)) is False
    ('', True, True)
    >>> apply_diffs("", edit_diffs(code, path)) == code
    True

Where we differ from the reference, and why:
- Diffs are taken between the exact states (the reference strips each state first), so applying
  them to "" gives the program back byte for byte; and they are written from the known inserted
  lines rather than by difflib's matcher, which can turn an insertion into a replacement when lines
  repeat. The format is the reference's (`difflib.unified_diff`, n=0, the two header lines dropped).
- A multi-line string stays a string in every state: the reference may delete a docstring's opening quotes
  alone, and what is left of it can stand as code (a doctest's `True` as a statement).
- No edit inserts only blank lines or only comments (the reference never samples those lines, but its
  last edit, from "" to what is left, often holds nothing else): such an edit joins its neighbour.
- A program whose states never get clean (impossible with a sane linter) is not cut at 512 rounds:
  every failing round deletes at least one line, so a sample ends within as many rounds as lines.
"""

from __future__ import annotations

import bisect
import difflib
import io
import itertools
import re
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from skillseq.linters.base import Diagnostic, Linter, with_compile_errors

DIFF_TOKEN = "<|diff|>"


@dataclass(frozen=True)
class Prepared:
    """What every sample of one program shares: its lines and their candidate weights and children."""

    lines: list[str]
    candidates: list[int]
    weights: list[float]  # per line; 0 for lines never picked
    child_end: list[int]  # lines i+1 .. child_end[i]-1 are indented under line i (or in the string it starts)
    unit_start: list[int]  # per line, the first line of the multi-line string it is in (else itself)
    ignored: frozenset = frozenset()  # (code, original line, message) of pre-existing errors to ignore


def prepare(code: str, preexisting: Sequence[Diagnostic] = ()) -> Prepared:
    r"""Lines, candidates, weights and children of a program. The lines after the first of a multi-line
    string are children of its first line, whatever their indentation, so the string goes with its first line;
    a line inside it has no children and goes alone.

    >>> p = prepare("def f():\n    # note\n    return 1\n")
    >>> p.candidates, p.weights, p.child_end
    ([0, 2], [1.0, 0.0, 1.0, 0.0], [4, 2, 3, 4])
    >>> p = prepare("def f():\n    '''Doc.\n\nTrue\n    '''\n    return 1\n")
    >>> p.candidates, p.child_end[1], p.unit_start
    ([0, 1, 3, 5], 5, [0, 1, 1, 1, 1, 5, 6])
    """
    lines = code.split("\n")
    units = string_units(lines)
    indents = line_indents(lines, units)
    candidates = candidate_lines(lines, units)
    tab = next((i for i in indents if i > 0), None)
    weights = [0.0] * len(lines)
    for i in candidates:
        weights[i] = 1.0 if indents[i] == 0 or tab is None else indents[i] / tab
    # A string's later lines count as indented deeper than anything, so they are children of its first line.
    nested = [float("inf") if units[i] != i else indent for i, indent in enumerate(indents)]
    ignored = frozenset((d.code, d.line - 1, d.message) for d in preexisting)
    return Prepared(lines, candidates, weights, child_ends(nested), units, ignored)


def line_indents(lines: list[str], units: list[int] | None = None) -> list[int]:
    """Indent of each line, in characters. As in the reference, a line of fewer than two visible
    characters (blank, or a lone `)`) takes the indent of the line before it, so a closing bracket
    goes with the lines it closes. So does a line after the first of a multi-line string (`units`, see
    `string_units`): its indentation is the string's text, not the code's.

    >>> line_indents(["x = f(", "    1,", ")", "", "y = 2"])
    [0, 4, 4, 4, 0]
    >>> line_indents(["x = f(", "    '''a", "b'''", ")"], [0, 1, 1, 3])
    [0, 4, 4, 4]
    """
    out, indent = [], 0
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if len(stripped) > 1 and (units is None or units[i] == i):
            indent = len(line) - len(stripped)
        out.append(indent)
    return out


def child_ends(indents: list[int]) -> list[int]:
    """For each line, the end of the run of following lines indented deeper than it.

    >>> child_ends([0, 4, 8, 4, 0])
    [4, 3, 3, 4, 5]
    """
    ends, stack = [len(indents)] * len(indents), []
    for j, indent in enumerate(indents):
        while stack and indents[stack[-1]] >= indent:
            ends[stack.pop()] = j
        stack.append(j)
    return ends


def string_units(lines: list[str]) -> list[int]:
    r"""For each line, the line that the multi-line string it continues starts on; itself for a line that
    continues none. A string starting on a line another string ends on joins that string's unit. Code
    that does not tokenize has no units (every line its own).

    >>> string_units(["x = '''a", "b''' + '''c", "d'''", "y = 1"])
    [0, 0, 0, 3]
    >>> string_units(["x = '''a", "b"])
    [0, 1]
    """
    units = list(range(len(lines)))
    opens = {getattr(tokenize, n, None) for n in ("FSTRING_START", "TSTRING_START")} - {None}  # Python 3.12+
    closes = {getattr(tokenize, n, None) for n in ("FSTRING_END", "TSTRING_END")} - {None}
    open_rows: list[int] = []  # first rows of the f-strings still open, outermost first
    try:
        for tok in tokenize.generate_tokens(io.StringIO("\n".join(lines)).readline):
            if tok.type in opens:
                open_rows.append(tok.start[0])
            elif tok.type in closes:
                begin = open_rows.pop()
                if not open_rows:  # the outermost f-string is the unit
                    _join(units, begin, tok.end[0])
            elif tok.type == tokenize.STRING:
                _join(units, tok.start[0], tok.end[0])
    except (tokenize.TokenError, SyntaxError):
        return list(range(len(lines)))
    return units


def _join(units: list[int], first: int, last: int) -> None:
    """Put lines first+1 .. last (tokenize's 1-based rows) in the unit of line first."""
    for i in range(first, min(last, len(units))):
        units[i] = units[first - 1]


def candidate_lines(lines: list[str], units: list[int] | None = None) -> list[int]:
    """Lines a sample may pick: not blank, not a comment, not inside a multi-line UPPER_CASE constant, not
    the closing line of a multi-line string (`units`, from `string_units` when not given): deleting a line
    inside a string leaves a shorter string, deleting its closing line would leave none.

    >>> candidate_lines(["# hi", "NAMES = [", '    "a",', "]", "", "x = 1"])
    [1, 5]
    >>> candidate_lines(["def f():", "    '''Doc.", "    True", "    '''", "    return 1"])
    [0, 1, 2, 4]
    """
    units = string_units(lines) if units is None else units
    out, open_def = [], None
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped[0] == "#":
            continue
        if open_def:
            if stripped[-1] == open_def:
                open_def = None
            continue
        if units[i] != i and (i + 1 == len(lines) or units[i + 1] != units[i]):
            continue
        out.append(i)
        if "=" in line and line[: line.find("=")].replace(" ", "").isupper() and stripped[-1] in "([":
            open_def = ")" if stripped[-1] == "(" else "]"
    return out


@dataclass(frozen=True)
class Job:
    """One sample to draw: a prepared program and the generator its choices come from."""

    program: Prepared
    rng: np.random.Generator


@dataclass
class _Sampler:
    """The running state of one sample: which lines are alive, the current edit, the edits so far."""

    job: Job
    alive: bytearray
    kept: list[int] = field(default_factory=list)  # alive line indices, in order, as of the last text()
    edit: list[int] = field(default_factory=list)
    path: list[list[int]] = field(default_factory=list)

    def delete(self, lines: list[int], whole_strings: bool = False) -> None:
        # whole_strings: a line of a multi-line string takes the whole string (the linter's lines: the fault
        # may be the string's); a picked line inside a string goes alone, and the string stays one.
        ends, units = self.job.program.child_end, self.job.program.unit_start
        for i in lines:
            i = units[i] if whole_strings else i
            for j in range(i, ends[i]):
                if self.alive[j]:
                    self.alive[j] = 0
                    self.edit.append(j)

    def start_edit(self) -> bool:
        """Pick and delete the next line; False when no candidate is left (the sample is done)."""
        prog = self.job.program
        left = [i for i in prog.candidates if self.alive[i]]
        if not left:
            return False
        cum = list(itertools.accumulate(prog.weights[i] for i in left))
        pick = left[min(bisect.bisect_right(cum, self.job.rng.random() * cum[-1]), len(left) - 1)]
        self.delete([pick])
        return True

    def text(self) -> str:
        lines = self.job.program.lines
        self.kept = [i for i, a in enumerate(self.alive) if a]
        return "\n".join([lines[i] for i in self.kept])

    def absorb(self, diags: list[Diagnostic]) -> bool:
        """Take the linter's verdict on text(); True while the sample needs another check."""
        ignored = self.job.program.ignored
        pointed = []
        for d in diags:
            if not self.kept:
                break
            line = self.kept[min(max(d.line, 1), len(self.kept)) - 1]
            if (d.code, line, d.message) not in ignored:
                pointed.append(line)
        if pointed:
            self.delete(pointed, whole_strings=True)
            return True
        self.path.append(sorted(self.edit))
        self.edit = []
        return self.start_edit()


def sample_edit_paths(jobs: Sequence[Job], linter: Linter) -> list[list[list[int]]]:
    """Draw one edit path per job, all in lockstep: one `linter.lint_many` call per round, and CPython's
    `compile` on each state the linter passes (so every state is a program, whatever the linter's parser).

    An edit path is the list of edits in deletion order, each edit the sorted original line indices
    it deletes; lines never deleted (comments, blank lines) go in the last edit to the empty program.
    """
    samplers = [_Sampler(job, bytearray(b"\x01" * len(job.program.lines))) for job in jobs]
    active = [s for s in samplers if s.start_edit()]
    while active:
        texts = [s.text() for s in active]
        verdicts = with_compile_errors(texts, linter.lint_many(texts))
        active = [s for s, diags in zip(active, verdicts, strict=True) if s.absorb(diags)]
    for s in samplers:
        rest = [i for i, a in enumerate(s.alive) if a]
        if rest:
            s.path.append(rest)
    return [s.path for s in samplers]


def forward_states(code: str, path: list[list[int]]) -> list[list[int]]:
    """The states of a path as kept line indices, forwards: [] (the empty program) first, all lines last.

    A state whose text is "" (nothing left but one blank line) counts as [], and a step that leaves
    the text as it was is skipped, so consecutive states always differ. No edit inserts only blank or
    comment lines: such an edit teaches nothing, so it joins a neighbour (`_join_bare_edits`).

    >>> forward_states("a\\nb\\n", [[1], [0], [2]])
    [[], [0, 2], [0, 1, 2]]
    """
    lines, gone, states = code.split("\n"), set(), [list(range(len(code.split("\n"))))]
    for edit in path:
        gone.update(edit)
        kept = [i for i in range(len(lines)) if i not in gone]
        if len(kept) == 1 and lines[kept[0]] == "":
            kept = []
        if kept != states[-1] and _text(lines, kept) != _text(lines, states[-1]):
            states.append(kept)
    if states[-1]:
        states.append([])
    return _join_bare_edits(lines, states[::-1])


def _join_bare_edits(lines: list[str], states: list[list[int]]) -> list[list[int]]:
    """Drop each state reached by an edit that inserts only blank or comment lines: that edit joins the next
    one (the last edit joins the one before). Every state left was a state before, so it is still clean.

    >>> lines = ["# note", "", "x = 1", "", "y = x"]
    >>> _join_bare_edits(lines, [[], [0, 1, 3], [0, 1, 2, 3], [0, 1, 2, 3, 4]])
    [[], [0, 1, 2, 3], [0, 1, 2, 3, 4]]
    >>> _join_bare_edits(lines, [[], [2], [2, 4], [0, 1, 2, 3, 4]])
    [[], [2], [0, 1, 2, 3, 4]]
    """

    def bare(before: list[int], after: list[int]) -> bool:
        return all(_is_bare(lines[i]) for i in set(after) - set(before))

    out = [states[0]]
    for k, state in enumerate(states[1:], 1):
        if bare(out[-1], state):
            if k < len(states) - 1:
                continue
            if len(out) > 1:
                out.pop()
        out.append(state)
    return out


def _is_bare(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped[0] == "#"


def _text(lines: list[str], kept: list[int]) -> str:
    return "\n".join([lines[i] for i in kept])


def edit_states(code: str, path: list[list[int]]) -> list[str]:
    r"""The states of a path as text, forwards: "" first, the program last.

    >>> edit_states("a\nb", [[1], [0]])
    ['', 'a', 'a\nb']
    """
    lines = code.split("\n")
    return [_text(lines, kept) for kept in forward_states(code, path)]


def edit_diffs(code: str, path: list[list[int]]) -> list[str]:
    """The diffs between consecutive states, each an insertion (see `insertion_diff`)."""
    lines, states = code.split("\n"), forward_states(code, path)
    return [insertion_diff(lines, a, b) for a, b in zip(states, states[1:], strict=False)]


def insertion_diff(lines: list[str], before: list[int], after: list[int]) -> str:
    r"""The reference's diff format (`difflib.unified_diff`, zero context, file headers dropped), written
    from the line indices we know were inserted. difflib's own matcher is not a longest common
    subsequence: with repeated lines (blank lines, docstring quotes) it sometimes writes an insertion as a
    replacement, which a model trained on insertions should never see.

    >>> lines = ["a", "b", "c"]
    >>> insertion_diff(lines, [0, 2], [0, 1, 2]) == make_diff("a\nc", "a\nb\nc") == '@@ -1,0 +2 @@\n+b'
    True
    """
    old, out, pos = set(before), [], 0
    run: list[int] = []
    for new_pos, i in enumerate([*after, None]):
        if i is not None and i not in old:
            run.append(i)
            continue
        if run:
            start = new_pos - len(run)
            new_range = str(start + 1) if len(run) == 1 else f"{start + 1},{len(run)}"
            out.append(f"@@ -{pos},0 +{new_range} @@")
            out.extend("+" + lines[j] for j in run)
            run = []
        pos += 1
    return "\n".join(out)


def make_diff(before: str, after: str) -> str:
    r"""difflib's diff of two texts, in the same format (for comparison and for other callers).

    >>> make_diff("a\nc", "a\nb\nc")
    '@@ -1,0 +2 @@\n+b'
    """
    diff = difflib.unified_diff(_lines(before), _lines(after), n=0, lineterm="")
    return "\n".join(itertools.islice(diff, 2, None))


def _lines(text: str) -> list[str]:
    # The empty program has no lines (not one empty line), so that growing it is a pure insertion.
    return text.split("\n") if text else []


_HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$")


def apply_diff(text: str, diff: str) -> str:
    r"""Apply a diff made by `make_diff` (hunks in order, no context).

    >>> apply_diff("a\nc", "@@ -1,0 +2 @@\n+b")
    'a\nb\nc'
    """
    lines, rows, k = _lines(text), diff.split("\n"), 0
    while k < len(rows):
        match = _HUNK.match(rows[k])
        if not match:
            raise ValueError(f"not a hunk header: {rows[k]!r}")
        old_len, new_start, new_len = (int(g) if g else 1 for g in (match[1], match[2], match[3]))
        at = new_start if new_len == 0 else new_start - 1
        removed = [r[1:] for r in rows[k + 1 : k + 1 + old_len]]
        added = [r[1:] for r in rows[k + 1 + old_len : k + 1 + old_len + new_len]]
        if lines[at : at + old_len] != removed:
            raise ValueError(f"diff does not apply at line {at + 1}")
        lines[at : at + old_len] = added
        k += 1 + old_len + new_len
    return "\n".join(lines)


def apply_diffs(text: str, diffs: list[str]) -> str:
    for d in diffs:
        text = apply_diff(text, d)
    return text


def training_text(instruction: str | None, diffs: list[str]) -> str:
    r"""The reference's training text: each edit after a `<|diff|>` line, then an empty edit to stop.

    >>> training_text("Add one.", ["@@ -0,0 +1 @@\n+x = 1"])
    'Add one.\n<|diff|>@@ -0,0 +1 @@\n+x = 1\n<|diff|>\n<|diff|>'
    """
    path = ("\n" + DIFF_TOKEN).join(["", *diffs, "", ""])
    return (instruction or "") + path
