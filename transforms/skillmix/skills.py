"""SkillMix stage 1: the teacher names skills and query types; a catalog merges them into `Skill` records.

Two modes, as in Instruct-SkillMix: from seeds (the teacher names the skills a seed exercises and the kind of
request it is) and direct, "metacognition" (the teacher lists the skills of a domain and the kinds of request
users send, without seeds). Each named skill is a mention: a `Skill` with support 1 whose example is its source.

What is not a skill (`not_a_skill`: dates, echoed placeholders, names without any programming meaning,
sentences) and how names are normalised (case, punctuation, plural words) live here; the catalog that merges
mentions into entries is `catalog.py`.

Shortcuts: plurals are stripped by a few English suffix rules, not a lemmatiser.

    >>> normalize_name("  Recursive Functions! ")
    'recursive function'
"""

from __future__ import annotations

import re
import unicodedata

import apache_beam as beam

from skillseq import prompts
from skillseq.config import SkillsConfig
from skillseq.context import RunContext
from skillseq.schema import Seed, Skill
from skillseq.teachers import AskTeacher
from skillseq.teachers.types import TeacherRequest

EXTRACT = "skillmix.extract"
_MAX_NAME_CHARS = 80
_KEEP_S = ("ss", "us", "is", "ous", "ics")


def _singular(word: str) -> str:
    if len(word) <= 3 or word.endswith(_KEEP_S):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "ches", "shes", "xes")):
        return word[:-2]
    return word[:-1] if word.endswith("s") else word


def normalize_name(name: str) -> str:
    """Lower case, punctuation and underscores to spaces, each word singular: 'Data-Structures' -> 'data structure'."""
    text = unicodedata.normalize("NFKC", name).lower().replace("_", " ")
    return " ".join(_singular(w) for w in re.sub(r"[^\w\s]", " ", text).split())


def parse_named_list(items, limit: int) -> list[tuple[str, str]]:
    """Teacher JSON list -> [(name, definition)]; tolerates bare strings and drops empty or runaway names.

    >>> parse_named_list([{"name": "Loops", "definition": "repeat"}, "sorting", {"name": ""}, 3, {"name": "x" * 90}], 5)
    [('Loops', 'repeat'), ('sorting', '')]
    """
    out = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, str):
            name, definition = item, ""
        elif isinstance(item, dict):
            # Small teachers often write "description" for "definition" (seen in the recorded replies).
            name, definition = item.get("name"), item.get("definition") or item.get("description") or ""
        else:
            continue
        if not isinstance(name, str) or not isinstance(definition, str):
            continue
        name = " ".join(name.split())
        if name and len(name) <= _MAX_NAME_CHARS and normalize_name(name):
            out.append((name, " ".join(definition.split())))
    return out[:limit]


# ---- what is not a skill


# Words of the prompts and the JSON schema a weak teacher echoes back as names ("name", "my function name").
_PLACEHOLDERS = {
    "name", "skill", "skill name", "definition", "description", "one line definition", "query type", "type",
    "task", "task description", "example", "answer", "solution", "request", "programmer", "function name",
    "my function name", "your skill", "json", "string", "value", "item", "thing", "other", "none", "null",
    "python", "programming", "python programming", "coding", "code",  # the domain itself, echoed
}  # fmt: skip
# Words that make a phrase a sentence (a verb, a pronoun, a plea) rather than the name of a skill.
_SENTENCE = {
    "is", "are", "was", "were", "be", "been", "am", "please", "you", "your", "i", "me", "my", "we", "our", "he",
    "she", "they", "this", "that", "it", "not", "should", "must", "will", "would", "here", "there", "provide",
    "can't", "cannot", "don't", "doesn't", "isn't", "won't", "can", "does",
}  # fmt: skip
_MONTHS = {"january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"}  # fmt: skip
# Roots of programming words: a name or definition holding one of these speaks about programming.
_PROGRAMMING_ROOTS = (
    "algorithm", "api", "array", "assert", "async", "attribute", "binary", "bit", "bool", "branch", "buffer", "bug",
    "byte", "cach", "call", "char", "class", "closure", "code", "collection", "command", "comment", "compil",
    "complex", "comprehension", "compute", "computation", "concurren", "condition", "constant", "context", "control",
    "convert", "conversion", "count", "csv", "data", "date", "debug", "decorat", "deque", "dict", "document",
    "dynamic", "element", "encod", "decod", "enum", "error", "except", "express", "file", "filter", "float",
    "format", "function", "generat", "graph", "hash", "heap", "index", "inherit", "input", "integer", "interface",
    "iterat", "json", "key", "lambda", "librar", "list", "logic", "loop", "map", "match", "math", "matrix",
    "memo", "method", "modul", "number", "numeric", "object", "operat", "optimi", "output", "packag", "pars",
    "path", "pattern", "perform", "pointer", "polymorph", "print", "process", "program", "python", "queue",
    "random", "recurs", "refactor", "regex", "regular", "return", "scope", "script", "search", "sequence", "set",
    "slic", "socket", "sort", "sql", "stack", "statement", "stream", "string", "struct", "syntax", "test", "text",
    "thread", "time", "token", "tree", "tupl", "type", "unicode", "unit", "valid", "value", "variable", "vector",
    "web", "xml", "yield", "arithmetic", "boolean", "calculat", "comparison", "compare", "exception", "io",
    "oop", "http", "request", "url", "regexp", "log", "design", "clean", "readab", "naming", "software", "computer",
)  # fmt: skip


def not_a_skill(name: str, definition: str = "") -> str | None:
    """Why a name a teacher gave is not a skill, or None when it may be one.

    Four things weak teachers write (seen in the dry run's catalog): dates and numbers; words echoed from the
    prompt or the JSON schema; names of people or products with no programming in name or definition; and
    sentences rather than names. Shortcut: word lists, not a parser or a named-entity model.

    >>> [not_a_skill(n, d) for n, d in [("2024-03-15", ""), ("my function name", "x"), ("Minecraft", "a game"),
    ...     ("your definition of the feature is not valid please provide", ""), ("List comprehension", "build lists")]]
    ['a date or number', 'echoes the prompt or schema', 'no programming meaning', 'a sentence, not a name', None]
    """
    words = normalize_name(name).split()
    if not words:
        return "a date or number"
    if all(w.isdigit() or w in _MONTHS or re.fullmatch(r"\d+(st|nd|rd|th)", w) for w in words):
        return "a date or number"
    if " ".join(words) in _PLACEHOLDERS or re.search(r"\{\w*\}", name):  # "{name} ({amount})": a template
        return "echoes the prompt or schema"
    raw = {w.strip(".,;:!?\"'()") for w in name.lower().split()}  # "file I/O" is not the pronoun "I"
    if len(words) > 6 or _SENTENCE & raw:
        return "a sentence, not a name"
    if not _speaks_of_programming(words) and not _speaks_of_programming(normalize_name(definition).split()):
        return "no programming meaning"
    return None


def _speaks_of_programming(words: list[str]) -> bool:
    return any(w.startswith(_PROGRAMMING_ROOTS) and (len(w) > 2 or w in _PROGRAMMING_ROOTS) for w in words)


# ---- teacher requests and replies


def seed_request(seed: Seed, cfg: SkillsConfig) -> TeacherRequest:
    messages = prompts.seed_skills_messages(seed.instruction or "", seed.program, cfg.skills_per_seed)
    schema = prompts.schema_text(prompts.seed_skills_schema(cfg.skills_per_seed))
    return TeacherRequest(key=f"seed:{seed.id}", messages=messages, json_schema=schema)


def direct_requests(cfg: SkillsConfig) -> list[tuple[tuple[str, str], TeacherRequest]]:
    """Direct mode: skills asked in chunks of `skills_per_call` (so a small model can finish), each chunk about a
    different focus area (`prompts.FOCUS_AREAS`), and query types.

    Payloads are `(kind, source)`: kind "skills" or "query_types", source the name support is counted by.
    """
    chunks = -(-cfg.num_direct_skills // cfg.skills_per_call)
    out = []
    for sample in range(cfg.direct_samples):
        for chunk in range(chunks):
            size = min(cfg.skills_per_call, cfg.num_direct_skills - chunk * cfg.skills_per_call)
            key = f"direct:{cfg.domain}:skills:{chunk}"
            request = TeacherRequest(
                key=key,
                messages=prompts.direct_skills_messages(cfg.domain, size, prompts.focus_area(chunk)),
                json_schema=prompts.schema_text(prompts.direct_skills_schema(size)),
                sample_index=sample * chunks + chunk,
            )
            out.append((("skills", f"{key}#{sample}"), request))
        key = f"direct:{cfg.domain}:query_types"
        request = TeacherRequest(
            key=key,
            messages=prompts.query_types_messages(cfg.domain, cfg.num_query_types),
            json_schema=prompts.schema_text(prompts.query_types_schema(cfg.num_query_types)),
            sample_index=sample,
        )
        out.append((("query_types", f"{key}#{sample}"), request))
    return out


def mentions_of_reply(kind: str, parsed, cfg: SkillsConfig) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Parsed teacher JSON -> `(skills, query_types)` as (name, definition) lists, for any request kind.

    >>> reply = {"skills": [{"name": "loops", "definition": "for"}], "query_type": "Write a function"}
    >>> mentions_of_reply("seed", reply, SkillsConfig())
    ([('loops', 'for')], [('Write a function', '')])
    """
    parsed = parsed if isinstance(parsed, dict) else {}
    if kind == "query_types":
        return [], parse_named_list(parsed.get("query_types"), cfg.num_query_types)
    limit = cfg.skills_per_seed if kind == "seed" else cfg.skills_per_call
    skills = parse_named_list(parsed.get("skills"), limit)
    query_types = parse_named_list([parsed.get("query_type")], 1) if kind == "seed" else []
    return skills, query_types


def _keyed_seed_request(seed: Seed, cfg: SkillsConfig):
    return ("seed", seed.id), seed_request(seed, cfg)


class _ParseMentions(beam.DoFn):
    """(payload, request, reply) -> Skill mentions (main), query-type mentions, or a `no_skills` reject."""

    def __init__(self, cfg: SkillsConfig, ctx: RunContext):
        self.cfg, self.ctx = cfg, ctx

    def process(self, answered):
        (kind, source), request, reply = answered
        skills, query_types = mentions_of_reply(kind, reply.parsed, self.cfg)
        if not skills and not query_types:
            yield self.ctx.drop(request.key, EXTRACT, "no_skills", "reply named no usable skill", reply.text)
            return
        provenance = self.ctx.provenance(EXTRACT, reply.model_id, reply.model_revision)
        for name, definition in skills:
            yield Skill(name, definition, 1, [source], provenance)
        for name, definition in query_types:
            yield beam.pvalue.TaggedOutput("query_types", Skill(name, definition, 1, [source], provenance))


class ExtractSkills(beam.PTransform):
    """Seeds -> `(skills, query_types, rejected)`: mentions (support-1 `Skill`s) named by the teacher.

    `skills.mode` picks seed extraction, direct extraction or both; direct mode ignores the input.
    """

    def __init__(self, ctx: RunContext):
        super().__init__()
        self.cfg, self.ctx = ctx.config.skills, ctx

    def expand(self, seeds):
        mode = self.cfg.mode
        requests = []
        if mode in ("seeds", "both"):
            requests.append(seeds | "SeedRequests" >> beam.Map(_keyed_seed_request, self.cfg))
        if mode in ("direct", "both"):
            requests.append(seeds.pipeline | "DirectRequests" >> beam.Create(direct_requests(self.cfg)))
        answered, refused = requests | "AllRequests" >> beam.Flatten() | "AskTeacher" >> AskTeacher(self.ctx, EXTRACT)
        parsed = answered | "ParseMentions" >> beam.ParDo(_ParseMentions(self.cfg, self.ctx)).with_outputs(
            "query_types", "rejected", main="skills"
        )
        rejected = (refused, parsed.rejected) | "ExtractRejects" >> beam.Flatten()
        return parsed.skills, parsed.query_types, rejected
