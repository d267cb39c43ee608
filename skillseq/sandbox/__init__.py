"""Running untrusted programs in confined child processes (see `runner`); imports nothing of skillseq."""

from skillseq.sandbox.runner import LAYERS, BatchResult, Call, Limits, Outcome, SandboxUnavailable, run_batch

__all__ = ["LAYERS", "BatchResult", "Call", "Limits", "Outcome", "SandboxUnavailable", "run_batch"]
