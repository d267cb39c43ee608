"""The hostile corpus (tests/hostile/): every attack is contained, the batch finishes, nothing leaks or lingers.

Each attack runs between benign calls in one batch. Afterwards: the benign calls gave their values, the
attack's cell is an error with a reason (or, for the few that cannot fail loudly, a harmless value), the
canary directories and the home directory are unchanged, and no process of ours is left.
"""

import os
import pathlib
import socket
import stat
import tempfile

import psutil
import pytest

from skillseq.sandbox import Call, Limits, run_batch

HOSTILE = pathlib.Path(__file__).parent / "hostile"
ATTACKS = sorted(p.stem for p in HOSTILE.glob("*.py"))
LIMITS = Limits(call_timeout_s=0.5, batch_timeout_s=30, max_restarts=4)
BENIGN = "def f(x):\n    return len(x) + sum([1, 2])\n"
SECRETS = {"HF_TOKEN": "hf_hostile_canary_0123456789", "OPENAI_API_KEY": "sk-hostile-canary-0123456789"}

# How each attack must end: the cell statuses allowed (containment), never "ok" unless listed.
EXPECTED = {
    "close_all_fds": {"crashed"},
    "ctypes_segfault": {"crashed"},
    "deep_recursion": {"timeout", "crashed", "raised"},
    "delete_files": {"raised"},
    "env_secrets": {"raised"},
    "exec_shell": {"crashed"},
    "fill_disk": {"raised"},
    "fork_bomb": {"raised"},
    "thread_bomb": {"raised"},
    "hijack_stdout": {"crashed"},
    "ignore_alarm_loop": {"timeout"},
    "infinite_loop": {"timeout"},
    "infinite_loop_swallowing_timeouts": {"timeout"},
    "kill_everything": {"ok", "crashed"},  # kill(-1) reaches no one once the uid is the sandbox's own
    "kill_parent": {"raised"},
    "kill_process_group": {"crashed"},
    "load_time_bomb": {"timeout"},
    "memory_bomb": {"raised", "crashed", "timeout"},
    "network": {"raised"},
    "network_external": {"raised"},
    "os_exit": {"crashed"},
    "parent_environ": {"raised"},
    "patch_builtins": {"raised"},
    "print_gigabytes": {"output_limit"},
    "subprocess_shell": {"raised"},
    "sys_exit": {"raised"},
    "write_gigabytes_to_fd1": {"raised", "timeout"},
    "write_home": {"raised"},
    "write_outside": {"raised"},
}
NEED_OWN_UID = {"kill_parent", "kill_everything", "parent_environ", "write_home"}


@pytest.fixture(scope="module")
def isolation():
    return run_batch([BENIGN], [Call(0, "f", "('a',)")], LIMITS).isolation


def _snapshot(path: pathlib.Path) -> dict:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(path.rglob("*"))} | {
        "self": path.exists()
    }


@pytest.fixture
def canary(isolation):
    """A directory the attacks aim at: world-writable where a mount namespace hides it, else root-only."""
    base = pathlib.Path(
        tempfile.mkdtemp(prefix="skillseq-canary-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    )
    (base / "keep.txt").write_text("canary")
    (base / "out").mkdir()
    (base / "out" / "data.parquet").write_bytes(b"PAR1")
    mode = 0o777 if "mountns" in isolation else 0o755
    for p in (base, base / "out"):
        p.chmod(mode)
    (base / "keep.txt").chmod(0o666 if mode == 0o777 else 0o644)
    yield base
    for p in base.rglob("*"):
        p.chmod(stat.S_IRWXU)
    import shutil

    shutil.rmtree(base, ignore_errors=True)


def _alive_sandbox(pid: int) -> bool:
    try:
        return psutil.Process(pid).uids().real >= 1_000_000 or os.geteuid() != 0
    except psutil.NoSuchProcess:
        return False


def test_the_corpus_is_covered():
    assert set(ATTACKS) == set(EXPECTED)


@pytest.mark.parametrize("attack", ATTACKS)
def test_attack_is_contained(attack, canary, isolation, monkeypatch):
    if attack.startswith("network") and "netns" not in isolation:
        pytest.skip("no network namespace on this platform (see skillseq.sandbox.runner): network is not blocked")
    if attack in NEED_OWN_UID and "uid" not in isolation:
        pytest.skip("the child runs as our own uid here (not root): it may signal us and write our files")
    if attack in ("write_outside", "delete_files") and not {"uid", "mountns"} & set(isolation):
        pytest.skip("neither a uid of its own nor a mount namespace: our files are the child's files")
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.05)
    arg = str(listener.getsockname()[1]) if attack.startswith("network") else str(canary)
    home = pathlib.Path.home()
    home_before, canary_before = sorted(os.listdir(home)), _snapshot(canary)
    children_before = {p.pid for p in psutil.Process().children(recursive=True)}

    program = (HOSTILE / f"{attack}.py").read_text()
    calls = [
        Call(0, "f", "('ab',)"),
        Call(1, "attack", repr((arg,))),
        Call(1, "attack", repr((arg,))),
        Call(2, "f", "('abc',)"),
    ]
    result = run_batch([BENIGN, program, BENIGN], calls, LIMITS)
    out = result.outcomes

    assert [(o.status, o.value) for o in (out[0], out[3])] == [("ok", "5"), ("ok", "6")], out
    assert out[1].status in EXPECTED[attack], out[1]
    assert out[1].value, "an error cell must say why"
    assert out[2].status in EXPECTED[attack] | {"skipped"}
    text = " ".join(o.value for o in out)
    assert not any(secret in text for secret in SECRETS.values())
    assert sorted(os.listdir(home)) == home_before
    assert _snapshot(canary) == canary_before
    with pytest.raises(socket.timeout):
        listener.accept()  # nothing connected to us
    listener.close()
    assert {p.pid for p in psutil.Process().children(recursive=True)} <= children_before
    assert not [pid for pid in result.pids if _alive_sandbox(pid)]


def test_the_whole_corpus_in_one_batch_finishes(canary, isolation):
    if "uid" not in isolation:
        pytest.skip("the child has no uid of its own here: kill_parent would kill this test")
    names = [a for a in ATTACKS if not a.startswith("network")]
    programs = [BENIGN] + [(HOSTILE / f"{a}.py").read_text() for a in names]
    calls = [Call(0, "f", "('x',)")] + [Call(i + 1, "attack", repr((str(canary),))) for i in range(len(names))]
    calls.append(Call(0, "f", "('xyz',)"))
    result = run_batch(programs, calls, Limits(call_timeout_s=0.3, batch_timeout_s=60, max_restarts=40))
    statuses = [o.status for o in result.outcomes]
    assert statuses[0] == "ok" and statuses[-1] == "ok", statuses
    assert "aborted" not in statuses
    assert len(result.pids) == result.restarts + 1
    assert not [pid for pid in result.pids if _alive_sandbox(pid)]
