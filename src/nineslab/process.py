"""Processes nineslab started, tracked by pidfile only: a process is ours when the pidfile we wrote
names it (the load generator of a run, a docker engine, a memory squeezer). The lab hosts' daemons and their
supervision are the providers' (providers.daemons)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path


def children(pid: int) -> list[int]:
    """The PIDs whose parent is `pid` (read from /proc: these kernels have no task/*/children)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def wait_gone(pid: int | None, timeout: float = 5.0) -> None:
    """Wait (bounded) until `pid` has exited."""
    deadline = time.monotonic() + timeout
    while pid is not None and alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)


def end_orphaned_group(pidfile_path: Path) -> bool:
    """End the process groups named by a pidfile {"pid", "owner", "workers"?} once its owner is gone (a
    crashed `chaos run` or suite left its Locust behind, master and workers): by the PIDs we wrote,
    nothing else. Groups whose owner still runs are left alone."""
    try:
        info = json.loads(pidfile_path.read_text())
        pids, owner = [int(info["pid"]), *map(int, info.get("workers", []))], int(info["owner"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if owner != os.getpid() and alive(owner):
        return False
    for pid in pids:
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
    pidfile_path.unlink(missing_ok=True)
    return True
