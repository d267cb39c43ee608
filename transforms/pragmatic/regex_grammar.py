r"""Target regexes sampled from a StructuredRegex-style grammar (the paper's kind of target), seeded per key.

A regex is a concatenation of 1-5 fields (mostly 2-4). A field is an atom with a quantifier, an alternation of two atoms
in a group, or an optional group of one or two fields. Atoms: the classes `[A-Z] [a-z] [0-9] [A-Za-z]`, a
few negated ones (`[^0-9]`, ...), or a literal (a letter, digit or escaped punctuation mark). Quantifiers:
none, `{n}`, `{n,m}`, `{n,}`, `?`. Inside an alternation the atoms repeat at most a fixed number of times,
so no sampled regex nests unbounded repeats (no catastrophic backtracking on any string).

    >>> sample_regex(0, "sampled/0") == sample_regex(0, "sampled/0")
    True
    >>> import re; all(re.compile(p) for _, p in sampled_regexes(3, seed=0))
    True
"""

from __future__ import annotations

import re

import numpy as np

from skillseq.rng import rng

CLASSES = ["[A-Z]", "[a-z]", "[0-9]", "[A-Za-z]"]
NEGATED = ["[^0-9]", "[^a-z]", "[^A-Z]", "[^A-Za-z]"]
PUNCTUATION = ",;:_-.!#@"
LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_STAGE = "pragmatic"
_FIELDS = [0.1, 0.3, 0.3, 0.2, 0.1]  # P(1..5 fields): the user study's targets have mostly 2-4


def _literal(gen: np.random.Generator) -> str:
    if gen.random() < 0.15:
        return re.escape(PUNCTUATION[gen.integers(len(PUNCTUATION))])
    return LETTERS[gen.integers(len(LETTERS))]


def _atom(gen: np.random.Generator) -> str:
    r = gen.random()
    if r < 0.5:
        return CLASSES[gen.integers(len(CLASSES))]
    if r < 0.6:
        return NEGATED[gen.integers(len(NEGATED))]
    return _literal(gen)


def _quantifier(gen: np.random.Generator, bounded: bool = False) -> str:
    lo, r = int(gen.integers(1, 5)), gen.random()
    if bounded:
        return "" if r < 0.6 else f"{{{max(lo, 2)}}}"
    if r < 0.15:
        return ""
    if r < 0.4:
        return f"{{{max(lo, 2)}}}"
    if r < 0.65:
        return f"{{{lo},{lo + int(gen.integers(1, 4))}}}"
    if r < 0.9:
        return f"{{{min(lo, 3)},}}"
    return "?"


def _field(gen: np.random.Generator, depth: int = 0) -> str:
    r = gen.random()
    if r < 0.7 or depth > 0:
        return _atom(gen) + _quantifier(gen)
    if r < 0.85:
        a, b = _atom(gen), _atom(gen)
        while b == a:
            b = _atom(gen)
        qa, qb = _quantifier(gen, bounded=True), _quantifier(gen, bounded=True)
        # a repeated group of repeated atoms could backtrack badly: only single characters repeat as a group
        return f"({a}{qa}|{b}{qb})" + ("" if qa or qb or gen.random() < 0.4 else _quantifier(gen))
    return "(" + "".join(_field(gen, depth + 1) for _ in range(int(gen.integers(1, 3)))) + ")?"


def sample_regex(seed: int, key: str) -> str:
    """One regex of 1-5 fields, drawn from the generator of (seed, key)."""
    gen = rng(seed, _STAGE, "regex_sampler", key)
    return "".join(_field(gen) for _ in range(int(gen.choice(5, p=_FIELDS)) + 1))


def sampled_regexes(count: int, seed: int) -> list[tuple[str, str]]:
    """(key, regex) for keys `sampled/0` ... `sampled/<count-1>`, repeats of an earlier regex left out."""
    seen: set[str] = set()
    out = []
    for i in range(count):
        key = f"sampled/{i}"
        pattern = sample_regex(seed, key)
        if pattern not in seen:
            seen.add(pattern)
            out.append((key, pattern))
    return out
