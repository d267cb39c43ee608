"""Keep tokens and API keys out of everything skillseq writes: rows, cards, logs and error messages.

The values to hide are those of the environment variables that hold credentials (by name: *TOKEN*, *KEY*,
*SECRET*, *PASSWORD*, plus the ones named in a config). `redact` replaces each occurrence with `***`.

    >>> os.environ["HF_TOKEN"] = "hf_abcdef123456"
    >>> redact("auth failed for hf_abcdef123456")
    'auth failed for ***'
"""

from __future__ import annotations

import logging
import os
import re

_NAMES = re.compile(r"TOKEN|KEY|SECRET|PASSWORD|CREDENTIAL", re.IGNORECASE)
_MIN_LEN = 8  # shorter values ("1", "true") would redact ordinary text


def secret_values(extra_names: tuple[str, ...] = ()) -> list[str]:
    values = {v for k, v in os.environ.items() if (_NAMES.search(k) or k in extra_names) and len(v) >= _MIN_LEN}
    return sorted(values, key=len, reverse=True)


def redact(text: str, extra_names: tuple[str, ...] = ()) -> str:
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
