"""A live display of records per stage and of the teacher's work per stage, for local runs.

On DirectRunner's in-process mode the DoFns run in this process, so a branch off each stage's output can
bump a shared counter that a rich display reads. Other runners (and multi-process mode) run elsewhere:
there the end-of-run summary from Beam metrics is what a user sees.

Teacher stages report as they go: `AskTeacher` wraps each batch in `teacher_stage(stage)`, and the backends
call `generated(n)` as tokens come out (transformers every decoding step, vLLM per finished request), so the
display shows requests done, tokens and tokens/s per stage while a batch is still decoding.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from dataclasses import dataclass

import apache_beam as beam

COUNTS: Counter = Counter()
_LOCK = threading.Lock()


@dataclass
class TeacherProgress:
    requests: int = 0  # answered (from the model or the cache) or failed
    tokens: int = 0  # completion tokens generated so far
    seconds: float = 0.0  # time in finished batches
    busy_since: float | None = None  # start of the batch in flight

    def tokens_per_s(self) -> float:
        busy = self.seconds + (time.monotonic() - self.busy_since if self.busy_since is not None else 0.0)
        return self.tokens / busy if busy > 0 else 0.0


TEACHER: dict[str, TeacherProgress] = {}
_CURRENT = threading.local()


@contextlib.contextmanager
def teacher_stage(stage: str, requests: int):
    """Around one batch of `stage`: its tokens (`generated`) and then its `requests` count for that stage."""
    with _LOCK:
        entry = TEACHER.setdefault(stage, TeacherProgress())
        entry.busy_since = time.monotonic()
    _CURRENT.stage = stage
    try:
        yield
    finally:
        _CURRENT.stage = None
        with _LOCK:
            entry.seconds += time.monotonic() - entry.busy_since
            entry.busy_since = None
            entry.requests += requests


def current_stage() -> str | None:
    """The teacher stage whose batch this thread is answering, if any."""
    return getattr(_CURRENT, "stage", None)


def generated(tokens: int) -> None:
    """Backends: `tokens` more completion tokens of the batch this thread is working on."""
    stage = current_stage()
    if stage is not None and tokens:
        with _LOCK:
            TEACHER[stage].tokens += tokens


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
        from rich.console import Console, Group
        from rich.live import Live
        from rich.table import Table

        def table():
            t = Table(title="records so far")
            t.add_column("stage")
            t.add_column("records", justify="right")
            with _LOCK:
                for name, n in sorted(COUNTS.items()):
                    t.add_row(name, str(n))
                if not TEACHER:
                    return t
                teacher = Table(title="teacher")
                for column in ("stage", "requests done", "tokens", "tokens/s"):
                    teacher.add_column(column, justify="left" if column == "stage" else "right")
                for name, p in TEACHER.items():
                    teacher.add_row(name, str(p.requests), str(p.tokens), f"{p.tokens_per_s():.1f}")
            return Group(t, teacher)

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
