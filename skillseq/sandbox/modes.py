"""Trying the sandbox as an ordinary user from a root process (tests/test_sandbox_hostile.py, the benchmark)."""

from __future__ import annotations

import os
import pickle

from skillseq.sandbox import runner

NOBODY = 65534


def as_user(fn, home: str | None = None, uid: int = NOBODY):
    """`fn()` run in a forked helper that dropped to `uid` (no groups) with HOME=`home`; its result, pickled
    back. The helper starts its own fork server, which therefore runs as that user too; it closes it before
    leaving. Needs root; modules the helper imports after the drop must be readable by `uid`."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_fd)
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            if home:
                os.environ["HOME"] = home
            try:
                payload = ("ok", fn())
            except BaseException as e:  # noqa: BLE001 - handed to the caller, which raises it
                payload = ("error", f"{type(e).__name__}: {e}")
            runner._close_servers()
            with os.fdopen(write_fd, "wb") as f:
                pickle.dump(payload, f)
        finally:
            os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    if not data:
        raise RuntimeError("the unprivileged helper died without a result")
    kind, value = pickle.loads(data)
    if kind != "ok":
        raise RuntimeError(f"in the helper running as uid {uid}: {value}")
    return value
