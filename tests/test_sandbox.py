"""The sandbox: results in order, limits per call and per batch, recovery after a crash, a clean environment."""

import ast
import os
from dataclasses import asdict, replace

import numpy as np
import psutil
import pytest

from skillseq.config import SandboxConfig
from skillseq.sandbox import Call, Limits, run_batch, runner
from skillseq.transforms.pragmatic.regex_domain import fullmatch_batch, fullmatch_matrix

FAST = Limits(call_timeout_s=0.3, batch_timeout_s=20)


def test_values_exceptions_and_canonical_reprs():
    code = "def f(x):\n    if x == 0:\n        raise ValueError(x)\n    return {x, -x}, {'b': 1.0, 'a': x / 3}\n"
    out = run_batch([code], [Call(0, "f", "(3,)"), Call(0, "f", "(0,)"), Call(0, "g", "(1,)")], FAST).outcomes
    assert (out[0].status, out[0].value) == ("ok", "(set{-3, 3}, {'a': 1.0, 'b': 1.0})")
    assert (out[1].status, out[1].value) == ("raised", "ValueError")
    assert out[2].status == "load_error"


def test_timeout_marks_the_cell_and_the_rest_of_the_batch_runs():
    loop = "def f(x):\n    while True:\n        pass\n"
    ok = "def f(x):\n    return x\n"
    out = run_batch([loop, ok], [Call(0, "f", "(1,)"), Call(0, "f", "(2,)"), Call(1, "f", "(3,)")], FAST).outcomes
    assert [o.status for o in out] == ["timeout", "skipped", "ok"]


def test_a_crash_restarts_a_fresh_child_for_the_remaining_calls():
    crash = "import os\ndef f(x):\n    os.abort()\n"
    ok = "def f(x):\n    return x + 1\n"
    result = run_batch([ok, crash, ok], [Call(0, "f", "(1,)"), Call(1, "f", "(1,)"), Call(2, "f", "(5,)")], FAST)
    assert [o.status for o in result.outcomes] == ["ok", "crashed", "ok"]
    assert "SIGABRT" in result.outcomes[1].value
    # the first child dies with its results unsent, in the call it says it was running; a second one finishes
    assert result.restarts == 1 and len(result.pids) == 2


def test_a_child_that_dies_between_calls_is_rerun_carefully_to_find_the_call_to_blame():
    closer = "import os\ndef f(x):\n    os.closerange(0, 64)\n    return x\n"
    ok = "def f(x):\n    return x + 1\n"
    result = run_batch([ok, closer, ok], [Call(0, "f", "(1,)"), Call(1, "f", "(1,)"), Call(2, "f", "(5,)")], FAST)
    assert [o.status for o in result.outcomes] == ["ok", "crashed", "ok"]
    # the first child dies writing its results, in no call; a careful child dies right after the closer's call
    assert result.restarts == 2 and len(result.pids) == 3


DEAF = "import signal\ndef f(x):\n    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n    while True:\n        pass\n"


@pytest.mark.parametrize("warm", [True, False])
def test_a_call_its_timer_cannot_stop_is_killed_once_and_not_run_again(warm):
    ok = "def f(x):\n    return x + 1\n"
    lim = replace(FAST, startup_timeout_s=60, batch_timeout_s=120, warm=warm)
    calls = [Call(0, "f", "(1,)"), Call(1, "f", "(1,)"), Call(1, "f", "(2,)"), Call(2, "f", "(5,)")]
    result = run_batch([ok, DEAF, ok], calls, lim)
    assert [(o.status, o.value) for o in result.outcomes] == [
        ("ok", "2"),
        ("timeout", runner.HUNG),
        ("skipped", "program timeout earlier"),
        ("ok", "6"),
    ]
    assert result.outcomes[1].hung and not result.outcomes[2].hung
    assert result.restarts == 1 and len(result.pids) == 2  # the hung call ran in one child only
    # Not a speed target but the watchdog's clock: its budget (2 x 0.3 s + slack) counts from the child's hello,
    # not from the start-up deadline 60 s away.
    assert result.seconds < lim.startup_timeout_s / 2


def test_a_hang_among_short_calls_is_stopped_by_its_own_timeout_not_the_batchs_longest():
    slow = "import time\ndef f(x):\n    time.sleep(x)\n    return x\n"
    lim = replace(FAST, call_timeout_s=5.0, batch_timeout_s=60)
    calls = [Call(0, "f", "(0.01,)"), Call(1, "f", "(1,)", timeout_s=0.05), Call(0, "f", "(0.02,)")]
    result = run_batch([slow, DEAF], calls, lim)
    assert [o.status for o in result.outcomes] == ["ok", "timeout", "ok"] and result.outcomes[1].hung
    # Not a speed target but the watchdog's clock: the deaf call has 2 x 0.05 s + 0.5 s from when it was seen to
    # start, not 2 x 5 s (the batch's longest timeout) from the last line of results.
    assert result.seconds < lim.call_timeout_s


@pytest.mark.parametrize(
    "deafen",
    [
        "signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM])",
        "signal.setitimer(signal.ITIMER_REAL, 0)",
        "signal.signal(signal.SIGALRM, signal.SIG_IGN)",
    ],
)
def test_a_program_that_deafens_its_timer_and_returns_does_not_deafen_the_next_program(deafen):
    deaf = f"import signal\ndef f(x):\n    {deafen}\n    return x\n"
    loop = "def f(x):\n    while True:\n        pass\n"
    out = run_batch([deaf, loop], [Call(0, "f", "(1,)"), Call(1, "f", "(1,)")], FAST).outcomes
    assert out[0].ok
    assert (out[1].status, out[1].value) == ("timeout", "over 0.3s")  # its own timer stopped it, no kill


def test_per_call_timeout_is_capped_by_the_limit():
    sleepy = "import time\ndef f(t):\n    time.sleep(t)\n    return t\n"
    out = run_batch([sleepy], [Call(0, "f", "(0.2,)", timeout_s=0.05), Call(0, "f", "(0.01,)")], FAST).outcomes
    assert out[0].status == "timeout"


def test_batch_deadline_aborts_what_is_left():
    sleepy = "import time\ndef f(t):\n    time.sleep(t)\n    return t\n"
    lim = Limits(call_timeout_s=0.5, batch_timeout_s=1.0)
    out = run_batch([sleepy] * 6, [Call(i, "f", "(0.4,)") for i in range(6)], lim).outcomes
    assert out[0].ok and out[-1].status == "aborted"
    assert not any(o.hung for o in out)  # the call the deadline stopped did not hang: it is aborted too


def test_environment_is_minimal_and_cwd_is_fresh(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_canary_token")
    code = "import os\ndef f():\n    return sorted(os.environ), os.listdir('.')\n"
    out = run_batch([code], [Call(0, "f", "()")], FAST).outcomes[0]
    assert out.ok and "HF_TOKEN" not in out.value and "hf_canary" not in out.value
    assert out.value.endswith("[])")


def test_isolation_layers_are_reported():
    result = run_batch(["def f():\n    return 1\n"], [Call(0, "f", "()")], FAST)
    assert "rlimits" in result.isolation
    if os.geteuid() == 0:
        assert "uid" in result.isolation  # the child never runs untrusted code as root


def test_config_model_is_accepted_as_limits():
    out = run_batch(["def f(x):\n    return x\n"], [Call(0, "f", "('a',)")], SandboxConfig(call_timeout_s=0.5))
    assert out.outcomes[0].value == "'a'"


def test_the_config_is_built_from_limits_and_nothing_is_dropped():
    assert SandboxConfig().model_dump() == asdict(Limits())
    cfg = SandboxConfig(require=["landlock"], namespaces=False, memory_mb=256)
    assert runner._limits(cfg) == Limits(require=("landlock",), namespaces=False, memory_mb=256)
    with pytest.raises(TypeError, match="bogus"):
        runner._limits({"call_timeout_s": 1.0, "bogus": 1})
    with pytest.raises(ValueError, match="lanlock"):
        Limits(require=("lanlock",))


def test_each_batch_gets_a_fresh_child_that_earlier_batches_cannot_touch():
    spoil = (
        "import builtins, sys\n"
        "def f():\n"
        "    open('left_behind', 'w').close()\n"
        "    builtins.len = lambda x: -1\n"
        "    sys.modules['json'] = None\n"
        "    return 1\n"
    )
    look = "import os, sys\ndef f():\n    return os.listdir('.'), len('ab'), sys.modules.get('json') is None\n"
    first = run_batch([spoil], [Call(0, "f", "()")], FAST)
    second = run_batch([look], [Call(0, "f", "()")], FAST)
    assert first.outcomes[0].value == "1"
    assert second.outcomes[0].value == "([], 2, False)"
    assert set(first.pids).isdisjoint(second.pids)


def test_regex_fullmatch_with_timeout_counts_errors_as_no():
    patterns = [r"\d{3}", r"(a+)+$", r"[unclosed"]
    strings = ["123", "12a", "a" * 40 + "!"]
    labels, result = fullmatch_batch(patterns, strings, Limits(call_timeout_s=0.5, batch_timeout_s=20))
    assert labels.tolist() == [[True, False, False], [False, False, False], [False, False, False]]
    statuses = [o.status for o in result.outcomes]
    assert "load_error" in statuses and "timeout" in statuses  # catastrophic backtracking was cut off
    assert np.array_equal(fullmatch_matrix([r"a|b"], ["a", "c"]), [[True], [False]])


@pytest.mark.parametrize("warm", [True, False])
def test_no_process_outlives_a_batch_but_the_fork_server(warm):
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    result = run_batch(["def f():\n    while True:\n        pass\n"], [Call(0, "f", "()")], replace(FAST, warm=warm))
    assert result.outcomes[0].status == "timeout"
    assert {p.pid for p in psutil.Process().children(recursive=True)} <= before | set(runner.server_pids())
    assert not [pid for pid in result.pids if psutil.pid_exists(pid)]


@pytest.mark.parametrize("value", ["'x' * 100000", "list(range(50000))"])
def test_huge_values_are_capped_but_still_compare(value):
    code = f"def f(n):\n    return {value} if n else 0\n"
    out = run_batch([code], [Call(0, "f", "(1,)")], FAST).outcomes[0]
    assert out.ok and len(out.value) <= 2000 and "...#" in out.value


def test_a_dead_fork_server_is_replaced():
    run_batch(["def f():\n    return 1\n"], [Call(0, "f", "()")], FAST)
    server = runner._server(FAST).proc.pid
    os.kill(server, 9)
    psutil.Process(server).wait(5)
    out = run_batch(["def f():\n    return 2\n"], [Call(0, "f", "()")], FAST)
    assert out.outcomes[0].value == "2"
    assert runner._server(FAST).proc.pid != server


def test_threads_share_the_fork_server_and_each_batch_gets_its_own_child():
    from concurrent.futures import ThreadPoolExecutor

    code = "import os\ndef f(x):\n    return x * 3, os.getpid()\n"
    crash = "import os\ndef f(x):\n    os.abort()\n"

    def one(i):
        programs = [code, crash] if i % 3 == 0 else [code]
        calls = [Call(0, "f", f"({i},)")] + ([Call(1, "f", "(0,)")] if i % 3 == 0 else [])
        return i, run_batch(programs, calls, FAST)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(24)))
    pids = []
    for i, r in results:
        value, pid = ast.literal_eval(r.outcomes[0].value)
        assert value == 3 * i and r.outcomes[0].ok
        assert i % 3 or r.outcomes[1].status == "crashed"
        pids.append(pid)
    assert len(set(pids)) == len(pids)  # no child ran two batches
    assert not [pid for _, r in results for pid in r.pids if psutil.pid_exists(pid)]


def test_an_input_that_is_no_literal_is_evaluated_per_call_in_the_programs_globals():
    code = "import io\n\ndef f(fp, xs):\n    xs.append(fp.read())\n    return xs\n"
    calls = [Call(0, "f", "(io.StringIO('ab'), list(range(2)))")] * 2 + [Call(0, "f", "(nowhere, [])")]
    out = run_batch([code], calls, FAST).outcomes
    assert [(o.status, o.value) for o in out] == [("ok", "[0, 1, 'ab']")] * 2 + [("raised", "NameError")]


def test_submodules_of_packages_the_server_imported_load_in_the_child():
    # As root the child drops to a uid that cannot enter the interpreter's home: ctypes, encodings and json
    # were imported before that, and their submodules (and codecs) must still be found.
    code = (
        "def f(name):\n"
        "    if name == 'cp1252':\n"
        "        return 'é'.encode(name)\n"
        "    __import__(name)\n"
        "    return name\n"
    )
    names = ["ctypes.util", "ctypes.macholib.dyld", "json.tool", "cp1252"]
    out = run_batch([code], [Call(0, "f", repr((n,))) for n in names], FAST).outcomes
    assert [(o.status, o.value) for o in out] == [("ok", repr(n)) for n in names[:3]] + [("ok", "b'\\xe9'")]


def test_a_returned_generator_or_iterator_is_compared_by_its_items():
    code = (
        "import itertools\n\n"
        "def f(kind, n):\n"
        "    if kind == 'gen':\n"
        "        return (i * i for i in range(n))\n"
        "    if kind == 'map':\n"
        "        return map(str, range(n))\n"
        "    if kind == 'late':\n"
        "        return (1 // (i - 1) for i in range(n))\n"
        "    return itertools.count(n)\n"
    )
    args = [("gen", 3), ("gen", 4), ("map", 2), ("late", 3), ("count", 0)]
    out = run_batch([code], [Call(0, "f", repr(a)) for a in args], FAST).outcomes
    assert [(o.status, o.value) for o in out[:4]] == [
        ("ok", "<generator>[0, 1, 4]"),
        ("ok", "<generator>[0, 1, 4, 9]"),
        ("ok", "<map>['0', '1']"),
        ("raised", "ZeroDivisionError"),  # raised while drawn, inside the call
    ]
    assert out[4].ok and out[4].value.startswith("<count>[0, 1, 2") and out[4].value.endswith(", 199, ...]")
