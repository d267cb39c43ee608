"""`skillseq publish` through the real huggingface_hub client, against a local stand-in for the Hub."""

import os
import subprocess
import sys

import pytest

from skillseq.publish import files_to_upload, publish
from tests.hub_server import FakeHub

TOKEN = "hf_FAKE_token_for_tests_0123456789"


def _folder(tmp_path):
    out = tmp_path / "out"
    (out / "skills").mkdir(parents=True)
    (out / "README.md").write_text("---\nconfigs: []\n---\n# card\n")
    (out / "skills" / "train-00000-of-00001.parquet").write_bytes(b"PAR1" + bytes(range(256)) + b"PAR1")
    return out


def test_dry_run_lists_files_and_uploads_nothing(tmp_path, capsys):
    out = _folder(tmp_path)
    publish(str(out), "me/data", dry_run=True)
    text = capsys.readouterr().out
    assert "would upload README.md" in text and "skills/train-00000-of-00001.parquet" in text


def test_unfinished_folder_is_refused(tmp_path):
    (tmp_path / "x").mkdir()
    with pytest.raises(FileNotFoundError, match="no README.md"):
        files_to_upload(str(tmp_path / "x"))


def test_upload_to_local_hub_sends_every_file_and_the_token(tmp_path):
    out = _folder(tmp_path)
    with FakeHub() as hub:
        env = dict(
            os.environ, HF_ENDPOINT=hub.endpoint, HF_TOKEN=TOKEN, HF_HUB_DISABLE_XET="1", HF_HUB_DISABLE_TELEMETRY="1"
        )
        result = subprocess.run(
            [sys.executable, "-m", "skillseq.pipelines.cli", "publish", str(out), "--repo-id", "me/data", "--private"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        repo = hub.repos["me/data"]
        assert repo["type"] == "dataset"
        assert repo.get("private") is True or repo.get("visibility") == "private", repo
        uploaded = hub.files["me/data"]
        assert sorted(uploaded) == files_to_upload(str(out))
        assert uploaded["README.md"] == (out / "README.md").read_bytes()
        # The Hub checked the card (huggingface_hub asks it before uploading anything)
        assert hub.validated and set(hub.validated) == {(out / "README.md").read_text()}
        assert hub.auth_headers and all(h == f"Bearer {TOKEN}" for h in hub.auth_headers)
        assert TOKEN not in result.stdout + result.stderr
