"""Run a test pipeline and bring its outputs back to the test, with the run's teacher counters."""

from __future__ import annotations

import pickle
from pathlib import Path

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter


def _save(items, path):
    Path(path).write_bytes(pickle.dumps(items))


def run_and_collect(pipeline, outputs: dict, folder: Path) -> tuple[list[list], dict[str, int]]:
    """Run `pipeline`; returns the elements of each PCollection in `outputs` (in its order) and the
    `skillseq.teacher` counters by name.

    Outputs travel through pickle files in `folder`: the runner serialises every step, so closures over lists
    see copies.
    """
    for name, pcoll in outputs.items():
        _ = pcoll | f"Collect{name}" >> beam.combiners.ToList() | f"Save{name}" >> beam.Map(_save, folder / name)
    result = pipeline.run()
    result.wait_until_finish()
    counters = result.metrics().query(MetricsFilter().with_namespace("skillseq.teacher"))["counters"]
    metrics = {c.key.metric.name: c.committed for c in counters}
    return [pickle.loads((folder / name).read_bytes()) for name in outputs], metrics
