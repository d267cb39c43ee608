"""The sandbox's child side: a fork server that forks one freshly confined child per batch.

Started by `runner` as `python -S -s -B -P -c <this file's text>` (no site-packages, no file path it must
read), it reads a boot message on stdin, loads the two wall libraries (`landlockpy`, `pyseccomp`) from the
source the runner sends (it may run as a user who cannot read the runner's site-packages), imports the modules programs commonly use, and enters its namespaces once. Then it
serves: each request on its control socket (fds: job pipe, result pipe, status pipe, stderr file, the page
where the child keeps the index of the call it is running) forks a
child that confines itself (`confine`) and runs the batch (`run_batch`); the server writes `pid <n>` and
later `exit <wait status>` to the status pipe, and kills a child on request (`k <pid>`). The server itself
never runs untrusted code, and no child runs more than one batch.

The walls come from libraries: Landlock through `landlockpy` (dependency-free, every ABI including scopes;
the older `landlock` package knows neither network rules nor signal scoping), seccomp through `pyseccomp`
(ctypes over libseccomp, which compiles the filter). Three small parts are by hand, with reasons: the
namespace calls (`unshare`, `mount`, uid maps: plain libc calls no package wraps for a `-S` interpreter),
dropping capabilities (`capset` with an empty set), and loading the seccomp filter: libseccomp compiles it
once per server for a placeholder pid, and each child patches its own pid into that program and loads it
with `prctl(PR_SET_SECCOMP)`, because compiling per child cost ~10 ms per batch.

Job (pickled by the runner; results go back as JSON, never pickled): {"nonce", "programs": [code],
      "inputs": [argument tuple: a literal, or an expression evaluated per call in the program's globals],
      "calls": [[call_index, program, entry, input, timeout_s]], "limits": {...}, "workdir", "require": [layers],
      "flush": seconds}
Lines on the result pipe: {"n": nonce, "hello": [layers], "confine_s": s, "walls_s": s} first, then
      {"n": nonce, "r": [[call_index, status, value, seconds], ...]} (status: ok, raised, timeout,
      output_limit, load_error, skipped): one line after the call that ends `flush` seconds after the
      previous line (`flush` 0: after every call), and one at the end.
"""

import ast
import builtins
import ctypes
import errno
import hashlib
import importlib.util
import io
import itertools
import json
import math
import mmap
import os
import pickle
import resource
import select
import signal
import socket
import sys
import time
import types

# Modules a program may import after confinement without touching the disk (loaded once, in the server).
PRELOAD = (
    "typing collections collections.abc itertools functools re string hashlib heapq bisect fractions decimal "
    "statistics random copy operator datetime math cmath json struct array textwrap unicodedata dataclasses "
    "enum numbers abc encodings.idna threading pwd shutil subprocess signal"
).split()
SYSTEM_LIBS = ("/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/local/lib")
CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWUSER = 0x00020000, 0x40000000, 0x10000000
MS_NOSUID, MS_NODEV, MS_REC, MS_PRIVATE = 2, 4, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 1, 38, 22, 2
PID_PLACEHOLDER = 0x5EC0FFEE  # stands for the child's pid in the compiled seccomp filter
TIOCSTI = 0x5412
# Denied outright (EPERM): other processes, namespaces, mounts, kernel interfaces, new processes or sessions.
DENIED = (
    "ptrace process_vm_readv process_vm_writev kcmp pidfd_open pidfd_getfd pidfd_send_signal "
    "mount umount2 pivot_root chroot move_mount open_tree fsopen fsconfig fsmount fspick mount_setattr "
    "unshare setns fork vfork clone execve execveat setsid setpgid "
    "socket socketpair bpf perf_event_open userfaultfd io_uring_setup io_uring_enter io_uring_register "
    "keyctl add_key request_key kexec_load kexec_file_load init_module finit_module delete_module reboot "
    "swapon swapoff syslog acct settimeofday clock_settime adjtimex clock_adjtime sethostname setdomainname "
    "iopl ioperm quotactl open_by_handle_at name_to_handle_at fanotify_init lookup_dcookie"
).split()
# Signals only to itself: the first argument must be the child's own pid.
SELF_ONLY = ("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")
WALLS = {}
SECCOMP = [None]  # seccomp_template()
WALL_TIME = [0.0]  # seconds this child spent on Landlock and seccomp (benchmarks/pragmatic_bench.py)
STDLIB = []  # the interpreter's own module dirs, the only ones a child may read besides SYSTEM_LIBS
LAZY_ITEMS = 200  # items of a returned generator or builtin iterator that make up its value


class CallTimeout(BaseException):
    pass


class OutputLimit(BaseException):
    pass


class SourceImporter:
    """Imports the modules whose source the runner sent ({name: [is_package, source]})."""

    def __init__(self, sources):
        self.sources = sources

    def find_spec(self, name, path=None, target=None):
        if name not in self.sources:
            return None
        return importlib.util.spec_from_loader(name, self, is_package=self.sources[name][0])

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        exec(compile(self.sources[module.__name__][1], f"<{module.__name__}>", "exec"), module.__dict__)


def load_walls(sources):
    """Import landlockpy and pyseccomp from the runner's copy of their source, before any confinement."""
    importer = SourceImporter(sources)
    sys.meta_path.insert(0, importer)
    for name in ("landlockpy", "pyseccomp"):
        try:
            WALLS[name] = __import__(name)
        except Exception as e:  # noqa: BLE001 - a missing layer is reported, and `require` decides
            WALLS[name + "_error"] = f"{type(e).__name__}: {e}"
    sys.meta_path.remove(importer)
    if "landlockpy" in WALLS:
        WALLS["landlockpy"].abi_version()  # loads libc now, not in every child


def enter_namespaces(libc):
    """Once per server: a network namespace with only a down loopback, and a mount namespace of its own.

    As root directly; otherwise through a user namespace that maps our uid to itself (no root inside)."""
    uid, gid = os.geteuid(), os.getegid()
    if uid == 0:
        if libc.unshare(CLONE_NEWNET | CLONE_NEWNS) != 0:
            return []
        layers = ["netns", "mountns"]
    else:
        if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS) != 0:
            return []
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
        layers = ["userns", "netns", "mountns"]
    if libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        layers.remove("mountns")
    return layers


def private_tmp(libc, lim):
    """Per child: its own copy of the mount namespace with fresh tmpfs over the world-writable dirs."""
    if libc.unshare(CLONE_NEWNS) != 0:
        return None
    size = f"size={lim['file_size_mb'] * 4}m,mode=1777".encode()
    for path in (b"/tmp", b"/var/tmp", b"/dev/shm", b"/run/lock"):
        if os.path.isdir(path) and libc.mount(b"tmpfs", path, b"tmpfs", MS_NOSUID | MS_NODEV, size) != 0:
            return None
    os.mkdir("/tmp/work", 0o700)
    return "/tmp/work"


def confine(job, libc, server_layers):
    """Apply every layer this platform allows to this (forked) child; return those that took effect."""
    lim, pid = job["limits"], os.getpid()
    layers = [x for x in server_layers if x != "mountns"]
    workdir = private_tmp(libc, lim) if "mountns" in server_layers else None
    if workdir:
        layers.append("mountns")
    workdir = workdir or job["workdir"]
    root = os.geteuid() == 0
    uid = 1_000_000 + pid if root else None
    if uid is not None:
        os.chown(workdir, uid, uid)
    os.chdir(workdir)
    for what, value in (
        (resource.RLIMIT_AS, lim["memory_mb"] * 2**20),
        (resource.RLIMIT_CPU, int(math.ceil(lim["batch_timeout_s"])) + 1),
        (resource.RLIMIT_FSIZE, lim["file_size_mb"] * 2**20),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_NOFILE, 64),
        (resource.RLIMIT_NPROC, 0),
    ):
        resource.setrlimit(what, (value, value + 1 if what == resource.RLIMIT_CPU else value))
    layers.append("rlimits")
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0:
        layers.append("no_new_privs")
    if uid is not None:
        # The dropped uid cannot traverse the interpreter's home (e.g. /root): keep the stdlib dirs open.
        opened = {p: f"/proc/self/fd/{os.open(p, os.O_RDONLY | os.O_DIRECTORY)}" for p in STDLIB}
        sys.path[:] = opened.values()
        reroot_packages(opened)
    t0 = time.monotonic()
    if _landlock(workdir, STDLIB):
        layers.append("landlock")
    WALL_TIME[0] = time.monotonic() - t0
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        layers.append("uid")
    elif "userns" in layers:
        _drop_capabilities(libc)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # after setuid: a credential change clears it
    t0 = time.monotonic()
    if _seccomp(libc, pid, SECCOMP[0]):
        layers.append("seccomp")
    WALL_TIME[0] += time.monotonic() - t0
    os.environ.clear()
    os.environ.update({"HOME": workdir, "TMPDIR": workdir, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    return layers


def reroot_packages(opened):
    """Packages the server imported (ctypes, encodings, json...) find their submodules through `__path__`:
    point it at the open stdlib dirs too, or `import ctypes.util` or a codec lookup fails for the dropped uid."""
    for module in list(sys.modules.values()):
        path = getattr(module, "__path__", None)
        if not isinstance(path, list):
            continue
        for i, entry in enumerate(path):
            for real, alias in opened.items():
                if entry == real or entry.startswith(real + os.sep):
                    path[i] = alias + entry[len(real) :]
                    break


def _landlock(workdir, stdlib):
    """Filesystem: read the interpreter's stdlib and the system libraries, write only `workdir`; no TCP;
    no signals or abstract sockets outside this child's own Landlock domain."""
    ll = WALLS.get("landlockpy")
    if ll is None or ll.abi_version() < 1:
        return False
    fs = ll.AccessFS
    read = fs.READ_FILE | fs.READ_DIR
    write = read | fs.WRITE_FILE | fs.MAKE_REG | fs.MAKE_DIR | fs.REMOVE_FILE | fs.REMOVE_DIR | fs.TRUNCATE
    try:
        with ll.Ruleset(scoped=ll.Scope.SIGNAL | ll.Scope.ABSTRACT_UNIX_SOCKET) as rules:
            for path in [*stdlib, *SYSTEM_LIBS]:
                if os.path.isdir(path):
                    rules.allow_path(path, read)
            rules.allow_path(workdir, write)
            rules.restrict()
    except (OSError, ll.LandlockError):
        return False
    return True


def seccomp_template():
    """Once per server: the filter compiled by libseccomp (see DENIED, SELF_ONLY; ioctl(TIOCSTI) too;
    everything else allowed), for a placeholder pid. Compiling costs ~10 ms, so each child loads a copy with
    its own pid patched in (`_seccomp`) instead of compiling its own."""
    sc = WALLS.get("pyseccomp")
    if sc is None:
        return None
    deny = sc.ERRNO(errno.EPERM)
    try:
        f = sc.SyscallFilter(sc.ALLOW)
        for name in DENIED:
            try:
                f.add_rule(deny, name)
            except OSError:  # not a system call on this architecture
                pass
        f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")  # glibc then falls back to clone, which is denied
        for name in SELF_ONLY:
            f.add_rule(deny, name, sc.Arg(0, sc.NE, PID_PLACEHOLDER))
        f.add_rule(deny, "personality", sc.Arg(0, sc.NE, 0xFFFFFFFF))
        f.add_rule(deny, "ioctl", sc.Arg(1, sc.EQ, TIOCSTI))
        r, w = os.pipe()
        with os.fdopen(w, "wb") as out:
            f.export_bpf(out)
        with os.fdopen(r, "rb") as src:
            program = src.read()
    except OSError as e:
        WALLS["pyseccomp_error"] = f"{type(e).__name__}: {e}"
        return None
    placeholder = PID_PLACEHOLDER.to_bytes(4, sys.byteorder)
    sites = [i for i in range(4, len(program), 8) if program[i : i + 4] == placeholder]  # the `k` of each insn
    return (program, sites) if sites else None


def _seccomp(libc, pid, template):
    if template is None:
        return False
    program, sites = template
    program = bytearray(program)
    for i in sites:
        program[i : i + 4] = pid.to_bytes(4, sys.byteorder)
    filters = ctypes.create_string_buffer(bytes(program), len(program))
    fprog = SockFprog(len(program) // 8, ctypes.cast(filters, ctypes.c_void_p))
    return libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) == 0


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _drop_capabilities(libc):
    """Inside our user namespace we hold every capability over it: give them all up."""
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)
    data = (ctypes.c_uint32 * 6)()
    libc.capset(header, data)


def canon(x, depth=0):
    """A canonical, address-free repr: sets sorted, dict items sorted, floats to 12 significant digits; a
    generator (or map, zip, itertools... iterator) is its first LAZY_ITEMS items, drawn within the call's time."""
    if depth > 50:
        return "..."
    if isinstance(x, types.GeneratorType) or (type(x).__module__ in ("builtins", "itertools") and _iterator(x)):
        items = list(itertools.islice(x, LAZY_ITEMS + 1))
        more = ", ..." if len(items) > LAZY_ITEMS else ""
        return f"<{type(x).__name__}>[" + ", ".join(canon(v, depth + 1) for v in items[:LAZY_ITEMS]) + more + "]"
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


def _iterator(x):
    return hasattr(type(x), "__next__") and hasattr(type(x), "__iter__")


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


def _input(args):
    """A literal argument tuple, pickled once (each call unpickles a fresh copy); any other expression compiled,
    to be evaluated per call in the program's own globals (after its context), inside the confined child."""
    try:
        return pickle.dumps(ast.literal_eval(args))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        try:
            return compile(args, "<input>", "eval")
        except (SyntaxError, ValueError):
            return compile("(_ for _ in ()).throw(SyntaxError('input'))", "<input>", "eval")


def run_batch(job_fd, fd, running_fd, libc, server_layers):
    """In the forked child: read the job, confine, report the layers, run every call, flush, exit.

    While a call runs, its index is in the page shared with the runner (`running_fd`), -1 between calls: if
    the child dies or hangs, the runner knows which call to blame."""
    with os.fdopen(job_fd, "rb") as f:
        job = pickle.loads(f.read())  # from the runner, before any untrusted code
    running = memoryview(mmap.mmap(running_fd, 8)).cast("q")
    os.close(running_fd)
    nonce, lim = job["nonce"], job["limits"]
    t0 = time.monotonic()
    layers = confine(job, libc, server_layers)
    write, dumps, monotonic, setitimer = os.write, json.dumps, time.monotonic, signal.setitimer

    def emit(obj):
        obj["n"] = nonce
        write(fd, (dumps(obj) + "\n").encode())

    emit({"hello": layers, "confine_s": round(monotonic() - t0, 6), "walls_s": round(WALL_TIME[0], 6)})
    if set(job["require"]) - set(layers):
        return  # the runner raises: untrusted code never runs with a required layer missing
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    inputs = [_input(a) for a in job["inputs"]]
    programs, loaded, abandoned = job["programs"], {}, set()
    saved_builtins, limit = dict(builtins.__dict__), sys.getrecursionlimit()
    unblock, alarm_only = signal.pthread_sigmask, [signal.SIGALRM]
    max_out, value_chars, flush_every = lim["max_output_bytes"], lim["value_chars"], job["flush"]
    writer = CappedWriter(max_out)
    state = {"deadline": math.inf}

    def on_alarm(signum, frame):
        if monotonic() >= state["deadline"]:
            raise CallTimeout

    tick = {}
    for c in job["calls"]:
        tick[c[1]] = min(tick.get(c[1], math.inf), c[4] / 4)
    pending, last_flush, row = [], monotonic(), None
    for ci, p, entry, ii, timeout in job["calls"]:
        if p != row:  # a new program row: restore what the last one may have changed, arm one timer
            row = p
            setitimer(signal.ITIMER_REAL, 0)
            builtins.__dict__.clear()
            builtins.__dict__.update(saved_builtins)
            sys.setrecursionlimit(limit)
            signal.signal(signal.SIGALRM, on_alarm)
            unblock(signal.SIG_UNBLOCK, alarm_only)  # a program that blocked the timer does not deafen the next
            setitimer(signal.ITIMER_REAL, tick[p], tick[p])  # re-fires if a bare `except:` swallows it
        if p in abandoned:
            pending.append([ci, "skipped", "timed out earlier", 0.0])
            continue
        status, value, t0 = "ok", "", monotonic()
        writer.used = 0
        running[0] = ci
        try:
            state["deadline"] = t0 + timeout
            sys.stdout = sys.stderr = writer
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
                    x = inputs[ii]
                    value = canon(fn(*(pickle.loads(x) if isinstance(x, bytes) else eval(x, loaded[p]))))
                except (CallTimeout, OutputLimit):
                    raise
                except BaseException as e:
                    status, value = "raised", type(e).__name__
            state["deadline"] = math.inf
        except CallTimeout:
            state["deadline"] = math.inf
            status, value = "timeout", f"over {timeout}s"
            abandoned.add(p)
        except OutputLimit:
            state["deadline"] = math.inf
            status, value = "output_limit", f"over {max_out} chars"
        running[0] = -1
        if len(value) > value_chars:
            value = value[: value_chars - 40] + "...#" + hashlib.sha256(value.encode()).hexdigest()[:16]
        now = monotonic()
        pending.append([ci, status, value, round(now - t0, 6)])
        if now - last_flush >= flush_every or len(pending) >= 4096:
            setitimer(signal.ITIMER_REAL, 0)  # no timeout inside the harness's own write
            emit({"r": pending})
            setitimer(signal.ITIMER_REAL, tick[p], tick[p])
            pending, last_flush = [], now
    setitimer(signal.ITIMER_REAL, 0)
    emit({"r": pending})


def serve(sock, libc, server_layers):
    """Fork a confined child per request; report its pid and exit status; exit when the runner goes."""
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    children = {}
    while True:
        ready, _, _ = select.select([sock, wake_r], [], [])
        if wake_r in ready:
            os.read(wake_r, 512)
            _reap(children)
        if sock not in ready:
            continue
        try:
            msg, fds, _, _ = socket.recv_fds(sock, 256, 5)
        except OSError:
            msg = b""
        if not msg:  # the runner is gone: so are our children
            for pid in children:
                _kill(pid)
            return
        if msg.startswith(b"k "):
            pid = int(msg[2:])
            if pid in children:  # not reaped yet, so the pid is still this child's
                _kill(pid)
            continue
        job_fd, result_fd, status_fd, err_fd, running_fd = fds
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                os.setsid()
                os.dup2(err_fd, 2)
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                for x in (sock.fileno(), wake_r, wake_w, status_fd, err_fd, *children.values()):
                    os.close(x)
                run_batch(job_fd, result_fd, running_fd, libc, server_layers)
            except BaseException:  # noqa: BLE001 - the runner sees the exit code and stderr
                import traceback

                traceback.print_exc()
                code = 3
            os._exit(code)
        for x in (job_fd, result_fd, err_fd, running_fd):
            os.close(x)
        os.write(status_fd, f"pid {pid}\n".encode())
        children[pid] = status_fd
        _reap(children)


def _kill(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def _reap(children):
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        fd = children.pop(pid, None)
        if fd is not None:
            try:
                os.write(fd, f"exit {status}\n".encode())
            except OSError:
                pass
            os.close(fd)


def main():
    boot = json.loads(sys.stdin.buffer.read())
    sys.stdin.close()
    libc = ctypes.CDLL(None, use_errno=True)
    load_walls(boot["walls"])
    STDLIB[:] = [p for p in sys.path if p and os.path.isdir(p)]
    SECCOMP[0] = seccomp_template()
    for name in PRELOAD:
        try:
            __import__(name)
        except ImportError:
            pass
    layers = enter_namespaces(libc) if boot["namespaces"] else []
    sock = socket.socket(fileno=boot["sock"])
    serve(sock, libc, layers)


if __name__ == "__main__":
    main()
