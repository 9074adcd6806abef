"""SSH to the machines of a `hosts` lab: the command line every caller uses (one ControlMaster
connection per machine, so a fault's recovery reuses a connection that is already open), and the
preflight that proves every machine answers before anything is changed."""

from __future__ import annotations

import contextlib
import select
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from nineslab.clocks import Acts, Clock, ClockTable, clocks_to_json
from nineslab.paths import lab_dir
from nineslab.providers.hosts import requirements
from nineslab.providers.hosts.inventory import Machine
from nineslab.topology import Topology

CONNECT_TIMEOUT_S = 5
# What the preflight asks of each machine: a shell, Python 3 for Ansible's modules, and root (directly
# or by sudo without a password, as `become` says).
PROBE = "command -v python3 >/dev/null || { echo 'no python3' >&2; exit 3; }; "
PROBE_TIMEOUT_S = 30.0


def ssh_dir(lab: str) -> Path:
    return lab_dir(lab) / "ssh"


def ssh_options(lab: str, machine: Machine) -> list[str]:
    """Options for ssh: the common ones below, the machine's key and port."""
    return [*common_options(lab), "-i", str(machine.key), "-p", str(machine.port)]


def common_options(lab: str) -> list[str]:
    """Options for ssh and Ansible's ssh connection: batch mode, the lab's own known_hosts (a machine's
    key is accepted the first time and held to afterwards), one shared connection per machine."""
    d = ssh_dir(lab)
    return [
        "-o", "BatchMode=yes",
        "-o", f"ConnectTimeout={CONNECT_TIMEOUT_S}",
        "-o", "StrictHostKeyChecking=accept-new",
        "-o", f"UserKnownHostsFile={d / 'known_hosts'}",
        "-o", "ControlMaster=auto",
        "-o", f"ControlPath={d / '%C'}",
        "-o", "ControlPersist=120",
        "-o", "ServerAliveInterval=2",
        "-o", "ServerAliveCountMax=3",
    ]  # fmt: skip


def ssh_prefix(lab: str, machine: Machine) -> list[str]:
    """`ssh … <machine>`: what runs a command there (the lab's ssh directory made for its connection)."""
    ssh_dir(lab).mkdir(parents=True, exist_ok=True, mode=0o700)
    return ["ssh", *ssh_options(lab, machine), machine.target]


def ssh_argv(lab: str, machine: Machine, command: str) -> list[str]:
    return [*ssh_prefix(lab, machine), command]


def run(
    lab: str, machine: Machine, command: str, stdin: str = "", timeout: float = PROBE_TIMEOUT_S
) -> subprocess.CompletedProcess[str] | None:
    """`command` on the machine over its shared connection; None when it did not answer in time."""
    try:
        return subprocess.run(
            ssh_argv(lab, machine, command), input=stdin, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return None


def probe(lab: str, machine: Machine) -> str | None:
    """None when the machine answers over SSH with Python 3 and root; else why not (one line)."""
    root = "sudo -n " if machine.become else ""
    res = run(lab, machine, f"{PROBE}{root}id -u")
    if res is None:
        return f"no answer over SSH within {PROBE_TIMEOUT_S:.0f} s"
    why = " ".join(res.stderr.split())[-200:]
    if res.returncode == 255:
        return f"SSH to {machine.target}:{machine.port} failed: {why or 'no reason given'}"
    if res.returncode == 3:
        return "has no python3 (Ansible needs it): install Debian's python3 there"
    if res.returncode != 0 or res.stdout.strip() != "0":
        if machine.become:
            return f"`sudo -n` refused for {machine.user} ({why or 'no reason given'}): allow it without a password"
        return f"{machine.user} is not root: log in as root or set `become: true` (sudo)"
    return None


# A machine's clock as its commands print it at the moment they act ("@<epoch s>", GNU date).
STAMP = "date +@%s.%N"


def acted(host: str, stdout: str) -> Acts:
    """The act a command's output stamped on `host` (none when it printed no stamp: nothing to do)."""
    stamp = stamped(stdout)[0]
    return [] if stamp is None else [(host, stamp)]


def stamped(stdout: str) -> tuple[float | None, list[str]]:
    """A command's output split into its time stamp (the first "@<epoch>" line) and its other lines."""
    stamp: float | None = None
    lines = []
    for line in stdout.splitlines():
        if line.startswith("@") and stamp is None:
            try:
                stamp = float(line[1:])
                continue
            except ValueError:
                pass
        if line.strip():
            lines.append(line.strip())
    return stamp, lines


def offset_bounds(sent: float, remote: float, received: float) -> tuple[float, float]:
    """The machine's clock minus ours, from one exchange: its reading was taken between `sent` and
    `received` (our clock), so the offset lies in [remote - received, remote - sent]. Midpoint and
    half-width."""
    return remote - (sent + received) / 2, (received - sent) / 2


# Answers each line on stdin with the machine's clock: one SSH session for every reading, so a reading's
# round trip is the network's, not an ssh process's start (about 12 ms here, with most of it before the
# command is sent: a midpoint 5 ms off, measured).
CLOCK = "python3 -c 'import sys, time\nfor _ in sys.stdin: print(repr(time.time()), flush=True)'"


def clock_offset(lab: str, machine: Machine, samples: int = 5) -> tuple[float, float] | None:
    """The machine's clock offset against this one (seconds) and its error bound, from the tightest of
    `samples` readings in one session (NTP's minimum-delay filter); None if it did not answer."""
    best: tuple[float, float] | None = None
    with subprocess.Popen(
        ssh_argv(lab, machine, CLOCK),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        try:
            for i in range(samples + 1):  # the first reading waits for the interpreter to start: dropped
                ready = select.select([], [proc.stdin], [], CONNECT_TIMEOUT_S)[1]
                if not ready:
                    break
                sent = time.time()
                proc.stdin.write("\n")
                proc.stdin.flush()
                if not select.select([proc.stdout], [], [], CONNECT_TIMEOUT_S * 2)[0]:
                    break
                line = proc.stdout.readline()
                received = time.time()
                try:
                    found = offset_bounds(sent, float(line), received)
                except ValueError:
                    break
                if i and (best is None or found[1] < best[1]):
                    best = found
        except (BrokenPipeError, OSError):
            pass
        finally:
            with contextlib.suppress(OSError):
                proc.stdin.close()
            try:
                proc.wait(timeout=CONNECT_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
    return best


def clocks(lab: str, machines: dict[str, Machine]) -> ClockTable:
    """Every machine's clock offset and error bound, measured one machine at a time (a parallel
    measurement would add our own scheduling to every error bound)."""
    found = {host: clock_offset(lab, machine) for host, machine in machines.items()}
    return {host: None if c is None else Clock(*c) for host, c in found.items()}


def probe_all(lab: str, machines: dict[str, Machine]) -> dict[str, str | None]:
    """Every machine probed at once; host -> None (ready) or the reason it is not."""
    with ThreadPoolExecutor(max_workers=max(1, min(16, len(machines)))) as pool:
        found = dict(zip(machines, pool.map(lambda m: probe(lab, m), machines.values()), strict=True))
    return found


def close_all(lab: str, machines: dict[str, Machine]) -> None:
    """End the shared connections (`ssh -O exit`); quiet where none is open."""
    for machine in machines.values():
        subprocess.run(
            ["ssh", *ssh_options(lab, machine), "-O", "exit", machine.target],
            capture_output=True,
            timeout=10,
            stdin=subprocess.DEVNULL,
        )


def packages_missing(lab: str, machine: Machine, packages: tuple[str, ...]) -> list[str] | None:
    """Which of `packages` the machine lacks (None: it did not answer)."""
    res = run(lab, machine, requirements.query(packages))
    return requirements.missing(packages, res.stdout) if res is not None and res.returncode == 0 else None


def survey(lab: str, machines: dict[str, Machine], topology: Topology) -> list[dict[str, Any]]:
    """What `nineslab machines` shows: per machine, whether it is ready (else why not: no SSH, no root,
    packages missing) and its clock offset against this machine with the bound of that measurement.
    Leaves no connection open."""
    try:
        states = probe_all(lab, machines)
        for host, machine in machines.items():
            if states[host] is None:
                wanted = requirements.needed(topology.host(host), topology)
                lacking = packages_missing(lab, machine, wanted)
                if lacking is None:
                    states[host] = "did not answer dpkg-query"
                elif lacking:
                    states[host] = (
                        f"lacks Debian packages {' '.join(lacking)}: install them (apt-get install {' '.join(lacking)})"
                    )
        offsets = clocks(lab, {h: m for h, m in machines.items() if states[h] is None})
    finally:
        close_all(lab, machines)
    rows = []
    for host, m in machines.items():
        clock = offsets.get(host)
        rows.append(
            {
                "host": host,
                "address": str(m.address),
                "target": m.target,
                "port": m.port,
                "become": m.become,
                "problem": states[host],
                "clock": clocks_to_json({host: clock})[host],
            }
        )
    return rows
