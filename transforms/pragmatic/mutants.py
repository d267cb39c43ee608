"""Deterministic AST mutants of a Python program: the alternative programs of the Python pragmatic domain.

One mutant per mutation site and replacement: arithmetic and augmented-assignment operators, comparisons,
boolean operators, `not` and unary minus removal, integer constants (±1, the boundary mutants), True/False,
string constants (emptied, or "x" for an empty one), a condition negated (`if`, `while`, `x if c else y`
when the test is no comparison), a slice bound dropped, a computed slice bound or `range` stop off by one,
the else or one elif branch of an `if` dropped, an early `if not arg: return arg` for each of the first three
parameters, the first two positional arguments of a call swapped, paired builtins and methods swapped
(min/max, any/all, startswith/endswith, lstrip/rstrip, upper/lower, find/rfind, split/rsplit, keys/values),
`break`/`continue` swapped, and statement deletion (a statement replaced by `pass`). The off-by-one,
dropped-branch and early-return mutants are near misses: like the alternatives a model samples, they differ
from the target on few inputs. Mutants that do not parse back, or equal the original text, are dropped;
duplicates collapse. Equivalent mutants are not detected here: they give rows identical to the target's and
are merged with it when the consistency matrix is collapsed.

    >>> [m.splitlines()[1].strip() for m in mutants("def f(x):\\n    return x + 1\\n")]
    ['if not x:', 'pass', 'return x - 1', 'return x * 1', 'return x + 2', 'return x + 0']
"""

from __future__ import annotations

import ast

_BINOPS = {
    ast.Add: [ast.Sub, ast.Mult],
    ast.Sub: [ast.Add],
    ast.Mult: [ast.Add, ast.FloorDiv],
    ast.Div: [ast.Mult, ast.FloorDiv],
    ast.FloorDiv: [ast.Div, ast.Mult],
    ast.Mod: [ast.FloorDiv],
    ast.Pow: [ast.Mult],
}
_CMPOPS = {
    ast.Lt: [ast.LtE, ast.Gt],
    ast.LtE: [ast.Lt, ast.GtE],
    ast.Gt: [ast.GtE, ast.Lt],
    ast.GtE: [ast.Gt, ast.LtE],
    ast.Eq: [ast.NotEq],
    ast.NotEq: [ast.Eq],
    ast.In: [ast.NotIn],
    ast.NotIn: [ast.In],
    ast.Is: [ast.IsNot],
    ast.IsNot: [ast.Is],
}
_PAIRS = ("min max", "any all", "startswith endswith", "lstrip rstrip", "upper lower", "find rfind",
          "index rindex", "split rsplit", "keys values", "ljust rjust", "isdigit isalpha")  # fmt: skip
_SWAP = {a: b for pair in _PAIRS for a, b in (pair.split(), pair.split()[::-1])}


def _sites(tree: ast.AST):
    """(node, field, replacement) for every single-point mutation, in a fixed walk order."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.BinOp, ast.AugAssign)):
            for new in _BINOPS.get(type(node.op), []):
                yield node, "op", new()
        elif isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                for new in _CMPOPS.get(type(op), []):
                    yield node, ("ops", i), new()
        elif isinstance(node, ast.BoolOp):
            yield node, "op", ast.Or() if isinstance(node.op, ast.And) else ast.And()
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub):
            yield node, "unwrap", None
        elif isinstance(node, ast.Constant) and type(node.value) is bool:
            yield node, "value", not node.value
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            yield node, "value", node.value + 1
            yield node, "value", node.value - 1
        elif isinstance(node, ast.Constant) and type(node.value) is str and not _docstring(node):
            yield node, "value", "" if node.value else "x"
        elif isinstance(node, ast.Slice):
            for bound in ("lower", "upper"):
                value = getattr(node, bound)
                if value is not None:
                    yield node, bound, None
                if value is not None and not isinstance(value, ast.Constant | ast.UnaryOp):
                    yield node, bound, _plus(value, 1)  # off by one: a constant bound gets its ±1 above
                    yield node, bound, _plus(value, -1)
        elif isinstance(node, ast.Call):
            if len(node.args) >= 2 and not any(isinstance(a, ast.Starred) for a in node.args[:2]):
                yield node, "args", [node.args[1], node.args[0], *node.args[2:]]
            if isinstance(node.func, ast.Name) and node.func.id in ("min", "max", "any", "all"):
                yield node.func, "id", _SWAP[node.func.id]
            elif isinstance(node.func, ast.Attribute) and node.func.attr in _SWAP:
                yield node.func, "attr", _SWAP[node.func.attr]
            if isinstance(node.func, ast.Name) and node.func.id == "range" and 1 <= len(node.args) <= 2:
                stop = len(node.args) - 1
                if not isinstance(node.args[stop], ast.Constant | ast.Starred):
                    for d in (1, -1):
                        yield node, "args", [*node.args[:stop], _plus(node.args[stop], d)]
        if isinstance(node, ast.If) and node.orelse:
            yield node, "orelse", []  # the else (or every elif) branch dropped
            if len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If) and node.orelse[0].orelse:
                yield node, "orelse", node.orelse[0].orelse  # one elif branch dropped
        if isinstance(node, ast.FunctionDef):
            at = int(bool(node.body) and _docstring_stmt(node.body[0]))
            for arg in [a.arg for a in node.args.posonlyargs + node.args.args if a.arg not in ("self", "cls")][:3]:
                yield node, ("insert", at), _guard(arg)
        if isinstance(node, ast.If | ast.While | ast.IfExp) and not isinstance(node.test, ast.Compare | ast.UnaryOp):
            yield node, "test", ast.UnaryOp(ast.Not(), node.test)
        if isinstance(node, (ast.FunctionDef, ast.For, ast.While, ast.If, ast.With)):
            for i, stmt in enumerate(node.body):
                if isinstance(stmt, ast.Break | ast.Continue):
                    yield node, ("body", i), ast.Continue() if isinstance(stmt, ast.Break) else ast.Break()
                if not isinstance(stmt, (ast.Pass, ast.Expr)):
                    yield node, ("body", i), None


def _plus(value: ast.expr, d: int) -> ast.expr:
    return ast.BinOp(value, ast.Add() if d > 0 else ast.Sub(), ast.Constant(abs(d)))


def _guard(arg: str) -> ast.stmt:
    """`if not arg: return arg`: an early return on an empty (falsy) argument, the edge case a near-miss
    implementation gets wrong; it differs from the target only on the inputs where that argument is falsy."""
    return ast.If(ast.UnaryOp(ast.Not(), ast.Name(arg, ast.Load())), [ast.Return(ast.Name(arg, ast.Load()))], [])


def _docstring_stmt(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def _docstring(node: ast.Constant) -> bool:
    """A string that is a statement of its own (a docstring, or a bare string): changing it changes nothing."""
    return isinstance(getattr(node, "_parent_ref", (None,))[0], ast.Expr)


def _apply(node, where, new):
    """Mutate in place; return an undo function."""
    if where == "unwrap":
        parent_fields = node._parent_ref
        holder, name, idx = parent_fields
        old = getattr(holder, name) if idx is None else getattr(holder, name)[idx]
        _set(holder, name, idx, node.operand)
        return lambda: _set(holder, name, idx, old)
    if isinstance(where, tuple) and where[0] == "insert":
        node.body.insert(where[1], new)
        return lambda: node.body.pop(where[1])
    if isinstance(where, tuple):
        name, i = where
        seq = getattr(node, name)
        old = seq[i]
        seq[i] = new if new is not None else ast.Pass()
        return lambda: seq.__setitem__(i, old)
    old = getattr(node, where)
    setattr(node, where, new)
    return lambda: setattr(node, where, old)


def _set(holder, name, idx, value):
    if idx is None:
        setattr(holder, name, value)
    else:
        getattr(holder, name)[idx] = value


def _link_parents(tree: ast.AST) -> None:
    for parent in ast.walk(tree):
        for name, value in ast.iter_fields(parent):
            if isinstance(value, ast.AST):
                value._parent_ref = (parent, name, None)
            elif isinstance(value, list):
                for i, child in enumerate(value):
                    if isinstance(child, ast.AST):
                        child._parent_ref = (parent, name, i)


def mutants(code: str) -> list[str]:
    """Every single-point mutant of `code` as source text, in a fixed order, duplicates and no-ops removed."""
    tree = ast.parse(code)
    _link_parents(tree)
    original = ast.unparse(tree)
    seen, out = {original}, []
    for node, where, new in list(_sites(tree)):
        undo = _apply(node, where, new)
        try:
            text = ast.unparse(tree)
        finally:
            undo()
        if text not in seen:
            try:
                compile(text, "<mutant>", "exec")
            except (SyntaxError, ValueError):
                continue
            seen.add(text)
            out.append(text + "\n")
    return out
