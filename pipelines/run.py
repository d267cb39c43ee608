"""Run a config on a Beam runner and summarise what each stage did."""

from __future__ import annotations

import contextlib
import logging
import time

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions

from skillseq.card import ConfigStats
from skillseq.config import Config
from skillseq.pipelines.build import build, card_info
from skillseq.progress import LiveDisplay, is_local_in_process
from skillseq.transforms.sinks import finish_dataset


def pipeline_options(cfg: Config, extra: list[str]) -> PipelineOptions:
    """Beam's own flags pass through untouched: the config's `beam_options`, then the command line's."""
    return PipelineOptions(list(cfg.beam_options) + list(extra))


def counters(result) -> dict[str, int]:
    """`{"skillseq.lintseq/dropped_parse_error": 3, ...}` from a finished run (committed where supported)."""
    out = {}
    for c in result.metrics().query(MetricsFilter())["counters"]:
        namespace = c.key.metric.namespace
        if not namespace.startswith("skillseq"):
            continue
        value = c.committed if c.committed is not None else c.attempted
        key = f"{namespace}/{c.key.metric.name}"
        out[key] = out.get(key, 0) + int(value or 0)
    return out


def run(
    cfg: Config, extra_beam_args: list[str] = (), progress: bool = False
) -> tuple[dict[str, int], dict[str, ConfigStats]]:
    """Build and run the pipeline to completion, then write the card and put the folder in place.

    Returns the run's skillseq counters and the stats of each config written. `progress` shows records per
    stage live, where the runner executes in this process.
    """
    started = time.monotonic()
    args = list(cfg.beam_options) + list(extra_beam_args)
    progress = progress and is_local_in_process(args)
    pipeline = beam.Pipeline(options=pipeline_options(cfg, list(extra_beam_args)))
    build(pipeline, cfg, progress=progress)
    with LiveDisplay() if progress else contextlib.nullcontext():
        result = pipeline.run()
        result.wait_until_finish()
    metrics = counters(result)
    written = finish_dataset(cfg.output, card_info(cfg), metrics)
    logging.getLogger(__name__).info("run finished in %.1f s", time.monotonic() - started)
    return metrics, written
