"""Write the pipeline's outputs as a Hugging Face dataset folder, atomically.

    <out>/README.md                                   dataset card (YAML front matter + stats + plots)
    <out>/<config>/train-00000-of-00004.parquet       Hub-style shard names, one folder per config
    <out>/plots/lengths.png

Rows go to shard `stable_hash(id) % n` and are sorted by id inside it, and every shard is written even
when empty, so a rerun of the same config writes byte-identical files on any runner. Everything is written
under `<out>.partial/` first: the pipeline's last step leaves the stats there (`stats.json`), then, once the
run is over, `finish_dataset` writes the card (with the run's metrics) and moves the folder into place, so a
crashed run never leaves a folder that `load_dataset` reads as complete.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import shutil

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from skillseq.card import CardInfo, ConfigStats, ShardFile, read_stats, write_card, write_stats
from skillseq.config import OutputConfig
from skillseq.rng import stable_hash
from skillseq.schema import SCHEMAS, to_row

# The field whose length the card plots, per config.
LENGTH_FIELD = {
    "skills": "definition",
    "instructions": "response",
    "edit_sequences": "text",
    "pragmatic_examples": "program",
    "rejected": "payload",
}
# Fields whose values the card counts, per config.
COUNTED_FIELDS = {
    "rejected": ("stage", "reason"),
    "instructions": ("prompt_version", "teacher_model", "query_type"),
    "edit_sequences": ("linter",),
    "pragmatic_examples": ("domain", "prompt_version"),
}
# The stable key that places and orders a row: `id`, except the skill catalog, keyed by skill name.
KEY_FIELD = {"skills": "name"}
SUMMED_FIELDS = {"instructions": ("prompt_tokens", "completion_tokens"), "edit_sequences": ("num_edits",)}


def shard_name(config: str, index: int, total: int) -> str:
    """`shard_name("skills", 0, 4)` -> `"skills/train-00000-of-00004.parquet"`, as the Hub names splits."""
    return f"{config}/train-{index:05d}-of-{total:05d}.parquet"


def hf_schema(config: str) -> pa.Schema:
    """The Arrow schema with the `datasets` features in its metadata, so load_dataset keeps exact types."""
    import datasets

    schema = SCHEMAS[config]
    features = datasets.Features.from_arrow_schema(schema)
    info = {"info": {"features": features.to_dict()}}
    return schema.with_metadata({"huggingface": json.dumps(info)})


def num_shards(total_bytes: int, cfg: OutputConfig) -> int:
    if cfg.num_shards:
        return cfg.num_shards
    return max(1, math.ceil(total_bytes / (cfg.target_shard_mb * 1024 * 1024)))


class _StatsFn(beam.CombineFn):
    """Row count, a log2 histogram of one field's length, value counts and sums: bounded, order-free."""

    def __init__(self, config: str):
        self.config = config

    def create_accumulator(self):
        return ConfigStats(name=self.config)

    def add_input(self, acc: ConfigStats, row: dict):
        acc.rows += 1
        field = LENGTH_FIELD.get(self.config)
        if field and row.get(field) is not None:
            bucket = int(math.log2(len(row[field]) + 1))
            acc.length_hist[bucket] = acc.length_hist.get(bucket, 0) + 1
        for f in COUNTED_FIELDS.get(self.config, ()):
            key = str(row.get(f))
            counts = acc.value_counts.setdefault(f, {})
            counts[key] = counts.get(key, 0) + 1
        for f in SUMMED_FIELDS.get(self.config, ()):
            acc.sums[f] = acc.sums.get(f, 0) + int(row.get(f) or 0)
        return acc

    def merge_accumulators(self, accs):
        out = ConfigStats(name=self.config)
        for acc in accs:
            out.merge(acc)
        return out

    def extract_output(self, acc):
        return acc


def _write_shard(element, schema: pa.Schema, staging: str, config: str, total: int) -> ShardFile:
    index, grouped = element
    key = KEY_FIELD.get(config, "id")
    # Ties (one record rejected by two stages) are broken by the whole row, so the order never depends on the runner.
    rows = sorted((r for part in grouped["rows"] for r in part), key=lambda r: (r[key], json.dumps(r, sort_keys=True)))
    buffer = pa.BufferOutputStream()
    with pq.ParquetWriter(buffer, schema, compression="zstd") as writer:
        # An empty shard has no row group at all (datasets' reader refuses a zero-row group).
        if rows:
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))
    data = buffer.getvalue().to_pybytes()
    name = shard_name(config, index, total)
    with FileSystems.create(FileSystems.join(staging, name)) as f:
        f.write(data)
    # The card lists each file's size and sha256 (`datasets` keys its cache on them) and the Arrow bytes it holds,
    # measured as `datasets` measures them when it loads the file (read back, validity bitmaps included).
    arrow_bytes = pq.read_table(pa.BufferReader(data)).nbytes
    return ShardFile(config, name, len(data), hashlib.sha256(data).hexdigest(), arrow_bytes)


class _WriteConfig(beam.PTransform):
    """One config's records -> its shards. Returns (the `ShardFile`s written, stats)."""

    def __init__(self, config: str, staging: str, cfg: OutputConfig):
        super().__init__()
        self.config, self.staging, self.cfg = config, staging, cfg

    def expand(self, records):
        rows = records | "ToRow" >> beam.Map(to_row)
        # Global steps here hold integers (Total, ShardCount), bounded accumulators (Stats: log2 buckets and the
        # counts of a few low-cardinality fields) or one path per shard; the rows themselves are grouped by shard.
        size = (
            rows
            | "Bytes" >> beam.Map(lambda r: len(json.dumps(r, default=str)))
            | "Total" >> beam.CombineGlobally(sum)
        )
        total = size | "ShardCount" >> beam.Map(num_shards, cfg=self.cfg)
        key = KEY_FIELD.get(self.config, "id")
        keyed = rows | "AssignShard" >> beam.Map(
            lambda r, n: (stable_hash(r[key]) % n, r), n=beam.pvalue.AsSingleton(total)
        )
        # Every shard index exists even when no row lands in it, so "-of-N" is always true.
        indices = total | "Indices" >> beam.FlatMap(lambda n: [(i, None) for i in range(n)])
        shards = {"rows": keyed | "Batch" >> beam.GroupByKey(), "index": indices} | "Join" >> beam.CoGroupByKey()
        written = shards | "WriteShard" >> beam.Map(
            _write_shard,
            schema=hf_schema(self.config),
            staging=self.staging,
            config=self.config,
            total=beam.pvalue.AsSingleton(total),
        )
        stats = rows | "Stats" >> beam.CombineGlobally(_StatsFn(self.config))
        return written, stats


def _replace_folder(staging: str, out: str) -> None:
    """Move the finished staging folder to `out`, replacing an earlier run's folder."""
    if FileSystems.get_scheme(out) in (None, "file"):
        if os.path.exists(out):
            old = out.rstrip("/") + ".old"
            shutil.rmtree(old, ignore_errors=True)
            os.replace(out, old)
            os.replace(staging, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, out)
        return
    # Object stores have no folders to rename: copy file by file, the card last (it makes the folder loadable).
    existing = [m.path for m in FileSystems.match([FileSystems.join(out, "**")])[0].metadata_list]
    if existing:
        FileSystems.delete(existing)
    files = sorted(m.path for m in FileSystems.match([FileSystems.join(staging, "**")])[0].metadata_list)
    files.sort(key=lambda p: p.endswith("README.md"))
    FileSystems.copy(files, [out + p[len(staging) :] for p in files])
    FileSystems.delete(files)


def _remove_folder(path: str) -> None:
    if FileSystems.get_scheme(path) in (None, "file"):
        shutil.rmtree(path, ignore_errors=True)
    elif FileSystems.exists(path):
        FileSystems.delete([m.path for m in FileSystems.match([FileSystems.join(path, "**")])[0].metadata_list])


def _staging(cfg: OutputConfig) -> str:
    return cfg.path.rstrip("/") + ".partial"


class _WriteStats(beam.DoFn):
    def __init__(self, staging: str):
        self.staging = staging

    def process(self, _, shards, stats, counts):
        by_name = {s.name: s for s in stats}
        # The card's fixed order; each config with the files it wrote (an empty config publishes none: see below).
        by_name = {
            name: dataclasses.replace(
                by_name[name], files={s.name: s for s in shards if s.config == name and by_name[name].rows}
            )
            for name in SCHEMAS
            if name in by_name
        }
        # `load_dataset` cannot load a config without rows: an empty one is reported, not published.
        for name, stat in by_name.items():
            if stat.rows == 0:
                _remove_folder(FileSystems.join(self.staging, name))
        write_stats(self.staging, by_name, dict(counts))
        yield self.staging


def finish_dataset(
    cfg: OutputConfig, info: CardInfo, counters: dict[str, int] | None = None
) -> dict[str, ConfigStats]:
    """After a successful run: write the card into the staged folder, then move it to `cfg.path`.

    `counters` are the run's Beam metrics (the card shows the teacher's). Returns each config's stats.
    """
    staging = _staging(cfg)
    stats, counts = read_stats(staging)
    write_card(staging, info, stats, counts, plots=cfg.plots, counters=counters)
    _replace_folder(staging, cfg.path.rstrip("/"))
    return stats


class WriteHuggingFaceDataset(beam.PTransform):
    """Write `{config_name: PCollection of schema records}` as a staged dataset folder, `<cfg.path>.partial`.

    `counts` is an optional PCollection of `(name, n)` pairs (e.g. seeds read) the card reports beside
    the row counts. Returns a PCollection holding the staged folder once its shards and stats are written;
    `finish_dataset` then completes it.
    """

    def __init__(self, cfg: OutputConfig):
        super().__init__()
        self.cfg = cfg
        self.staging = _staging(cfg)

    def expand(self, outputs: dict):
        outputs = dict(outputs)
        counts = outputs.pop("_counts", None)
        unknown = set(outputs) - set(SCHEMAS)
        if unknown:
            raise ValueError(f"WriteHuggingFaceDataset: unknown configs {sorted(unknown)}; known: {sorted(SCHEMAS)}")
        pipeline = next(iter(outputs.values())).pipeline
        # Shards of an earlier crashed run must not be published with this one: start from a clean slate.
        # (Done while the pipeline is built, in the launching process, before any worker writes.)
        _remove_folder(self.staging)
        shards, stats = [], []
        for name, records in outputs.items():
            written, stat = records | f"Write[{name}]" >> _WriteConfig(name, self.staging, self.cfg)
            shards.append(written)
            stats.append(stat)
        if counts is None:
            counts = pipeline | "NoCounts" >> beam.Create([])
        return (
            pipeline
            | "Once" >> beam.Create([None])
            | "Stats"
            >> beam.ParDo(
                _WriteStats(self.staging),
                shards=beam.pvalue.AsList(shards | "AllShards" >> beam.Flatten()),
                stats=beam.pvalue.AsList(stats | "AllStats" >> beam.Flatten()),
                counts=beam.pvalue.AsList(counts),
            )
        )
