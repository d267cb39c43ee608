"""Candidate inputs for a Python function: literal calls in its tests, plus hypothesis draws from its signature.

    >>> inputs_from_tests("def check(candidate):\\n    assert candidate([1, 2], 3) == 4\\n    assert candidate(x) == 1\\n")
    ['([1, 2], 3)']
    >>> len(signature_inputs("def f(xs: list[int], s: str) -> int:\\n    pass\\n", "f", n=5, seed=1))
    5

Shortcuts, all for determinism and speed:
- the signature is read from the AST (never executed in the pipeline's process); annotations map to
  bounded strategies (ints in [-20, 100], floats in [-100, 100] without NaN/inf, printable text up to 10
  chars, lists up to 6 items) because `st.from_type` draws unbounded values that make simple programs
  run forever or overflow; an unannotated or unknown parameter borrows the type of that parameter in the
  test inputs, otherwise the function gets no hypothesis inputs;
- drawing runs hypothesis's own engine under `@seed(...)` with the generate phase only and no database:
  the same seed gives the same inputs in every process (no `.example()`, which is random and warns).
"""

from __future__ import annotations

import ast

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=10)
_SCALARS = {
    "int": st.integers(-20, 100),
    "float": st.floats(-100, 100, allow_nan=False, allow_infinity=False),
    "str": _TEXT,
    "bool": st.booleans(),
}


def inputs_from_tests(tests: str | None, entry_point: str = "candidate") -> list[str]:
    """Argument tuples (as reprs) of every `candidate(...)` call whose arguments are all literals."""
    if not tests:
        return []
    try:
        tree = ast.parse(tests)
    except SyntaxError:
        return []
    out = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("candidate", entry_point)
        ):
            if node.keywords:
                continue
            try:
                args = tuple(ast.literal_eval(a) for a in node.args)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
            text = repr(args)
            if text not in out and _round_trips(text):
                out.append(text)
    return out


def _round_trips(text: str) -> bool:
    try:
        ast.literal_eval(text)
        return True
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return False


def _strategy(annotation: ast.expr | None):
    """A bounded strategy for an annotation AST, or None when we do not know the type."""
    if annotation is None:
        return None
    if isinstance(annotation, ast.Name):
        if annotation.id in _SCALARS:
            return _SCALARS[annotation.id]
        if annotation.id in ("list", "List"):
            return st.lists(_SCALARS["int"], max_size=6)
        return None
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            return _strategy(ast.parse(annotation.value, mode="eval").body)
        except SyntaxError:
            return None
    if isinstance(annotation, ast.Subscript) and isinstance(annotation.value, ast.Name):
        name = annotation.value.id
        args = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
        inner = [_strategy(a) for a in args]
        if any(s is None for s in inner if s is not Ellipsis):
            return None
        if name in ("List", "list", "Sequence", "Iterable") and len(inner) == 1:
            return st.lists(inner[0], max_size=6)
        if name in ("Tuple", "tuple"):
            return st.tuples(*inner)
        if name in ("Dict", "dict") and len(inner) == 2:
            return st.dictionaries(inner[0], inner[1], max_size=4)
        if name == "Optional" and len(inner) == 1:
            return st.none() | inner[0]
    return None


def _from_value(value):
    if isinstance(value, bool):
        return _SCALARS["bool"]
    for name, tp in (("int", int), ("float", float), ("str", str)):
        if isinstance(value, tp):
            return _SCALARS[name]
    if isinstance(value, list) and value and all(type(v) is type(value[0]) for v in value):
        inner = _from_value(value[0])
        return st.lists(inner, max_size=6) if inner is not None else None
    if isinstance(value, list):
        return st.lists(_SCALARS["int"], max_size=6)
    return None


def _function(code: str, entry_point: str) -> ast.FunctionDef | None:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == entry_point:
            return node
    return None


def signature_inputs(code: str, entry_point: str, n: int, seed: int, examples: list[str] = ()) -> list[str]:
    """Up to n argument tuples drawn by hypothesis from the entry point's signature (deterministic in seed)."""
    fn = _function(code, entry_point)
    if fn is None or fn.args.vararg or fn.args.kwarg or fn.args.kwonlyargs:
        return []
    example = ast.literal_eval(examples[0]) if examples else None
    strategies = []
    for i, arg in enumerate(fn.args.posonlyargs + fn.args.args):
        s = _strategy(arg.annotation)
        if s is None and example is not None and i < len(example):
            s = _from_value(example[i])
        if s is None:
            return []
        strategies.append(s)
    return _draw(st.tuples(*strategies), n, seed)


def _draw(strategy, n: int, value: int) -> list[str]:
    out: list[str] = []

    @seed(value)
    @settings(
        max_examples=n,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(strategy)
    def collect(args):
        text = repr(args)
        if text not in out and _round_trips(text):
            out.append(text)

    collect()
    return out[:n]
