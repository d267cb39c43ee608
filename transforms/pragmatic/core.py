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
from dataclasses import dataclass

import numpy as np

from skillseq.rng import rng
from skillseq.sandbox import Call, Outcome, run_batch
from skillseq.transforms.pragmatic import rsa
from skillseq.transforms.pragmatic.mutants import mutants
from skillseq.transforms.pragmatic.python_domain import inputs_from_tests, signature_inputs
from skillseq.transforms.pragmatic.regex_domain import Unsupported, candidate_strings, regex_mutants, regex_program

STAGE = "pragmatic"


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


def python_task(record_id, source_id, code, entry_point, tests, max_alt: int, max_cand: int, seed: int):
    """A Task for a Python program, or a Drop saying why there is none."""
    entry_point = entry_point or infer_entry_point(code)
    if not entry_point:
        return Drop("no_entry_point", "no public top-level function with arguments")
    try:
        alternatives = mutants(code)
    except (SyntaxError, ValueError, RecursionError) as e:
        return Drop("parse_error", f"{type(e).__name__}: {e}")
    if not alternatives:
        return Drop("no_alternatives", "no mutation site")
    alternatives = _subset(alternatives, max_alt, rng(seed, STAGE, record_id, "alternatives"))
    inputs = inputs_from_tests(tests, entry_point)[:max_cand]
    if len(inputs) < max_cand:
        drawn = signature_inputs(code, entry_point, max_cand, int(rng(seed, STAGE, record_id).integers(2**31)), inputs)
        inputs += [a for a in drawn if a not in inputs][: max_cand - len(inputs)]
    if not inputs:
        return Drop("no_candidate_inputs", "no literal test calls and no usable signature")
    return Task(record_id, source_id, "python", code, [code, *alternatives], entry_point, inputs, inputs)


def regex_task(record_id, source_id, pattern, max_alt: int, max_cand: int, seed: int):
    try:
        alternatives = regex_mutants(pattern)
        strings = candidate_strings(pattern, max_cand, rng(seed, STAGE, record_id, "strings"))
    except Unsupported as e:
        return Drop("unsupported_regex", str(e))
    if not alternatives:
        return Drop("no_alternatives", "no mutation site")
    alternatives = _subset(alternatives, max_alt, rng(seed, STAGE, record_id, "alternatives"))
    programs = [regex_program(p) for p in [pattern, *alternatives]]
    return Task(record_id, source_id, "regex", pattern, programs, "match", [repr((s,)) for s in strings], strings)


def execute(task: Task, limits=None) -> list[list[Outcome]]:
    """outcomes[h][u] for every program h (target first) on every input u, from two sandbox batches.

    The target runs first; alternatives then run only on inputs where the target finished, each call
    limited to 0.05 s + 10x the target's time on that input (never more than the configured call limit),
    so a mutant that loops forever costs little.
    """
    target = run_batch(task.programs[:1], [Call(0, task.entry_point, a) for a in task.inputs], limits).outcomes
    usable = [u for u, o in enumerate(target) if o.status in ("ok", "raised")]
    calls = [
        Call(h, task.entry_point, task.inputs[u], 0.05 + 10 * target[u].seconds)
        for h in range(len(task.programs) - 1)
        for u in usable
    ]
    flat = run_batch(task.programs[1:], calls, limits).outcomes if calls else []
    outcomes = [target]
    for h in range(len(task.programs) - 1):
        row = [Outcome("skipped", "target failed on this input")] * len(task.inputs)
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


def choose(task: Task, outcomes: list[list[Outcome]], k: int, seed: int, recursion: str = "s1") -> Choice | Drop:
    """Pragmatic (RSA) and random examples for the task; P_L0(h*) of each."""
    failed = target_failure(task, outcomes)
    if failed:
        return failed
    cells = np.array(
        [[_cell(task.domain, outcomes[h][u], h, u) for h in range(len(outcomes))] for u in range(len(task.inputs))]
    )
    usable = np.array([not c.startswith("\0") for c in cells[:, 0]])
    if not usable.any():
        return Drop("no_candidate_inputs", "the target gives no value on any candidate")
    index = np.flatnonzero(usable)
    _, codes = np.unique(cells[index], return_inverse=True)
    codes, target = rsa.collapse_columns(codes.reshape(len(index), -1), 0)
    M = rsa.consistency(codes, target)
    chosen = rsa.select_examples(M, target, k, rng(seed, STAGE, task.id, "select"), recursion=recursion)
    randomly = rsa.random_examples(len(index), k, rng(seed, STAGE, task.id, "random"))
    return Choice(
        domain=task.domain,
        examples=[(task.shown_inputs[index[u]], cells[index[u], 0]) for u in chosen],
        num_alternatives=M.shape[1] - 1,
        num_candidates=len(index),
        p_target_pragmatic=rsa.p_target(M, chosen, target),
        p_target_random=rsa.p_target(M, randomly, target),
    )
