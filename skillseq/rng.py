"""Seeded randomness: every random choice draws from a generator keyed by (config seed, stage, record key).

No global RNG is ever used, so the same config gives the same dataset on any runner and any parallelism.

    >>> int(rng(0, "lintseq", "HumanEval/0", 2).integers(100)) == int(rng(0, "lintseq", "HumanEval/0", 2).integers(100))
    True
"""

from __future__ import annotations

import hashlib

import numpy as np


def seed_words(*parts: object) -> list[int]:
    """Stable 32-bit words from any printable parts (Python's hash() is salted per process; sha256 is not)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]


def rng(seed: int, stage: str, key: object, *more: object) -> np.random.Generator:
    return np.random.default_rng(seed_words(seed, stage, key, *more))


def stable_hash(*parts: object) -> int:
    """A 64-bit hash that is the same in every process, for sharding and ids."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little")
