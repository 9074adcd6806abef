"""Existing machines for the hosts provider's tests: one docker container per topology host (its own
root file system, dpkg database and process tree, as a machine has), running Debian's sshd with a key
made for the test. Not a nineslab lab: nothing is installed on them; the hosts provider does that."""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import yaml

from nineslab.paths import ENTER_SCRIPT, lab_dir
from nineslab.providers.daemons import init_pidfile
from nineslab.providers.docker.provider import DockerProvider
from nineslab.topology import Topology

SSHD_START = "mkdir -p /run/sshd /root/.ssh && ssh-keygen -A -q && cat > /root/.ssh/authorized_keys && /usr/sbin/sshd"


def in_machine(rig: str, host: str, command: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    pid = init_pidfile(rig, host).read_text().strip()
    return subprocess.run(
        [str(ENTER_SCRIPT), pid, "sh", "-c", command], input=stdin, capture_output=True, text=True, timeout=30
    )


@dataclasses.dataclass
class Machines:
    rig: str
    topology: Topology
    inventory: Path
    key: Path
    client_netns: str

    def run(self, host: str, command: str) -> subprocess.CompletedProcess[str]:
        return in_machine(self.rig, host, command)


@contextlib.contextmanager
def ssh_machines(rig: str, topology: Topology, workdir: Path) -> Iterator[Machines]:
    """Machines for every host of `topology` but the client (nineslab runs in the rig's client
    namespace, which routes to them), an SSH key that logs in as root on each, and an inventory file."""
    provider = DockerProvider(rig)  # its image has openssh-server, not started on a lab host
    key = workdir / "id_ed25519"
    try:
        provider.create(topology)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        public = key.with_suffix(".pub").read_text()
        servers = [h for h in topology.hosts if h.role != "client"]
        for host in servers:
            res = in_machine(rig, host.name, SSHD_START, public)
            assert res.returncode == 0, f"sshd on {host.name}: {res.stderr}"
        inventory = workdir / "inventory.yaml"
        raw = {
            "defaults": {"user": "root", "key": str(key)},
            "hosts": {h.name: {"address": str(h.address)} for h in servers},
        }
        inventory.write_text(yaml.safe_dump(raw))
        yield Machines(rig, topology, inventory, key, provider.netns(topology.client))
    finally:
        provider.destroy()
        shutil.rmtree(lab_dir(rig), ignore_errors=True)
