"""Near-duplicate instructions, as keyed Beam steps: no step holds every instruction.

What counts as a duplicate: records are visited in id order; a record whose word-shingle set has an exact Jaccard
similarity at or above the threshold with an earlier *kept* record that MinHash LSH proposes as a candidate (bands
tuned by datasketch for half the threshold, so that pairs near it are not missed) is a duplicate of the smallest
such record; otherwise it is kept. Groups are not transitive: a record like only a dropped one is kept. This is
the greedy loop the filter ran on one worker; the pipeline reaches the same survivors in keyed steps:

1. `CollapseCopies`: records with the same shingle set are copies; each set's smallest id represents it (a copy
   shares all its representative's candidates and similarities, so it is a duplicate of what that one is kept
   as, or of what it duplicates).
2. `CandidatePairs`: a MinHash signature per representative (datasketch), one key per LSH band, `GroupByKey`
   per band: the representatives sharing a band are candidate pairs.
3. `ConfirmPairs`: exact Jaccard of each candidate pair, the two texts brought together by id.
4. `FirstOfEachGroup`: the greedy visit in id order, over the confirmed pairs only (ids, not records).
5. `MarkDuplicates`: each record meets its verdict by id: kept, or rejected as `near_duplicate`.

    >>> near_duplicates([("b", "write a function that sorts a list of numbers"),
    ...                  ("a", "Write a function that sorts a list of numbers!"), ("c", "parse a date")], 0.8, 3)
    {'b': 'a'}
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import re
import struct

import apache_beam as beam

from skillseq.config import FiltersConfig
from skillseq.context import RunContext
from skillseq.schema import to_row

DEDUP = "skillmix.dedup"
NUM_PERM = 128


def shingles(text: str, n: int) -> set[str]:
    """Word n-grams of lower-cased word tokens; a text shorter than n words is one shingle.

    >>> sorted(shingles("Sort the list, then sort it again", 3))[:2]
    ['list then sort', 'sort it again']
    """
    words = re.findall(r"\w+", text.lower())
    if len(words) <= n:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def shingle_digest(grams: set[str]) -> str:
    """One key per shingle set: texts with the same key are copies of each other."""
    return hashlib.sha256("\n".join(sorted(grams)).encode()).hexdigest()


@functools.cache
def lsh_shape(threshold: float, num_perm: int = NUM_PERM) -> tuple[int, int]:
    """(bands, rows per band) of datasketch's MinHashLSH for candidates at half the threshold.

    >>> lsh_shape(0.8)
    (32, 4)
    """
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold / 2, num_perm=num_perm)
    return lsh.b, lsh.r


def band_keys(grams: set[str], bands: int, rows: int, num_perm: int = NUM_PERM) -> list[bytes]:
    """One key per LSH band: the band's number and its MinHash values, as datasketch's index stores them."""
    from datasketch import MinHash

    sketch = MinHash(num_perm=num_perm, seed=1)
    sketch.update_batch([g.encode() for g in grams])
    values = sketch.hashvalues
    return [struct.pack(">H", b) + bytes(values[b * rows : (b + 1) * rows].byteswap().data) for b in range(bands)]


def first_of_each_group(pairs) -> dict[str, str]:
    """{duplicate: the record it duplicates} from confirmed pairs (a, b), a < b: the greedy visit in id order.

    A record is a duplicate of its smallest earlier neighbour that is kept; records in no pair are kept.

    >>> first_of_each_group([("b", "c"), ("a", "b")])  # c resembles only b, which is dropped: c is kept
    {'b': 'a'}
    """
    earlier: dict[str, list[str]] = {}
    for a, b in pairs:
        earlier.setdefault(a, [])
        earlier.setdefault(b, []).append(a)
    duplicates: dict[str, str] = {}
    for key in sorted(earlier):
        kept = [other for other in earlier[key] if other not in duplicates]
        if kept:
            duplicates[key] = min(kept)
    return duplicates


def near_duplicates(items: list[tuple[str, str]], threshold: float, n: int) -> dict[str, str]:
    """{duplicate id: id it duplicates} for (id, text) items, in memory: the pipeline's steps on one list."""
    grams = {key: shingles(text, n) for key, text in items}
    copies: dict[str, list[str]] = {}
    for key in sorted(grams):
        copies.setdefault(shingle_digest(grams[key]), []).append(key)
    representative = {key: keys[0] for keys in copies.values() for key in keys}
    bands, rows = lsh_shape(threshold)
    buckets: dict[bytes, list[str]] = {}
    for keys in copies.values():
        for band in band_keys(grams[keys[0]], bands, rows):
            buckets.setdefault(band, []).append(keys[0])
    candidates = {pair for bucket in buckets.values() for pair in itertools.combinations(sorted(bucket), 2)}
    confirmed = [(a, b) for a, b in candidates if jaccard(grams[a], grams[b]) >= threshold]
    duplicates = first_of_each_group(confirmed)
    for key, rep in representative.items():
        if key != rep:
            duplicates[key] = duplicates.get(rep, rep)
    return duplicates


# ---- the keyed steps


class _Copies(beam.DoFn):
    """(digest, [(id, text)]) -> (id, text) of the smallest id (main), and (representative, copy id) pairs."""

    def process(self, group):
        _, members = group
        members = sorted(members)
        yield members[0]
        for key, _ in members[1:]:
            yield beam.pvalue.TaggedOutput("copies", (members[0][0], key))


class CollapseCopies(beam.PTransform):
    """(id, text) -> `(representatives, copies)`: one (id, text) per distinct shingle set, (representative, copy)."""

    def __init__(self, n: int):
        super().__init__()
        self.n = n

    def expand(self, texts):
        collapsed = (
            texts
            | "ByShingleSet" >> beam.Map(lambda kt, n: (shingle_digest(shingles(kt[1], n)), kt), self.n)
            | "GroupCopies" >> beam.GroupByKey()
            | "SmallestId" >> beam.ParDo(_Copies()).with_outputs("copies", main="representatives")
        )
        return collapsed.representatives, collapsed.copies


def _bands(item, n: int, bands: int, rows: int):
    key, text = item
    return [(band, key) for band in band_keys(shingles(text, n), bands, rows)]


def _pairs_in_bucket(bucket):
    _, keys = bucket
    return itertools.combinations(sorted(keys), 2)


class CandidatePairs(beam.PTransform):
    """Representatives (id, text) -> distinct (a, b) id pairs, a < b, that share an LSH band."""

    def __init__(self, n: int, threshold: float):
        super().__init__()
        self.n, self.threshold = n, threshold

    def expand(self, representatives):
        bands, rows = lsh_shape(self.threshold)
        return (
            representatives
            | "BandKeys" >> beam.FlatMap(_bands, self.n, bands, rows)
            | "GroupByBand" >> beam.GroupByKey()
            | "PairsInBand" >> beam.FlatMap(_pairs_in_bucket)
            | "Distinct" >> beam.Distinct()
        )


def _send_text_to_later(joined):
    """(a, {"text": [text of a], "later": [b, ...]}) -> (b, (a, text of a)) for each b."""
    a, grouped = joined
    for text in grouped["text"]:
        for b in grouped["later"]:
            yield b, (a, text)


def _confirmed(joined, n: int, threshold: float):
    """(b, {"text": [text of b], "earlier": [(a, text of a), ...]}) -> (a, b) where the exact Jaccard holds."""
    b, grouped = joined
    for text in grouped["text"]:
        grams = shingles(text, n)
        for a, a_text in grouped["earlier"]:
            if jaccard(shingles(a_text, n), grams) >= threshold:
                yield a, b


class ConfirmPairs(beam.PTransform):
    """Candidate pairs (a, b) -> those whose exact shingle Jaccard is at or above the threshold.

    `texts` are the representatives' (id, text); each pair meets the text of a, then the text of b, by id.
    """

    def __init__(self, n: int, threshold: float, texts):
        super().__init__()
        self.n, self.threshold, self.texts = n, threshold, texts

    def expand(self, pairs):
        earlier = (
            {"text": self.texts, "later": pairs}
            | "JoinEarlierText" >> beam.CoGroupByKey()
            | "SendToLater" >> beam.FlatMap(_send_text_to_later)
        )
        return (
            {"text": self.texts, "earlier": earlier}
            | "JoinLaterText" >> beam.CoGroupByKey()
            | "ExactJaccard" >> beam.FlatMap(_confirmed, self.n, self.threshold)
        )


class FirstOfEachGroup(beam.PTransform):
    """Confirmed pairs -> (duplicate, the id it duplicates) for the representatives.

    The one global step: it holds the confirmed pairs' ids, a few per duplicated text, never the instructions.
    """

    def expand(self, pairs):
        return (
            pairs
            | "GatherPairs" >> beam.combiners.ToList()
            | "VisitInIdOrder" >> beam.FlatMap(lambda found: sorted(first_of_each_group(found).items()))
        )


def _copies_follow(joined):
    """(representative, {"dropped": [what it duplicates], "copies": [id, ...]}) -> (copy, what it duplicates)."""
    representative, grouped = joined
    original = grouped["dropped"][0] if grouped["dropped"] else representative
    for copy in grouped["copies"]:
        yield copy, original


class _Mark(beam.DoFn):
    """(id, {"record": [Instruction], "original": [id]}) -> the record, or a `near_duplicate` reject."""

    def __init__(self, ctx: RunContext):
        self.ctx = ctx

    def process(self, joined):
        key, grouped = joined
        records = list(grouped["record"])
        if len(records) > 1:
            raise ValueError(
                f"{len(records)} instructions share the id {key!r}; near-duplicate removal needs unique ids"
            )
        originals = list(grouped["original"])
        for record in records:
            if not originals:
                yield record
                continue
            detail = f"near-duplicate of {originals[0]}"
            yield self.ctx.drop(record.id, DEDUP, "near_duplicate", detail, json.dumps(to_row(record), default=str))


class DropNearDuplicates(beam.PTransform):
    """Instructions -> `(instructions, rejected)`: copies collapsed, LSH candidates confirmed, first of each kept."""

    def __init__(self, ctx: RunContext):
        super().__init__()
        self.cfg: FiltersConfig = ctx.config.filters
        self.ctx = ctx

    def expand(self, instructions):
        n, threshold = self.cfg.dedup_shingle, self.cfg.dedup_threshold
        texts = instructions | "Texts" >> beam.Map(lambda r: (r.id, r.instruction))
        representatives, copies = texts | "CollapseCopies" >> CollapseCopies(n)
        dropped = (
            representatives
            | "CandidatePairs" >> CandidatePairs(n, threshold)
            | "ConfirmPairs" >> ConfirmPairs(n, threshold, representatives)
            | "FirstOfEachGroup" >> FirstOfEachGroup()
        )
        dropped_copies = {"dropped": dropped, "copies": copies} | "JoinCopies" >> beam.CoGroupByKey()
        originals = (
            dropped,
            dropped_copies | "CopiesFollow" >> beam.FlatMap(_copies_follow),
        ) | "AllDuplicates" >> beam.Flatten()
        marked = (
            {"record": instructions | "ById" >> beam.Map(lambda r: (r.id, r)), "original": originals}
            | "JoinVerdicts" >> beam.CoGroupByKey()
            | "MarkDuplicates" >> beam.ParDo(_Mark(self.ctx)).with_outputs("rejected", main="kept")
        )
        return marked.kept, marked.rejected
