"""A local stand-in for the Hugging Face Hub's upload API, enough for `HfApi.create_repo` + `upload_folder`
(with `delete_patterns`: it lists a repo's files and applies deletions in a commit).

It answers on 127.0.0.1 only, keeps the committed files in memory, and records each request's Authorization
header so tests can check the token was sent (and nothing else leaked it). Every file is accepted as a
"regular" (inline, base64) upload, which the real Hub also allows for small files.
"""

from __future__ import annotations

import base64
import hashlib
import json

import yaml

from tests.local_server import JSONHandler, LocalServer


class FakeHub(LocalServer):
    def __init__(self):
        self.repos: dict[str, dict] = {}
        self.files: dict[str, dict[str, bytes]] = {}
        self.auth_headers: list[str] = []
        self.validated: list[str] = []
        super().__init__()

    @property
    def endpoint(self) -> str:
        return self.root_url

    def _handler(self):
        hub = self

        class Handler(JSONHandler):
            _reply = JSONHandler.send_json

            def do_GET(self):
                hub.auth_headers.append(self.headers.get("Authorization", ""))
                parts = self.path.split("?")[0].strip("/").split("/")
                if parts[:2] == ["api", "datasets"] and len(parts) >= 5 and parts[4] == "tree":
                    files = hub.files.get(f"{parts[2]}/{parts[3]}")
                    if files is None:
                        return self._reply(404, {"error": "Repository not found"})
                    tree = [
                        {"type": "file", "path": path, "size": len(data), "oid": hashlib.sha1(data).hexdigest()}
                        for path, data in sorted(files.items())
                    ]
                    return self._reply(200, tree)
                return self._reply(404, {"error": f"not implemented: {self.path}"})

            def do_POST(self):
                hub.auth_headers.append(self.headers.get("Authorization", ""))
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                parts = self.path.split("?")[0].strip("/").split("/")
                if parts[:3] == ["api", "repos", "create"]:
                    req = json.loads(body)
                    repo_id = f"{req['organization']}/{req['name']}" if req.get("organization") else req["name"]
                    hub.repos[repo_id] = req
                    hub.files.setdefault(repo_id, {})
                    return self._reply(200, {"url": f"{hub.endpoint}/datasets/{repo_id}", "name": repo_id})
                if parts[:2] == ["api", "validate-yaml"]:
                    # The Hub checks the card's front matter before a commit; so does this stand-in.
                    req = json.loads(body)
                    hub.validated.append(req.get("content", ""))
                    try:
                        _, front, _ = req.get("content", "").split("---\n", 2)
                        if not isinstance(yaml.safe_load(front), dict):
                            raise ValueError("front matter is not a mapping")
                    except (ValueError, yaml.YAMLError) as e:
                        return self._reply(400, {"errors": [{"message": f"invalid card metadata: {e}"}]})
                    return self._reply(200, {"errors": [], "warnings": []})
                if parts[0] == "api" and parts[1] == "datasets" and parts[4] in ("preupload", "commit"):
                    repo_id = f"{parts[2]}/{parts[3]}"
                    if repo_id not in hub.repos:
                        return self._reply(404, {"error": "Repository not found"})
                    if parts[4] == "preupload":
                        files = json.loads(body)["files"]
                        return self._reply(
                            200,
                            {
                                "files": [
                                    {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files
                                ]
                            },
                        )
                    for line in body.decode().splitlines():
                        op = json.loads(line)
                        if op["key"] == "file":
                            hub.files[repo_id][op["value"]["path"]] = base64.b64decode(op["value"]["content"])
                        elif op["key"] == "deletedFile":
                            del hub.files[repo_id][op["value"]["path"]]
                    oid = hashlib.sha1(body).hexdigest()
                    return self._reply(
                        200, {"commitOid": oid, "commitUrl": f"{hub.endpoint}/datasets/{repo_id}/commit/{oid}"}
                    )
                return self._reply(404, {"error": f"not implemented: {self.path}"})

        return Handler
