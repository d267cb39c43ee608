"""`skillseq show`: a few records of each config, readable in a terminal."""

from __future__ import annotations

import glob
import os

import pyarrow.parquet as pq
from rich.console import Console
from rich.pretty import Pretty
from rich.rule import Rule


def read_rows(out: str, config: str, n: int) -> list[dict]:
    files = sorted(glob.glob(os.path.join(out, config, "train-*.parquet")))
    rows = []
    for path in files:
        rows += pq.read_table(path).to_pylist()
        if len(rows) >= n:
            break
    return rows[:n]


def show(out: str, config: str | None = None, n: int = 3, console: Console | None = None) -> None:
    if not os.path.exists(os.path.join(out, "README.md")):
        raise FileNotFoundError(f"{out}: not a finished skillseq output folder (no README.md)")
    configs = [config] if config else sorted(d for d in os.listdir(out) if glob.glob(os.path.join(out, d, "train-*")))
    console = console or Console()
    for name in configs:
        rows = read_rows(out, name, n)
        if not rows and config:
            raise ValueError(f"{out}: config {name!r} has no rows (or does not exist)")
        console.print(Rule(f"{name}: {len(rows)} shown"))
        for row in rows:
            row.pop("provenance", None)
            console.print(Pretty(row, max_string=400, max_length=12))
