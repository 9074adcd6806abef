"""The daemons of lab hosts on this machine (namespaces, containers): each one's pidfile, written by
its start script, names it; one runit supervision tree per host (escape.supervisor). Start, signal,
hold down and stop, by those pidfiles only: the protocol of the lab's daemon control
(playbooks/roles/common/files/daemonctl.sh, which the roles run and the hosts provider sends over SSH),
in-process for hosts on this machine, where a fault's signal is one system call and not a shell."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from nineslab.paths import ENTER_SCRIPT, host_dir
from nineslab.process import alive, children, wait_gone

INIT_PIDFILE = "init.pid"  # in a container host's run/: its init, written on every start


def pidfile(lab: str, host: str, daemon: str) -> Path:
    """Where the host's start script (and daemonctl.sh) keep the daemon's PID."""
    return host_dir(lab, host) / "run" / f"{daemon}.pid"


def init_pidfile(lab: str, host: str) -> Path:
    return host_dir(lab, host) / "run" / INIT_PIDFILE


def daemon_pid(lab: str, host: str, daemon: str) -> int | None:
    """PID from the pidfile if that process is alive, else None."""
    try:
        pid = int(pidfile(lab, host, daemon).read_text().strip())
    except (OSError, ValueError):
        return None
    # A zombie is not a running daemon.
    return pid if alive(pid) else None


def stop_daemons(
    lab: str, daemons: list[tuple[str, str]], timeout: float = 5.0, meanwhile: Callable[[], None] | None = None
) -> list[str]:
    """SIGTERM every (host, daemon) at once, run `meanwhile` while they exit (destroy: removing the hosts),
    SIGKILL what is still alive `timeout` after the SIGTERM; the hosts' supervisors go first, or they
    would start the daemons again. Returns "host/daemon" for each process that was stopped."""
    for host in sorted({host for host, _ in daemons}):
        stop_supervisor(lab, host)
    pids = {f"{host}/{daemon}": pid for host, daemon in daemons if (pid := daemon_pid(lab, host, daemon))}
    for pid in pids.values():
        with contextlib.suppress(ProcessLookupError):  # it may exit on its own meanwhile
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    if meanwhile is not None:
        meanwhile()
    while time.monotonic() < deadline and any(alive(pid) for pid in pids.values()):
        time.sleep(0.05)
    for pid in pids.values():
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    return sorted(pids)


# The host's supervision tree (escape.supervisor): one runsvdir per host, its pidfile run/runsvdir.pid,
# one runsv per daemon under <host_dir>/sv/<daemon>.
SUPERVISOR = "runsvdir"


def stop_supervisor(lab: str, host: str) -> list[int]:
    """SIGKILL the host's supervision tree — runsvdir by its pidfile, then the runsv processes it started —
    so that nothing restarts the host's daemons (a power-off, destroy). The daemons themselves are left
    to the caller. Returns the PIDs killed."""
    top = daemon_pid(lab, host, SUPERVISOR)
    if top is None:
        return []
    tree = [top, *children(top)]
    for pid in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for pid in tree:
        wait_gone(pid)
    pidfile(lab, host, SUPERVISOR).unlink(missing_ok=True)
    return tree


def hold_down(lab: str, host: str, daemon: str) -> int | None:
    """A daemon down until recovered: under a supervisor, tell its runsv not to start it again ('o': the
    service ran once) before the SIGKILL; without one, the SIGKILL alone. Returns the PID killed."""
    supervise = host_dir(lab, host) / "sv" / daemon / "supervise"
    told = False
    with contextlib.suppress(OSError):  # no runsv reads the pipe (ENXIO) or none exists: unsupervised
        fd = os.open(supervise / "control", os.O_WRONLY | os.O_NONBLOCK)
        try:
            told = os.write(fd, b"o") == 1
        finally:
            os.close(fd)
    if told:
        # runsv reaps a dead child before it reads its control pipe, and an 'o' read while the daemon is
        # down starts it (once): had the SIGKILL landed before runsv read the 'o', the daemon would be
        # started again and stay up (a "stopped" etcd member back within its hold, on a loaded machine). Kill
        # only once runsv says it wants the daemon down (bounded).
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and not _wants_down(supervise):
            time.sleep(0.01)
    return signal_daemon(lab, host, daemon, signal.SIGKILL)


def _wants_down(supervise: Path) -> bool:
    try:
        return "want down" in (supervise / "stat").read_text()
    except OSError:
        return False


def host_entry(lab: str, host: str, netns: str) -> list[str]:
    """A command prefix that runs a program on the host as its daemons run: in its network namespace, or
    for a container host (its init alive) in the container's cgroups and namespaces too."""
    try:
        pid = int(init_pidfile(lab, host).read_text().strip())
    except (OSError, ValueError):
        pid = 0
    if pid and alive(pid):
        return [str(ENTER_SCRIPT), str(pid)]
    return ["nsenter", f"--net=/run/netns/{netns}"]


def start_daemon(lab: str, netns: str, host: str, daemon: str) -> bool:
    """Start a daemon again with the exact command its deploy used (run/<daemon>.start), inside its
    namespace. True if it was started, False if it was already running."""
    script = host_dir(lab, host) / "run" / f"{daemon}.start"
    if not script.is_file():
        raise FileNotFoundError(f"{script} is missing — run `nineslab deploy` to re-create the lab's services")
    res = subprocess.run([*host_entry(lab, host, netns), "sh", str(script)], capture_output=True, text=True, timeout=30)
    if res.returncode not in (0, 1):
        raise RuntimeError(f"starting {host}/{daemon} failed: {res.stderr.strip()[-300:]}")
    return res.returncode == 0


def signal_daemon(lab: str, host: str, daemon: str, sig: int) -> int | None:
    """Send `sig` to the daemon named by our pidfile; returns its PID, or None if it was not running."""
    pid = daemon_pid(lab, host, daemon)
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
    return pid
