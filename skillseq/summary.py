"""The end-of-run summary: each stage's counters from Beam metrics and the rows written, as one table."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table


def print_summary(counters: dict[str, int], rows: dict[str, int], out: str, console: Console | None = None) -> None:
    """`rows` are the rows written per config (shown as the `written` stage)."""
    console = console or Console(stderr=True)
    counters = dict(counters) | {f"skillseq.written/{k}": v for k, v in rows.items()}
    table = Table(title=f"skillseq run -> {out}")
    table.add_column("stage")
    table.add_column("counter")
    table.add_column("value", justify="right")
    for key in sorted(counters):
        namespace, name = key.split("/", 1)
        table.add_row(namespace.removeprefix("skillseq."), name, str(counters[key]))
    console.print(table)
