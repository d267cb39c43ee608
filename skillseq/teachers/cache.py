"""A content-addressed response cache on any fsspec filesystem (a local folder, `gs://`, `s3://`, `memory://`).

One JSON file per generation at `<root>/<key[:2]>/<key>.json`, where the key is `replies.cache_key(...)`. Writes go
to a temporary name and are renamed into place, so a crash never leaves a half-written entry; readers treat an
unreadable entry as a miss. Entries are never updated: the same key always means the same generation, whatever
order or worker produced it.
"""

from __future__ import annotations

import json
import os
import uuid

import fsspec

from skillseq.teachers.replies import Generation


class ResponseCache:
    def __init__(self, url: str):
        if "://" not in url:
            url = os.path.abspath(os.path.expanduser(url))
        self.url = url
        self._fs, self._root = fsspec.core.url_to_fs(url)

    def _path(self, key: str) -> str:
        return f"{self._root}/{key[:2]}/{key}.json"

    def get(self, key: str) -> Generation | None:
        try:
            with self._fs.open(self._path(key), "r", encoding="utf-8") as f:
                data = json.load(f)
            return Generation(
                text=data["text"],
                finish_reason=data["finish_reason"],
                prompt_tokens=data["prompt_tokens"],
                completion_tokens=data["completion_tokens"],
            )
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError):
            return None  # a foreign or damaged file: regenerate and overwrite it

    def put(self, key: str, generation: Generation, about: dict) -> None:
        path = self._path(key)
        self._fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        tmp = f"{path}.tmp-{uuid.uuid4().hex}"
        entry = {
            "text": generation.text,
            "finish_reason": generation.finish_reason,
            "prompt_tokens": generation.prompt_tokens,
            "completion_tokens": generation.completion_tokens,
            **about,
        }
        with self._fs.open(tmp, "w", encoding="utf-8") as f:
            json.dump(entry, f, ensure_ascii=False, sort_keys=True)
        self._fs.mv(tmp, path)
