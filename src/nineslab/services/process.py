"""Daemons are tracked by pidfile only: a process is ours when the pidfile we wrote names it."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from nineslab.paths import lab_dir


def host_dir(lab: str, host: str) -> Path:
    return lab_dir(lab) / "hosts" / host


def pidfile(lab: str, host: str, daemon: str) -> Path:
    return host_dir(lab, host) / "run" / f"{daemon}.pid"


def daemon_pid(lab: str, host: str, daemon: str) -> int | None:
    """PID from the pidfile if that process is alive, else None."""
    try:
        pid = int(pidfile(lab, host, daemon).read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    # A zombie or a recycled PID is not our daemon.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None
    return None if state == "Z" else pid


def stop_daemon(lab: str, host: str, daemon: str, timeout: float = 5.0) -> bool:
    """SIGTERM, then SIGKILL after `timeout`; True if a process was stopped."""
    pid = daemon_pid(lab, host, daemon)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and daemon_pid(lab, host, daemon) == pid:
        time.sleep(0.05)
    if daemon_pid(lab, host, daemon) == pid:
        os.kill(pid, signal.SIGKILL)
    return True
