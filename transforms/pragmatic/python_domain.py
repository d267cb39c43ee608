"""Candidate inputs for any Python function, from six sources, in this order (each input keeps its source):

1. `tests`: literal calls in the seed's tests;
2. `docstring`: `>>>` examples of the function (doctest's parser + ast; never executed here);
3. `signature`: hypothesis draws from the annotations (Optional, Union, list/Sequence/Iterable, tuple, dict,
   set, bytes), when every parameter has one;
4. `body`: for unannotated parameters, a type inferred from the default value and how the body uses the
   name (isinstance, methods, len/iteration/indexing, arithmetic and comparisons with constants);
5. `teacher`: argument lists the teacher proposed (parsed with `ast.literal_eval`);
6. `objects`: values no literal can write (syntax trees, files, functions, code, classes, dates, patterns...)
   as expressions the sandbox evaluates per call: for a parameter whose attributes the body reads (or that
   it calls), the objects that have those attributes (or are callable); for any other, a few of every kind;
7. `probe`: seeded small values of a few types for every parameter.

    >>> inputs_from_tests("def check(candidate):\\n    assert candidate([1, 2], 3) == 4\\n    assert candidate(x) == 1\\n")
    ['([1, 2], 3)']
    >>> docstring_inputs('def f(a, b=2):\\n    \\'\\'\\'\\n    >>> f(1, b=3)\\n    4\\n    \\'\\'\\'\\n', "f")
    ['(1, 3)']
    >>> len(signature_inputs("def f(xs: list[int], s: str) -> int:\\n    pass\\n", "f", n=5, seed=1))
    5
    >>> body_types("def f(s, n=3):\\n    return s.upper() * n\\n", "f")
    ['str', 'int']

Shortcuts, all for determinism and speed: annotations map to bounded strategies (ints in [-20, 100], floats
in [-100, 100] without NaN/inf, printable text up to 10 chars, lists up to 6 items) because `st.from_type`
draws unbounded values that make simple programs run forever; `Callable` and class-typed parameters get no
strategy (arguments travel as literals); keyword-only parameters without a default, and `*args`/`**kwargs`
beyond the fixed positional ones, are never filled. Drawing runs hypothesis's own engine under `@seed(...)`
with the generate phase only and no database: the same seed gives the same inputs in every process.
"""

from __future__ import annotations

import ast
import doctest
import inspect
import re

import numpy as np
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

SOURCES = ("tests", "docstring", "signature", "body", "teacher", "objects", "probe")

_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=10)
_SCALARS = {
    "int": st.integers(-20, 100),
    "float": st.floats(-100, 100, allow_nan=False, allow_infinity=False),
    "str": _TEXT,
    "bool": st.booleans(),
    "bytes": st.binary(max_size=8),
    "None": st.none(),
}
_CONTAINERS = {
    "list": st.lists(_SCALARS["int"], max_size=6),
    "tuple": st.lists(_SCALARS["int"], max_size=4).map(tuple),
    "set": st.sets(_SCALARS["int"], max_size=5),
    "frozenset": st.frozensets(_SCALARS["int"], max_size=5),
    "dict": st.dictionaries(_TEXT, _SCALARS["int"], max_size=4),
}
_SEQUENCES = {"List", "list", "Sequence", "MutableSequence", "Iterable", "Iterator", "Collection", "Reversible"}
_SMALL = st.integers(-3, 12)
_PROBE = st.one_of(
    _SMALL,
    st.text(alphabet="abcAB 1,.-_", max_size=6),
    st.lists(_SMALL, max_size=4),
    st.floats(-10, 10, allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.binary(max_size=6),
)


def _name(node: ast.expr) -> str | None:
    """`List`, `typing.List` and `t.List` all read as `List`."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Constant) and node.value is None:
        return "None"
    return None


def _params(fn: ast.FunctionDef) -> list[ast.arg] | None:
    """The positional parameters a call fills, or None when a keyword-only one has no default."""
    if any(d is None for d in fn.args.kw_defaults):
        return None
    return fn.args.posonlyargs + fn.args.args


def _defaults(fn: ast.FunctionDef) -> dict[str, ast.expr]:
    params = fn.args.posonlyargs + fn.args.args
    return {a.arg: d for a, d in zip(params[len(params) - len(fn.args.defaults) :], fn.args.defaults, strict=True)}


def function_node(code: str, entry_point: str) -> ast.FunctionDef | None:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == entry_point:
            return node if isinstance(node, ast.FunctionDef) else None
    return None


def _round_trips(text: str) -> bool:
    try:
        ast.literal_eval(text)
        return True
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return False


def _literal_args(call: ast.Call, fn: ast.FunctionDef | None) -> tuple | None:
    """A call's arguments as a positional tuple of literals; keywords go to their parameter's position."""
    try:
        args = [ast.literal_eval(a) for a in call.args if not isinstance(a, ast.Starred)]
        if len(args) != len(call.args):
            return None
        if not call.keywords:
            return tuple(args)
        if fn is None or any(k.arg is None for k in call.keywords):
            return None
        names = [a.arg for a in fn.args.posonlyargs + fn.args.args]
        given_kw = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
        if not set(given_kw) <= set(names):
            return None
        last = max(names.index(k) for k in given_kw)
        defaults = _defaults(fn)
        for name in names[len(args) : last + 1]:
            args.append(given_kw[name] if name in given_kw else ast.literal_eval(defaults[name]))
        return tuple(args)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError, KeyError):
        return None


def _calls_of(tree: ast.AST, names: tuple[str, ...], fn) -> list[str]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) in names:
            args = _literal_args(node, fn)
            text = repr(args) if args is not None else None
            if text is not None and text not in out and _round_trips(text):
                out.append(text)
    return out


def inputs_from_tests(tests: str | None, entry_point: str = "candidate", code: str | None = None) -> list[str]:
    """Argument tuples (as reprs) of every `candidate(...)` call whose arguments are all literals."""
    if not tests:
        return []
    try:
        tree = ast.parse(tests)
    except (SyntaxError, ValueError):
        return []
    return _calls_of(tree, ("candidate", entry_point), function_node(code, entry_point) if code else None)


def docstring_inputs(code: str, entry_point: str) -> list[str]:
    """Argument tuples of the `>>>` examples in the function's docstring that call it with literals."""
    fn = function_node(code, entry_point)
    doc = ast.get_docstring(fn) if fn else None
    if not doc:
        return []
    try:
        examples = doctest.DocTestParser().get_examples(doc)
    except ValueError:  # inconsistent indentation in the docstring
        return []
    out = []
    for ex in examples:
        try:
            tree = ast.parse(ex.source)
        except (SyntaxError, ValueError):
            continue
        out += [a for a in _calls_of(tree, (entry_point,), fn) if a not in out]
    return out


def _strategy(annotation: ast.expr | None):
    """A bounded strategy for an annotation AST, or None when we do not know the type."""
    if annotation is None:
        return None
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            return _strategy(ast.parse(annotation.value, mode="eval").body)
        except SyntaxError:
            return None
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):  # X | Y
        parts = [_strategy(annotation.left), _strategy(annotation.right)]
        return None if None in parts else st.one_of(*parts)
    name = _name(annotation.value if isinstance(annotation, ast.Subscript) else annotation)
    if not isinstance(annotation, ast.Subscript):
        if name in _SCALARS:
            return _SCALARS[name]
        if name in _SEQUENCES:
            return _CONTAINERS["list"]
        return _CONTAINERS.get({"Tuple": "tuple", "Set": "set", "Dict": "dict", "Mapping": "dict"}.get(name, name))
    args = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
    ellipsis = len(args) == 2 and isinstance(args[1], ast.Constant) and args[1].value is Ellipsis
    inner = [_strategy(a) for a in (args[:1] if ellipsis else args)]
    if any(s is None for s in inner):
        return None
    if name in _SEQUENCES and len(inner) == 1:
        return st.lists(inner[0], max_size=6)
    if name in ("Tuple", "tuple"):
        return st.lists(inner[0], max_size=4).map(tuple) if ellipsis else st.tuples(*inner)
    if name in ("Set", "set", "AbstractSet", "MutableSet") and len(inner) == 1:
        return st.sets(inner[0], max_size=5)
    if name in ("FrozenSet", "frozenset") and len(inner) == 1:
        return st.frozensets(inner[0], max_size=5)
    if name in ("Dict", "dict", "Mapping", "MutableMapping") and len(inner) == 2:
        return st.dictionaries(inner[0], inner[1], max_size=4)
    if name == "Optional" and len(inner) == 1:
        return st.none() | inner[0]
    if name == "Union":
        return st.one_of(*inner)
    return None


def _from_value(value):
    if isinstance(value, bool):
        return _SCALARS["bool"]
    for name, tp in (("int", int), ("float", float), ("str", str), ("bytes", bytes)):
        if isinstance(value, tp):
            return _SCALARS[name]
    if isinstance(value, list) and value and all(type(v) is type(value[0]) for v in value):
        inner = _from_value(value[0])
        return st.lists(inner, max_size=6) if inner is not None else None
    for name, tp in (("list", list), ("tuple", tuple), ("set", set), ("frozenset", frozenset), ("dict", dict)):
        if isinstance(value, tp):
            return _CONTAINERS[name]
    return None


def signature_inputs(code: str, entry_point: str, n: int, seed: int, examples: list[str] = ()) -> list[str]:
    """Up to n argument tuples drawn from the annotations (an unannotated parameter borrows the type of
    that argument in `examples`); none unless every parameter gets a strategy."""
    fn = function_node(code, entry_point)
    params = _params(fn) if fn else None
    if not params:
        return []
    example = ast.literal_eval(examples[0]) if examples else None
    strategies = []
    for i, arg in enumerate(params):
        s = _strategy(arg.annotation)
        if s is None and example is not None and i < len(example):
            s = _from_value(example[i])
        if s is None:
            return []
        strategies.append(s)
    return _draw(_calls(fn, strategies), n, seed)


def _calls(fn: ast.FunctionDef, strategies: list):
    """Argument tuples for every parameter, or (as often) for the required ones only, so that parameters with
    defaults (modes, flags, encodings) also keep them."""
    required = len(fn.args.posonlyargs + fn.args.args) - len(fn.args.defaults)
    every = st.tuples(*strategies)
    return st.one_of(st.tuples(*strategies[:required]), every) if required < len(strategies) else every


# How the body uses a name -> the type it suggests (first match wins: isinstance, default, method, operators,
# container use).
_STR_METHODS = {m for m in dir(str) if not m.startswith("_")} - {"count", "index"}
_LIST_METHODS = {"append", "extend", "insert", "pop", "sort", "remove"}
_DICT_METHODS = {"items", "keys", "values", "get", "setdefault", "update"}
_ISINSTANCE = {"int", "str", "float", "bool", "bytes", "list", "tuple", "dict", "set", "frozenset"}
_CONTAINER_CALLS = {"len", "sorted", "sum", "min", "max", "enumerate", "reversed", "list", "set", "tuple", "any"}


def _usage(fn: ast.FunctionDef, name: str) -> str | None:
    found: dict[str, str] = {}

    def is_name(node) -> bool:
        return isinstance(node, ast.Name) and node.id == name

    def is_slice(node) -> bool:  # s[a:b] has the type of s
        return isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice) and is_name(node.value)

    def const_type(node) -> str | None:
        if isinstance(node, ast.Constant) and type(node.value) in (int, float, str, bytes):
            return type(node.value).__name__
        return None

    for node in ast.walk(fn):
        if isinstance(node, ast.Call) and _name(node.func) == "isinstance" and len(node.args) == 2:
            if is_name(node.args[0]):
                kinds = node.args[1].elts if isinstance(node.args[1], ast.Tuple) else [node.args[1]]
                kind = next((_name(k) for k in kinds if _name(k) in _ISINSTANCE), None)
                found.setdefault("isinstance", kind)
        elif isinstance(node, ast.Attribute) and (is_name(node.value) or is_slice(node.value)):
            if node.attr in _STR_METHODS:
                found.setdefault("method", "str")
            elif node.attr in _LIST_METHODS:
                found.setdefault("method", "list")
            elif node.attr in _DICT_METHODS:
                found.setdefault("method", "dict")
            elif node.attr == "decode":
                found.setdefault("method", "bytes")
        elif isinstance(node, ast.BinOp | ast.Compare):
            sides = [node.left, node.right] if isinstance(node, ast.BinOp) else [node.left, *node.comparators]
            if isinstance(node, ast.Compare) and any(isinstance(op, ast.In | ast.NotIn) for op in node.ops):
                if any(is_name(s) for s in node.comparators):
                    found.setdefault("container", "str" if const_type(node.left) == "str" else "list")
                continue
            if any(is_name(s) for s in sides):
                kinds = [const_type(s) for s in sides if const_type(s)]
                if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and is_name(node.left) and not kinds:
                    continue
                if kinds:
                    found.setdefault("operator", kinds[0])
        elif isinstance(node, ast.Call) and _name(node.func) in _CONTAINER_CALLS and any(map(is_name, node.args)):
            if not (_name(node.func) in ("min", "max") and len(node.args) > 1):  # max(a, b) compares scalars
                found.setdefault("container", "list")
        elif isinstance(node, ast.Call) and _name(node.func) == "range" and any(map(is_name, node.args)):
            found.setdefault("operator", "count")
        elif isinstance(node, ast.For | ast.comprehension) and is_name(node.iter):
            found.setdefault("container", "list")
        elif isinstance(node, ast.Subscript) and is_name(node.value):
            key = const_type(node.slice)
            found.setdefault("container", "dict" if key == "str" else "list")
    for why in ("isinstance", "method", "operator", "container"):
        if found.get(why):
            return found[why]
    return None


def body_types(code: str, entry_point: str) -> list[str | None]:
    """For each positional parameter: its inferred type name (annotation first, then default, then usage)."""
    fn = function_node(code, entry_point)
    params = _params(fn) if fn else None
    if not params:
        return []
    defaults, out = _defaults(fn), []
    for arg in params:
        kind = None
        if _strategy(arg.annotation) is not None:
            kind = "annotation"
        elif arg.arg in defaults:
            try:
                value = ast.literal_eval(defaults[arg.arg])
                kind = type(value).__name__ if value is not None and _from_value(value) is not None else None
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                pass
        out.append(kind or _usage(fn, arg.arg) or named_type(arg.arg))
    return out


# A parameter's name, when neither its default nor the body says its type (first match wins).
_NAMES = (
    (r"encoding|.*_encoding", "encoding"),
    (r"errors", "errors"),
    (r"(is|has|use|allow|strict|verbose|reverse|ignore)(_.*)?|.*_?flag", "bool"),
    (
        r"n|i|j|k|num|count|size|width|height|len|length|index|level|depth|indent|lineno|pos|offset|limit|start|end"
        r"|stop|step|tabsize|maxsplit|(n|num|max|min)_.*|.*_(count|size|len|width|index|level|depth|num)",
        "int",
    ),
    (r"lines|.*_lines", "lines"),
    (
        r"s|text|string|name|prefix|suffix|sep|char|ch|word|line|pattern|fmt|format|path|filename|dirname|mode|url"
        r"|host|title|label|msg|message|.*_(name|path|str|text|dir|prefix|suffix|sep|char)",
        "str",
    ),
    (r"data|buf|buffer|payload|.*_bytes", "bytes"),
    (r"seq|items|values|names|args|lst|iterable|elements|.*_list", "list"),
    (r"mapping|dct|kwargs|env|options|.*_dict|.*_map", "dict"),
)


def named_type(name: str) -> str | None:
    """The type a parameter's name suggests (`encoding`, `n`, `text`, `data`, `lines`...), or None.

    >>> [named_type(x) for x in ("file_name", "max_lines", "data", "errors", "quux")]
    ['str', 'int', 'bytes', 'errors', None]
    """
    return next((kind for pattern, kind in _NAMES if re.fullmatch(pattern, name.lower())), None)


_BODY = {
    "int": _SCALARS["int"],
    "count": st.integers(0, 8),
    "encoding": st.sampled_from(["utf-8", "latin-1", "ascii"]),
    "errors": st.sampled_from(["strict", "ignore", "replace"]),
    "lines": st.lists(_TEXT.map(lambda t: t + "\n"), max_size=6),
    **_SCALARS,
    **_CONTAINERS,
}


def body_inputs(code: str, entry_point: str, n: int, seed: int) -> list[str]:
    """Argument tuples from `body_types`; a parameter with no inferred type is probed. None if nothing inferred."""
    fn = function_node(code, entry_point)
    kinds = body_types(code, entry_point)
    if not kinds or all(k in (None, "annotation") for k in kinds):
        return []
    strategies = [
        _strategy(a.annotation) if k == "annotation" else _BODY.get(k, _PROBE)
        for a, k in zip(_params(fn), kinds, strict=True)
    ]
    strategies = [
        st.one_of(st.sampled_from(edges), s)
        if k in ("int", "count", "float") and (edges := boundaries(fn, a.arg))
        else s
        for a, k, s in zip(_params(fn), kinds, strategies, strict=True)
    ]
    return _draw(_calls(fn, strategies), n, seed)


def boundaries(fn: ast.FunctionDef, name: str) -> list[int]:
    """c - 1, c and c + 1 for every integer constant c the body compares the name with: the mutants change such
    constants and comparisons, and these values tell them apart.

    >>> boundaries(ast.parse("def f(n):\\n    return n > 2 or 10 <= n").body[0], "n")
    [1, 2, 3, 9, 10, 11]
    """
    found = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(isinstance(x, ast.Name) and x.id == name for x in sides):
                for x in sides:
                    if isinstance(x, ast.Constant) and type(x.value) is int:
                        found |= {x.value - 1, x.value, x.value + 1}
    return sorted(found)


def probe_inputs(code: str, entry_point: str, n: int, seed: int) -> list[str]:
    """Seeded small values of a few types (ints, short text, lists, floats, bools, None) for every parameter."""
    fn = function_node(code, entry_point)
    params = _params(fn) if fn else None
    return _draw(_calls(fn, [_PROBE] * len(params)), n, seed) if params else []


def parse_argument_lists(texts: list[str]) -> list[str]:
    """Teacher-proposed argument lists, each as written inside a call's parentheses, -> argument tuple reprs."""
    out = []
    for text in texts:
        try:
            args = ast.literal_eval(f"({text},)") if text.strip() else ()
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            continue
        rendered = repr(args)
        if rendered not in out and _round_trips(rendered):
            out.append(rendered)
    return out


# Objects of the standard library that no literal writes, as the expressions the sandbox evaluates (programs'
# globals may lack the modules, hence __import__). Built here only to read their attributes.
OBJECTS = (
    "__import__('ast').parse('x = 1 + 2\\ndef f(a, b=1):\\n    \\'Doc.\\'\\n    return a\\n')",
    "__import__('ast').parse('def f(a):\\n    \\'Doc.\\'\\n    return a * 2\\n').body[0]",
    "__import__('ast').parse('x + 1', mode='eval').body",
    "__import__('io').StringIO('one\\ntwo 2\\n')",
    "__import__('io').BytesIO(b'one\\ntwo 2\\n')",
    "(lambda *args, **kwargs: args)",
    "len",
    "(lambda x: x + 1).__code__",
    "int",
    "ValueError('bad value')",
    "object()",
    "__import__('datetime').date(2020, 2, 29)",
    "__import__('decimal').Decimal('2.5')",
    "__import__('fractions').Fraction(1, 3)",
    "__import__('re').compile('a+b')",
    "__import__('re').match('a+', 'aab')",
    "iter([1, 2, 3])",
    "range(5)",
    "bytearray(b'abc')",
    "__import__('collections').OrderedDict(a=1, b=2)",
    "__import__('types').SimpleNamespace(name='x', value=1)",
    "__import__('dataclasses').make_dataclass('Point', ['x', 'y'])(1, 2)",
    "__import__('time').gmtime(86400)",
    "__import__('sys')._getframe()",
    "__import__('asyncio').sleep(0)",
    "__import__('concurrent.futures').futures.Future()",
)
_LITERALS = ("0", "1", "3", "-1", "''", "'abc'", "'a b\\nc'", "'utf-8'", "[1, 2]", "None", "True", "b'ab'")
_POOL = (*OBJECTS, *_LITERALS)


def _look(expression: str) -> tuple[set[str], bool]:
    """The attributes of one of our own constant expressions, and whether it is callable."""
    value = eval(expression)  # noqa: S307 - a constant of this module, never a record's text
    if inspect.iscoroutine(value):
        value.close()
    return set(dir(value)), callable(value)


_ATTRIBUTES = {e: _look(e)[0] for e in _POOL}
_CALLABLE = [e for e in _POOL if _look(e)[1]]
_FILES = [e for e in _POOL if "IO(" in e]
_FILE_NAMES = r"f|fp|file|fileobj|stream|infile|outfile|input|output|.*_(file|fp|stream)"
_FUNCTION_NAMES = r"func|function|fn|callback|predicate|factory|.*_(func|function|callback|hook)"


def object_choices(fn: ast.FunctionDef, name: str) -> list[str]:
    """Values for a parameter: those with every attribute the body reads from it (else with the most of them),
    the callable ones when the body calls it; when the body says neither, files or callables when the name
    says so (`fp`, `output`, `callback`...), else every object and literal."""
    read, called = set(), False
    for node in ast.walk(fn):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == name:
            read.add(node.attr)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name:
            called = True
    if called:
        return _CALLABLE
    if not read and re.fullmatch(_FILE_NAMES, name.lower()):
        return _FILES
    if not read and re.fullmatch(_FUNCTION_NAMES, name.lower()):
        return _CALLABLE
    best = max(len(read & a) for a in _ATTRIBUTES.values())
    return [e for e in _POOL if len(read & _ATTRIBUTES[e]) == best]


def object_inputs(code: str, entry_point: str, n: int, seed: int) -> list[str]:
    """Up to n argument tuples (expressions) for the required parameters (`object_choices`), seeded."""
    fn = function_node(code, entry_point)
    params = _params(fn) if fn else None
    if not params:
        return []
    required = max(len(params) - len(fn.args.defaults), 1)
    choices = [object_choices(fn, a.arg) for a in params[:required]]
    gen, out = np.random.default_rng(seed), []
    for _ in range(4 * n):
        parts = [c[gen.integers(len(c))] for c in choices]
        text = "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
        if text not in out:
            out.append(text)
        if len(out) == n:
            break
    return out


def _arity(args: str) -> int:
    try:
        return len(ast.literal_eval(args))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return len(ast.parse(args, mode="eval").body.elts)


def fits(code: str, entry_point: str, args: str) -> bool:
    """Whether the argument tuple has an arity the function accepts (always True if it cannot be read)."""
    fn = function_node(code, entry_point)
    if fn is None:
        return True
    params = fn.args.posonlyargs + fn.args.args
    n = _arity(args)
    return len(params) - len(fn.args.defaults) <= n and (n <= len(params) or fn.args.vararg is not None)


def candidate_inputs(
    code: str,
    entry_point: str,
    tests: str | None,
    n: int,
    seeds: dict[str, int],
    teacher: list[str] = (),
    only: tuple[str, ...] = SOURCES,
) -> tuple[list[str], list[str]]:
    """Up to n distinct argument tuples, in source order, and the source of each (`seeds`: one per source,
    `only`: the sources to use). Draws from the signature and the body stop at 5/8 of n, so the teacher, the
    objects (at most n/4, up to 7/8 of n) and the probe always get a say when a guessed type is wrong."""
    inputs: list[str] = []
    sources: list[str] = []
    for source in SOURCES:
        if len(inputs) >= n:
            break
        if source not in only:
            continue
        # drawn guesses leave the probe some room
        room = {"signature": n - 3 * n // 8, "body": n - 3 * n // 8, "objects": n - n // 8}.get(source, n)
        if len(inputs) >= room:
            continue
        wanted = room - len(inputs) + 4  # draws cost milliseconds each: ask for what fits, and a few spare
        if source == "tests":
            found = inputs_from_tests(tests, entry_point, code)
        elif source == "docstring":
            found = docstring_inputs(code, entry_point)
        elif source == "signature":
            found = signature_inputs(code, entry_point, wanted, seeds["signature"], inputs)
        elif source == "body":
            found = body_inputs(code, entry_point, wanted, seeds["body"])
        elif source == "teacher":
            found = parse_argument_lists(list(teacher))
        elif source == "objects":
            found = object_inputs(code, entry_point, min(wanted, n // 4), seeds["objects"])
        else:
            found = probe_inputs(code, entry_point, wanted, seeds["probe"])
        for args in found:
            if len(inputs) < room and args not in inputs and fits(code, entry_point, args):
                inputs.append(args)
                sources.append(source)
    return inputs, sources


def raised_names(code: str) -> frozenset[str]:
    """Exception names the program raises on purpose (`raise X` / `raise X(...)`), plus `AssertionError` for
    its asserts: an input on which the target raises one of these is a deliberate answer, not a misuse."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return frozenset()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if _name(exc):
                names.add(_name(exc))
        elif isinstance(node, ast.Assert):
            names.add("AssertionError")
    return frozenset(names)


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
