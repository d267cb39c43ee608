"""Shared fixtures. `default_model` converts the embedded SmolLM2-135M-Instruct once per session (and once per
machine: the folder stays in `~/.cache/skillseq/models/`, or `$SKILLSEQ_CACHE/models/`)."""

from __future__ import annotations

import os
import tempfile

import pytest

# `--doctest-modules` (pyproject.toml) imports every module it collects: the hostile programs run only inside
# the sandbox, and data/ holds a recording script that loads the model.
collect_ignore_glob = ["hostile/*", "data/*"]

# `load_dataset` on a local folder caches under ~/.cache/huggingface/datasets, where two test folders both
# named `out` can meet; each test session gets a cache of its own (set before any test imports datasets).
os.environ["HF_DATASETS_CACHE"] = tempfile.mkdtemp(prefix="skillseq-hf-datasets-")


@pytest.fixture(scope="session")
def default_model():
    """Path of the default teacher's model folder, ready for transformers and vLLM."""
    from skillseq.teachers import default_model_dir

    return default_model_dir()


@pytest.fixture
def teacher_cfg(default_model, tmp_path):
    """A small, fast config for the default teacher on transformers, with a response cache in tmp_path."""
    from skillseq.config import TeacherConfig

    return TeacherConfig(
        max_new_tokens=24, batch_size=4, json_retries=1, threads=1, cache_dir=str(tmp_path / "responses")
    )


@pytest.fixture
def run_ask(tmp_path):
    """`run_ask(teacher_cfg, [(payload, TeacherRequest), ...], stage="test", **ask_kwargs)` runs AskTeacher in a real pipeline
    and returns `(answered, rejected, metrics)`, metrics being the `skillseq.teacher` counters by name.

    """
    import apache_beam as beam
    from apache_beam.testing.test_pipeline import TestPipeline

    from skillseq.config import Config
    from skillseq.context import RunContext
    from skillseq.teachers import AskTeacher
    from tests.collect import run_and_collect

    runs = iter(range(1000))

    def run(cfg, requests, stage="test", seed=0, **ask_kwargs):
        out = tmp_path / f"ask-{next(runs)}"
        out.mkdir()
        p = TestPipeline()
        ok, bad = (
            p | beam.Create(requests) | AskTeacher(RunContext.of(Config(seed=seed, teacher=cfg)), stage, **ask_kwargs)
        )
        (answered, rejected), metrics = run_and_collect(p, {"answered": ok, "rejected": bad}, out)
        return answered, rejected, metrics

    return run
