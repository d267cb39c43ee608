"""The end-of-run summary: each stage's counters from Beam metrics, as one table."""

from __future__ import annotations

import json
import os

from rich.console import Console
from rich.table import Table


def rows_written(out: str) -> dict[str, int]:
    """Rows per config from the finished folder's stats.json (local folders; {} elsewhere)."""
    try:
        with open(os.path.join(out, "stats.json")) as f:
            stats = json.load(f)
    except OSError:
        return {}
    return {name: s["rows"] for name, s in stats.items() if name != "counts"}


def print_summary(counters: dict[str, int], out: str, console: Console | None = None) -> None:
    console = console or Console(stderr=True)
    counters = dict(counters) | {f"skillseq.written/{k}": v for k, v in rows_written(out).items()}
    table = Table(title=f"skillseq run -> {out}")
    table.add_column("stage")
    table.add_column("counter")
    table.add_column("value", justify="right")
    for key in sorted(counters):
        namespace, name = key.split("/", 1)
        table.add_row(namespace.removeprefix("skillseq."), name, str(counters[key]))
    console.print(table)
