"""skillseq: synthetic training data for code models, as Apache Beam pipelines."""

__version__ = "0.1.0"
