"""`skillseq publish`: upload a finished output folder to the Hugging Face Hub as a dataset repo.

The token comes from `HF_TOKEN` or the user's `huggingface-cli login`, through huggingface_hub itself; it is
never printed or written anywhere. `HF_ENDPOINT` points the client at another Hub (tests use a local one).
The card is parsed by `huggingface_hub.DatasetCard` first (a dry run too) and checked by the Hub's own
validation before anything is uploaded (huggingface_hub asks it). One commit uploads the folder and deletes
what an earlier upload left that this run did not write (the shards of a config that now has fewer, or none),
so the repo never serves an earlier run's rows beside this one's.
"""

from __future__ import annotations

import os

from skillseq.card import BENCHMARK_TAG, read_card_yaml
from skillseq.schema import SCHEMAS

# Everything a run writes besides the card: an upload replaces it all (`delete_patterns`).
RUN_FILES = [f"{name}/*" for name in SCHEMAS] + ["plots/*", "stats.json"]


def files_to_upload(out: str) -> list[str]:
    """Every file of the folder, relative, sorted; a folder without a card is refused (not finished)."""
    if not os.path.isfile(os.path.join(out, "README.md")):
        raise FileNotFoundError(f"{out}: no README.md: not a finished skillseq output folder")
    files = []
    for root, _, names in os.walk(out):
        files += [os.path.relpath(os.path.join(root, n), out) for n in names]
    return sorted(files)


def check_benchmark_data(out: str, allow: bool) -> None:
    """Refuse a folder whose card says it holds benchmark programs, unless the user allows it explicitly."""
    with open(os.path.join(out, "README.md"), encoding="utf-8") as f:
        tags = read_card_yaml(f.read()).get("tags") or []
    if BENCHMARK_TAG in tags and not allow:
        raise ValueError(
            f"{out}: the data was seeded from a benchmark (allow_benchmark_seeds: true; see the card's first lines)."
            " A model trained on it must not be evaluated on that benchmark. Publish anyway with"
            " --allow-benchmark-data, or rerun with seeds from stdlib or your own dataset."
        )


def publish(
    out: str,
    repo_id: str,
    private: bool = False,
    dry_run: bool = False,
    token: str | None = None,
    allow_benchmark_data: bool = False,
) -> str:
    from huggingface_hub import DatasetCard

    files = files_to_upload(out)
    check_benchmark_data(out, allow_benchmark_data)
    DatasetCard.load(os.path.join(out, "README.md"))  # parses the front matter, or raises
    if dry_run:
        for f in files:
            print(f"would upload {f} ({os.path.getsize(os.path.join(out, f))} bytes)")
        print(f"{len(files)} files to dataset repo {repo_id} (private={private})")
        return ""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    commit = api.upload_folder(
        folder_path=out,
        repo_id=repo_id,
        repo_type="dataset",
        commit_message="skillseq run",
        delete_patterns=RUN_FILES,
    )
    print(f"uploaded {len(files)} files to {commit.repo_url if hasattr(commit, 'repo_url') else repo_id}")
    return str(commit)
