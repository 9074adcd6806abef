"""Memory pressure on a container host: its memory limit lowered to a little above what it holds, its
daemons and supervision tree marked for the OOM killer (oom_score_adj 500, inherited by every daemon its
supervisor starts again), and a squeezer started on the machine (outside the host's cgroup)
that keeps the limit at what the host holds plus a cushion and runs a marked poker into it whenever a
marked daemon runs: each daemon started again is killed again — until recovery (hog.py says why it is
built so). There is no swap here: what does not fit is killed.

Two facts of these machines shape it: cgroup v1 refuses a limit below what a group holds (EBUSY, where
v2 would OOM-kill down to it), so the limit follows what the host holds down, never below; and a
negative oom_score_adj is refused (EIO, even for root), so nothing can be the one never chosen — the
daemons are marked instead, and nothing unmarked takes memory in the host."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from nineslab import cgroups
from nineslab.process import wait_gone
from nineslab.providers.docker import hog

HOST_MEMORY = 1 << 30  # every container host's memory (a small VM's); what recovery gives back
HEADROOM = 16 << 20  # the first lowered limit: what the host holds now, plus this
INIT = frozenset({"docker-init", "sleep"})  # the container's init: never marked, the host stays up
VICTIM = hog.DAEMON_ADJ  # oom_score_adj of the host's processes: taken before anything unmarked
HOG_SCRIPT = Path(__file__).with_name("hog.py")
HOG_PIDFILE = "memory-hog.pid"  # the squeezer's, in the host's directory (not run/: its daemons' pidfiles)
KILL_WAIT_S = 15.0


def lowered_limit(usage: int, page: int = 4096) -> int:
    """The limit a memory_pressure fault sets: settable under cgroup v1 (not below `usage`), a page
    multiple, and small enough that a poker fills it in a moment (pure)."""
    return -(-(usage + HEADROOM) // page) * page


def cgroup_dir(pid: int, controller: str = "memory") -> Path:
    """The cgroup v1 directory of `pid` for `controller`."""
    path = cgroups.controller_cgroup(pid, controller)
    if path is None:
        raise FileNotFoundError(f"process {pid} is in no {controller} cgroup (cgroup v1 is expected)")
    return Path("/sys/fs/cgroup") / controller / path.lstrip("/")


def oom_kills(group: Path) -> int:
    for line in (group / "memory.oom_control").read_text().splitlines():
        if line.startswith("oom_kill "):
            return int(line.split()[1])
    return 0


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def mark_victims(group: Path, adj: int) -> None:
    """Set oom_score_adj of every process in the memory cgroup but the container's init (the hog is not
    running yet when they are marked, and is ended before they are unmarked)."""
    for pid in cgroups.members(group):
        if _comm(pid) not in INIT:
            with contextlib.suppress(OSError):  # gone meanwhile
                Path(f"/proc/{pid}/oom_score_adj").write_text(str(adj))


def hog_pid(pidfile: Path) -> int | None:
    """The squeezer named by `pidfile`, if it is alive and is nineslab's (a reused PID is left alone)."""
    try:
        pid = int(pidfile.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if str(HOG_SCRIPT).encode() in cmdline and b"--poke" not in cmdline else None


def start_hog(enter: list[str], group: Path, pidfile: Path) -> int:
    """Start the squeezer on the machine (`enter` runs its pokers in the host) and wait, bounded, until
    the kernel has killed something in the group; returns how many it killed by then (0: none in time)."""
    pidfile.unlink(missing_ok=True)
    before = oom_kills(group)
    proc = subprocess.Popen(
        [sys.executable, str(HOG_SCRIPT), str(pidfile), str(group), *enter],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + KILL_WAIT_S
    while time.monotonic() < deadline and proc.poll() is None and oom_kills(group) == before:
        time.sleep(0.05)
    return oom_kills(group) - before


def end_hog(pidfile: Path) -> bool:
    """End the squeezer named by `pidfile` and its poker (TERM, then KILL after a bounded wait); True if
    there was one."""
    pid = hog_pid(pidfile)
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        wait_gone(pid, 2.0)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        wait_gone(pid)
    pidfile.unlink(missing_ok=True)
    return pid is not None
