"""The sandbox child: confine this process, then run a batch of (program, input) calls and report each result.

Runs as `python -S -s -B _child.py` with only the standard library. It reads one JSON job from stdin, confines
itself (see `confine`), and writes one JSON line per call to a dedicated result fd (never stdout: the
programs' stdout goes to /dev/null at the OS level and to a capped buffer at the Python level). Every line
carries the batch nonce, so a program that blindly writes to inherited fds cannot forge a result.

Job: {"nonce", "fd", "programs": [code], "inputs": [args repr], "calls": [[call_index, program, entry, input, timeout_s]],
      "limits": {...}, "workdir", "uid"}
Line: {"n": nonce, "i": call_index, "s": status, "v": value, "t": seconds}  (status: ok, raised, timeout,
      output_limit, load_error, skipped); first line {"n": nonce, "hello": [isolation layers]}.
"""

import ast
import builtins
import ctypes
import hashlib
import io
import json
import math
import os
import pickle
import resource
import signal
import sys
import time

# Modules a program may import even where the stdlib is unreadable after the uid drop (pre-imported as root).
PRELOAD = (
    "typing collections collections.abc itertools functools re string hashlib heapq bisect fractions decimal "
    "statistics random copy operator datetime math cmath json struct array textwrap unicodedata dataclasses "
    "enum numbers abc operator encodings.idna socket threading"
).split()

CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWUSER = 0x00020000, 0x40000000, 0x10000000
MS_NOSUID, MS_NODEV, MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 1, 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38


class CallTimeout(BaseException):
    pass


class OutputLimit(BaseException):
    pass


def confine(job):
    """Apply every isolation layer this platform allows; return the names of those that took effect."""
    layers = []
    libc = ctypes.CDLL(None, use_errno=True)
    root = os.geteuid() == 0
    flags = CLONE_NEWNET | CLONE_NEWNS if root else CLONE_NEWUSER | CLONE_NEWNET
    if libc.unshare(flags) == 0:
        layers.append("netns")
        if root and _private_tmp(libc, job):
            layers.append("mountns")
    elif libc.unshare(CLONE_NEWNET) == 0:
        layers.append("netns")
    workdir = "/tmp/work" if "mountns" in layers else job["workdir"]
    os.makedirs(workdir, exist_ok=True)
    uid = job["uid"] if root else None
    if uid is not None:
        os.chown(workdir, uid, uid)
    os.chdir(workdir)
    lim = job["limits"]
    mem = lim["memory_mb"] * 2**20
    cpu = int(math.ceil(lim["batch_timeout_s"])) + 1
    fsize = lim["file_size_mb"] * 2**20
    for what, value in (
        (resource.RLIMIT_AS, mem),
        (resource.RLIMIT_CPU, cpu),
        (resource.RLIMIT_FSIZE, fsize),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_NOFILE, 64),
        (resource.RLIMIT_NPROC, 0),
    ):
        hard = value + 1 if what == resource.RLIMIT_CPU else value
        resource.setrlimit(what, (value, hard))
    layers.append("rlimits")
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        layers.append("uid")
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0:
        layers.append("no_new_privs")
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # after setuid: a credential change clears it
    os.environ.clear()
    os.environ.update({"HOME": workdir, "TMPDIR": workdir, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    return layers


def _private_tmp(libc, job):
    """Fresh tmpfs over the world-writable dirs; the stdlib bound read-only where the new uid can read it."""
    if libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return False
    size = f"size={job['limits']['file_size_mb'] * 4}m,mode=1777".encode()
    for path in (b"/tmp", b"/var/tmp", b"/dev/shm", b"/run/lock"):
        if os.path.isdir(path):
            libc.mount(b"tmpfs", path, b"tmpfs", MS_NOSUID | MS_NODEV, size)
    # The interpreter may live under a directory the dropped uid cannot traverse (/root here): bind the
    # stdlib into the fresh /tmp read-only so later imports work, and point sys.path at it.
    new_path = []
    for i, entry in enumerate(p for p in sys.path if p and os.path.isdir(p)):
        target = f"/tmp/.lib{i}".encode()
        os.mkdir(target)
        if libc.mount(entry.encode(), target, None, MS_BIND, None) == 0:
            libc.mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID, None)
            new_path.append(target.decode())
    sys.path[:] = new_path
    return True


def canon(x, depth=0):
    """A canonical, address-free repr: sets sorted, dict items sorted, floats to 12 significant digits."""
    if depth > 50:
        return "..."
    if isinstance(x, bool) or x is None or isinstance(x, (int, str, bytes)):
        return repr(x)
    if isinstance(x, float):
        return "0.0" if x == 0 else repr(float(format(x, ".12g"))) if math.isfinite(x) else repr(x)
    if isinstance(x, complex):
        return f"complex({canon(x.real)}, {canon(x.imag)})"
    if isinstance(x, list):
        return "[" + ", ".join(canon(v, depth + 1) for v in x) + "]"
    if isinstance(x, tuple):
        return "(" + ", ".join(canon(v, depth + 1) for v in x) + (",)" if len(x) == 1 else ")")
    if isinstance(x, (set, frozenset)):
        return type(x).__name__ + "{" + ", ".join(sorted(canon(v, depth + 1) for v in x)) + "}"
    if isinstance(x, dict):
        items = sorted(canon(k, depth + 1) + ": " + canon(v, depth + 1) for k, v in x.items())
        return "{" + ", ".join(items) + "}"
    r = repr(x)
    return f"<{type(x).__name__}>" if " at 0x" in r else r


class CappedWriter(io.TextIOBase):
    def __init__(self, cap):
        self.cap, self.used = cap, 0

    def writable(self):
        return True

    def write(self, s):
        self.used += len(s)
        if self.used > self.cap:
            raise OutputLimit
        return len(s)


def main():
    job = json.loads(sys.stdin.buffer.read())
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) != here]
    sys.stdin.close()
    nonce, lim = job["nonce"], job["limits"]
    fd = os.dup(job["fd"])  # private copy, close-on-exec; the inherited number is closed
    os.close(job["fd"])
    for name in PRELOAD:
        try:
            __import__(name)
        except ImportError:
            pass
    layers = confine(job)
    write, dumps, monotonic, setitimer = os.write, json.dumps, time.monotonic, signal.setitimer
    value_chars = lim["value_chars"]

    def emit(obj):
        obj["n"] = nonce
        write(fd, (dumps(obj) + "\n").encode())

    def on_alarm(signum, frame):
        raise CallTimeout

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    emit({"hello": layers})
    inputs = [pickle.dumps(ast.literal_eval(a)) for a in job["inputs"]]
    programs, loaded, abandoned = job["programs"], {}, set()
    saved_builtins, limit = dict(builtins.__dict__), sys.getrecursionlimit()
    for ci, p, entry, ii, timeout in job["calls"]:
        if p in abandoned:
            emit({"i": ci, "s": "skipped", "v": "timed out earlier", "t": 0.0})
            continue
        status, value, t0 = "ok", "", monotonic()
        try:
            signal.signal(signal.SIGALRM, on_alarm)
            sys.stdout = sys.stderr = CappedWriter(lim["max_output_bytes"])
            setitimer(signal.ITIMER_REAL, timeout, 0.05)  # re-fires if a bare `except:` swallows it
            try:
                if p not in loaded:
                    loaded[p] = g = {"__name__": "__sandbox__", "__builtins__": builtins}
                    exec(compile(programs[p], f"<program {p}>", "exec"), g)
                fn = loaded[p].get(entry)
                if not callable(fn):
                    raise NameError(entry)
            except (CallTimeout, OutputLimit):
                raise
            except BaseException as e:
                loaded[p] = {}
                status, value = "load_error", type(e).__name__
            if status == "ok":
                try:
                    value = canon(fn(*pickle.loads(inputs[ii])))
                except (CallTimeout, OutputLimit):
                    raise
                except BaseException as e:
                    status, value = "raised", type(e).__name__
            setitimer(signal.ITIMER_REAL, 0)
        except CallTimeout:
            setitimer(signal.ITIMER_REAL, 0)
            status, value = "timeout", f"over {timeout}s"
            abandoned.add(p)
        except OutputLimit:
            setitimer(signal.ITIMER_REAL, 0)
            status, value = "output_limit", f"over {lim['max_output_bytes']} chars"
        builtins.__dict__.clear()
        builtins.__dict__.update(saved_builtins)
        sys.setrecursionlimit(limit)
        if len(value) > value_chars:
            value = value[: value_chars - 40] + "...#" + hashlib.sha256(value.encode()).hexdigest()[:16]
        emit({"i": ci, "s": status, "v": value, "t": round(monotonic() - t0, 6)})


if __name__ == "__main__":
    main()
