"""The docker provider: every lab host but the client is a container on nineslab's own engine, wired
into the same bridges and router as a netns host (the same Terraform module wires both; a container
only brings its namespace along). What differs from the netns provider lives here."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from nineslab import cgroups
from nineslab.clocks import Acts
from nineslab.errors import LabError
from nineslab.paths import ENTER_SCRIPT, REPO_ROOT, TERRAFORM_DIR, host_dir
from nineslab.providers.base import CONTAINER, InventoryHost
from nineslab.providers.daemons import init_pidfile
from nineslab.providers.docker import containers, disk, engine, image, memory
from nineslab.providers.netns import NetnsProvider, netns_name, terraform_vars
from nineslab.security import etcd_access
from nineslab.topology import Host, Topology

HOST_SCRIPT = TERRAFORM_DIR / "local" / "scripts" / "host.sh"


class DockerProvider(NetnsProvider):
    name = "docker"
    capabilities = NetnsProvider.capabilities | {CONTAINER}

    def __init__(self, lab: str) -> None:
        super().__init__(lab)
        self.engine = engine.Engine.default()
        self._rewired: set[str] = set()

    def terraform_vars(self, topology: Topology) -> dict[str, Any]:
        return terraform_vars(self.lab, topology, containers=True)

    def rewire(self) -> set[str]:
        return self._rewired

    def _spec(self, client: Any, topology: Topology, host: Host, tag: str) -> dict[str, Any]:
        # The repository (its venv holds etcd, Traefik and Caddy; its playbooks the roles' helper
        # scripts) and the lab's certificates, read-only; the host's own directory read-write.
        shared = [REPO_ROOT, etcd_access.pki_dir(self.lab)]
        # nineslab's own interpreter, so Ansible's modules and the roles' helper scripts run with the
        # same Python and packages as on a netns host: the venv, and the Python it was made from unless
        # that is the system's (the image has Debian's, the same build)
        for root in (Path(sys.prefix), Path(sys.base_prefix)):
            if not root.is_relative_to(REPO_ROOT) and not root.is_relative_to("/usr") and root not in shared:
                shared.append(root)
        return containers.run_spec(self.lab, host.name, tag, host_dir(self.lab, host.name), shared)

    def start_host(self, client: Any, topology: Topology, host: Host, tag: str) -> bool:
        """The host's container running, its init pidfile written, its namespace attached; True when the
        namespace changed (its link must be wired again)."""
        hdir = host_dir(self.lab, host.name)
        for sub in ("conf", "data", "log", "run"):
            (hdir / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
        etcd_access.pki_dir(self.lab).mkdir(parents=True, exist_ok=True, mode=0o700)
        disk.ensure(hdir)  # before the container: its bind mount of the host's directory carries it
        _, pid = containers.ensure_running(client, self._spec(client, topology, host, tag), self.engine.log)
        containers.write_init_pid(hdir, pid)
        return containers.attach(self.netns(host), pid)

    def create(self, topology: Topology) -> list[InventoryHost]:
        client = self.engine.client()
        try:
            tag = image.build(client, image.default_recipe(), self.engine.root / "build")["tag"]
            self._rewired = {
                h.name for h in topology.hosts if h.role != "client" and self.start_host(client, topology, h, tag)
            }
        finally:
            client.close()
        return super().create(topology)

    def wire(self, host: Host) -> None:
        """Run the host's link script again (after its container was started anew), with the variables
        Terraform gave it."""
        out = json.loads(self._terraform("output", "-json", "-no-color") or "{}")
        env = out.get("host_env", {}).get("value", {}).get(host.name)
        if env is None:
            return
        subprocess.run([str(HOST_SCRIPT), "create"], env={**os.environ, **env}, check=True, capture_output=True)

    def _container(self, client: Any, host: Host) -> Any:
        import docker

        try:
            return client.containers.get(containers.container_name(self.lab, host.name))
        except docker.errors.NotFound:
            return None

    def power_off(self, topology: Topology, host: Host) -> Acts:
        """The switch port down first, then `docker kill`: every process of the host ends at once and its
        namespace (with its link) goes. In that order, as power fails: killed with its link still up, the
        host's sockets would send their FIN/RST and its peers would fail over at once (measured on 3dc
        zone-power-off: 0.01 error-seconds that way, against 0.84 on netns, port first)."""
        super().power_off(topology, host)
        client = self.engine.client()
        try:
            container = self._container(client, host)
            if container is not None and container.status in ("running", "paused"):
                container.kill()
        finally:
            client.close()
        return []

    def power_on(self, topology: Topology, host: Host) -> Acts:
        """The container started again (its data kept, like a host that reboots), attached and wired."""
        client = self.engine.client()
        try:
            tag = image.default_recipe().tag
            container = self._container(client, host)
            if container is not None:
                tag = container.attrs.get("Config", {}).get("Image", tag)
            if self.start_host(client, topology, host, tag):
                self.wire(host)
            self.tune(topology, host)  # a new container is a new namespace, with the kernel's defaults
        finally:
            client.close()
        return []

    def freeze(self, host: Host, frozen: bool) -> bool:
        """`docker pause` / `unpause`: the whole host held by the cgroup freezer."""
        client = self.engine.client()
        try:
            container = self._container(client, host)
            if container is None:
                return True
            container.reload()
            if frozen and container.status == "running":
                container.pause()
            elif not frozen and container.status == "paused":
                container.unpause()
            return True
        finally:
            client.close()

    def throttle(self, host: Host, share: float | None) -> bool:
        """The container's CPU limit (`docker update`); a host with no limit gets every core's worth."""
        client = self.engine.client()
        try:
            container = self._container(client, host)
            if container is None:
                return True
            if share is None:
                container.update(cpu_period=cgroups.PERIOD_US, cpu_quota=cgroups.PERIOD_US * (os.cpu_count() or 1))
            else:
                container.update(cpu_period=cgroups.period_us(share), cpu_quota=cgroups.quota_us(share))
            return True
        finally:
            client.close()

    def fill_disk(self, host: Host, full: bool) -> str:
        data = host_dir(self.lab, host.name) / "data"
        if full:
            return f"{host.name}'s disk filled ({disk.fill(data) >> 20} MiB written until ENOSPC)"
        return f"{host.name}'s disk freed" if disk.unfill(data) else ""

    def squeeze_memory(self, host: Host, on: bool) -> str:
        """The host's memory limit lowered to a little above what it holds, its daemons marked the OOM
        killer's first choice and a squeezer started that keeps it full (providers/docker/memory.py); off:
        the squeezer ended, the host's memory given back, its processes unmarked."""
        pidfile = host_dir(self.lab, host.name) / memory.HOG_PIDFILE
        client = self.engine.client()
        try:
            container = self._container(client, host)
            pid = containers.init_pid(container) if container is not None else None
            if not on:
                ended = memory.end_hog(pidfile)
                if container is None or container.attrs["HostConfig"].get("Memory") == memory.HOST_MEMORY:
                    return f"{host.name}'s memory squeezer ended" if ended else ""
                container.update(mem_limit=memory.HOST_MEMORY, memswap_limit=memory.HOST_MEMORY)
                if pid is not None:
                    memory.mark_victims(memory.cgroup_dir(pid), 0)
                return f"{host.name}'s memory given back ({memory.HOST_MEMORY >> 20} MiB)"
            if pid is None:
                raise LabError(f"{host.name}'s container is not running — run `nineslab heal --lab {self.lab}`")
            group = memory.cgroup_dir(pid)
            limit = memory.lowered_limit(int((group / "memory.usage_in_bytes").read_text()))
            memory.mark_victims(group, memory.VICTIM)
            container.update(mem_limit=limit, memswap_limit=limit)
            if not memory.start_hog([str(ENTER_SCRIPT), str(pid)], group, pidfile):
                raise LabError(
                    f"{host.name}: no OOM kill within {memory.KILL_WAIT_S:.0f} s under a {limit >> 20} MiB limit"
                    f" — `nineslab recover` gives its memory back; see {pidfile.parent / 'log'}"
                )
            return f"{host.name}'s memory limit {limit >> 20} MiB, held by a squeezer: its daemons OOM-killed"
        finally:
            client.close()

    def inventory(self) -> list[InventoryHost]:
        return [
            dataclasses.replace(ih, init_pidfile=str(init_pidfile(self.lab, ih.name))) if ih.role != "client" else ih
            for ih in super().inventory()
        ]

    def leftovers(self) -> list[str]:
        found = super().leftovers()
        if self.engine.pid():
            client = self.engine.client()
            try:
                found += [f"container {c.name}" for c in containers.lab_containers(client, self.lab)]
            finally:
                client.close()
        return found

    def destroy(self) -> None:
        super().destroy()  # links, router, attachments (and the processes inside them)
        if self.engine.pid() or self.engine.socket.exists():
            client = self.engine.client()
            try:
                containers.remove_lab(client, self.lab)
            finally:
                client.close()
        for hdir in sorted(host_dir(self.lab, "x").parent.glob("*")):
            disk.release(hdir)
        if not [lab for lab in engine.docker_labs() if lab != self.lab]:
            self.engine.stop()

    def netns(self, host: Host) -> str:
        return netns_name(self.lab, host.name)
