"""The card's accounting: `(name, n)` pairs that show, for every stage, records in = out + rejected.

Names are `<stage>.in`, `<stage>.out` (records the stage passed on, counted per input record) and
`<stage>.rejected`. Each stage module says which input an output record came from; build.py composes.
"""

from __future__ import annotations

from collections.abc import Callable

import apache_beam as beam


class Count(beam.PTransform):
    """`pcoll | Count("lintseq.in")` -> one `("lintseq.in", n)` pair."""

    def __init__(self, name: str):
        super().__init__(f"Count[{name}]")
        self.name = name

    def expand(self, pcoll):
        # A combiner: each worker counts its part, and only the per-worker integers meet on one worker.
        return pcoll | beam.combiners.Count.Globally() | beam.Map(lambda n: (self.name, n))


class StageCounts(beam.PTransform):
    """`{"in": inputs, "out": outputs, "rejected": rejected} | StageCounts("lintseq", input_of)` -> the stage's pairs.

    `input_of` maps an output record to the input it came from, so `out` counts inputs that gave at least one
    output; `in` is optional (the card then shows out + rejected).
    """

    def __init__(self, stage: str, input_of: Callable[[object], str] | None = None):
        super().__init__(f"Accounting[{stage}]")
        self.stage, self.input_of = stage, input_of

    def expand(self, pcolls: dict):
        outputs = pcolls["out"]
        if self.input_of is not None:
            outputs = outputs | "InputOf" >> beam.Map(self.input_of) | "Distinct" >> beam.Distinct()
        counts = [outputs | Count(f"{self.stage}.out"), pcolls["rejected"] | Count(f"{self.stage}.rejected")]
        if "in" in pcolls:
            counts.append(pcolls["in"] | Count(f"{self.stage}.in"))
        return counts | "Pairs" >> beam.Flatten()
