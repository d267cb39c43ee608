"""The dataset card: YAML front matter the Hub and `load_dataset` read, then stats a person reads.

The front matter is `huggingface_hub`'s `DatasetCardData`: the Hub's listing metadata (license, language,
task and size categories, source datasets, tags) and every config's `data_files` (one marked `default`) and
`dataset_info` (features, the `train` split's rows and Arrow bytes, download and dataset sizes, and each file's
size and sha256 under `download_checksums`). `datasets` keys a local folder's cache on the folder's name and
this YAML, so the checksums make every run load as itself, even from a folder named like an earlier one. The
body gives row counts and what a trainer reads in each config, rejections by stage and reason, the generating
config and versions, a plot of length distributions and, last, the run's teacher accounting. `write_card` is
its one writer, called once the run is over (see `sinks.finish_dataset`): the pipeline leaves its statistics
and the files it wrote in `stats.json` (`write_stats`), the run adds its Beam metrics.
"""

from __future__ import annotations

import dataclasses
import io
import json
from dataclasses import dataclass, field

import yaml
from apache_beam.io.filesystems import FileSystems

from skillseq.schema import SCHEMAS


@dataclass(frozen=True)
class ShardFile:
    """One written shard: its config, path in the folder, size and sha256 of its bytes, Arrow bytes it holds."""

    config: str
    name: str
    num_bytes: int
    sha256: str
    arrow_bytes: int


@dataclass
class ConfigStats:
    name: str
    rows: int = 0
    length_hist: dict[int, int] = field(default_factory=dict)  # log2 bucket -> rows
    value_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    sums: dict[str, int] = field(default_factory=dict)
    files: dict[str, ShardFile] = field(default_factory=dict)  # by name; set once the shards are written

    def merge(self, other: ConfigStats) -> None:
        self.rows += other.rows
        for k, v in other.length_hist.items():
            self.length_hist[k] = self.length_hist.get(k, 0) + v
        for f, counts in other.value_counts.items():
            mine = self.value_counts.setdefault(f, {})
            for k, v in counts.items():
                mine[k] = mine.get(k, 0) + v
        for k, v in other.sums.items():
            self.sums[k] = self.sums.get(k, 0) + v
        self.files.update(other.files)


@dataclass(frozen=True)
class CardInfo:
    pretty_name: str
    config_yaml: str
    config_hash: str
    versions: dict[str, str]
    teacher: str
    license: str = "apache-2.0"
    benchmark_seeds: tuple[str, ...] | list[str] = ()  # benchmark sources seeded from (`allow_benchmark_seeds`)
    source_datasets: tuple[str, ...] | list[str] = ()  # Hub ids of the named datasets the seeds came from


BENCHMARK_TAG = "benchmark-data"

# What a trainer reads in each training config (TRL's dataset conventions), and why the others are not.
TRAINING_COLUMNS = {
    "instructions": "`messages` (conversational: user, assistant)",
    "edit_sequences": "`prompt` + `completion` (or `text`, the reference's format)",
    "pragmatic_examples": "`prompt` + `completion` (`prompt_version` names the template)",
}
NOT_TRAINING = {
    "skills": "not training data: the skill catalog the instructions were drawn from",
    "rejected": "not training data: the records the stages would not pass on, with the reason",
}
# The Hub's size categories, by the number of training rows.
SIZE_CATEGORIES = [
    (10**3, "n<1K"), (10**4, "1K<n<10K"), (10**5, "10K<n<100K"), (10**6, "100K<n<1M"), (10**7, "1M<n<10M"),
    (10**8, "10M<n<100M"), (10**9, "100M<n<1B"), (10**10, "1B<n<10B"), (10**11, "10B<n<100B"),
    (10**12, "100B<n<1T"),
]  # fmt: skip


def size_category(rows: int) -> str:
    """The Hub's size category of `rows` examples: `size_category(999)` -> `"n<1K"`, 1000 -> `"1K<n<10K"`."""
    return next((name for bound, name in SIZE_CATEGORIES if rows < bound), "n>1T")


def benchmark_notice(info: CardInfo) -> str:
    sources = ", ".join(info.benchmark_seeds)
    return (
        f"> **Contains benchmark data.** This run was seeded from {sources} (`allow_benchmark_seeds: true`): "
        "its programs appear verbatim in `edit_sequences` and `pragmatic_examples`. It shows the method on known "
        f"programs; do not train a model you will evaluate on {sources} with it. `skillseq publish` refuses "
        "this folder unless given `--allow-benchmark-data`."
    )


def dataset_info(stats: ConfigStats) -> dict:
    """One config's `dataset_info`, as `datasets.DatasetInfo` reads it from YAML (and `push_to_hub` writes it)."""
    import datasets

    files = sorted(stats.files.values(), key=lambda f: f.name)
    arrow_bytes = sum(f.arrow_bytes for f in files)
    return {
        "config_name": stats.name,
        "features": datasets.Features.from_arrow_schema(SCHEMAS[stats.name])._to_yaml_list(),
        "splits": [{"name": "train", "num_bytes": arrow_bytes, "num_examples": stats.rows}],
        "download_size": sum(f.num_bytes for f in files),
        "dataset_size": arrow_bytes,
        # The files' checksums: what makes `datasets` key its cache on the content (see the module's docstring).
        "download_checksums": {f.name: {"num_bytes": f.num_bytes, "checksum": f.sha256} for f in files},
    }


def card_data(info: CardInfo, stats: dict[str, ConfigStats]):
    """The front matter: the Hub's metadata and the configs with rows (the first training config is `default`)."""
    from huggingface_hub import DatasetCardData

    published = [s for s in stats.values() if s.rows]
    training = [s for s in published if s.name in TRAINING_COLUMNS]
    default = (training or published or [None])[0]
    return DatasetCardData(
        pretty_name=info.pretty_name,
        license=info.license,
        language=["en", "code"],
        task_categories=["text-generation"],
        size_categories=[size_category(sum(s.rows for s in training))],
        source_datasets=list(info.source_datasets) or None,
        tags=["synthetic", "code", "skillseq"] + ([BENCHMARK_TAG] if info.benchmark_seeds else []),
        configs=[
            {
                "config_name": s.name,
                "data_files": [{"split": "train", "path": f"{s.name}/train-*.parquet"}],
                **({"default": True} if s is default else {}),
            }
            for s in published
        ],
        dataset_info=[dataset_info(s) for s in published],
    )


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


_FLOW = ("in", "out", "rejected")


def accounting(counts: dict[str, int]) -> list[list]:
    """`{"read.out": 9, "read.rejected": 5}` -> `[["read", 14, 9, 5]]`; `in` is counted where it is known."""
    stages = sorted({k.rsplit(".", 1)[0] for k in counts if k.rsplit(".", 1)[-1] in _FLOW})
    rows = []
    for stage in stages:
        out, rejected = counts.get(f"{stage}.out", 0), counts.get(f"{stage}.rejected", 0)
        rows.append([stage, counts.get(f"{stage}.in", out + rejected), out, rejected])
    return rows


RUN_METRICS = "## Run metrics"
TRL_EXAMPLE = """from datasets import load_dataset
from trl import SFTTrainer
SFTTrainer("HuggingFaceTB/SmolLM2-135M", train_dataset=load_dataset("out", "pragmatic_examples", split="train")).train()"""


def render_body(
    info: CardInfo, stats: dict[str, ConfigStats], counts: dict[str, int], plot: str | None, counters: dict[str, int]
) -> str:
    parts = [
        f"# {info.pretty_name}",
        *([benchmark_notice(info)] if info.benchmark_seeds else []),
        "Synthetic training data for code models, generated by "
        "[skillseq](https://pypi.org/project/skillseq/): Instruct-SkillMix instructions, LintSeq edit "
        "sequences and pragmatic input/output examples. Every row records what made it (`provenance`).",
        "## Configs",
        _table(
            ["config", "rows", "a trainer reads"],
            [[name, s.rows, TRAINING_COLUMNS.get(name) or NOT_TRAINING.get(name, "")] for name, s in stats.items()],
        ),
        "The training configs follow TRL's dataset conventions, so `trl.SFTTrainer` takes them as they are "
        "(prompt + completion trains on the completion only; `out` is this folder, or its repo id on the Hub):",
        "```python\n" + TRL_EXAMPLE + "\n```",
    ]
    figures = {k: v for k, v in counts.items() if k.rsplit(".", 1)[-1] not in _FLOW}
    if "skillmix.pairs_total" in figures:
        covered, total = figures["skillmix.pairs_covered"], figures["skillmix.pairs_total"]
        figures["skillmix.pair_coverage"] = f"{covered / total:.1%}" if total else "n/a"
    if counts:
        parts += [
            "## Accounting",
            "Records into and out of each stage, counted per input record: nothing is "
            "dropped silently, so in = out + rejected.",
            _table(["stage", "in", "out", "rejected"], accounting(counts)),
        ]
    if figures:
        parts += ["### Figures", _table(["figure", "value"], sorted(figures.items()))]
    rejected = stats.get("rejected")
    if rejected and rejected.rows:
        by = rejected.value_counts.get("reason", {})
        stages = rejected.value_counts.get("stage", {})
        parts += [
            "## Rejections",
            _table(["stage", "rows"], sorted(stages.items())),
            "",
            _table(["reason", "rows"], sorted(by.items(), key=lambda kv: (-kv[1], kv[0]))),
        ]
    for name, s in stats.items():
        if s.value_counts and name != "rejected":
            for f, values in sorted(s.value_counts.items()):
                parts += [f"### {name}: {f}", _table([f, "rows"], sorted(values.items()))]
        if s.sums:
            parts += [f"### {name}: totals", _table(["field", "sum"], sorted(s.sums.items()))]
    if plot:
        parts += ["## Lengths", f"![length distributions]({plot})"]
    parts += [
        "## How it was made",
        _table(
            ["", ""], [["config hash", info.config_hash], ["teacher", info.teacher]] + sorted(info.versions.items())
        ),
        "```yaml\n" + info.config_yaml.rstrip() + "\n```",
    ]
    # Teacher accounting comes from Beam metrics, known only once the run is over, and describes this run rather
    # than the data (a resumed run has more cache hits): it goes last, after everything a rerun reproduces.
    # Wall-clock counters (`*_ms`) stay out: they differ between identical runs; the summary and benchmarks show them.
    teacher = [
        [k.split("/", 1)[1], v]
        for k, v in sorted(counters.items())
        if k.startswith("skillseq.teacher/") and not k.endswith("_ms")
    ]
    if teacher:
        parts += [
            RUN_METRICS,
            "Teacher accounting of the run that wrote this folder (Beam metrics).",
            _table(["counter", "value"], teacher),
        ]
    return "\n\n".join(parts) + "\n"


def render_card(
    info: CardInfo,
    stats: dict[str, ConfigStats],
    counts: dict[str, int],
    plot: str | None,
    counters: dict[str, int] | None = None,
) -> str:
    """The whole card, written through `huggingface_hub.DatasetCard` (which parses its front matter back)."""
    from huggingface_hub import DatasetCard

    body = render_body(info, stats, counts, plot, counters or {})
    return str(DatasetCard(f"---\n{card_data(info, stats).to_yaml()}\n---\n\n{body}"))


def write_stats(folder: str, stats: dict[str, ConfigStats], counts: dict[str, int]) -> None:
    """What the pipeline knows for the card: each config's stats and files and the stages' counts, as `stats.json`."""
    with FileSystems.create(FileSystems.join(folder, "stats.json")) as f:
        f.write(
            json.dumps(
                {n: dataclasses.asdict(s) for n, s in stats.items()} | {"counts": counts}, sort_keys=True, indent=1
            ).encode()
        )


def read_stats(folder: str) -> tuple[dict[str, ConfigStats], dict[str, int]]:
    """`write_stats`'s file back: stats in the card's fixed config order, and the counts."""
    with FileSystems.open(FileSystems.join(folder, "stats.json")) as f:
        data = json.loads(f.read())
    counts = data.pop("counts")
    stats = {
        name: ConfigStats(
            name=name,
            rows=data[name]["rows"],
            length_hist={int(k): v for k, v in data[name]["length_hist"].items()},
            value_counts=data[name]["value_counts"],
            sums=data[name]["sums"],
            files={k: ShardFile(**v) for k, v in data[name].get("files", {}).items()},
        )
        for name in SCHEMAS
        if name in data
    }
    return stats, counts


def write_card(
    folder: str,
    info: CardInfo,
    stats: dict[str, ConfigStats],
    counts: dict[str, int],
    plots: bool,
    counters: dict[str, int] | None = None,
) -> None:
    """README.md (and its plot) in `folder`: the card, written once, with the run's `counters` when known."""
    plot = None
    if plots and any(s.length_hist for s in stats.values()):
        from skillseq.plots import length_histograms

        png = length_histograms(stats)
        with FileSystems.create(FileSystems.join(folder, "plots", "lengths.png")) as f:
            f.write(png)
        plot = "plots/lengths.png"
    text = render_card(info, stats, counts, plot, counters)
    with FileSystems.create(FileSystems.join(folder, "README.md")) as f:
        f.write(text.encode("utf-8"))


def read_card_yaml(text: str) -> dict:
    _, meta, _ = text.split("---\n", 2)
    return yaml.safe_load(io.StringIO(meta))
