"""Packaging: the built wheel installs everything under the one `skillseq` namespace, and Beam's
`--setup_file` path (which ships the package to remote workers) can build it from pyproject.toml."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (path,) = dist.glob("skillseq-*.whl")
    return path


@pytest.mark.slow
def test_wheel_has_only_the_skillseq_namespace(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"skillseq"}
    for module in (
        "skillseq/transforms/seeds.py",
        "skillseq/linters/__init__.py",
        "skillseq/pipelines/build.py",
        "skillseq/configs/dry_run.yaml",
        "skillseq/pipelines/cli.py",
        "skillseq/transforms/skillmix/stage.py",
        "skillseq/transforms/lintseq/core.py",
        "skillseq/transforms/pragmatic/core.py",
    ):
        assert module in names


@pytest.mark.slow
def test_wheel_installs_and_imports_in_a_fresh_venv(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True)
    probe = (
        "import importlib.util, skillseq, skillseq.transforms, skillseq.linters, skillseq.pipelines\n"
        "from importlib.resources import files\n"
        "assert 'site-packages' in skillseq.transforms.__file__, skillseq.transforms.__file__\n"
        "assert files('skillseq.configs').joinpath('dry_run.yaml').is_file()\n"
        "assert importlib.util.find_spec('transforms') is None\n"
        "assert importlib.util.find_spec('linters') is None\n"
        "print(skillseq.__version__)\n"
    )
    result = subprocess.run(
        [py, "-c", probe], capture_output=True, text=True, cwd=tmp_path, env={"PATH": os.environ["PATH"]}
    )
    assert result.returncode == 0, result.stderr
    import skillseq

    assert result.stdout.strip() == skillseq.__version__


@pytest.mark.slow
def test_beam_setup_file_builds_an_sdist_from_pyproject(tmp_path):
    from apache_beam.runners.portability.stager import Stager

    tarball = Stager._build_setup_package(str(ROOT / "pyproject.toml"), str(tmp_path), None)
    assert os.path.basename(tarball).startswith("skillseq-") and tarball.endswith(".tar.gz")
