r"""The regex domain of the paper: target regexes, their mutants, and candidate strings.

A regex is read with the standard library's parser (`re._parser`, formerly `sre_parse`) into a small tree
of ("lit", c) ("notlit", c) ("any",) ("class", text) ("repeat", lo, hi, lazy, seq) ("group", seq)
("branch", [seq]) ("at", text) nodes, which can be printed back (`unparse`), mutated (`regex_mutants`)
and sampled from (`sample_positive`).

    >>> unparse(parse(r"(ab|c)+\d{2,3}"))
    '(?:ab|c)+\\d{2,3}'
    >>> import numpy as np; s = sample_positive(parse(r"[a-c]{3}x"), np.random.default_rng(0)); len(s), s[-1]
    (4, 'x')

Candidate strings follow the paper's reference: 1-15 printable ASCII characters without whitespace;
positives sampled from the target's language, near-misses (one character deleted, inserted or replaced in
a positive), and random strings. Shortcuts: groups are printed non-capturing, backreferences, lookarounds
and flags are unsupported (such regexes are rejected), repeats are sampled at most 3 beyond their minimum.

Labels are full matches computed in the sandbox (Python's `re` has no timeout, the sandbox gives one):

    >>> fullmatch_matrix([r"a+", r"b"], ["aa", "b"]).tolist()
    [[True, False], [False, True]]

Rows are strings, columns patterns. A pattern that does not compile, raises, or runs past the per-call time
limit (1 s by default, as in the paper's reference) labels the string "no"; after its first timeout a
pattern's remaining strings are skipped (also "no") so one catastrophic pattern costs one timeout.
"""

from __future__ import annotations

import functools
import re

import interegular
import numpy as np

from skillseq.sandbox import BatchResult, Call, run_batch

try:
    from re import _constants as C
    from re import _parser as sre_parse
except ImportError:  # Python < 3.11
    import sre_constants as C
    import sre_parse

PRINTABLE = [chr(c) for c in range(33, 127)]
_CATS = {
    C.CATEGORY_DIGIT: r"\d",
    C.CATEGORY_NOT_DIGIT: r"\D",
    C.CATEGORY_WORD: r"\w",
    C.CATEGORY_NOT_WORD: r"\W",
    C.CATEGORY_SPACE: r"\s",
    C.CATEGORY_NOT_SPACE: r"\S",
}
_AT = {C.AT_BEGINNING: "^", C.AT_END: "$", C.AT_BEGINNING_STRING: r"\A", C.AT_END_STRING: r"\Z"}
_CLASS_MENU = [r"\d", r"[a-z]", r"[A-Z]", r"\w", r"[a-zA-Z]", r"[0-9a-f]", "."]
_REPRESENTATIVES = "0aA_.-"  # one character of each kind: digit, lower, upper, underscore, punctuation


class Unsupported(ValueError):
    pass


def _esc(c: int) -> str:
    return re.escape(chr(c))


def _class_text(items) -> str:
    if len(items) == 1 and items[0][0] == C.CATEGORY:
        return _CATS[items[0][1]]
    parts = []
    for op, av in items:
        if op == C.NEGATE:
            parts.insert(0, "^")
        elif op == C.LITERAL:
            parts.append(_esc(av))
        elif op == C.RANGE:
            parts.append(f"{_esc(av[0])}-{_esc(av[1])}")
        elif op == C.CATEGORY:
            parts.append(_CATS[av])
        else:
            raise Unsupported(str(op))
    return "[" + "".join(parts) + "]"


def _tree(sub) -> list:
    out = []
    for op, av in sub:
        if op == C.LITERAL:
            out.append(("lit", chr(av)))
        elif op == C.NOT_LITERAL:
            out.append(("notlit", chr(av)))
        elif op == C.ANY:
            out.append(("any",))
        elif op == C.IN:
            out.append(("class", _class_text(av)))
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT):
            lo, hi, inner = av
            out.append(("repeat", lo, None if hi == C.MAXREPEAT else hi, op == C.MIN_REPEAT, _tree(inner)))
        elif op == C.SUBPATTERN:
            if av[1] or av[2]:
                raise Unsupported("inline flags")
            out.append(("group", _tree(av[3])))
        elif op == C.BRANCH:
            out.append(("branch", [_tree(b) for b in av[1]]))
        elif op == C.AT and av in _AT:
            out.append(("at", _AT[av]))
        else:
            raise Unsupported(str(op))
    return out


def parse(pattern: str) -> list:
    """The node tree of a regex; raises Unsupported (a ValueError) for features outside the domain."""
    try:
        return _tree(sre_parse.parse(pattern))
    except re.error as e:
        raise Unsupported(str(e)) from None


def _atom(node) -> str:
    text = unparse([node])
    simple = node[0] in ("lit", "notlit", "any", "class", "group") and not (node[0] == "lit" and len(text) > 2)
    return text if simple else f"(?:{text})"


def unparse(seq: list) -> str:
    out = []
    for node in seq:
        kind = node[0]
        if kind == "lit":
            out.append(re.escape(node[1]))
        elif kind == "notlit":
            out.append(f"[^{re.escape(node[1])}]")
        elif kind == "any":
            out.append(".")
        elif kind in ("class", "at"):
            out.append(node[1])
        elif kind == "group":
            out.append(f"(?:{unparse(node[1])})")
        elif kind == "branch":
            out.append("|".join(unparse(b) for b in node[1]) if len(seq) == 1 else _group_branch(node))
        elif kind == "repeat":
            _, lo, hi, lazy, inner = node
            body = _atom(inner[0]) if len(inner) == 1 else f"(?:{unparse(inner)})"
            q = {(0, None): "*", (1, None): "+", (0, 1): "?"}.get((lo, hi))
            q = q or (f"{{{lo}}}" if lo == hi else f"{{{lo},}}" if hi is None else f"{{{lo},{hi}}}")
            out.append(body + q + ("?" if lazy else ""))
    return "".join(out)


def _group_branch(node) -> str:
    return "(?:" + "|".join(unparse(b) for b in node[1]) + ")"


def _variants(node) -> list:
    """Single-point replacements of one node (None = delete it)."""
    kind = node[0]
    out: list = [None]
    if kind == "lit":
        c = node[1]
        out += [("lit", chr(ord(c) + 1)) if ord(c) < 126 else ("lit", "a"), ("any",)]
    elif kind == "class":
        out += [("class", t) for t in _CLASS_MENU if t != node[1]]
    elif kind == "any":
        out += [("class", r"\w")]
    elif kind == "repeat":
        _, lo, hi, lazy, inner = node
        bounds = {(lo + 1, hi if hi is None or hi > lo else lo + 1), (max(lo - 1, 0), hi), (lo, None)}
        if hi is not None:
            bounds |= {(lo, hi + 1), (lo, max(hi - 1, lo))}
        out += [("repeat", a, b, lazy, inner) for a, b in sorted(bounds, key=str) if (a, b) != (lo, hi)]
        out += [("group", inner)]
        out += [("repeat", lo, hi, lazy, m) for m in _seq_mutants(inner)]
    elif kind == "group":
        out += [("group", m) for m in _seq_mutants(node[1])]
    elif kind == "branch":
        alts = node[1]
        out += [("branch", alts[:i] + alts[i + 1 :]) for i in range(len(alts)) if len(alts) > 1]
        out += [("branch", alts[:i] + [m] + alts[i + 1 :]) for i, a in enumerate(alts) for m in _seq_mutants(a)]
    return out


def _seq_mutants(seq: list) -> list[list]:
    out = []
    for i, node in enumerate(seq):
        for new in _variants(node):
            out.append(seq[:i] + ([] if new is None else [new]) + seq[i + 1 :])
    return out


def regex_mutants(pattern: str) -> list[str]:
    """Distinct compilable single-point mutants of `pattern` (never the pattern itself), in a fixed order."""
    seen, out = {pattern, unparse(parse(pattern))}, []
    for seq in _seq_mutants(parse(pattern)):
        text = unparse(seq)
        if text and text not in seen:
            seen.add(text)
            try:
                re.compile(text)
            except re.error:
                continue
            out.append(text)
    return out


def _allowed(class_text: str) -> list[str]:
    rx = re.compile(class_text)
    return [c for c in PRINTABLE if rx.fullmatch(c)]


def _sample(seq: list, rng: np.random.Generator, out: list[str]) -> None:
    for node in seq:
        kind = node[0]
        if kind == "lit":
            out.append(node[1])
        elif kind == "notlit":
            out.append(str(rng.choice([c for c in PRINTABLE if c != node[1]])))
        elif kind == "any":
            out.append(str(rng.choice(PRINTABLE)))
        elif kind == "class":
            chars = _allowed(node[1])
            if not chars:
                raise Unsupported("empty class")
            out.append(str(rng.choice(chars)))
        elif kind == "group":
            _sample(node[1], rng, out)
        elif kind == "branch":
            _sample(node[1][int(rng.integers(len(node[1])))], rng, out)
        elif kind == "repeat":
            _, lo, hi, _, inner = node
            top = lo + 3 if hi is None else min(hi, lo + 3)
            for _ in range(int(rng.integers(lo, top + 1))):
                _sample(inner, rng, out)


def sample_positive(tree: list, rng: np.random.Generator) -> str:
    out: list[str] = []
    _sample(tree, rng, out)
    return "".join(out)


def random_string(rng: np.random.Generator) -> str:
    return "".join(rng.choice(PRINTABLE, size=int(rng.integers(1, 16))))


def near_miss(s: str, rng: np.random.Generator) -> str:
    i = int(rng.integers(len(s) + 1))
    edit = int(rng.integers(3))
    c = str(rng.choice(PRINTABLE))
    if edit == 0 and s:
        return s[: min(i, len(s) - 1)] + s[min(i, len(s) - 1) + 1 :]
    if edit == 1 or not s:
        return s[:i] + c + s[i:]
    j = min(i, len(s) - 1)
    return s[:j] + c + s[j + 1 :]


def _default(node) -> str:
    """The plainest string a node matches: first branch, first allowed character, repeats once (or lo times)."""
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "notlit":
        return next(c for c in PRINTABLE if c != node[1])
    if kind == "any":
        return "a"
    if kind == "class":
        chars = _allowed(node[1])
        if not chars:
            raise Unsupported("empty class")
        return chars[0]
    if kind == "group":
        return _default_seq(node[1])
    if kind == "branch":
        return _default_seq(node[1][0])
    if kind == "repeat":
        _, lo, hi, _, inner = node
        return _default_seq(inner) * _default_count(lo, hi)
    return ""


def _default_seq(seq: list) -> str:
    return "".join(_default(n) for n in seq)


def _default_count(lo: int, hi: int | None) -> int:
    return lo if lo > 0 else 1 if hi is None or hi >= 1 else 0


def _edges(class_text: str) -> list[str]:
    """A class's edge characters (allowed, next to one that is not) and the characters just outside; then one
    character of each kind (digit, lower, upper, underscore, punctuation) that it leaves out, since a near
    miss swaps in a neighbouring class (\\w for [A-Za-z], [0-9a-f] for \\d)."""
    allowed = set(_allowed(class_text))
    out = []
    for i, c in enumerate(PRINTABLE):
        near = PRINTABLE[max(i - 1, 0) : i + 2]
        if any((d in allowed) != (c in allowed) for d in near):
            out.append(c)
    return list(dict.fromkeys(out + [c for c in _REPRESENTATIVES if c not in allowed]))


def _node_boundaries(node) -> list[str]:
    """Strings for this node alone that sit on its boundaries (the rest of the regex stays at its default)."""
    kind = node[0]
    if kind == "class":
        return _edges(node[1])
    if kind == "lit":  # a class of one character
        return [c for c in _edges(re.escape(node[1])) if c != node[1]][:3]
    if kind == "notlit":
        i = PRINTABLE.index(node[1]) if node[1] in PRINTABLE else 0
        return [node[1], *PRINTABLE[max(i - 1, 0) : i], *PRINTABLE[i + 1 : i + 2]]
    if kind == "group":
        return boundary_strings(node[1])
    if kind == "branch":
        return [s for b in node[1] for s in [_default_seq(b), *boundary_strings(b)]]
    if kind == "repeat":
        _, lo, hi, _, inner = node
        counts = [lo - 1, lo, lo + 1, lo + 2] if hi is None else [lo - 1, lo, hi, hi + 1]
        one, n = _default_seq(inner), _default_count(lo, hi)
        out = [one * c for c in dict.fromkeys(counts) if c >= 0]
        return out + [one * (n - 1) + v for v in boundary_strings(inner)] if n else out
    return []


def boundary_strings(seq: list) -> list[str]:
    """Each site varied on its own: quantifiers at their bounds and one past ({n,m}: n-1, n, m, m+1; * + ?:
    0, 1, 2), optional parts present and absent, each alternation branch, each class's edge characters and
    those just outside (a literal is a class of one); everything else at its default.

        >>> boundary_strings(parse(r"[b-c]x{1,2}"))
        ['ax', 'bx', 'cx', 'dx', '0x', 'Ax', '_x', '.x', '-x', 'b', 'bxx', 'bxxx', 'bw', 'by', 'b0']
    """
    defaults = [_default(n) for n in seq]
    out: list[str] = []
    for i, node in enumerate(seq):
        head, tail = "".join(defaults[:i]), "".join(defaults[i + 1 :])
        out += [head + v + tail for v in _node_boundaries(node)]
    return list(dict.fromkeys(out))


def candidates(pattern: str, n: int, rng: np.random.Generator, boundaries: bool = True) -> tuple[list[str], list[str]]:
    """Up to n distinct strings (1-15 chars, no whitespace) and where each came from: boundary strings
    (`boundary_strings`, at most 3n/4, a seeded subset when there are more), then positives sampled from
    the language (n/2 in all, or n/8 more), near-misses of them (3n/4 in all, or n/16 more), and random
    strings up to n. `boundaries=False` leaves the boundary strings out (the sampling alone, for comparison)."""
    tree, rx = parse(pattern), re.compile(pattern)
    out: list[str] = []
    sources: list[str] = []

    def add(s: str, source: str) -> None:
        if 1 <= len(s) <= 15 and not any(c.isspace() for c in s) and s not in out:
            out.append(s)
            sources.append(source)

    edges = [s for s in boundary_strings(tree) if 1 <= len(s) <= 15 and not any(c.isspace() for c in s)]
    edges = edges if boundaries else []
    for s in _spread(edges, (3 * n) // 4, rng):
        add(s, "boundary")
    positives = []
    goal = max(n // 2, len(out) + n // 8)
    for _ in range(4 * n):
        if len(out) >= goal:
            break
        s = sample_positive(tree, rng)
        if 1 <= len(s) <= 15 and rx.fullmatch(s) and s not in positives:
            positives.append(s)
            add(s, "positive")
    goal = max((3 * n) // 4, len(out) + n // 16)
    for _ in range(4 * n):
        if len(out) >= goal or not positives:
            break
        add(near_miss(positives[int(rng.integers(len(positives)))], rng), "near_miss")
    for _ in range(4 * n):
        if len(out) >= n:
            break
        add(random_string(rng), "random")
    return out[:n], sources[:n]


def _spread(items: list, limit: int, rng: np.random.Generator) -> list:
    if len(items) <= limit:
        return items
    return [items[i] for i in np.sort(rng.choice(len(items), size=limit, replace=False))]


def candidate_strings(pattern: str, n: int, rng: np.random.Generator) -> list[str]:
    """The strings of `candidates`, without their sources."""
    return candidates(pattern, n, rng)[0]


_UNIVERSE = r"[!-~]{1,15}"  # the candidate space: 1-15 printable ASCII characters without whitespace


def equivalent_to(pattern: str, alternatives: list[str]) -> list[bool | None]:
    """Per alternative: whether it accepts exactly the target's strings within the candidate space (finite
    automata, `interegular`); None where a regex is outside what the automaton builder reads. Answers are
    remembered (the automata are most of a regex task's cost; a rerun on the same targets reuses them)."""
    return list(_equivalent_to(pattern, tuple(alternatives)))


@functools.lru_cache(maxsize=4096)
def _equivalent_to(pattern: str, alternatives: tuple[str, ...]) -> tuple[bool | None, ...]:
    try:
        universe = interegular.parse_pattern(_UNIVERSE).to_fsm()
        target = interegular.parse_pattern(pattern).to_fsm().intersection(universe)
    except Exception:  # interegular raises its own assorted errors on syntax it does not read
        return (None,) * len(alternatives)
    out = []
    for alt in alternatives:
        try:
            out.append(bool(interegular.parse_pattern(alt).to_fsm().intersection(universe).equivalent(target)))
        except Exception:
            out.append(None)
    return tuple(out)


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
