"""Lab hosts as containers on nineslab's engine: one per host, no Docker network (`--network none`: the
lab's own bridges and router wire it, like a netns host), the host's PID namespace (so the pidfiles its
daemons write name real PIDs for every fault, heal and stop), and a file system, cgroups, CPU and memory
limits of its own. Each container's network namespace is attached under the lab's name
(`ip netns attach <lab>-<host> PID`), so everything that works on a namespace works on it unchanged.

A container that was killed and started again has a new network namespace, and its old link is gone
with the old one: `attach` notices (the name points at another namespace than its init's) and the
caller wires it again."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from pathlib import Path
from typing import Any

from nineslab.errors import LabError
from nineslab.providers.daemons import INIT_PIDFILE
from nineslab.providers.docker.memory import HOST_MEMORY

LABEL_LAB = "nineslab.lab"
LABEL_HOST = "nineslab.host"
NETNS_RUN = Path("/run/netns")


def container_name(lab: str, host: str) -> str:
    return f"{lab}-{host}"


def run_spec(lab: str, host: str, image: str, host_dir: Path, shared_ro: list[Path]) -> dict[str, Any]:
    """Keyword arguments of the SDK's containers.create for one lab host (pure)."""
    volumes = {str(host_dir): {"bind": str(host_dir), "mode": "rw"}}
    volumes.update({str(p): {"bind": str(p), "mode": "ro"} for p in shared_ro})
    return {
        "image": image,
        "name": container_name(lab, host),
        "hostname": host,
        "command": ["sleep", "infinity"],  # the host's "init": daemons are started into it by enter.sh
        "init": True,  # tini as PID 1 of the container: a stop takes 0.17 s, not 10 s (measured)
        "detach": True,
        "network_mode": "none",
        "pid_mode": "host",
        "labels": {LABEL_LAB: lab, LABEL_HOST: host},
        "volumes": volumes,
        "cap_add": ["NET_ADMIN", "NET_RAW"],  # keepalived: VRRP and its floating address
        # containers copy the machine's resolver otherwise; lab hosts resolve nothing but what they are told
        "dns": ["127.0.0.1"],
        "restart_policy": {"Name": "no"},
        # a host's memory, no swap (a memory_pressure fault lowers it)
        "mem_limit": HOST_MEMORY,
        "memswap_limit": HOST_MEMORY,
    }


def init_pid(container: Any) -> int | None:
    container.reload()
    pid = int(container.attrs.get("State", {}).get("Pid") or 0)
    return pid or None


def ensure_running(client: Any, spec: dict[str, Any], log: Path, timeout: float = 20.0) -> tuple[Any, int]:
    """The host's container, created or started as needed; returns it and its init's PID (a refusal of
    the engine is a one-line error that points at its `log`)."""
    import docker

    try:
        try:
            container = client.containers.get(spec["name"])
        except docker.errors.NotFound:
            container = client.containers.create(**{k: v for k, v in spec.items() if k != "detach"})
        if container.status != "running":
            container.start()
    except docker.errors.APIError as exc:
        why = " ".join(str(exc.explanation or exc).split())
        raise LabError(f"container {spec['name']} cannot start: {why} — see {log}") from None
    deadline = time.monotonic() + timeout
    while (pid := init_pid(container)) is None:
        if time.monotonic() > deadline:
            raise LabError(f"container {spec['name']} did not start within {timeout:.0f} s ({container.status})")
        time.sleep(0.05)
    return container, pid


def attach(netns: str, pid: int) -> bool:
    """Make /run/netns/<netns> the network namespace of `pid`; True when it changed (the host needs its
    link wired again), False when it already was."""
    path = NETNS_RUN / netns
    target = os.stat(f"/proc/{pid}/ns/net").st_ino
    with contextlib.suppress(OSError):
        if path.stat().st_ino == target:
            return False
    if path.exists():
        subprocess.run(["ip", "netns", "del", netns], capture_output=True)
    res = subprocess.run(["ip", "netns", "attach", netns, str(pid)], capture_output=True, text=True)
    if res.returncode:
        raise LabError(f"ip netns attach {netns} {pid}: {res.stderr.strip()}")
    return True


def write_init_pid(host_dir: Path, pid: int) -> None:
    run = host_dir / "run"
    run.mkdir(parents=True, exist_ok=True)
    tmp = run / f".{INIT_PIDFILE}.tmp"
    tmp.write_text(f"{pid}\n")
    tmp.replace(run / INIT_PIDFILE)


def lab_containers(client: Any, lab: str) -> list[Any]:
    return list(client.containers.list(all=True, filters={"label": f"{LABEL_LAB}={lab}"}))


def remove_lab(client: Any, lab: str) -> list[str]:
    """Remove exactly this lab's containers (by label), whatever their state; their names."""
    removed = []
    for container in lab_containers(client, lab):
        with contextlib.suppress(Exception):  # already gone meanwhile
            container.remove(force=True, v=True)
            removed.append(container.name)
    return removed
