"""A live display of records per stage, for local runs.

On DirectRunner's in-process mode the DoFns run in this process, so a branch off each stage's output can
bump a shared counter that a rich display reads. Other runners (and multi-process mode) run elsewhere:
there the end-of-run summary from Beam metrics is what a user sees.
"""

from __future__ import annotations

import threading
from collections import Counter

import apache_beam as beam

COUNTS: Counter = Counter()
_LOCK = threading.Lock()


def _tick(_, name: str) -> None:
    with _LOCK:
        COUNTS[name] += 1


class Tap(beam.PTransform):
    """`pcoll | Tap("lintseq")` counts the records passing by; the pipeline's data is untouched."""

    def __init__(self, name: str):
        super().__init__(f"Progress[{name}]")
        self.name = name

    def expand(self, pcoll):
        return pcoll | beam.Map(_tick, name=self.name) | beam.Filter(lambda _: False)


def is_local_in_process(options: list[str]) -> bool:
    opts = " ".join(options)
    return ("DirectRunner" in opts or "--runner" not in opts) and "multi_processing" not in opts


class LiveDisplay:
    """`with LiveDisplay(): pipeline.run()` shows a table of COUNTS refreshed twice a second."""

    def __enter__(self):
        from rich.console import Console
        from rich.live import Live
        from rich.table import Table

        def table():
            t = Table(title="records so far")
            t.add_column("stage")
            t.add_column("records", justify="right")
            with _LOCK:
                for name, n in sorted(COUNTS.items()):
                    t.add_row(name, str(n))
            return t

        self._table = table
        self._live = Live(table(), console=Console(stderr=True), refresh_per_second=2, transient=False)
        self._live.__enter__()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._refresh, daemon=True)
        self._thread.start()
        return self

    def _refresh(self):
        while not self._stop.wait(0.5):
            self._live.update(self._table())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._live.update(self._table())
        self._live.__exit__(*exc)
