"""Pragmatic examples: the Python and regex domains, the core on HumanEval, and the Beam stage end to end."""

import re

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing import test_pipeline
from apache_beam.testing.util import assert_that, equal_to

from skillseq.config import Config, PragmaticConfig, SandboxConfig
from skillseq.context import RunContext
from skillseq.sandbox import Outcome, run_batch
from skillseq.schema import PragmaticExample, Program
from skillseq.transforms.pragmatic import PragmaticExamples, core, shipped_regexes
from skillseq.transforms.pragmatic.mutants import mutants
from skillseq.transforms.pragmatic.python_domain import inputs_from_tests, signature_inputs
from skillseq.transforms.pragmatic.regex_domain import candidate_strings, parse, regex_mutants, unparse
from skillseq.transforms.programs import seed_program
from skillseq.transforms.seeds import humaneval_seeds

LIMITS = SandboxConfig(call_timeout_s=0.5, batch_timeout_s=30)
HUMANEVAL = {seed.id: seed for seed in humaneval_seeds()}


def _program(key: str) -> Program:
    return seed_program(HUMANEVAL[key])


def test_mutants_cover_each_kind_and_are_deterministic():
    code = "def f(xs, k):\n    total = 0\n    for x in xs:\n        if x > k and x != 3:\n            total += x * 2\n    return total\n"
    out = mutants(code)
    assert out == mutants(code)
    joined = "\n".join(out)
    for fragment in ("total -= x", "x >= k", "x < k", "x == 3", "x * 3", "k or x", "x // 2", "x + 2", "total = 1"):
        assert fragment in joined, fragment
    assert any("pass" in m and "return" in m for m in out)  # statement deletion
    assert len(set(out)) == len(out) and code not in out


def test_mutants_reach_strings_conditions_slices_calls_and_loops():
    code = (
        "def f(xs, s, n):\n"
        '    """Doc."""\n'
        "    out = []\n"
        "    for x in xs[1:n]:\n"
        "        if x:\n"
        "            continue\n"
        "        if not s.startswith('ab'):\n"
        "            break\n"
        "        out.append(max(x, -n))\n"
        "    return out if out else s.split(',', 1)\n"
    )
    out = mutants(code)
    joined = "\n".join(out)
    for fragment in (
        "s.split('', 1)",  # string constant emptied
        "if not x:",  # condition negated
        "return out if not out",
        "xs[:n]",  # slice bound dropped
        "xs[1:]",
        "max(-n, x)",  # arguments swapped
        "min(x, -n)",  # paired builtins and methods
        "s.endswith('ab')",
        "s.rsplit(',', 1)",
        "max(x, n)",  # unary minus removed
        "if x:\n            break",  # break and continue swapped
        "if not s.startswith('ab'):\n            continue",
    ):
        assert fragment in joined, fragment
    assert all('"""Doc."""' in m for m in out)  # a docstring is never mutated: it changes nothing


def test_mutants_include_near_misses_that_differ_on_few_inputs():
    code = (
        "def f(s, n):\n"
        "    if n > 2:\n"
        "        return s[:len(s) - n]\n"
        "    elif n == 1:\n"
        "        return s.upper()\n"
        "    else:\n"
        "        return [c for c in range(len(s))]\n"
    )
    out = mutants(code)
    for fragment in (
        "    if not s:\n        return s\n    if n > 2:",  # early return on an empty argument
        "    if not n:\n        return n\n    if n > 2:",
        "s[:len(s) - n + 1]",  # a computed slice bound off by one
        "s[:len(s) - n - 1]",
        "range(len(s) + 1)",  # a computed range stop off by one
        "range(len(s) - 1)",
        "        return s[:len(s) - n]\n    else:\n",  # the elif branch dropped
    ):
        assert any(fragment in m for m in out), fragment
    assert any(m.rstrip().endswith("return s.upper()") for m in out)  # the else branch dropped
    guard = next(m for m in out if "if not s:" in m)
    scope, target = {}, {}
    exec(guard, scope)  # our own code, not the teacher's
    exec(code, target)
    same = [(a, b) for a, b in [("abcd", 3), ("ab", 1), ("abc", 0)] if scope["f"](a, b) == target["f"](a, b)]
    assert len(same) == 3 and scope["f"]("", 0) != target["f"]("", 0)  # a near miss: only the empty input


def test_inputs_from_tests_parse_humaneval_assertions():
    inputs = inputs_from_tests(HUMANEVAL["HumanEval/0"].tests, "has_close_elements")
    assert inputs[0] == "([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3)" and len(inputs) == 7


def test_signature_inputs_follow_type_hints_and_the_seed():
    code = HUMANEVAL["HumanEval/0"].instruction
    a = signature_inputs(code, "has_close_elements", 10, seed=7)
    assert a == signature_inputs(code, "has_close_elements", 10, seed=7)
    assert a != signature_inputs(code, "has_close_elements", 10, seed=8)
    for text in a:
        xs, t = eval(text)  # our own reprs of lists of floats
        assert isinstance(xs, list) and all(isinstance(x, float) for x in xs) and isinstance(t, float)


@pytest.mark.parametrize("pattern", shipped_regexes())
def test_regex_round_trip_mutants_and_candidates(pattern):
    gen = np.random.default_rng(0)
    cands = candidate_strings(pattern, 40, gen)
    assert len(set(cands)) == len(cands) and all(1 <= len(s) <= 15 and not re.search(r"\s", s) for s in cands)
    assert any(re.fullmatch(pattern, s) for s in cands) and not all(re.fullmatch(pattern, s) for s in cands)
    printed = unparse(parse(pattern))
    assert all(bool(re.fullmatch(pattern, s)) == bool(re.fullmatch(printed, s)) for s in cands)
    muts = regex_mutants(pattern)
    assert muts and pattern not in muts
    assert any(any(bool(re.fullmatch(m, s)) != bool(re.fullmatch(pattern, s)) for s in cands) for m in muts)


def test_hand_built_task_chooses_the_separating_input():
    # Programs differ only on 5; among inputs only (5,) separates the target from every mutant.
    code = "def f(x: int):\n    if x == 5:\n        return 10\n    return 0\n"
    task = core.Task(
        "t", "t", "python", code, [code, *mutants(code)], "f", ["(1,)", "(2,)", "(5,)"], ["(1,)", "(2,)", "(5,)"]
    )
    choice = core.choose(task, core.execute(task, LIMITS), k=3, seed=0)
    assert choice.examples[0] == ("(5,)", "10")


def _mean_p(keys, recursion="s1"):
    prag, rand = [], []
    for key in keys:
        p = _program(key)
        task = core.python_task(p.id, p.id, p.code, p.entry_point, p.tests, 64, 64, seed=0)
        choice = core.choose(task, core.execute(task, LIMITS), k=3, seed=0, recursion=recursion)
        prag.append(choice.p_target_pragmatic)
        rand.append(choice.p_target_random)
    return np.mean(prag), np.mean(rand), prag


def test_humaneval_pragmatic_beats_random_at_k3():
    keys = [f"HumanEval/{i}" for i in range(0, 40, 2)]
    prag, rand, each = _mean_p(keys)
    assert prag > rand, (prag, rand)
    assert _mean_p(keys[:4])[2] == each[:4]  # deterministic given the seed


def _hostile(name, entry="attack"):
    from pathlib import Path

    code = (Path(__file__).parent / "hostile" / f"{name}.py").read_text()
    return Program(f"hostile/{name}", "hostile", code, entry_point=entry, tests="assert candidate('x') == 1\n")


def test_stage_on_a_mix_of_good_and_hostile_programs():
    cfg = PragmaticConfig(domains=["python", "regex"], regexes=[r"\d{3}", r"(ab|cd)+"], sandbox=LIMITS)
    ctx = RunContext.of(Config(seed=0, pragmatic=cfg))
    good = [_program("HumanEval/0"), _program("HumanEval/2")]
    hostile = [_hostile(n) for n in ("fork_bomb", "infinite_loop", "os_exit", "ctypes_segfault", "kill_process_group")]
    nameless = Program("no/entry", "no", "x = 1\n")
    with test_pipeline.TestPipeline() as p:
        programs = p | beam.Create(good + hostile + [nameless])
        examples, rejected = programs | PragmaticExamples(ctx)
        ids = examples | "Ids" >> beam.Map(lambda e: e.id)
        assert_that(ids, equal_to(["python:HumanEval/0", "python:HumanEval/2", "regex:regex/0", "regex:regex/1"]))
        reasons = rejected | "Reasons" >> beam.Map(lambda r: (r.id, r.reason))
        assert_that(
            reasons,
            equal_to(
                [
                    ("hostile/fork_bomb", "target_fails_all_inputs"),
                    ("hostile/infinite_loop", "sandbox_timeout"),
                    ("hostile/os_exit", "target_fails_all_inputs"),
                    ("hostile/ctypes_segfault", "target_fails_all_inputs"),
                    ("hostile/kill_process_group", "target_fails_all_inputs"),
                    ("no/entry", "no_entry_point"),
                ]
            ),
            label="RejectReasons",
        )

        def check(e: PragmaticExample):
            assert 1 <= len(e.examples) <= 3 and e.num_alternatives >= 1 and e.num_candidates >= len(e.examples)
            assert 0 < e.p_target_pragmatic <= 1 and 0 < e.p_target_random <= 1
            assert e.provenance.stage == "pragmatic"
            return e.p_target_pragmatic > 0

        assert_that(examples | "Check" >> beam.Map(check), equal_to([True] * 4), label="Informative")


def test_kept_inputs_prefer_one_of_each_outcome_of_the_target_over_repeats():
    code = "def f(x):\n    return min(x, 3)\n"
    inputs = [repr((x,)) for x in (7, 5, 4, 1, "a", 2)]
    task = core.Task(
        "t",
        "t",
        "python",
        code,
        [code],
        "f",
        inputs,
        inputs,
        ["body"] * 6,
        keep=4,
        deliberate=frozenset({"TypeError"}),
    )
    target = [Outcome("ok", "3"), Outcome("ok", "3"), Outcome("ok", "3"), Outcome("ok", "1")]
    target += [Outcome("raised", "TypeError"), Outcome("ok", "2")]
    # values before raises; within values, 3, 1 and 2 once each before a second 3
    assert core.usable_inputs(task, target) == [0, 1, 3, 5]


def _counting_batches(monkeypatch) -> list[int]:
    sizes = []

    def counted(programs, calls, limits=None):
        sizes.append(len(calls))
        return run_batch(programs, calls, limits)

    monkeypatch.setattr(core, "run_batch", counted)
    return sizes


def test_a_target_its_timer_cannot_stop_is_done_after_one_hang_when_it_never_returned(monkeypatch):
    deaf = "import signal\n\ndef f(x):\n    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n    while True:\n        pass\n"
    inputs = [repr((x,)) for x in range(6)]
    task = core.Task("t", "t", "python", deaf, [deaf, "def f(x):\n    return x\n"], "f", inputs, inputs)
    sizes = _counting_batches(monkeypatch)
    outcomes = core.execute(task, LIMITS)
    assert [o.hung for o in outcomes[0]] == [True] + [False] * 5
    assert [(o.status, o.value) for o in outcomes[0][1:]] == [
        ("skipped", "the program hung before returning on any input")
    ] * 5
    assert sizes == [6]  # the target once, its alternative never (no usable input)
    assert core.choose(task, outcomes, k=2, seed=0).reason == "sandbox_timeout"


def test_a_target_that_hangs_twice_is_done(monkeypatch):
    code = (
        "import signal\n\ndef f(x):\n    if x > 0:\n        signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
        "        while True:\n            pass\n    return x\n"
    )
    inputs = [repr((x,)) for x in range(6)]
    task = core.Task("t", "t", "python", code, [code, "def f(x):\n    return -x\n"], "f", inputs, inputs)
    sizes = _counting_batches(monkeypatch)
    target = core.execute(task, LIMITS)[0]
    assert [o.hung for o in target] == [False, True, True, False, False, False]
    assert target[0].ok
    assert [(o.status, o.value) for o in target[3:]] == [("skipped", "the program hung twice")] * 3
    assert sizes == [6, 4, 1]  # the target, its inputs after the first hang, the alternative on input 0


def test_a_target_that_hangs_on_one_input_keeps_the_others(monkeypatch):
    code = (
        "import signal\n\ndef f(x):\n    if x == 1:\n        signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
        "        while True:\n            pass\n    return x * 2\n"
    )
    inputs = [repr((x,)) for x in range(5)]
    task = core.Task("t", "t", "python", code, [code, *mutants(code)], "f", inputs, inputs)
    sizes = _counting_batches(monkeypatch)
    outcomes = core.execute(task, LIMITS)
    assert [o.value if o.ok else o.status for o in outcomes[0]] == ["0", "timeout", "4", "6", "8"]
    assert outcomes[0][1].hung
    assert sizes[:2] == [5, 3] and len(sizes) == 3  # the inputs after the hang ran again, then the mutants
    choice = core.choose(task, outcomes, k=2, seed=0)
    assert choice.num_candidates == 4 and choice.p_target_pragmatic >= choice.p_target_random


def test_sampled_regexes_follow_the_grammar_and_the_seed():
    from skillseq.transforms.pragmatic.regex_grammar import sampled_regexes

    first, again, other = sampled_regexes(200, seed=0), sampled_regexes(200, seed=0), sampled_regexes(200, seed=1)
    assert first == again and first != other
    patterns = [p for _, p in first]
    assert len(set(patterns)) == len(patterns) > 150
    atom = r"(\[\^?(A-Z|a-z|0-9|A-Za-z)\]|[A-Za-z0-9,;:_!@]|\\[^A-Za-z0-9])"
    quant = r"(\{\d\}|\{\d,\d?\}|\?)?"
    field = rf"({atom}{quant}|\({atom}{quant}\|{atom}{quant}\){quant}|\(({atom}{quant}){{1,2}}\)\?)"
    for p in patterns:
        assert re.fullmatch(rf"{field}{{1,5}}", p), p
        parse(p)  # the stage's reader takes every one
    for feature in ["[A-Z]", "[a-z]", "[0-9]", "[A-Za-z]", "[^", "|", ")?", "?", ",}", "}", "\\"]:
        assert any(feature in p for p in patterns), feature


def test_regex_sampler_config_adds_sampled_targets_keyed_by_the_run_seed():
    from skillseq.transforms.pragmatic.stage import regex_targets

    cfg = PragmaticConfig(regex_sampler={"count": 5})
    targets = regex_targets(cfg, seed=3)
    assert [k for k, _ in targets] == [f"sampled/{i}" for i in range(5)]
    assert targets == regex_targets(cfg, seed=3) != regex_targets(cfg, seed=4)
    both = regex_targets(PragmaticConfig(regexes=[r"\d{3}"], regex_sampler={"count": 2}), seed=3)
    assert both == [("regex/0", r"\d{3}"), *targets[:2]]
    assert len(regex_targets(PragmaticConfig(), seed=3)) == len(shipped_regexes())


def test_random_selection_shows_as_many_examples_drawn_from_the_same_candidates():
    patterns = [r"[A-Z]{2,}(q|z)", r"[0-9]{3}K{2,4}", r"(E|v)[A-Z]{2,}", r"[a-z]{1,3}[0-9]{1,}"]
    rows = {}
    for selection in ("pragmatic", "random"):
        rows[selection] = []
        for i, p in enumerate(patterns):
            task = core.regex_task(f"regex/{i}", "regexes", p, 32, 32, seed=0)
            choice = core.choose(task, core.execute(task, LIMITS), k=4, seed=0, selection=selection)
            rows[selection].append((task, choice))
    differ = 0
    for (task, prag), (_, rand) in zip(rows["pragmatic"], rows["random"], strict=True):
        assert len(rand.examples) == len(prag.examples) >= 1
        assert {i for i, _ in rand.examples} <= set(task.shown_inputs)  # the same candidates
        for s, label in rand.examples:  # labels are the target's
            assert label == str(re.fullmatch(task.target, s) is not None)
        assert (rand.p_target_pragmatic, rand.p_target_random) == (prag.p_target_pragmatic, prag.p_target_random)
        differ += rand.examples != prag.examples
    assert differ >= 3
    task, first = rows["random"][0]
    outcomes = core.execute(task, LIMITS)
    assert core.choose(task, outcomes, k=4, seed=0, selection="random").examples == first.examples  # seeded
    with pytest.raises(ValueError, match="selection"):
        core.choose(task, outcomes, k=4, seed=0, selection="best")
