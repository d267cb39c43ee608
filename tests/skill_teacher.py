"""A deterministic OpenAI-compatible teacher on 127.0.0.1 that names skills as varied as a real teacher's.

    python -m tests.skill_teacher --port 8123    # then teacher.openai.base_url: http://127.0.0.1:8123/v1

The echo model (tests/echo_model.py) answers any JSON schema with a few words from a list of ten: its skill names
repeat ("parse sort 42"), so a catalog over many seeds stays small, and its requests differ only in a number, so
near-duplicate removal drops almost all of them. For the scale benchmark of SkillMix this teacher replies like a
real one, and only from the request's text (never timing or order):

- skills of a seed: 2 or 3 compound names (`qualifier structure operation`: "sparse matrix rotation", from about a
  million; 2.6 on average, nearly all new, as a real teacher's long tail), half the time one of 40 classic skills
  in one of its spellings ("List comprehensions"), and once in 20 seeds a placeholder echoed from the prompt ("skill
  name"), which the catalog rejects as `not_a_skill`. Every name speaks of programming, so the catalog keeps it.
  The query type is one of eight spellings of six kinds.
- a request: sentences drawn from lists, about the skills it was given, and a function name; 4 % of requests are
  one of 2 000 stock requests with a ticket number, so near-duplicates grow with the number of requests.
- a response: a short explanation and a Python function that parses, long enough for the shirker filters.
"""

from __future__ import annotations

import hashlib
import json
import random
import re

from tests.local_server import JSONHandler, LocalServer

QUALIFIERS = """sparse sorted nested circular immutable lazy weighted bounded persistent concurrent streaming cached
recursive iterative balanced directed undirected typed dynamic static mutable ordered unordered indexed hashed
compressed encrypted buffered asynchronous parallel incremental batched paginated versioned serialized validated
normalized sharded partitioned distributed local remote temporary generic abstract virtual scalar vectorized
multidimensional fixed variable signed unsigned binary decimal hexadecimal unicode ascii utf8 multiline tabular
hierarchical flat ranked scored labeled timestamped dated chunked windowed rolling sliding greedy optimal randomized
probabilistic deterministic memoized pure stateful stateless reentrant threadsafe atomic transactional idempotent
reversible invertible stable unstable monotonic cyclic acyclic dense minimal maximal approximate exact fuzzy
strict lenient""".split()
STRUCTURES = """array list tuple dictionary set frozenset deque heap trie graph tree matrix string bytestring bitmask
interval queue stack buffer iterator generator regex pattern token stream file path socket record dataframe table
column row cell csv_table json_document xml_node yaml_config ini_file log_line timestamp date duration counter
histogram index cursor pointer handle callback closure decorator descriptor property method class module package
namespace enum dataclass namedtuple protocol interface exception traceback frame coroutine future task thread lock
semaphore event condition pipe process signal checksum hash_table bloom_filter skip_list linked_list ring_buffer
priority_queue union_find segment_tree fenwick_tree suffix_array adjacency_list edge_list bitset vector polynomial
fraction permutation combination subsequence substring prefix suffix""".split()
OPERATIONS = """traversal insertion deletion lookup merging splitting slicing validation serialization
deserialization caching memoization partitioning rotation compression decompression encoding decoding parsing
formatting sorting searching filtering mapping reduction aggregation grouping joining flattening nesting chunking
batching streaming iteration enumeration counting hashing comparison normalization sanitization tokenization
interpolation extrapolation sampling shuffling deduplication reconciliation diffing patching versioning migration
indexing reindexing ranking scoring weighting balancing rebalancing pruning trimming padding alignment
transposition inversion reversal concatenation interleaving zipping unzipping windowing smoothing clipping
rounding truncation conversion casting coercion typing annotation documentation testing mocking profiling
benchmarking tracing logging monitoring scheduling throttling retrying locking synchronization
cancellation""".split()
CLASSICS = [
    ["list comprehension", "List comprehensions", "List-Comprehension"],
    ["recursion", "Recursion", "recursive functions"],
    ["string formatting", "String Formatting", "f-string formatting"],
    ["exception handling", "Exception Handling", "exception-handling"],
    ["dictionary lookup", "Dictionary lookups", "dict lookup"],
    ["file io", "File I/O", "file input/output"],
    ["sorting", "Sorting", "sorting algorithms"],
    ["binary search", "Binary Search", "binary-search"],
    ["regular expressions", "Regular Expressions", "regex"],
    ["generators", "Generators", "generator functions"],
    ["decorators", "Decorators", "function decorators"],
    ["unit testing", "Unit Testing", "unit tests"],
    ["type hints", "Type Hints", "type annotations"],
    ["iteration", "Iteration", "iterating over lists"],
    ["string manipulation", "String Manipulation", "string-manipulation"],
    ["error handling", "Error Handling", "error-handling"],
    ["json parsing", "JSON parsing", "JSON Parsing"],
    ["dynamic programming", "Dynamic Programming", "dynamic-programming"],
    ["hash maps", "Hash Maps", "hashmaps"],
    ["object oriented programming", "OOP", "object-oriented programming"],
]
PLACEHOLDERS = ["skill name", "Skill", "name", "my function name"]
QUERY_TYPES = [
    "write a function", "Write a function", "fix a bug", "explain code", "refactor code", "write a class",
    "Write a class", "optimize code",
]  # fmt: skip

_OPENERS = """In my inventory tool|For a small web scraper|While cleaning survey data|In a chess engine|For a weather
dashboard|In our billing service|While parsing server logs|For a music playlist app|In a compiler course project|For
a library catalogue|In a budgeting script|For a traffic simulation|While grading homework|In a recipe manager|For a
genome pipeline|In a chat bot|For an IoT sensor hub|While migrating a database|In a photo organiser|For a
tournament bracket""".replace("\n", " ").split("|")
_NEEDS = """I keep a|we receive a|there is a|my code builds a|the service returns a|users upload a|the job
produces a|I was handed a""".replace("\n", " ").split("|")
_ASKS = """Write a function|Implement a helper|Create a function|Build a small utility|Could you write a
routine|Please implement a function|I need a function|Write a Python function""".replace("\n", " ").split("|")
_GOAL_VERBS = "keep|report|return|count|skip|reject|sort|group|cache|log|stream|merge|split|rank|check".split("|")
_GOAL_OBJECTS = """the original order|entries it skipped|a summary per key|malformed rows|duplicate keys|the slowest
items|partial results|every warning|the largest groups|missing fields|the first match|unicode names|negative
values|nested entries|stale records""".replace("\n", " ").split("|")
_GOAL_WAYS = """without reading everything into memory|in linear time|for empty and huge inputs alike|with a clear error
message|lazily, one item at a time|without mutating its input|so that a test can compare the output|even when
entries repeat|under a configurable limit|before the deadline passes""".replace("\n", " ").split("|")
_LINKS = "relies on|uses|combines|is built around|needs|shows off|exercises|leans on".split("|")
_EXTRAS = """Add a docstring with one example.|Include type hints.|Keep it under forty lines.|Explain the edge cases
you thought about.|Show how you would test it.|Mention its time complexity.|Avoid third-party packages.|Make the
error messages name the bad entry.||||""".replace("\n", " ").split("|")
_VERBS = "merge split count rank clean index score group rotate compress parse pack".split()


def _digest(*parts) -> int:
    return int(hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest(), 16)


def _term(word: str) -> str:
    return word.replace("_", " ")


def compound_name(h: int) -> tuple[str, str]:
    """(name, definition) of one of about a million compound skills, chosen by `h`.

    >>> compound_name(12345)
    ('indexed regex insertion', 'insertion of a indexed regex in Python code')
    """
    qualifier = QUALIFIERS[h % len(QUALIFIERS)]
    structure = _term(STRUCTURES[(h // len(QUALIFIERS)) % len(STRUCTURES)])
    operation = OPERATIONS[(h // (len(QUALIFIERS) * len(STRUCTURES))) % len(OPERATIONS)]
    return f"{qualifier} {structure} {operation}", f"{operation} of a {qualifier} {structure} in Python code"


def seed_reply(messages) -> dict:
    h = _digest(messages)
    r = random.Random(h)
    skills = [compound_name(r.getrandbits(64)) for _ in range(3 if r.random() < 0.6 else 2)]
    if r.random() < 0.5:
        classic = r.choice(CLASSICS)
        skills.insert(r.randrange(len(skills) + 1), (r.choice(classic), f"using {classic[0]} in Python code"))
    if r.random() < 0.05 and len(skills) < 4:
        skills.append((r.choice(PLACEHOLDERS), "one line definition"))
    return {
        "skills": [{"name": name, "definition": definition} for name, definition in skills],
        "query_type": r.choice(QUERY_TYPES),
    }


def _request_text(r: random.Random, skills: list[str]) -> str:
    structure = _term(r.choice(STRUCTURES))
    name = f"{r.choice(_VERBS)}_{structure.replace(' ', '_')}s"
    uses = " and ".join(skills) if skills else f"{r.choice(OPERATIONS)} and {r.choice(OPERATIONS)}"
    goal = f"{r.choice(_GOAL_VERBS)} {r.choice(_GOAL_OBJECTS)} {r.choice(_GOAL_WAYS)}"
    text = (
        f"{r.choice(_OPENERS)}, {r.choice(_NEEDS)} {r.choice(QUALIFIERS)} {structure} of "
        f"{r.randrange(10, 10_000)} {_term(r.choice(STRUCTURES))} items. {r.choice(_ASKS)} `{name}` that "
        f"{r.choice(_LINKS)} {uses}; it should {goal}. {r.choice(_EXTRAS)}"
    )
    return text.strip()


def request_reply(messages) -> str:
    h = _digest(messages)
    if h % 25 == 0:  # a stock request and a ticket number: a near-duplicate of the other requests of its stock
        return f"{_request_text(random.Random(h // 25 % 2000), [])} Ticket {h // 50_000 % 10_000}."
    skills = re.findall(r"^\d+\. ([^:\n]+):", messages[-1]["content"], re.M)
    return _request_text(random.Random(h), skills)


def response_reply(messages) -> str:
    r = random.Random(_digest(messages))
    asked = re.search(r"`(\w+)`", messages[-1]["content"])
    name = asked.group(1) if asked else "solve"
    limit = r.randrange(2, 50)
    return (
        f"Here is one way to write `{name}`: it walks the input once and keeps only what it needs.\n\n"
        f"```python\ndef {name}(items, limit={limit}):\n"
        f'    """Return the entries of items that pass the check, at most {limit}."""\n'
        "    kept = []\n    for item in items:\n        if item is None:\n            continue\n"
        "        kept.append(item)\n        if len(kept) >= limit:\n            break\n    return kept\n```\n\n"
        f"Empty input gives an empty list; the loop stops after {limit} entries, so the cost is linear.\n"
    )


def answer(body: dict) -> str:
    messages = body["messages"]
    schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("schema") or {}
    props = schema.get("properties", {})
    if "skills" in props:
        return json.dumps(seed_reply(messages))
    if props:
        raise ValueError(f"this teacher answers seed skills, requests and responses, not {sorted(props)}")
    if "Do not solve it" in messages[-1]["content"]:
        return request_reply(messages)
    return response_reply(messages)


class SkillTeacher(LocalServer):
    """`with SkillTeacher() as t: ... t.base_url ...`: the replies above, as an OpenAI chat completions server."""

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"

    def _handler(self):
        class Handler(JSONHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                try:
                    text = answer(body)
                except ValueError as e:
                    return self.send_json(400, {"error": {"message": str(e)}})
                message = {"role": "assistant", "content": text}
                usage = {"prompt_tokens": len(json.dumps(body["messages"])) // 4, "completion_tokens": len(text) // 4}
                self.send_json(
                    200,
                    {
                        "id": "skill-teacher",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body["model"],
                        "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
                        "usage": {**usage, "total_tokens": sum(usage.values())},
                    },
                )

        return Handler


def main() -> None:
    """`python -m tests.skill_teacher [--port 8123]`: serve until interrupted (for `skillseq run` by hand)."""
    import argparse
    import time

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--port", type=int, default=0)
    port = ap.parse_args().port
    with SkillTeacher(port) as teacher:
        print(f"serving on {teacher.base_url}", flush=True)
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    main()
