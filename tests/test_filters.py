"""SkillMix quality filters: each shirker check and near-duplicates, on hand-made cases and on
replies recorded from the default teacher (tests/data/recorded_skillmix.json)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from skillseq.config import Config, FiltersConfig
from skillseq.context import RunContext
from skillseq.schema import Instruction
from skillseq.teachers.types import TeacherReply
from skillseq.transforms.programs import extract_code_blocks
from skillseq.transforms.skillmix.dedup import jaccard
from skillseq.transforms.skillmix.filters import (
    CodeSyntax,
    DropNearDuplicates,
    Echo,
    Evasion,
    FilterShirkers,
    MissingCode,
    Refusal,
    TooShort,
    Truncated,
    first_failure,
    near_duplicates,
    shingles,
    shirker_checks,
)
from skillseq.transforms.skillmix.generation import Combo, Draft, assemble, instruction_problem, solution_in

RECORDED = json.loads((Path(__file__).parent / "data" / "recorded_skillmix.json").read_text())
CFG = Config()
CTX = RunContext.of(CFG)
GOOD = (
    "Use a dict to count the words, then sort.\n\n```python\nfrom collections import Counter\n\n\n"
    "def top_words(text, n):\n    return Counter(text.lower().split()).most_common(n)\n```\n"
)


def _record(response: str, instruction: str = "Write a function that returns the n most common words.", rid="r/0"):
    return Instruction(
        rid, ["a", "b"], "write a function", instruction, response, extract_code_blocks(response), "m", "v", 1, 1, None
    )


def _draft(response: str = GOOD, finish_reason: str = "stop", **kw) -> Draft:
    return Draft(_record(response, **kw), finish_reason)


def _recorded_drafts() -> list[Draft]:
    drafts = []
    for row in RECORDED["generation"]:
        combo = Combo(**{**row["combo"], "skills": tuple(map(tuple, row["combo"]["skills"]))})
        asked, answered = TeacherReply(**row["instruction_reply"]), TeacherReply(**row["response_reply"])
        drafts.append(assemble(combo, row["instruction"], asked, answered, CTX))
    return drafts


RECORDED_DRAFTS = _recorded_drafts()


# ---- each shirker check, both ways


@pytest.mark.parametrize(
    "check,bad,reason",
    [
        (Truncated(), _draft(finish_reason="length"), "truncated"),
        (Refusal(), _draft("I'm sorry, but I cannot help with writing that function."), "refusal"),
        (Refusal(), _draft("As an AI language model, I do not write code."), "refusal"),
        (Evasion(), _draft("Could you please provide more details about the input format?"), "evasion"),
        (
            Evasion(),
            _draft("I can help you with that! Python is great, and I'm here to help with any question."),
            "evasion",
        ),
        (Echo(), _draft("Write a function that returns the n most common words, please."), "echo"),
        (TooShort(40, 0.3), _draft("Use Counter."), "too_short"),
        (TooShort(0, 0.5), _draft("x" * 30, instruction="y" * 100), "too_short"),
        (
            MissingCode(),
            _draft("You should count the words with a dictionary and then sort them by count, done."),
            "no_code",
        ),
        (CodeSyntax(), _draft("Here:\n```python\ndef f(:\n    return\n```\n"), "code_syntax_error"),
    ],
)
def test_each_check_rejects_its_case_and_passes_a_good_answer(check, bad, reason):
    assert check(bad) == (False, reason)
    assert check(_draft()) is True


def test_missing_code_is_fine_when_no_code_is_asked():
    explain = _draft(
        "The loop rebinds i, so every lambda sees the last value: 2, 2, 2.",
        instruction="Why does my list of lambdas print 2 three times?",
    )
    assert MissingCode()(explain) is True


def test_refusal_later_in_a_long_answer_is_not_a_refusal():
    assert Refusal()(_draft(GOOD + "x" * 300 + " I'm sorry if this is long.")) is True


def test_checks_run_in_order_and_name_the_first_failure():
    checks = shirker_checks(FiltersConfig())
    assert first_failure(checks, _draft()) is None
    assert first_failure(checks, _draft("I'm sorry.", finish_reason="length")) == "truncated"
    assert first_failure(checks, _draft("I'm sorry.")) == "refusal"


def test_recorded_teacher_answers_get_the_verdicts_read_off_by_hand():
    """The six recorded SmolLM2 pairs (skillmix-v3), read by a person: 000000 asks for help instead of making a
    request and is answered by an offer to help, without code; 000001 is a refusal; 000002 ("Just write a single
    sentence.") is echoed; 000003's code does not parse; 000004's 'instruction' is a solution after its first
    sentence (and ran out of tokens); 000005's response stops at max tokens."""
    instruction_verdicts = [
        instruction_problem(row["instruction"], row["instruction_reply"]["finish_reason"])
        for row in RECORDED["generation"]
    ]
    assert instruction_verdicts == [None, None, None, None, "truncated_instruction", None]
    solved = RECORDED["generation"][4]["instruction"]
    assert not solved.startswith("```") and solution_in(solved) == "find_smallest_power_of_2_multiple_of_3"
    checks = shirker_checks(FiltersConfig())
    assert [first_failure(checks, d) for d in RECORDED_DRAFTS] == [
        "no_code",
        "refusal",
        "echo",
        "code_syntax_error",
        None,
        "truncated",
    ]


def test_filter_shirkers_in_a_pipeline_counts_every_drop():
    drafts = [
        _draft(rid="ok/1"),
        _draft("I'm sorry, I can't do that.", rid="bad/1"),
        _draft(finish_reason="length", rid="bad/2"),
        _draft("```python\ndef f(:\n```\n" + "x" * 50, rid="bad/3"),
    ]
    p = TestPipeline()
    kept, rejected = p | beam.Create(drafts) | FilterShirkers(CTX)
    assert_that(kept | beam.Map(lambda r: r.id), equal_to(["ok/1"]), label="kept")
    assert_that(
        rejected | beam.Map(lambda r: (r.id, r.stage, r.reason)),
        equal_to(
            [
                ("bad/1", "skillmix.filter", "refusal"),
                ("bad/2", "skillmix.filter", "truncated"),
                ("bad/3", "skillmix.filter", "code_syntax_error"),
            ]
        ),
        label="rejected",
    )
    result = p.run()
    result.wait_until_finish()
    counters = {c.key.metric.name: c.committed for c in result.metrics().query(MetricsFilter())["counters"]}
    assert counters == {"dropped_refusal": 1, "dropped_truncated": 1, "dropped_code_syntax_error": 1}


# ---- near-duplicates


def test_shingles():
    assert shingles("", 3) == set()
    assert shingles("Two words", 3) == {"two words"}
    assert shingles("a b c d", 3) == {"a b c", "b c d"}


def test_near_duplicates_keep_the_smallest_id_whatever_the_input_order():
    base = "Write a function that merges two sorted lists into one sorted list without using sort"
    items = [
        ("c", base),
        ("a", base.upper() + "!"),
        ("b", "Write a function that merges two sorted lists into one sorted list without using sorted"),
        ("d", "Explain the difference between a list and a tuple in Python, with an example of each"),
    ]
    expected = {"b": "a", "c": "a"}
    for _ in range(5):
        random.Random(_).shuffle(items)
        assert near_duplicates(items, 0.8, 3) == expected
    assert near_duplicates(items, 0.95, 3) == {"c": "a"}  # 'sorted' vs 'sort' falls under a strict threshold


def test_recorded_instructions_and_their_copies():
    items = [(d.record.id, d.record.instruction) for d in RECORDED_DRAFTS if d.record.instruction]
    copies = [(f"{rid}-copy", text + " Thanks!") for rid, text in items if len(text.split()) > 30]
    assert copies, "the recorded drafts hold no instruction long enough to copy"
    duplicates = near_duplicates(items + copies, 0.8, 3)
    assert {k for k in duplicates if k.endswith("-copy")} == {rid for rid, _ in copies}
    assert all(duplicates[f"{rid}-copy"] <= rid for rid, _ in [(c[:-5], None) for c, _ in copies])


def test_drop_near_duplicates_in_a_pipeline():
    records = [
        _record(GOOD, rid="x/2"),
        _record(GOOD, rid="x/1"),
        _record(GOOD, instruction="Explain generators with a small example of yield.", rid="x/3"),
    ]
    with TestPipeline() as p:
        kept, rejected = p | beam.Create(records) | DropNearDuplicates(CTX)
        assert_that(kept | beam.Map(lambda r: r.id), equal_to(["x/1", "x/3"]), label="kept")
        assert_that(
            rejected | beam.Map(lambda r: (r.id, r.reason, r.detail)),
            equal_to([("x/2", "near_duplicate", "near-duplicate of x/1")]),
            label="rejected",
        )


def _greedy_loop(items: list[tuple[str, str]], threshold: float, n: int) -> dict[str, str]:
    """The filter as it was, one Python loop on one worker over every instruction: the oracle for the keyed steps."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=threshold / 2, num_perm=128)
    kept: dict[str, set[str]] = {}
    duplicates = {}
    for key, text in sorted(items):
        grams = shingles(text, n)
        sketch = MinHash(num_perm=128, seed=1)
        sketch.update_batch([g.encode() for g in grams])
        matches = [other for other in sorted(lsh.query(sketch)) if jaccard(grams, kept[other]) >= threshold]
        if matches:
            duplicates[key] = matches[0]
        else:
            kept[key] = grams
            lsh.insert(key, sketch)
    return duplicates


def _families(seed: int) -> list[tuple[str, str]]:
    """Texts of 60 words in families: a base, variants one or two words apart from an earlier member (so a chain
    drifts: its ends are below the threshold while each step is above), and copies that differ only in case and
    punctuation (the same shingle set). Ids are shuffled, so a family's first id is any of its members."""
    r = random.Random(seed)
    vocab = [f"w{i}" for i in range(400)]
    texts = []
    for _ in range(25):
        family = [[r.choice(vocab) for _ in range(60)]]
        for _ in range(r.randrange(6)):
            variant = list(r.choice(family))
            for _ in range(r.choice([1, 1, 2])):
                variant[r.randrange(60)] = r.choice(vocab)
            family.append(variant)
        texts += [" ".join(words) for words in family]
        texts += [" ".join(r.choice(family)).upper() + "!" for _ in range(r.randrange(3))]
    ids = [f"t/{i:03d}" for i in r.sample(range(1000), len(texts))]
    return list(zip(ids, texts, strict=True))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_near_duplicates_match_the_greedy_loop(seed):
    items = _families(seed)
    expected = _greedy_loop(items, 0.8, 3)
    # The cases that tell the semantics apart all occur: copies, and a record kept although it resembles a
    # dropped one (groups are not transitive).
    grams = {key: shingles(text, 3) for key, text in items}
    assert any(grams[a] == grams[b] for a, b in expected.items())
    assert any(
        key not in expected and jaccard(grams[key], grams[dup]) >= 0.8
        for dup in expected
        for key in grams
        if key > dup
    )
    assert near_duplicates(items, 0.8, 3) == expected
    random.Random(seed).shuffle(items)
    assert near_duplicates(items, 0.8, 3) == expected


def test_drop_near_duplicates_keyed_steps_match_the_greedy_loop():
    items = _families(3)
    expected = _greedy_loop(items, 0.8, 3)
    records = [_record(GOOD, instruction=text, rid=rid) for rid, text in items]
    options = PipelineOptions(["--direct_running_mode=multi_threading", "--direct_num_workers=2"])
    with TestPipeline(options=options) as p:
        kept, rejected = p | beam.Create(records, reshuffle=True) | DropNearDuplicates(CTX)
        assert_that(
            kept | beam.Map(lambda r: r.id), equal_to([rid for rid, _ in items if rid not in expected]), "kept"
        )
        assert_that(
            rejected | beam.Map(lambda r: (r.id, r.detail)),
            equal_to([(k, f"near-duplicate of {v}") for k, v in expected.items()]),
            label="rejected",
        )


def test_judge_verdict_keeps_answers_that_use_every_skill_and_rejects_the_rest():
    from skillseq.transforms.skillmix.filters import _Verdict, judge_request

    good, bad = _record("```python\nx = 1\n```", rid="r/good"), _record("```python\ny = 2\n```", rid="r/bad")

    def reply(parsed):
        return TeacherReply(json.dumps(parsed), parsed, "stop", 1, 1, "judge-model")

    answered = [
        (good, judge_request(good), reply({"uses_all_skills": True, "missing_skills": []})),
        (bad, judge_request(bad), reply({"uses_all_skills": False, "missing_skills": ["b"]})),
    ]
    assert "a" in judge_request(good).messages[-1][1] and judge_request(good).json_schema
    with TestPipeline() as p:
        out = p | beam.Create(answered) | beam.ParDo(_Verdict(CTX)).with_outputs("rejected", main="kept")
        assert_that(out.kept | beam.Map(lambda r: r.id), equal_to(["r/good"]), label="kept")
        assert_that(
            out.rejected | beam.Map(lambda r: (r.id, r.stage, r.reason, "['b']" in r.detail)),
            equal_to([("r/bad", "skillmix.judge", "ignores_skill", True)]),
            label="rejected",
        )
