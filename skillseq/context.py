"""What every stage needs to know about the run: the config, its hash and how to stamp provenance."""

from __future__ import annotations

from dataclasses import dataclass

import apache_beam as beam

from skillseq import __version__
from skillseq.config import Config
from skillseq.redaction import redact
from skillseq.schema import Provenance, Rejected


@dataclass(frozen=True)
class RunContext:
    config: Config
    config_hash: str

    @classmethod
    def of(cls, config: Config) -> RunContext:
        return cls(config=config, config_hash=config.config_hash())

    @property
    def _credential_names(self) -> tuple[str, ...]:
        return (self.config.teacher.openai.api_key_env,)

    @property
    def seed(self) -> int:
        return self.config.seed

    def provenance(self, stage: str, teacher_model: str | None = None, teacher_revision: str | None = None):
        return Provenance(
            stage=stage,
            config_hash=self.config_hash,
            seed=self.config.seed,
            package_version=__version__,
            teacher_model=teacher_model,
            teacher_revision=teacher_revision,
        )

    def _rejected_row(self, record_id: str, stage: str, reason: str, detail: str, payload: str) -> Rejected:
        """Detail and payload are redacted: an error message that quotes a token never reaches the dataset."""
        return Rejected(
            id=record_id,
            stage=stage,
            reason=reason,
            detail=redact(detail, self._credential_names)[:2000],
            payload=redact(payload, self._credential_names)[:20000],
            provenance=self.provenance(stage),
        )

    def drop(self, record_id: str, stage: str, reason: str, detail: str = "", payload: str = ""):
        """Drop a record, from inside a DoFn: counts `skillseq.<stage>/dropped_<reason>` and returns the row to
        yield, tagged for the `rejected` output. Every stage drops records this one way, and only this way.

        `reason` is a short code (the card counts rows per reason), `detail` free text, `payload` the record.
        """
        beam.metrics.Metrics.counter(f"skillseq.{stage}", f"dropped_{reason}").inc()
        return beam.pvalue.TaggedOutput("rejected", self._rejected_row(record_id, stage, reason, detail, payload))
