"""LintSeq: the Beam-free sampler of linter-valid edit sequences (`core`) and its Beam stage (`stage`)."""

from skillseq.transforms.lintseq.stage import LintSeq

__all__ = ["LintSeq"]
