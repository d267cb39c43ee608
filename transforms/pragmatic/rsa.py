"""Rational speech acts over a consistency matrix: literal listener, pragmatic speaker, greedy example choice.

M[u, h] is True when program h gives the target's output on candidate input u (the target h* is one
column). Everything is numpy over the whole matrix; the only Python loop is over the k chosen examples.

    >>> M = np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]], dtype=bool)   # input 1 separates h*=0 from all
    >>> select_examples(M, target=0, k=3, rng=np.random.default_rng(0))
    [1]
    >>> float(p_target(M, [1], target=0))
    1.0

Default (`recursion="s1"`) follows the paper's reference (`pragmatic_speaker.py`): 0/1 consistency,
uniform prior, no smoothing, greedy, one example per turn, programs inconsistent with the examples chosen
so far drop out. There L0(h|u) normalises a column over the remaining programs and the speaker picks
argmax_u S1(u|h*); we write the speaker as S1(u|h*,D) ∝ L0(h*|D ∪ {u}) (Pu et al. 2020), which gives the
same argmax because both equal 1 / #{programs consistent with D and u}. `recursion="l1"` adds Pu et al.'s
pragmatic listener, log L1(h|D) = log prior(h) + Σ_t log S1(u_t|h, D<t), and chooses argmax_u L1(h*|D ∪ {u}).

Departures: the alternatives are a fixed set (the reference re-samples them each turn); ties are broken
by the record's seeded generator (the reference takes the first index); selection stops early once h* is
the only consistent program. Programs with identical rows should be collapsed by the caller
(`collapse_columns`): they are one hypothesis as far as any example can tell.
"""

from __future__ import annotations

import numpy as np


def consistency(codes: np.ndarray, target: int) -> np.ndarray:
    """codes[u, h] = an id of h's output on u -> M[u, h] = (h agrees with the target on u).

    >>> consistency(np.array([[0, 0, 1], [2, 3, 2]]), target=0).astype(int).tolist()
    [[1, 1, 0], [1, 0, 1]]
    """
    return codes == codes[:, [target]]


def collapse_columns(codes: np.ndarray, target: int) -> tuple[np.ndarray, int]:
    """Keep one column per distinct behaviour (first occurrence); returns (codes, new target index).

    >>> c, t = collapse_columns(np.array([[0, 0, 1, 1], [2, 2, 2, 3]]), target=1)
    >>> c.tolist(), t
    ([[0, 1, 1], [2, 2, 3]], 0)
    """
    _, first, inverse = np.unique(codes.T, axis=0, return_index=True, return_inverse=True)
    keep = np.sort(first)
    new_index = {old: new for new, old in enumerate(keep)}
    return codes[:, keep], new_index[int(first[np.ravel(inverse)[target]])]


def _prior(n: int, prior) -> np.ndarray:
    p = np.full(n, 1.0 / n) if prior is None else np.asarray(prior, dtype=float)
    return p / p.sum()


def literal_listener(M: np.ndarray, D: list[int], prior=None) -> np.ndarray:
    """L0(h | D) ∝ prior(h) · Π_{u∈D} M[u, h]; all zeros if no program is consistent."""
    w = _prior(M.shape[1], prior) * M[D].all(axis=0)
    total = w.sum()
    return w / total if total > 0 else w


def p_target(M: np.ndarray, D: list[int], target: int, prior=None) -> float:
    return float(literal_listener(M, list(D), prior)[target])


def _listener_after_each(M: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """A[u, h] = weights(h)·M[u, h] normalised over h: a listener after adding u (rows of zeros stay zero)."""
    A = weights[None, :] * M
    z = A.sum(axis=1, keepdims=True)
    return np.divide(A, z, out=np.zeros_like(A), where=z > 0)


def speaker(M: np.ndarray, D: list[int], prior=None, eligible=None) -> np.ndarray:
    """S1[u, h] = L0(h | D ∪ {u}) normalised over the eligible u, for every program h at once."""
    L = _listener_after_each(M.astype(float), _prior(M.shape[1], prior) * M[D].all(axis=0))
    if eligible is not None:
        L = L * eligible[:, None]
    z = L.sum(axis=0, keepdims=True)
    return np.divide(L, z, out=np.zeros_like(L), where=z > 0)


def select_examples(
    M: np.ndarray,
    target: int,
    k: int,
    rng: np.random.Generator,
    prior=None,
    recursion: str = "s1",
    eligible=None,
) -> list[int]:
    """Greedily choose up to k inputs that single out `target`; stops once it is the only consistent program."""
    M = np.asarray(M, dtype=bool)
    n_u, n_h = M.shape
    free = np.ones(n_u, dtype=bool) if eligible is None else np.asarray(eligible, dtype=bool).copy()
    log_l1 = np.log(_prior(n_h, prior))
    D: list[int] = []
    while len(D) < k and free.any() and p_target(M, D, target, prior) < 1.0:
        if recursion == "l1":
            S1 = speaker(M, D, prior, free)
            scores = _listener_after_each(S1, np.exp(log_l1 - log_l1.max()))[:, target]
        else:
            scores = _listener_after_each(M.astype(float), _prior(n_h, prior) * M[D].all(axis=0))[:, target]
        scores = np.where(free, scores, -np.inf)
        best = np.flatnonzero(scores >= scores.max() - 1e-12)
        u = int(best[0] if len(best) == 1 else rng.choice(best))
        if recursion == "l1":
            with np.errstate(divide="ignore"):
                log_l1 = log_l1 + np.log(S1[u])
        D.append(u)
        free[u] = False
    return D


def random_examples(n_u: int, k: int, rng: np.random.Generator, eligible=None) -> list[int]:
    """k distinct inputs drawn uniformly from the eligible ones (all of them if there are fewer)."""
    pool = np.flatnonzero(np.ones(n_u, dtype=bool) if eligible is None else eligible)
    return [int(u) for u in rng.permutation(pool)[:k]]
