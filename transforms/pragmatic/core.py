"""Pragmatic examples without Beam: build a task (target, alternatives, candidate inputs), run it, choose.

    >>> task = python_task("he/1", "he/1", "def inc(x: int):\\n    return x + 1\\n", "inc", None, max_alt=8, max_cand=6, seed=0)
    >>> ex = choose(task, execute(task), k=2, seed=0)
    >>> ex.domain, ex.p_target_pragmatic >= ex.p_target_random
    ('python', True)

A task is domain-agnostic: programs are Python sources (a regex becomes a one-line matcher program), inputs
are argument-tuple reprs, and the cell value is what the sandbox returned. Output equality: a Python cell is
its canonical return value or the type of the exception it raised; a regex cell is full match or not (an
error or timeout counts as "no", as in the paper). A sandbox failure (timeout, crash, output limit) in an
alternative's cell makes it disagree with everything; in the target's cell it makes that input unusable.
The entry point of a program without one is its first public top-level function taking arguments.
"""

from __future__ import annotations

import ast
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from skillseq.rng import rng
from skillseq.sandbox import Call, Outcome, run_batch
from skillseq.transforms.pragmatic import python_domain, rsa
from skillseq.transforms.pragmatic.mutants import mutants
from skillseq.transforms.pragmatic.regex_domain import (
    Unsupported,
    candidates,
    equivalent_to,
    regex_mutants,
    regex_program,
)

STAGE = "pragmatic"
_GIVEN = {"tests", "docstring", "teacher"}  # input sources that are examples, not draws


@dataclass(frozen=True)
class Task:
    id: str
    source_id: str
    domain: str
    target: str  # the program as the record shows it (source code, or the regex)
    programs: list[str]  # runnable sources, target first
    entry_point: str
    inputs: list[str]  # argument tuple reprs
    shown_inputs: list[str]  # how each input is shown in an example
    input_sources: list[str] = field(default_factory=list)  # where each input came from
    alternative_sources: list[str] = field(default_factory=list)  # where each alternative came from
    keep: int = 0  # at most this many usable inputs are kept, in order (0: all)
    deliberate: frozenset[str] = frozenset()  # exceptions the target raises on purpose
    equivalent: list[bool | None] = field(default_factory=list)  # per alternative, when known (regex)


@dataclass(frozen=True)
class Drop:
    """An expected reject: short reason code and detail."""

    reason: str
    detail: str = ""


@dataclass(frozen=True)
class Choice:
    domain: str
    examples: list[tuple[str, str]]
    num_alternatives: int
    num_candidates: int
    p_target_pragmatic: float
    p_target_random: float
    input_sources: dict[str, int] = field(default_factory=dict)  # usable candidates per source
    alternative_sources: dict[str, int] = field(default_factory=dict)  # distinct behaviours per source
    distinguishable: bool | None = None  # told apart from every non-equivalent alternative (None: unknown)


def infer_entry_point(code: str) -> str | None:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_") and node.args.args:
            return node.name
    return None


def _subset(items: list, limit: int, gen: np.random.Generator) -> list:
    if len(items) <= limit:
        return items
    keep = np.sort(gen.choice(len(items), size=limit, replace=False))
    return [items[i] for i in keep]


def python_task(
    record_id,
    source_id,
    code,
    entry_point,
    tests,
    max_alt: int,
    max_cand: int,
    seed: int,
    *,
    alternatives=("mutants",),
    input_sources=python_domain.SOURCES,
    teacher_inputs=(),
    teacher_alternatives=(),
    context=None,
):
    """A Task for a Python program, or a Drop saying why there is none.

    `context` (code the program needs, e.g. the names of the module it was cut from) runs before the target
    and every alternative in the sandbox.

    Alternatives: mutants (a seeded subset) and the teacher's implementations, at most `max_alt` in all.
    Inputs: up to 2 x `max_cand` candidates in source order (`python_domain.candidate_inputs`); execution
    keeps at most `max_cand` on which the target returns or raises one of its own exceptions (`usable_inputs`).
    """
    entry_point = entry_point or infer_entry_point(code)
    if not entry_point:
        return Drop("no_entry_point", "no public top-level function with arguments")
    try:
        found = mutants(code) if "mutants" in alternatives else []
    except (SyntaxError, ValueError, RecursionError) as e:
        return Drop("parse_error", f"{type(e).__name__}: {e}")
    written = [aliased(t, entry_point) for t in teacher_alternatives] if "teacher" in alternatives else []
    written = [t for t in dict.fromkeys(written) if t and t != code][:max_alt]
    found = _subset(found, max_alt - len(written), rng(seed, STAGE, record_id, "alternatives"))
    if not found and not written:
        return Drop(
            "no_alternatives",
            "no mutation site" + (" and no teacher implementation" if "teacher" in alternatives else ""),
        )
    seeds = {s: int(rng(seed, STAGE, record_id, "inputs", s).integers(2**31)) for s in python_domain.SOURCES}
    inputs, sources = python_domain.candidate_inputs(
        code, entry_point, tests, 2 * max_cand, seeds, teacher_inputs, only=input_sources
    )
    if not inputs:
        return Drop("no_candidate_inputs", "no source gave an argument list the function accepts")
    return Task(
        record_id,
        source_id,
        "python",
        code,
        [(context.rstrip() + "\n" if context else "") + p for p in (code, *found, *written)],
        entry_point,
        inputs,
        inputs,
        input_sources=sources,
        alternative_sources=["mutants"] * len(found) + ["teacher"] * len(written),
        keep=max_cand,
        deliberate=python_domain.raised_names(code),
    )


def aliased(code: str, entry_point: str) -> str | None:
    """A teacher's implementation made callable as `entry_point`: its first top-level function, renamed by an
    alias when it has another name; None when it does not parse or defines no function."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError):
        return None
    names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    if not names:
        return None
    code = code.rstrip() + "\n"
    return code if entry_point in names else f"{code}\n{entry_point} = {names[0]}\n"


def regex_task(record_id, source_id, pattern, max_alt: int, max_cand: int, seed: int, boundaries: bool = True):
    try:
        alternatives = regex_mutants(pattern)
        strings, sources = candidates(pattern, max_cand, rng(seed, STAGE, record_id, "strings"), boundaries)
    except Unsupported as e:
        return Drop("unsupported_regex", str(e))
    if not alternatives:
        return Drop("no_alternatives", "no mutation site")
    alternatives = _subset(alternatives, max_alt, rng(seed, STAGE, record_id, "alternatives"))
    programs = [regex_program(p) for p in [pattern, *alternatives]]
    return Task(
        record_id,
        source_id,
        "regex",
        pattern,
        programs,
        "match",
        [repr((s,)) for s in strings],
        strings,
        input_sources=sources,
        alternative_sources=["mutants"] * len(alternatives),
        equivalent=equivalent_to(pattern, alternatives),
    )


def _run_target(task: Task, limits) -> list[Outcome]:
    """The target on every input. A timeout makes the sandbox skip that program's later calls: those are
    run again in a fresh batch (a few rounds at most), so one slow input does not cost all that follow. A call
    its own timer could not stop (the child was killed) costs the most, so the target is done, and the inputs
    it has not run stay skipped, once it hangs before returning on any input (it hangs whatever the input, as
    far as is known) or hangs a second time."""
    outcomes = run_batch(task.programs[:1], [Call(0, task.entry_point, a) for a in task.inputs], limits).outcomes
    for _ in range(3):
        skipped = [u for u, o in enumerate(outcomes) if o.status == "skipped"]
        if not skipped:
            break
        hung, ran = sum(o.hung for o in outcomes), any(o.status in ("ok", "raised") for o in outcomes)
        if hung >= 2 or (hung and not ran):
            why = "the program hung twice" if hung >= 2 else "the program hung before returning on any input"
            for u in skipped:
                outcomes[u] = Outcome("skipped", why)
            break
        again = run_batch(task.programs[:1], [Call(0, task.entry_point, task.inputs[u]) for u in skipped], limits)
        for u, o in zip(skipped, again.outcomes, strict=True):
            outcomes[u] = o
    return outcomes


def usable_inputs(task: Task, target: list[Outcome]) -> list[int]:
    """Inputs kept for the matrix: where the target returned, or raised an exception it raises on purpose
    (regex: all, since an error means "no match"); at most `task.keep` of them, those someone wrote down
    (tests, docstring, teacher) before those drawn (signature, body, objects, probe), and of those drawn, the ones
    where the target returned before those where it raised, and within each the first input with each distinct
    outcome before repeats, each in order."""
    if task.domain == "regex":
        usable = list(range(len(task.inputs)))
    else:
        usable = [u for u, o in enumerate(target) if o.ok or (o.status == "raised" and o.value in task.deliberate)]
    if not task.keep or len(usable) <= task.keep:
        return usable
    given = [u for u in usable if task.input_sources and task.input_sources[u] in _GIVEN][: task.keep]
    first_of: dict = {}  # the first input with each outcome of the target: it takes another path
    for u in usable:
        first_of.setdefault(target[u][:2], u)
    first = set(first_of.values())
    drawn = sorted((u for u in usable if u not in given), key=lambda u: (not target[u].ok, u not in first))
    return sorted(given + drawn[: task.keep - len(given)])


def execute(task: Task, limits=None) -> list[list[Outcome]]:
    """outcomes[h][u] for every program h (target first) on every input u, from two sandbox batches.

    The target runs first; alternatives then run only on the usable inputs (`usable_inputs`), each call
    limited to 0.05 s + 10x the target's time on that input (never more than the configured call limit),
    so a mutant that loops forever costs little.
    """
    target = _run_target(task, limits)
    usable = usable_inputs(task, target)
    calls = [
        Call(h, task.entry_point, task.inputs[u], 0.05 + 10 * target[u].seconds)
        for h in range(len(task.programs) - 1)
        for u in usable
    ]
    flat = run_batch(task.programs[1:], calls, limits).outcomes if calls else []
    outcomes = [target]
    for h in range(len(task.programs) - 1):
        row = [Outcome("skipped", "not a usable input")] * len(task.inputs)
        for j, u in enumerate(usable):
            row[u] = flat[h * len(usable) + j]
        outcomes.append(row)
    return outcomes


def _cell(domain: str, o: Outcome, h: int, u: int) -> str:
    if domain == "regex":
        return "True" if o.ok and o.value == "True" else "False"
    if o.status == "ok":
        return o.value
    if o.status == "raised":
        return f"raises {o.value}"
    return f"\0{o.status}:{h}:{u}"  # a sandbox failure agrees with nothing


def target_failure(task: Task, outcomes: list[list[Outcome]]) -> Drop | None:
    """Why the target is unusable, if it is: it failed to load, or gave no value on any input."""
    target = outcomes[0]
    if all(o.status == "load_error" for o in target):
        return Drop("target_load_error", target[0].value)
    if task.domain == "python" and not any(o.ok for o in target):
        statuses = sorted({f"{o.status}:{o.value}" if o.status == "raised" else o.status for o in target})
        reason = (
            "sandbox_timeout" if {"timeout", "aborted"} & {o.status for o in target} else "target_fails_all_inputs"
        )
        return Drop(reason, ", ".join(statuses)[:500])
    return None


def _first_columns(codes: np.ndarray) -> np.ndarray:
    """Indices of the first column of each distinct behaviour, in order (the target, column 0, first)."""
    _, first = np.unique(codes.T, axis=0, return_index=True)
    return np.sort(first)


def _ran(outcomes: list[Outcome], index) -> bool:
    return any(outcomes[u].status in ("ok", "raised") for u in index)


def choose(
    task: Task, outcomes: list[list[Outcome]], k: int, seed: int, recursion: str = "s1", selection: str = "pragmatic"
) -> Choice | Drop:
    """Pragmatic (RSA) and random examples for the task; P_L0(h*) of k of each.

    The examples shown are the pragmatic ones, or with `selection="random"` as many (the speaker stops early
    once the target is singled out) drawn at random from the same usable candidates, in the order drawn: the
    first of the k random draws that `p_target_random` measures.

    Columns: the target, every mutant, and each teacher implementation that ran (returned or raised) on some
    usable input; programs with the same behaviour on the usable inputs are merged (first one kept).
    """
    failed = target_failure(task, outcomes)
    if failed:
        return failed
    index = usable_inputs(task, outcomes[0])
    if not index:
        return Drop("no_candidate_inputs", "the target gives no value on any candidate")
    sources = ["target", *(task.alternative_sources or ["mutants"] * (len(task.programs) - 1))]
    columns = [h for h in range(len(outcomes)) if sources[h] != "teacher" or _ran(outcomes[h], index)]
    cells = np.array([[_cell(task.domain, outcomes[h][u], h, u) for h in columns] for u in index])
    _, codes = np.unique(cells, return_inverse=True)
    codes = codes.reshape(len(index), -1)
    keep = _first_columns(codes)
    codes, target = codes[:, keep], 0
    M = rsa.consistency(codes, target)
    chosen = rsa.select_examples(M, target, k, rng(seed, STAGE, task.id, "select"), recursion=recursion)
    randomly = rsa.random_examples(len(index), k, rng(seed, STAGE, task.id, "random"))
    if selection not in ("pragmatic", "random"):
        raise ValueError(f"unknown selection {selection!r}: pragmatic or random")
    shown = chosen if selection == "pragmatic" else randomly[: len(chosen)]
    return Choice(
        domain=task.domain,
        examples=[(task.shown_inputs[index[u]], cells[u, 0]) for u in shown],
        num_alternatives=M.shape[1] - 1,
        num_candidates=len(index),
        p_target_pragmatic=rsa.p_target(M, chosen, target),
        p_target_random=rsa.p_target(M, randomly, target),
        input_sources=dict(Counter(task.input_sources[u] for u in index)) if task.input_sources else {},
        alternative_sources=dict(Counter(sources[columns[h]] for h in keep[1:])),
        distinguishable=_distinguishable(task, cells, columns),
    )


def _distinguishable(task: Task, cells: np.ndarray, columns: list[int]) -> bool | None:
    """Whether every alternative known not to be equivalent to the target differs from it on some candidate;
    None when equivalence is unknown for some alternative (Python programs, regexes outside the checker)."""
    if not task.equivalent or any(e is None for e in task.equivalent):
        return None
    differs = (cells != cells[:, [0]]).any(axis=0)
    return all(differs[j] for j, h in enumerate(columns) if h > 0 and not task.equivalent[h - 1])
