"""Every LintSeq state compiles under CPython, whatever the linter's parser accepts.

ruff's parser and CPython's differ at the edges: ruff 0.17.6 passes `try: ... else: ... finally: ...`
(no `except`), which CPython refuses. The property test below builds programs from the constructs where
the two parsers may disagree (try/except/else/finally combinations, `except*`, `match`, decorators,
`async`, f-strings, `global`/`nonlocal`, walrus, star-expressions, `type` statements on Pythons that have
them) and checks every state of every sampled sequence with `compile` and with an independent ruff run.
"""

from __future__ import annotations

import sys

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from skillseq.linters.base import python_syntax_error
from skillseq.linters.ruff_linter import RuffLinter
from skillseq.rng import rng
from skillseq.transforms.lintseq.core import Job, edit_states, prepare, sample_edit_paths
from tests.test_lintseq_core import ruff_dirty

# A `try` with every clause inside a loop: deleting the `except` leaves `try/else/finally`, clean to ruff.
TRY_IN_LOOP = """\
def run(items):
    total = 0
    for item in items:
        try:
            value = int(item)
        except ValueError:
            continue
        else:
            total += value
        finally:
            print(item)
    return total
"""


def states_of(code: str, seeds: range, linter=None) -> list[str]:
    linter = linter or RuffLinter()
    jobs = [Job(prepare(code), rng(s, "lintseq", 0)) for s in seeds]
    return [state for path in sample_edit_paths(jobs, linter) for state in edit_states(code, path)]


def not_compiling(states: list[str]) -> list[str]:
    bad = []
    for state in states:
        try:
            compile(state, "<state>", "exec")
        except SyntaxError:
            bad.append(state)
    return bad


def test_ruff_passes_a_state_that_cpython_refuses():
    # The premise: without the compile check, this state would count as clean.
    state = "for item in []:\n    try:\n        value = int(item)\n    else:\n        print(value)\n    finally:\n        pass\n"
    assert RuffLinter().lint(state) == []
    assert python_syntax_error(state) is not None


def test_no_state_of_try_except_else_finally_fails_to_compile():
    states = states_of(TRY_IN_LOOP, range(40))
    assert not_compiling(states) == []
    assert ruff_dirty(states) == set()


def test_the_compile_check_holds_for_pylint_too():
    pytest.importorskip("pylint")
    from skillseq.linters.pylint_linter import PylintLinter

    assert not_compiling(states_of(TRY_IN_LOOP, range(4), PylintLinter())) == []


# ---- programs built from constructs where the parsers may differ

LEAVES = [
    "total = len(items)",
    "print(x, *items, sep=', ')",
    "if (n := len(items)) > 1:\n    print(n)",
    "first, *rest = items",
    "pairs = [*items, *items[1:]]",
    "merged = {**{'a': 1}, 'b': x}",
    "label = f'{x!r:>{width}} {items[0]:.2f}'",
    'text = f"{x}" f"{\'nested\'}"',
    'doc = f"""\n{x}\n  {width}\n"""',
    "squares = [i * i for i in items if (j := i) > 0]",
    "fn = lambda *a, **k: (a, k)",
    "assert x, 'x is set'",
]
LOOP_LEAVES = ["break", "continue"]
ASYNC_LEAVES = [
    "await asyncio.sleep(0)",
    "async for chunk in stream():\n    print(chunk)",
    "async with lock:\n    print(x)",
]


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line if line else line for line in lines]


@st.composite
def block(draw, depth: int = 0, loop: bool = False, is_async: bool = False, func: bool = False) -> list[str]:
    """A few statements, some compound, as lines (without the final newline)."""
    out = []
    for _ in range(draw(st.integers(1, 3))):
        leaves = LEAVES + (LOOP_LEAVES if loop else []) + (ASYNC_LEAVES if is_async else [])
        kinds = ["leaf"] if depth >= 2 else ["leaf", "try", "for", "match", "def", "class", "if", "with"]
        kind = draw(st.sampled_from(kinds))

        def body(**kw):
            args = {"depth": depth + 1, "loop": loop, "is_async": is_async, "func": func} | kw
            return _indent(draw(block(**args)))

        if kind == "leaf":
            out += draw(st.sampled_from(leaves)).split("\n")
        elif kind == "try":
            out += ["try:", *body()]
            star, handlers = draw(st.booleans()), False
            for exc in draw(
                st.lists(
                    st.sampled_from(["ValueError", "(KeyError, TypeError) as e", "OSError"]), max_size=2, unique=True
                )
            ):
                out += [f"except{'*' if star else ''} {exc}:", *body(loop=loop and not star)]
                handlers = True
            if handlers and draw(st.booleans()):
                out += ["else:", *body()]
            if not handlers or draw(st.booleans()):
                out += ["finally:", *body()]
        elif kind == "for":
            head = "async for" if is_async and draw(st.booleans()) else "for"
            out += [f"{head} item in {'stream()' if head == 'async for' else 'items'}:", *body(loop=True)]
            if draw(st.booleans()):
                out += ["else:", *body()]
        elif kind == "match":
            out += ["match items:"]
            for case in draw(
                st.lists(
                    st.sampled_from(
                        ["[first, *others]", "{'k': value, **extra}", "str() | bytes()", "int(n) if n > 0", "_"]
                    ),
                    min_size=1,
                    max_size=3,
                    unique=True,
                ).map(lambda cases: sorted(cases, key=lambda c: c == "_"))
            ):
                out += _indent([f"case {case}:", *body()])
        elif kind == "def":
            decorator = draw(st.sampled_from(["", "@functools.cache", "@contextlib.contextmanager", "@deco(1)"]))
            asynchronous = draw(st.booleans())
            name = draw(st.sampled_from(["f", "g"]))
            out += [decorator] if decorator else []
            out += [f"{'async ' if asynchronous else ''}def {name}(a, /, b=1, *args, c, **kw):"]
            scope = draw(st.sampled_from(["", "global counter", "nonlocal width"] if func else ["", "global counter"]))
            inner = _indent([scope]) if scope else []
            out += inner + body(loop=False, is_async=asynchronous, func=True)
            if scope and draw(st.booleans()):
                out += _indent([scope.split()[1] + " = 1"])
        elif kind == "class":
            out += ["@dataclasses.dataclass", "class C(Base, metaclass=Meta):", "    size: int = 0"]
            out += ["    @staticmethod", "    def make(*a):", *_indent(body(loop=False, is_async=False, func=True))]
        elif kind == "if":
            out += ["if x:", *body(), "elif not items:", *body(), "else:", *body()]
        elif kind == "with":
            out += ["with (open('a') as fa, open('b') as fb):", *body()]
    return out


PREAMBLE = """\
import asyncio
import contextlib
import dataclasses
import functools

Base, Meta, deco, lock = object, type, lambda n: lambda f: f, asyncio.Lock()
counter = 0


def stream():
    yield 1

"""
TYPE_ALIAS = "type Pair = tuple[int, int]\n" if sys.version_info >= (3, 12) else ""


@st.composite
def programs(draw) -> str:
    width = draw(st.booleans())
    lines = _indent(draw(block(func=True)))
    body = "def main(items, x=1, width=8):\n" + "\n".join(lines) + "\n    return items\n"
    async_body = "async def amain(items, x=1, width=8):\n" + "\n".join(_indent(draw(block(is_async=True, func=True))))
    return PREAMBLE + (TYPE_ALIAS if width else "") + body + "\n\n" + async_body + "\n"


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.lists(programs(), min_size=1, max_size=4), st.integers(0, 2**31))
def test_every_state_of_tricky_programs_compiles_and_lints_clean(codes, seed):
    # Several programs per example, sampled in lockstep as the stage does: one ruff call per round for all.
    linter = RuffLinter()
    assume(all(python_syntax_error(c) is None for c in codes) and not any(linter.lint_many(codes)))
    jobs = [Job(prepare(c), rng(seed, "lintseq", k, s)) for k, c in enumerate(codes) for s in range(2)]
    paths = sample_edit_paths(jobs, linter)
    states = []
    for k, code in enumerate(codes):
        for path in paths[2 * k : 2 * k + 2]:
            states += edit_states(code, path)
    assert not_compiling(states) == []
    assert ruff_dirty(states) == set()
