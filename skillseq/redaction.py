"""Keep tokens and API keys out of everything skillseq writes: rows, cards, logs and error messages.

The values to hide are those of the environment variables that hold credentials: by name (*TOKEN*, *KEY*,
*SECRET*, *PASSWORD*, *CREDENTIAL*), plus any the caller names (`teacher.openai.api_key_env`). `redact` replaces
each occurrence with `***`. Values shorter than `MIN_SECRET_CHARS` are left alone: "1" or "true" would redact
ordinary text, and no real key is that short.

    >>> os.environ["HF_TOKEN"] = "hf_abcdef123456"
    >>> redact("auth failed for hf_abcdef123456")
    'auth failed for ***'
    >>> del os.environ["HF_TOKEN"]
"""

from __future__ import annotations

import logging
import os
import re

_NAMES = re.compile(r"TOKEN|KEY|SECRET|PASSWORD|CREDENTIAL", re.IGNORECASE)
MIN_SECRET_CHARS = 8


def secret_values(extra_names: tuple[str, ...] = ()) -> list[str]:
    """The credential values in the environment, longest first (so a key containing another is hidden whole)."""
    values = {
        v for k, v in os.environ.items() if (_NAMES.search(k) or k in extra_names) and len(v) >= MIN_SECRET_CHARS
    }
    return sorted(values, key=len, reverse=True)


def redact(text: str, extra_names: tuple[str, ...] = ()) -> str:
    """`text` with every credential value of the environment (and of the variables `extra_names`) as `***`."""
    for value in secret_values(extra_names):
        text = text.replace(value, "***")
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that redacts every record's formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def install_log_redaction() -> None:
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())
