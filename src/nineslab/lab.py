"""A lab: one deployed topology under one name. Deploy = provider (hosts) + Ansible (services) + a
health check; destroy = stop our daemons by pidfile + provider destroy + remove the lab's files."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from nineslab.deploy import build_inventory, run_playbook
from nineslab.errors import LabError, NinesError
from nineslab.paths import lab_dir
from nineslab.providers import get_provider
from nineslab.providers.netns import NETNS_ETC, lab_netns, netns_name, port_name
from nineslab.services import DAEMONS, MODULES, daemon_pid
from nineslab.services import etcd as etcd_service
from nineslab.services.gateway import API_PATH
from nineslab.services.process import alive, stop_daemons
from nineslab.topology import Host, Topology, load_topology

LAB_NAME_RE = re.compile(r"^[a-z][a-z0-9]{0,7}$")
DEFAULT_LAB = "nines"
REQUIRED_TOOLS = ("ip", "nsenter", "start-stop-daemon", "haproxy", "dnsmasq")

# Run as a script, not `-m nineslab...`: the probe imports nothing of the package.
PROBE_SCRIPT = Path(__file__).resolve().parent / "services" / "probe.py"

Progress = Callable[[str], None]


def check_lab_name(name: str) -> str:
    if not LAB_NAME_RE.match(name):
        raise NinesError(
            f"--lab: {name!r} is not a valid lab name — use 1-8 lowercase letters or digits, starting with a letter"
        )
    return name


@dataclass
class DeployResult:
    lab: str
    topology: str
    seconds: float
    terraform_seconds: float
    ansible_seconds: float
    changed: int
    status: dict[str, Any]


class Lab:
    def __init__(self, name: str = DEFAULT_LAB, provider: str = "netns") -> None:
        self.name = check_lab_name(name)
        self.dir = lab_dir(self.name)
        self.provider = get_provider(provider, self.name)
        self.meta_path = self.dir / "lab.json"
        self._topology: Topology | None = None  # read once: faults and probes ask for it per host

    # -- metadata -------------------------------------------------------------------------------
    def meta(self) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads(self.meta_path.read_text())
        except (OSError, ValueError):
            return None
        return data

    def topology(self) -> Topology:
        if self._topology is None:
            meta = self.meta()
            if meta is None:
                raise LabError(
                    f"no lab named {self.name!r} is deployed — run `nineslab deploy --topology 3dc --lab {self.name}`"
                )
            self._topology = load_topology(meta["topology_file"])
        return self._topology

    # -- deploy ---------------------------------------------------------------------------------
    def deploy(self, topology_name: str, progress: Progress | None = None) -> DeployResult:
        say = progress or (lambda _msg: None)
        topology = load_topology(topology_name)  # validated before anything is touched
        self._topology = None  # re-read from the metadata written below
        _preflight()
        meta = self.meta()
        if meta and meta.get("topology") != topology.name:
            raise LabError(
                f"lab {self.name!r} runs topology {meta.get('topology')} — destroy it first "
                f"(`nineslab destroy --lab {self.name}`) or deploy under another --lab name"
            )
        start = time.monotonic()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.meta_path.write_text(
            json.dumps(
                {
                    "lab": self.name,
                    "topology": topology.name,
                    "topology_file": str(Path(topology.source).resolve()),
                    "provider": "netns",
                    "created": meta.get("created") if meta else time.time(),
                },
                indent=1,
            )
        )
        say(f"hosts: creating {len(topology.hosts)} hosts of {topology.name} (terraform)")
        hosts = self.provider.create(topology)
        tf_seconds = time.monotonic() - start
        inventory = self.dir / "inventory.yml"
        inventory.write_text(yaml.safe_dump(build_inventory(self.name, topology, hosts), sort_keys=False))
        say("services: configuring etcd, routes, apps, gateways, LBs, DNS (ansible)")
        result = run_playbook(inventory, self.dir, progress=say)
        say("checking the lab end to end")
        status = self.status(topology)
        if not status["healthy"]:
            bad = [h["name"] for h in status["hosts"] if not h["healthy"]]
            raise LabError(
                f"lab {self.name!r} deployed but not healthy (down: {', '.join(bad) or 'entrypoint'}) — "
                f"see {self.dir}/hosts/*/log and run deploy again"
            )
        return DeployResult(
            lab=self.name,
            topology=topology.name,
            seconds=time.monotonic() - start,
            terraform_seconds=tf_seconds,
            ansible_seconds=result.seconds,
            changed=result.total_changed,
            status=status,
        )

    # -- destroy --------------------------------------------------------------------------------
    def destroy(self) -> list[str]:
        """Stop our daemons, remove hosts and files. Safe after a crash and when run twice."""
        hosts_dir = self.dir / "hosts"
        hosts = sorted(p.name for p in hosts_dir.iterdir()) if hosts_dir.is_dir() else []
        # 1 s grace: the data is about to be deleted, and an etcd leader whose peers are gone
        # otherwise spends seconds trying to hand over leadership.
        stopped = stop_daemons(self.name, [(h, d) for h in hosts for d in DAEMONS.values()], timeout=1.0)
        self.provider.destroy()
        shutil.rmtree(self.dir, ignore_errors=True)
        return stopped

    def leftovers(self) -> list[str]:
        """Anything of this lab still on the machine (empty after destroy)."""
        found = [f"netns {ns}" for ns in lab_netns(self.name)]
        if NETNS_ETC.is_dir():
            found += [f"file {p}" for p in NETNS_ETC.iterdir() if p.name.startswith(f"{self.name}-")]
        if self.dir.exists():
            found.append(f"dir {self.dir}")
        return found

    # -- helpers for faults and probes ---------------------------------------------------------
    def netns(self, host: Host) -> str:
        return netns_name(self.name, host.name)

    def port(self, host: Host) -> str:
        return port_name(self.name, self.topology().hosts.index(host))

    def etcd(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """One etcd v3 JSON-gateway call from inside the lab, answered by the first member that can."""
        topology = self.topology()
        checks = {ep: {"kind": "http", "url": f"{ep}{path}", "data": body} for ep in etcd_service.endpoints(topology)}
        for res in self.probe(checks).values():
            answer = res.get("body")
            if res.get("status") == 200 and isinstance(answer, dict) and "error" not in answer:
                return answer
        raise LabError(f"no etcd member of lab {self.name!r} answered {path} — is etcd up? (`nineslab status`)")

    def etcd_get(self, key: str) -> str | None:
        kvs = self.etcd("/v3/kv/range", {"key": etcd_service.b64(key)}).get("kvs", [])
        return base64.b64decode(kvs[0]["value"]).decode() if kvs else None

    def etcd_prefix(self, prefix: str) -> dict[str, str]:
        """Every key under `prefix` with its value, in one range request."""
        kvs = self.etcd("/v3/kv/range", etcd_service.prefix_range(prefix)).get("kvs", [])
        return {base64.b64decode(kv["key"]).decode(): base64.b64decode(kv["value"]).decode() for kv in kvs}

    def etcd_leader(self) -> str | None:
        topology = self.topology()
        members = topology.by_role("etcd")
        results = self.probe({h.name: etcd_service.probe(h, topology) for h in members})
        leader: str | None = etcd_service.summarize(topology, results)["leader"]
        return leader

    @staticmethod
    def wait_gone(pid: int | None, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while pid is not None and alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)

    # -- status ---------------------------------------------------------------------------------
    def probe(self, checks: dict[str, dict[str, Any]], netns: str | None = None) -> dict[str, dict[str, Any]]:
        """Run checks from inside the client namespace (its resolv.conf: `ip netns exec`)."""
        ns = netns or netns_name(self.name, self.topology().client.name)
        if ns not in lab_netns(self.name):
            return {k: {"ok": False, "healthy": False, "error": f"namespace {ns} is missing"} for k in checks}
        proc = subprocess.run(
            ["ip", "netns", "exec", ns, sys.executable, str(PROBE_SCRIPT)],
            input=json.dumps(checks),
            capture_output=True,
            text=True,
            timeout=30,
        )
        if proc.returncode == -signal.SIGINT:
            raise KeyboardInterrupt  # Ctrl-C reached the probe first
        if proc.returncode != 0:
            raise LabError(f"probe failed in {ns}: {proc.stderr.strip().splitlines()[-1:]}")
        result: dict[str, dict[str, Any]] = json.loads(proc.stdout)
        return result

    def entrypoint_url(self, topology: Topology) -> str:
        return f"http://{topology.dns_name}{API_PATH}"

    def status(self, topology: Topology | None = None) -> dict[str, Any]:
        topology = topology or self.topology()
        existing = set(lab_netns(self.name))
        checks: dict[str, dict[str, Any]] = {
            h.name: MODULES[h.role].probe(h, topology) for h in topology.hosts if h.role in MODULES
        }
        checks["@entrypoint"] = {"kind": "entry", "url": self.entrypoint_url(topology)}
        results = self.probe(checks, netns_name(self.name, topology.client.name))
        client_ns = netns_name(self.name, topology.client.name)
        hosts = []
        for h in topology.hosts:
            ns = netns_name(self.name, h.name)
            if h.role == "client":
                healthy = ns in existing and (NETNS_ETC / ns / "resolv.conf").is_file()
                pid = None
            else:
                pid = daemon_pid(self.name, h.name, DAEMONS[h.role])
                healthy = ns in existing and pid is not None and bool(results[h.name].get("healthy"))
            hosts.append(
                {
                    "name": h.name,
                    "role": h.role,
                    "zone": h.zone,
                    "region": h.region,
                    "address": str(h.address),
                    "netns": ns,
                    "pid": pid,
                    "healthy": healthy,
                }
            )
        entry = results["@entrypoint"]
        etcd_info = etcd_service.summarize(topology, {h.name: results[h.name] for h in topology.by_role("etcd")})
        return {
            "lab": self.name,
            "topology": topology.name,
            "target": topology.target,
            "entrypoint": {
                "url": self.entrypoint_url(topology),
                "client_netns": client_ns,
                "resolvers": [str(h.address) for h in topology.by_role("dns")],
                "healthy": bool(entry.get("healthy")),
                "served_by": entry.get("served_by", {}),
                "error": entry.get("error"),
            },
            "hosts": hosts,
            "etcd": etcd_info,
            "healthy": all(h["healthy"] for h in hosts)
            and bool(entry.get("healthy"))
            and etcd_info["leader"] is not None,
        }


def _preflight() -> None:
    if os.geteuid() != 0:
        raise NinesError("deploy needs root (network namespaces) — run it as root, e.g. `sudo make deploy`")
    missing = [t for t in REQUIRED_TOOLS if shutil.which(t, path="/usr/sbin:/usr/bin:/sbin:/bin") is None]
    if missing:
        raise NinesError(f"missing tools: {', '.join(missing)} — run `make setup` (installs the Debian packages)")
