"""Data a trainer takes as is: TRL's SFTTrainer trains on each training config of a real run with no column
mapping (the embedded SmolLM2-135M, CPU, 2 steps), prompt + completion configs train on the completion only, and the
card is Hub metadata that huggingface_hub reads back as it was written."""

import hashlib
import math
from pathlib import Path

import apache_beam as beam
import datasets
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that
from huggingface_hub import DatasetCard, DatasetCardData

from skillseq.card import NOT_TRAINING, TRAINING_COLUMNS, size_category
from skillseq.config import Config, load_config
from skillseq.context import RunContext
from skillseq.pipelines.run import run
from skillseq.schema import Program
from skillseq.training import TEMPLATE_VERSION
from skillseq.transforms.lintseq import LintSeq
from skillseq.transforms.lintseq.core import apply_diffs
from tests.echo_model import EchoModel

MAX_LENGTH = 256  # every prompt of the run fits, so no row is cut before its completion


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    """One short run of every stage on three HumanEval programs, the teacher a deterministic local server."""
    base = tmp_path_factory.mktemp("trainer-ready")
    with EchoModel() as model:
        (base / "c.yaml").write_text(
            "seed: 7\nallow_benchmark_seeds: true\nseeds:\n  - {kind: humaneval, limit: 3}\n"
            f"teacher: {{backend: openai, model: echo-model, batch_size: 2, cache_dir: {base / 'cache'},\n"
            f'  openai: {{base_url: "{model.base_url}", max_concurrency: 2, max_retries: 0}}}}\n'
            "skills: {mode: both, num_direct_skills: 4, num_query_types: 2}\ngeneration: {num_instructions: 8}\n"
            "lintseq: {samples_per_program: 2}\n"
            "pragmatic: {domains: [python, regex], max_alternatives: 8, max_candidates: 8}\n"
            f"output: {{path: {base / 'out'}, num_shards: 1}}\n"
        )
        run(load_config(str(base / "c.yaml")), ["--direct_running_mode=in_memory"])
    return base / "out"


@pytest.fixture(scope="module")
def tokenizer(default_model):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(default_model))


def test_the_training_columns_hold_what_they_say(out):
    instructions = datasets.load_dataset(str(out), "instructions", split="train")
    for row in instructions:
        assert row["messages"] == [
            {"role": "user", "content": row["instruction"]},
            {"role": "assistant", "content": row["response"]},
        ]
    for row in datasets.load_dataset(str(out), "edit_sequences", split="train"):
        assert row["text"].endswith(row["completion"]) and row["completion"].startswith("<|diff|>")
        assert row["completion"].endswith("\n<|diff|>\n<|diff|>") and row["prompt"].endswith("\n")
        assert row["instruction"] and row["prompt"] == row["instruction"].strip() + "\n"
    rows = datasets.load_dataset(str(out), "pragmatic_examples", split="train")
    assert {r["domain"] for r in rows} == {"python", "regex"} and {r["prompt_version"] for r in rows} == {
        TEMPLATE_VERSION
    }
    for row in rows:
        assert row["completion"] == row["program"].lstrip("\n")
        shown = [e["input"] for e in row["examples"]]
        assert all((repr(s) if row["domain"] == "regex" else s[1:-1].rstrip(",")) in row["prompt"] for s in shown)


def test_a_program_without_instruction_is_asked_for_by_its_signature():
    """Seeds without an instruction (stdlib functions, a jsonl of programs): the prompt names what to write."""
    programs = [
        Program("p/0", "p/0", "import math\n\n\ndef area(r: float) -> float:\n    return math.pi * r * r\n"),
        Program("p/1", "p/1", "def helper(x):\n    return x\n\n\ndef main(a, *rest):\n    return helper(a)\n", entry_point="main"),
        Program("p/2", "p/2", "class Stack:\n    def push(self, x):\n        self.items = [x]\n"),
        Program("p/3", "p/3", "total = 0\nfor i in range(3):\n    total += i\n"),
    ]  # fmt: skip
    expected = {
        "p/0": "Write the Python function `area(r: float) -> float`.\n",
        "p/1": "Write the Python function `main(a, *rest)`.\n",
        "p/2": "Write the Python class `Stack`.\n",
        "p/3": "Write a Python program.\n",
    }

    def check(records):
        assert {r.source_id for r in records} == set(expected)
        for r in records:
            assert r.instruction is None and r.prompt == expected[r.source_id]
            assert r.text == "\n" + r.completion  # text: no instruction, then the same edits
            assert apply_diffs("", r.diffs) == r.program

    with TestPipeline() as p:
        sequences, _ = p | beam.Create(programs) | LintSeq(RunContext.of(Config(seed=1)))
        assert_that(sequences, check)


@pytest.mark.slow
@pytest.mark.parametrize("config", ["instructions", "edit_sequences", "pragmatic_examples"])
def test_trl_trains_on_each_training_config_as_is(out, config, default_model, tokenizer, tmp_path):
    from trl import SFTConfig, SFTTrainer

    ds = datasets.load_dataset(str(out), config, split="train")
    ds = ds.select(range(min(4, len(ds))))
    args = SFTConfig(
        output_dir=str(tmp_path / "sft"),
        max_steps=2,
        per_device_train_batch_size=2,
        max_length=MAX_LENGTH,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
    )
    trainer = SFTTrainer(str(default_model), args=args, train_dataset=ds, processing_class=tokenizer)
    prepared = trainer.train_dataset
    assert len(prepared) == len(ds)  # no row lost to truncation (TRL drops rows with nothing left to train on)
    by_id = {row["id"]: row for row in ds}
    for row in prepared:
        source, ids, labels = by_id[row["id"]], row["input_ids"], row["labels"]
        if config == "instructions":
            # Conversational: the chat template renders both turns and every token is trained on.
            assert labels == ids and source["instruction"][:40] in tokenizer.decode(ids)
            continue
        prompt = tokenizer(source["prompt"])["input_ids"]
        n = len(prompt)
        # The completion-only mask: -100 on exactly the prompt's tokens, every completion token trained on.
        assert ids[:n] == prompt and labels[:n] == [-100] * n
        assert labels[n:] == ids[n:] and len(ids) > n
        assert (source["completion"] + tokenizer.eos_token).startswith(tokenizer.decode(ids[n:]))
    batch = trainer.data_collator([prepared[i] for i in range(len(prepared))])
    for i, row in enumerate(prepared):  # the collator pads with -100 and keeps each row's labels
        width = len(row["labels"])
        assert batch["labels"][i, :width].tolist() == row["labels"]
        assert (batch["labels"][i, width:] == -100).all()
    result = trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert len(losses) == 2 and all(math.isfinite(x) and x > 0 for x in losses) and math.isfinite(result.training_loss)


def test_the_card_is_hub_metadata_huggingface_hub_reads_back(out):
    text = (out / "README.md").read_text()
    card = DatasetCard.load(out / "README.md")
    assert str(card) == text  # written through DatasetCard: it reads and writes it back unchanged
    data = card.data
    assert isinstance(data, DatasetCardData) and DatasetCardData(**data.to_dict()).to_dict() == data.to_dict()
    assert data.task_categories == ["text-generation"] and data.language == ["en", "code"]
    assert data.source_datasets == ["openai/openai_humaneval"] and data.license == "apache-2.0"
    loaded = {
        c: datasets.load_dataset(str(out), c, split="train") for c in datasets.get_dataset_config_names(str(out))
    }
    training_rows = sum(len(ds) for c, ds in loaded.items() if c in TRAINING_COLUMNS)
    assert data.size_categories == [size_category(training_rows)] == ["n<1K"]
    assert [c["config_name"] for c in data.configs if c.get("default")] == ["instructions"]
    assert datasets.load_dataset(str(out), split="train").features == loaded["instructions"].features
    for info in data.dataset_info:
        name, files = info["config_name"], sorted((out / info["config_name"]).iterdir())
        (split,) = info["splits"]
        assert split["name"] == "train" and split["num_examples"] == len(loaded[name])
        assert info["dataset_size"] == split["num_bytes"] > 0
        assert info["download_size"] == sum(f.stat().st_size for f in files)
        assert info["download_checksums"] == {
            f"{name}/{f.name}": {"num_bytes": f.stat().st_size, "checksum": hashlib.sha256(f.read_bytes()).hexdigest()}
            for f in files
        }
    builder = datasets.load_dataset_builder(str(out), "pragmatic_examples")
    assert builder.info.splits["train"].num_examples == len(loaded["pragmatic_examples"])
    for name, says in {**TRAINING_COLUMNS, **NOT_TRAINING}.items():
        assert f"| {name} | {len(loaded[name]) if name in loaded else 0} | {says} |" in text


def test_size_categories_follow_the_hubs_bounds():
    assert [size_category(n) for n in (0, 999, 1000, 9999, 10**4, 10**6, 10**12)] == [
        "n<1K", "n<1K", "1K<n<10K", "1K<n<10K", "10K<n<100K", "1M<n<10M", "n>1T"
    ]  # fmt: skip
