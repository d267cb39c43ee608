"""Run untrusted Python in a confined child process: one child per batch, one result per call, never a stall.

    >>> out = run_batch(["def f(x):\\n    return x * 2\\n"], [Call(0, "f", "(21,)")])
    >>> (out.outcomes[0].status, out.outcomes[0].value)
    ('ok', '42')

What confines a child (the layers that took effect are listed in `BatchResult.isolation`):
- a fresh interpreter (`python -S -s -B`, no site-packages), a minimal environment (no inherited tokens),
  stdout to /dev/null, stderr to a capped file, results on a dedicated pipe fd tagged with a batch nonce;
- its own session, so the whole process group is killed on timeout; PR_SET_PDEATHSIG kills it if we die;
- rlimits: address space, CPU seconds for the batch, file size, open files, no core dumps, and
  RLIMIT_NPROC=0, which only binds a non-root uid: as root the child drops to a uid of its own
  (1_000_000 + pid, unique among live children), so it cannot fork or start threads, signal us or other
  sandboxes, read /proc/<our pid>/environ, or write where that uid has no rights (our home, the output dir);
- where permitted (root with CAP_SYS_ADMIN, or unprivileged user namespaces): a network namespace with
  only a down loopback, and a mount namespace with fresh tmpfs over /tmp, /var/tmp, /dev/shm, so even
  world-writable dirs are out of reach. Docker's default seccomp profile forbids unshare: there the child
  has no netns/mountns and `isolation` says so; networking then is not blocked.
- per call: a SIGALRM timer in the child (soft, re-firing), and a watchdog here (hard: no result within
  2 x the call's timeout + 0.5 s after the previous result kills the
  group). A call that kills, hangs or crashes the child marks its cell,
  the program's remaining cells are skipped, and a fresh child carries on with the rest; the batch wall
  clock and `max_restarts` bound the total. Per-call CPU time is bounded by the per-call wall clock, since
  the child cannot start threads.

Shortcuts: a program shares its interpreter with the other programs of its batch (one record's target and
alternatives); builtins and the recursion limit are restored after every call, but a program that digs the
nonce out of the harness's memory could forge results for its own batch (never for another record's).
No preexec_fn: limits are set by the child itself before any untrusted code runs, because preexec_fn is not
safe in the threaded DirectRunner.
"""

from __future__ import annotations

import json
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field

_CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_child.py")
_UID_BASE = 1_000_000
_MAX_LINE = 1 << 16


@dataclass(frozen=True)
class Limits:
    """The sandbox settings; `skillseq.config.SandboxConfig` has the same fields and can be passed instead."""

    call_timeout_s: float = 1.0
    batch_timeout_s: float = 30.0
    memory_mb: int = 512
    max_output_bytes: int = 65536
    file_size_mb: int = 16
    value_chars: int = 2000
    max_restarts: int = 8
    startup_timeout_s: float = 20.0


@dataclass(frozen=True)
class Call:
    program: int
    entry_point: str
    args: str  # repr of a tuple of literals, read with ast.literal_eval in the child
    timeout_s: float | None = None  # this call's limit, at most limits.call_timeout_s


@dataclass(frozen=True)
class Outcome:
    """status: ok | raised (value = exception type) | timeout | crashed | output_limit | load_error | skipped
    | aborted (batch deadline or restarts exhausted). `value` is the canonical repr when ok."""

    status: str
    value: str
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class BatchResult:
    outcomes: list[Outcome]
    isolation: list[str] = field(default_factory=list)
    restarts: int = 0
    seconds: float = 0.0
    pids: list[int] = field(default_factory=list)  # the children it ran, for checks that none is left


def _limits(limits) -> Limits:
    if limits is None:
        return Limits()
    if isinstance(limits, Limits):
        return limits
    names = Limits.__dataclass_fields__
    return Limits(**{k: getattr(limits, k) for k in names if hasattr(limits, k)})


def _minimal_env() -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"}


def run_batch(programs: list[str], calls: list[Call], limits=None) -> BatchResult:
    """Run every call (program index, entry point, args repr); one Outcome per call, in order."""
    lim = _limits(limits)
    inputs = sorted({c.args for c in calls})
    index = {a: i for i, a in enumerate(inputs)}
    job_calls = [
        [i, c.program, c.entry_point, index[c.args], min(c.timeout_s or lim.call_timeout_s, lim.call_timeout_s)]
        for i, c in enumerate(calls)
    ]
    outcomes: list[Outcome | None] = [None] * len(calls)
    start = time.monotonic()
    deadline = start + lim.batch_timeout_s
    result = BatchResult(outcomes=[])
    pending = job_calls
    while pending:
        if time.monotonic() >= deadline or result.restarts > lim.max_restarts:
            why = "batch deadline" if time.monotonic() >= deadline else "too many restarts"
            for ci, *_ in pending:
                outcomes[ci] = Outcome("aborted", why)
            break
        isolation = _run_child(programs, inputs, pending, lim, deadline, outcomes, result.pids)
        result.isolation = result.isolation or isolation
        pending = [c for c in pending if outcomes[c[0]] is None]
        result.restarts += bool(pending)
    result.outcomes = outcomes
    result.seconds = time.monotonic() - start
    return result


def _run_child(programs, inputs, calls, lim: Limits, deadline: float, outcomes: list, pids: list) -> list[str]:
    """One child over `calls`; fills `outcomes` for the calls it finished and the one that broke it."""
    nonce = secrets.token_hex(16)
    workdir = tempfile.mkdtemp(prefix="skillseq-sbx-")
    read_fd, write_fd = os.pipe()
    stderr = tempfile.TemporaryFile()
    flags = ["-S", "-s", "-B"] + (["-P"] if sys.version_info >= (3, 11) else [])
    proc = subprocess.Popen(
        [sys.executable, *flags, _CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        pass_fds=(write_fd,),
        cwd=workdir,
        env=_minimal_env(),
        start_new_session=True,
    )
    os.close(write_fd)
    pids.append(proc.pid)
    job = {
        "nonce": nonce,
        "fd": write_fd,
        "programs": programs,
        "inputs": inputs,
        "calls": calls,
        "limits": asdict(lim),
        "workdir": workdir,
        "uid": _UID_BASE + proc.pid if os.geteuid() == 0 else None,
    }
    isolation: list[str] = []
    why = "crashed"
    try:
        try:
            proc.stdin.write(json.dumps(job).encode())
            proc.stdin.close()
        except BrokenPipeError:
            pass
        isolation, why = _read_results(proc, read_fd, nonce, calls, lim, deadline, outcomes)
    finally:
        _kill_group(proc)
        os.close(read_fd)
        stderr.seek(0)
        err = stderr.read(4000).decode("utf-8", "replace").strip()
        stderr.close()
        shutil.rmtree(workdir, ignore_errors=True)
    _mark_failure(calls, outcomes, why, proc.returncode, err)
    return isolation


def _read_results(proc, read_fd, nonce, calls, lim, deadline, outcomes) -> tuple[list[str], str]:
    """Read result lines until the calls are done; return (isolation, why the child stopped early)."""
    isolation, buf, done = [], b"", 0
    last = time.monotonic() + lim.startup_timeout_s
    while done < len(calls):
        now = time.monotonic()
        wait = min(deadline, last + 2 * calls[done][4] + 0.5) - now
        if wait <= 0:
            return isolation, "timeout"
        ready, _, _ = select.select([read_fd], [], [], wait)
        if not ready:
            continue
        chunk = os.read(read_fd, 1 << 16)
        if not chunk:
            return isolation, "crashed"
        buf += chunk
        *lines, buf = buf.split(b"\n")
        if len(buf) > _MAX_LINE:
            return isolation, "protocol"
        for line in lines:
            try:
                msg = json.loads(line)
                if msg.pop("n") != nonce:
                    raise ValueError("bad nonce")
                if "hello" in msg:
                    isolation = list(msg["hello"])
                    last = time.monotonic()
                    continue
                if msg["i"] != calls[done][0]:
                    raise ValueError("out of order")
                outcomes[msg["i"]] = Outcome(str(msg["s"]), str(msg["v"])[: lim.value_chars], float(msg["t"]))
            except (ValueError, KeyError, TypeError, AttributeError):
                return isolation, "protocol"
            done += 1
            last = time.monotonic()
    return isolation, ""


def _mark_failure(calls, outcomes, why, returncode, err) -> None:
    """The first unfinished call broke the child: mark it, and skip the rest of that program's calls."""
    todo = [c for c in calls if outcomes[c[0]] is None]
    if not todo or not why:
        return
    ci, program = todo[0][0], todo[0][1]
    if why == "crashed":
        detail = f"child died ({_describe(returncode)})" + (f": {err.splitlines()[-1][:200]}" if err else "")
    elif why == "protocol":
        detail = "child broke the result protocol"
    else:
        detail = "no result in time; process group killed"
    status = "timeout" if why == "timeout" else "crashed"
    outcomes[ci] = Outcome(status, detail)
    for c in todo[1:]:
        if c[1] == program:
            outcomes[c[0]] = Outcome("skipped", f"program {status} earlier")


def _describe(returncode) -> str:
    if returncode is not None and returncode < 0:
        try:
            return signal.Signals(-returncode).name
        except ValueError:
            return f"signal {-returncode}"
    return f"exit code {returncode}"


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.kill()
    proc.wait()
