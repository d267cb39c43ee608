"""Running untrusted programs in a confined child process (see `runner`); imports nothing of skillseq."""

from skillseq.sandbox.runner import BatchResult, Call, Limits, Outcome, run_batch

__all__ = ["BatchResult", "Call", "Limits", "Outcome", "run_batch"]
