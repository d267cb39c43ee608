"""Run untrusted Python in confined child processes: a fresh child per batch, one result per call, never a stall.

    >>> out = run_batch(["def f(x):\\n    return x * 2\\n"], [Call(0, "f", "(21,)")])
    >>> (out.outcomes[0].status, out.outcomes[0].value)
    ('ok', '42')

Where the children come from: one fork server per worker process (`_child.py`, started as
`python -S -s -B -P` with a minimal environment, in its own session), which pays the interpreter's start-up,
the imports and the namespaces once, and forks a fresh child for every batch; no child ever runs a second
batch, so nothing a program does outlives its batch. `Limits(warm=False)` starts a fresh interpreter per batch
instead and writes every result at once (the old path, kept for `benchmarks/pragmatic_bench.py`).

What confines a child (the layers that took effect are listed in `BatchResult.isolation`;
`Limits.require` names layers without which no program runs: `SandboxUnavailable` is raised instead):
- `netns`, `mountns` (`userns` when not root): the server's own network namespace with only a down
  loopback, entered once (as root directly, otherwise through a user namespace mapping our uid to itself);
  each child then takes its own mount namespace with fresh tmpfs over /tmp, /var/tmp, /dev/shm. Off with
  `Limits(namespaces=False)`, and missing where the platform refuses `unshare` (Docker's default seccomp).
- `landlock` (unprivileged, Linux >= 5.13, via `landlockpy`): read only the interpreter's stdlib and the
  system libraries, write only the batch's scratch folder, no TCP, and (ABI >= 6) no signal or abstract
  socket reaching outside the child's own Landlock domain: not us, not the server, not another batch.
- `seccomp` (via `pyseccomp` over libseccomp): no sockets, no new processes or threads, no exec, no
  ptrace or process_vm_*, no kill/tgkill except to itself, no mount/unshare/setns/setsid, no personality
  changes, no TIOCSTI, no kernel-module, bpf, io_uring or keyring calls (see `_child.DENIED`).
- `no_new_privs`, `rlimits` (address space, CPU, file size, open files, no core dumps, RLIMIT_NPROC=0),
  death with the server, a minimal environment, stdout to /dev/null, stderr to a capped file; as root,
  `uid`: the child drops to a uid of its own (1_000_000 + pid).
- per call a soft timer in the child (one interval timer per program row, checking each call's own deadline;
  SIGALRM's handler, mask and timer are restored for each row), and a watchdog here for what that timer
  cannot stop (a timer ignored, disarmed, blocked or swallowed; C code that never returns to the
  interpreter): a call still running 2 x its timeout + 0.5 s after it was seen to start, or no line within
  2 x the longest call timeout + 0.5 s plus the flush interval (counted from the hello, then from each line
  of results), kills the child. A call that kills, hangs or crashes its
  child marks its cell (a killed one is `Outcome.hung`), that program's remaining cells are skipped, and a
  fresh child carries on with the rest; the batch wall clock and `max_restarts` bound the total. Results
  travel in batches (one write per `flush` interval) tagged with a per-batch nonce; the child keeps the index
  of the call it is running in a page shared with us, so a call that hangs or dies is blamed at once and
  runs only once. Only when that does not tell (the child died between calls, or broke the protocol) do the
  unfinished calls rerun in a child that writes after every call, so the call to blame is known.

Shortcuts: a program shares its child with the other programs of its batch (one record's target and
alternatives); builtins and the recursion limit are restored before each program's row of calls, but a
program that digs the nonce out of the harness's memory could forge results for its own batch (never for
another record's), or write another call's index into the shared page to have that one blamed.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import mmap
import os
import pathlib
import pickle
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import NamedTuple

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "_child.py")) as _f:
    _CHILD_SOURCE = _f.read()  # read once: the child gets its code as an argument, not a path it must reach
_MAX_LINE = 1 << 24
_FLUSH_S = 0.05
_POLL_S = 0.05  # how often the watchdog looks at which call the child is running
_DEATH_S = 0.5  # how long a child whose result pipe closed has to exit before it is killed
HUNG = "no result in time; child killed"  # the value of a call the watchdog had to kill (`Outcome.hung`)
LAYERS = ("userns", "netns", "mountns", "rlimits", "no_new_privs", "landlock", "uid", "seccomp")


class SandboxUnavailable(RuntimeError):
    """A layer named in `Limits.require` did not take effect; no program was run."""


@dataclass(frozen=True)
class Limits:
    """The sandbox settings (`skillseq.config.SandboxConfig` is built from these fields and defaults)."""

    call_timeout_s: float = 1.0
    batch_timeout_s: float = 30.0
    memory_mb: int = 512
    max_output_bytes: int = 65536
    file_size_mb: int = 16
    value_chars: int = 2000
    max_restarts: int = 8
    startup_timeout_s: float = 20.0
    namespaces: bool = True  # off: as under Docker's default seccomp profile, for tests and such platforms
    require: tuple[str, ...] = ()  # layers without which nothing runs, e.g. ("landlock", "seccomp")
    warm: bool = True  # a fork server per worker; False: a fresh interpreter per batch (the old path)

    def __post_init__(self):
        unknown = set(self.require) - set(LAYERS)
        if unknown:
            raise ValueError(f"unknown sandbox layers in require: {sorted(unknown)} (known: {list(LAYERS)})")
        object.__setattr__(self, "require", tuple(self.require))


@dataclass(frozen=True)
class Call:
    program: int
    entry_point: str
    args: str  # a tuple of literals (pickled once), or any expression evaluated per call in the program's globals
    timeout_s: float | None = None  # this call's limit, at most limits.call_timeout_s


class Outcome(NamedTuple):
    """status: ok | raised (value = exception type) | timeout | crashed | output_limit | load_error | skipped
    | aborted (batch deadline or restarts exhausted). `value` is the canonical repr when ok; a timeout the
    child's own timer did not end (the watchdog killed the child) is `hung`. (A named tuple: a batch makes
    thousands of them.)"""

    status: str
    value: str
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def hung(self) -> bool:
        """The call gave no result in time and its child had to be killed (its own timer did not stop it)."""
        return self.status == "timeout" and self.value == HUNG


@dataclass
class BatchResult:
    outcomes: list[Outcome]
    isolation: list[str] = field(default_factory=list)
    restarts: int = 0
    seconds: float = 0.0
    pids: list[int] = field(default_factory=list)  # the children it ran, for checks that none is left
    confine_s: float = 0.0  # time the children spent confining themselves
    walls_s: float = 0.0  # of which on Landlock and seccomp


def _limits(limits) -> Limits:
    """A Limits, or anything with the same fields (the config model): an unknown field is an error."""
    if limits is None:
        return Limits()
    if isinstance(limits, Limits):
        return limits
    return Limits(**dict(limits))


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
    pending, careful, failures = job_calls, not lim.warm, 0
    while pending:
        if time.monotonic() >= deadline or failures > lim.max_restarts:
            why = "batch deadline" if time.monotonic() >= deadline else "too many restarts"
            for ci, *_ in pending:
                outcomes[ci] = Outcome("aborted", why)
            break
        blamed = _run_child(programs, inputs, pending, lim, deadline, outcomes, result, careful)
        pending = [c for c in pending if outcomes[c[0]] is None]
        result.restarts += bool(pending)
        failures += blamed
        # a failure no call was blamed for (the child died between calls): rerun writing after every call
        careful = careful or (bool(pending) and not blamed)
    result.outcomes = outcomes
    result.seconds = time.monotonic() - start
    return result


def _run_child(programs, inputs, calls, lim: Limits, deadline, outcomes, result: BatchResult, careful) -> bool:
    """One child over `calls`; fills `outcomes` for the calls it finished and for the one that broke it, when
    that is known: the call the child was running when it hung or died on its own (the child keeps its index
    in a shared page, `_Running`), or else, when `careful`, the first unfinished one. Returns whether a
    failure was blamed on a call."""
    nonce = secrets.token_hex(16)
    workdir = tempfile.mkdtemp(prefix="skillseq-sbx-")
    job = {
        "nonce": nonce,
        "programs": programs,
        "inputs": inputs,
        "calls": calls,
        "limits": asdict(lim),
        "workdir": workdir,
        "require": list(lim.require),
        "flush": 0.0 if careful else _FLUSH_S,
    }
    server = _server(lim) if lim.warm else _Server(lim.namespaces)
    child, running, why = None, _Running(), ""
    try:
        try:
            child = server.start(pickle.dumps(job), lim.startup_timeout_s, running.fd)
        except OSError:  # the server died since we last used it: once more with a new one
            server = _server(lim, replace=server) if lim.warm else server
            child = server.start(pickle.dumps(job), lim.startup_timeout_s, running.fd)
        result.pids.append(child.pid)
        why = _read_results(child, running, nonce, calls, lim, deadline, outcomes, result, careful)
    finally:
        # a child whose results stopped may have died, or only closed its end of the pipe: wait a little to tell
        returncode, died = server.finish(child, _DEATH_S if why == "crashed" else 0.0)
        if not lim.warm:
            server.close()
        shutil.rmtree(workdir, ignore_errors=True)
        culprit = running.close()  # read once the child is dead: it can no longer change
    err = child.stderr_tail() if child else ""
    if why in ("", "deadline"):  # at the batch deadline, what is left is aborted, no call blamed
        return False
    todo = [c for c in calls if outcomes[c[0]] is None]
    # The call it was running is to blame when the child hung in it (killed there) or died in it on its own; a
    # broken protocol is seen only after the fact, when the child may have moved on.
    known = why == "timeout" or (why == "crashed" and died)
    blamed = next((c for c in todo if known and c[0] == culprit), todo[0] if careful and todo else None)
    if blamed is not None:
        _mark_failure(todo, outcomes, blamed, why, returncode, err)
    return blamed is not None


class _Running:
    """The index of the call the child is running (-1 between calls), in a page shared with the child (a
    memfd it maps): when the child dies or hangs, the call to blame is known without running it again."""

    def __init__(self):
        self.fd = os.memfd_create("skillseq-running", os.MFD_CLOEXEC)
        os.ftruncate(self.fd, 8)
        self.page = mmap.mmap(self.fd, 8)
        self.page[:] = (-1).to_bytes(8, sys.byteorder, signed=True)

    def value(self) -> int:
        return int.from_bytes(self.page[:], sys.byteorder, signed=True)

    def close(self) -> int:
        value = self.value()
        self.page.close()
        os.close(self.fd)
        return value


class _Child:
    def __init__(self, pid, result_fd, status_fd, stderr, status_buf):
        self.pid, self.result_fd, self.status_fd, self.stderr = pid, result_fd, status_fd, stderr
        self.status_buf = status_buf  # what was read from the status pipe past the pid line

    def stderr_tail(self) -> str:
        self.stderr.seek(0)
        text = self.stderr.read(4000).decode("utf-8", "replace").strip()
        self.stderr.close()
        return text


def _read_results(child, running, nonce, calls, lim, deadline, outcomes, result, careful) -> str:
    """Read result lines until the calls are done; return why the child stopped early ("" if it did not; else
    timeout, deadline (the batch's), crashed or protocol).

    The watchdog: the child has `startup_timeout_s` to confine itself and say hello; from then on each line
    (the hello, then each batch of results) starts the budget of what follows: 2 x the call's timeout + 0.5 s
    when `careful` (one line per call), else 2 x the longest call timeout + 0.5 s + the flush interval. And
    each call the child says it is running (`running`, looked at every `_POLL_S`) has 2 x its own timeout +
    0.5 s from when we first saw it there: a hang among short calls is stopped as soon as in a careful child.
    """
    buf, done, hello = b"", 0, False
    slack = 0.5 + (0.0 if careful else _FLUSH_S + 2 * max(c[4] for c in calls))
    timeouts = {c[0]: c[4] for c in calls}
    last = time.monotonic() + lim.startup_timeout_s
    seen, since = -1, 0.0  # the call we last saw running, and since when
    while done < len(calls):
        now = time.monotonic()
        end = last + (2 * calls[done][4] + slack if careful else slack) * hello
        current = running.value() if hello else -1
        if current != seen:
            seen, since = current, now
        if seen in timeouts:
            end = min(end, since + 2 * timeouts[seen] + 0.5)
        wait = min(deadline, end) - now
        ready, _, _ = select.select([child.result_fd], [], [], min(max(wait, 0.0), _POLL_S))
        if not ready:
            if wait <= 0:  # and nothing came meanwhile
                return "timeout" if end <= deadline else "deadline"
            continue
        chunk = os.read(child.result_fd, 1 << 16)
        if not chunk:
            return "crashed"
        buf += chunk
        *lines, buf = buf.split(b"\n")
        if len(buf) > _MAX_LINE:
            return "protocol"
        for line in lines:
            try:
                msg = json.loads(line)
                if msg.pop("n") != nonce:
                    raise ValueError("bad nonce")
                if "hello" in msg:
                    hello = True
                    result.isolation = result.isolation or list(msg["hello"])
                    result.confine_s += float(msg["confine_s"])
                    result.walls_s += float(msg["walls_s"])
                    _check_required(lim, list(msg["hello"]))
                else:
                    for ci, status, value, seconds in msg["r"]:
                        if ci != calls[done][0]:
                            raise ValueError("out of order")
                        outcomes[ci] = Outcome(str(status), str(value)[: lim.value_chars], float(seconds))
                        done += 1
            except (ValueError, KeyError, TypeError, AttributeError, IndexError):
                return "protocol"
            last = time.monotonic()
    return ""


def _check_required(lim: Limits, isolation: list[str]) -> None:
    missing = [x for x in lim.require if x not in isolation]
    if missing:
        raise SandboxUnavailable(
            f"sandbox.require lists {missing}, which did not take effect on this machine (in effect: "
            f"{isolation}); no program was run. Enable the layer (Landlock needs Linux >= 5.13 with landlock in "
            "the LSM list, seccomp needs libseccomp, namespaces need unshare) or drop it from sandbox.require."
        )


def _mark_failure(todo, outcomes, blamed, why, returncode, err) -> None:
    """The call `blamed` broke the child: mark it, and skip that program's unfinished calls after it."""
    ci, program = blamed[0], blamed[1]
    if why == "crashed":
        detail = f"child died ({_describe(returncode)})" + (f": {err.splitlines()[-1][:200]}" if err else "")
    elif why == "protocol":
        detail = "child broke the result protocol"
    else:
        detail = HUNG
    status = "timeout" if why == "timeout" else "crashed"
    outcomes[ci] = Outcome(status, detail)
    for c in todo[todo.index(blamed) + 1 :]:
        if c[1] == program:
            outcomes[c[0]] = Outcome("skipped", f"program {status} earlier")


def _describe(returncode) -> str:
    if returncode is not None and returncode < 0:
        try:
            return signal.Signals(-returncode).name
        except ValueError:
            return f"signal {-returncode}"
    return f"exit code {returncode}"


class _Server:
    """The fork server (`_child.py`): started once, asked over a socket for one child per batch."""

    def __init__(self, namespaces: bool):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        boot = {"walls": _WALL_SOURCES, "namespaces": namespaces, "sock": theirs.fileno()}
        self.stderr = tempfile.TemporaryFile()
        flags = ["-S", "-s", "-B"] + (["-P"] if sys.version_info >= (3, 11) else [])
        self.proc = subprocess.Popen(
            [_python(), *flags, "-c", _CHILD_SOURCE],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
            pass_fds=(theirs.fileno(),),
            cwd="/",
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"},
            start_new_session=True,
        )
        theirs.close()
        self.proc.stdin.write(json.dumps(boot).encode())
        self.proc.stdin.close()
        self.sock, self.lock = ours, threading.Lock()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def start(self, job: bytes, timeout: float, running_fd: int) -> _Child:
        job_r, job_w = os.pipe()
        result_r, result_w = os.pipe()
        status_r, status_w = os.pipe()
        stderr = tempfile.TemporaryFile()
        try:
            with self.lock:
                socket.send_fds(self.sock, [b"b"], [job_r, result_w, status_w, stderr.fileno(), running_fd])
        finally:
            for fd in (job_r, result_w, status_w):
                os.close(fd)
        try:
            with open(job_w, "wb") as f:
                f.write(job)
        except BrokenPipeError:
            pass
        buf = bytearray()
        line = _read_line(status_r, timeout, buf)
        if not line.startswith(b"pid "):
            for fd in (result_r, status_r):
                os.close(fd)
            raise RuntimeError(f"the sandbox's fork server did not start a child: {self.stderr_tail()}")
        return _Child(int(line[4:]), result_r, status_r, stderr, buf)

    def finish(self, child: _Child | None, wait: float = 0.0) -> tuple[int | None, bool]:
        """Give the child `wait` seconds to exit on its own, then kill it (it may be done already), and wait
        until the server has reaped it. Its return code, and whether it had exited before the kill."""
        if child is None:
            return None, False
        line = _read_line(child.status_fd, wait, child.status_buf)
        died = line.startswith(b"exit ")
        if not died:
            try:
                with self.lock:
                    self.sock.send(f"k {child.pid}".encode())
            except OSError:
                pass  # the server is gone, and with it (PR_SET_PDEATHSIG) the child
            line = _read_line(child.status_fd, 5.0, child.status_buf)
        os.close(child.result_fd)
        os.close(child.status_fd)
        return (os.waitstatus_to_exitcode(int(line[5:])) if line.startswith(b"exit ") else None), died

    def stderr_tail(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read()[-2000:].decode("utf-8", "replace").strip()

    def close(self) -> None:
        self.sock.close()  # the server kills its children and exits
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()


def _read_line(fd: int, timeout: float, buf: bytearray) -> bytes:
    """The next line from `fd` (b"" if none in time); `buf` carries what was read past it."""
    end = time.monotonic() + timeout
    while b"\n" not in buf:
        ready, _, _ = select.select([fd], [], [], max(0.0, end - time.monotonic()))
        chunk = os.read(fd, 64) if ready else b""
        if not chunk:
            return b""
        buf += chunk
    line, _, rest = bytes(buf).partition(b"\n")
    buf[:] = rest
    return line.strip()


_SERVERS: dict[tuple, _Server] = {}
_SERVERS_LOCK = threading.Lock()


def _server(lim: Limits, replace: _Server | None = None) -> _Server:
    """This process's fork server for these settings, (re)started when needed or when it is `replace`."""
    key = (os.getpid(), os.geteuid(), lim.namespaces)
    with _SERVERS_LOCK:
        server = _SERVERS.get(key)
        if server is None or server is replace or not server.alive():
            server = _SERVERS[key] = _Server(lim.namespaces)
        return server


def server_pids() -> list[int]:
    """The live fork servers of this process (they outlive batches by design)."""
    return [s.proc.pid for k, s in _SERVERS.items() if k[0] == os.getpid() and s.alive()]


@atexit.register
def _close_servers() -> None:
    for key, server in list(_SERVERS.items()):
        if key[0] == os.getpid():
            server.close()


def _python() -> str:
    """An interpreter this uid can run: ours, or the system's of the same version (ours may live in a home
    directory another user cannot enter)."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for exe in (sys.executable, shutil.which(version), shutil.which("python3")):
        if exe and os.access(exe, os.X_OK):
            return exe
    raise SandboxUnavailable(f"no Python interpreter this user may run (tried {sys.executable}, {version})")


def _wall_sources() -> dict[str, list]:
    """The source of landlockpy and pyseccomp, module by module ({name: [is_package, source]}): the server
    loads them from memory, so it needs no read access to our site-packages (it may run as another user)."""
    sources = {}
    for name in ("landlockpy", "pyseccomp"):
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.origin:
            continue
        if not spec.submodule_search_locations:
            sources[name] = [False, pathlib.Path(spec.origin).read_text()]
            continue
        for path in sorted(pathlib.Path(spec.origin).parent.glob("*.py")):
            module = name if path.stem == "__init__" else f"{name}.{path.stem}"
            sources[module] = [path.stem == "__init__", path.read_text()]
    return sources


_WALL_SOURCES = _wall_sources()
