"""A lab: one deployed topology under one name. Deploy = provider (hosts) + Ansible (services) + a
health check; destroy = stop our daemons by pidfile + provider destroy + remove the lab's files."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nineslab import cgroups
from nineslab.clocks import clocks_to_json
from nineslab.deploy import build_inventory, run_playbook, unchanged
from nineslab.errors import LabError, NinesError
from nineslab.handle import Handle
from nineslab.health import Checker, EtcdClient, lab_status, unhealthy_hosts
from nineslab.health.status import vip_holders
from nineslab.load import LOAD_PIDFILE, LoadClient, LoadRun
from nineslab.paths import lab_dir
from nineslab.providers import DEFAULT_PROVIDER, get_provider
from nineslab.providers.base import LOCAL, ROUTER
from nineslab.routes.guard import publish_topology
from nineslab.runs import Run, write_json
from nineslab.security import etcd_access, fence
from nineslab.services import DAEMONS, daemons, gateway
from nineslab.topology import Topology, load_topology

LAB_NAME_RE = re.compile(r"^[a-z][a-z0-9]{0,7}$")
DEFAULT_LAB = "nines"
REQUIRED_TOOLS = ("ip", "nsenter", "start-stop-daemon", "haproxy", "dnsmasq")

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
    # nothing differed (deploy.unchanged): neither Terraform nor Ansible ran
    noop: bool = False
    # the hosts Ansible configured when only they differed from what the lab was deployed with ([]: all)
    only: list[str] = field(default_factory=list)


@dataclass
class DeployPlan:
    """What a deploy of `topology` would do to this lab, host by host; nothing is changed to find out."""

    lab: str
    topology: str
    noop: bool  # the lab is proven to run this deploy already (deploy.unchanged)
    hosts: dict[str, list[str]]  # host -> what a deploy would do there, in order
    routes: list[str]  # route keys in etcd a deploy would write or delete


TOPOLOGY_SNAPSHOT = "topology.yaml"  # the topology as deployed, in the lab's state directory


class Lab:
    """A facade over one lab: its topology, its provider (hosts), its etcd, its status. The work is done
    by deploy/, providers/, health/ and services/; this class only ties them to one lab name."""

    def __init__(self, name: str = DEFAULT_LAB, provider: str | None = None, inventory: Path | None = None) -> None:
        self.name = check_lab_name(name)
        self.dir = lab_dir(self.name)
        self.meta_path = self.dir / "lab.json"
        # A deployed lab keeps the provider it was made with; a new one takes the one asked for.
        meta = self.meta() or {}
        self.provider = get_provider(provider or meta.get("provider") or DEFAULT_PROVIDER, self.name)
        if inventory is not None:
            self.provider.use_inventory(inventory)  # existing machines (the hosts provider) or a refusal
        self._topology: Topology | None = None  # read once: faults and checks ask for it per host

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
            # The copy taken at deploy: editing topologies/*.yaml under a running lab changes nothing
            # until the next deploy (the hosts are what was deployed).
            snapshot = self.dir / TOPOLOGY_SNAPSHOT
            loaded = load_topology(str(snapshot) if snapshot.is_file() else meta["topology_file"])
            self._topology = self.provider.bind(loaded)  # existing machines: their own addresses
        return self._topology

    # -- deploy ---------------------------------------------------------------------------------
    def deploy(self, topology_name: str, progress: Progress | None = None, full: bool = False) -> DeployResult:
        """Make the lab run `topology_name`. When nothing differs (proven on the running lab, see
        deploy.unchanged) it returns at once; `full` runs Terraform and Ansible anyway."""
        say = progress or (lambda _msg: None)
        topology = load_topology(topology_name)  # validated before anything is touched
        self._topology = None  # re-read from the metadata written below
        _preflight()
        meta = self.meta()
        self._check_compatible(meta, topology)
        # what the provider needs beyond the topology (existing machines: the inventory), checked first
        topology = self.provider.prepare(topology)
        start = time.monotonic()
        only: list[str] = []
        if meta and not full:
            same = self._unchanged(meta, topology, start)
            if isinstance(same, DeployResult):
                return same
            only = same
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / TOPOLOGY_SNAPSHOT).write_text(Path(topology.source).read_text())
        self.meta_path.write_text(
            json.dumps(
                {
                    "lab": self.name,
                    "topology": topology.name,
                    "topology_file": str(Path(topology.source).resolve()),
                    "provider": self.provider.name,
                    "etcd_tls": topology.security.etcd_tls,
                    "created": meta.get("created") if meta else time.time(),
                    # true until this deploy finished healthy: a kill or Ctrl-C leaves it set, and heal
                    # then says at once that the deploy has to be finished, instead of waiting in vain
                    "deploying": True,
                },
                indent=1,
            )
        )
        say(f"hosts: creating {len(topology.hosts)} hosts of {topology.name} (terraform)")
        hosts = self.provider.create(topology)
        if ROUTER in self.provider.capabilities:
            fence.install(self.provider.router(), topology)  # etcd unreachable from the client segment
        made = etcd_access.ensure(self.name, topology)  # the lab's CA, certificates, users' passwords
        if made:
            say(f"pki: issued {', '.join(made)}")
        inputs = unchanged.inputs_digest(topology, self.provider.name, etcd_access.pki_dir(self.name))
        tf_seconds = time.monotonic() - start
        inventory = self.dir / "inventory.yml"
        wanted = build_inventory(self.name, topology, hosts, self.provider)
        inventory.write_text(yaml.safe_dump(wanted, sort_keys=False))
        if meta and not only:  # (with `only`, the routes in etcd were just found to be the topology's)
            # Over a running lab, changed routes go through the guard first (canary, automatic rollback).
            self._topology = None
            pushed = publish_topology(self.etcd, self.checker(), topology)
            if pushed:
                say(f"routes: changed routes pushed through the canary {pushed.get('canary')} (guarded)")
        if only:
            say(f"services: configuring {', '.join(only)} (ansible; every other host runs what it was deployed with)")
        else:
            say("services: configuring etcd, routes, apps, gateways, LBs, DNS (ansible)")
        shipped = 0.0
        if self.provider.ship_playbook:
            say("hosts: shipping daemons, helper scripts and certificates to the machines (ansible over ssh)")
            self.provider.prepare_ship(hosts)
            shipped = run_playbook(inventory, self.dir, progress=say, playbook=self.provider.ship_playbook).seconds
        limit = ",".join(only) if only else self.provider.deploy_limit
        result = run_playbook(inventory, self.dir, progress=say, limit=limit)
        say("checking the lab end to end")
        status = self.status(topology)
        if not status["healthy"]:
            raise LabError(
                f"lab {self.name!r} deployed but not healthy (down: {unhealthy_hosts(status)}) — "
                f"see {self.dir}/hosts/*/log and run deploy again"
            )
        meta_now = {**(self.meta() or {}), "deploying": False, unchanged.INPUTS_KEY: inputs}
        self.meta_path.write_text(json.dumps(meta_now, indent=1))
        return DeployResult(
            lab=self.name,
            topology=topology.name,
            seconds=time.monotonic() - start,
            terraform_seconds=tf_seconds,
            ansible_seconds=shipped + result.seconds,  # (the services' time includes the shipping)
            changed=result.total_changed,
            status=status,
            only=only,
        )

    def _check_compatible(self, meta: dict[str, Any] | None, topology: Topology) -> None:
        """A deploy of `topology` over this lab as it was made: refused, saying what to do, where the
        topology, the provider or etcd's TLS would differ."""
        if meta and meta.get("topology") != topology.name:
            raise LabError(
                f"lab {self.name!r} runs topology {meta.get('topology')} — destroy it first "
                f"(`nineslab destroy --lab {self.name}`) or deploy under another --lab name"
            )
        if meta and meta.get("provider", DEFAULT_PROVIDER) != self.provider.name:
            raise LabError(
                f"lab {self.name!r} was made with the {meta.get('provider', DEFAULT_PROVIDER)} provider — destroy it "
                f"first (`nineslab destroy --lab {self.name}`) or deploy under another --lab name"
            )
        if meta and bool(meta.get("etcd_tls", False)) != topology.security.etcd_tls:
            # Every member's peer and client URLs would change at once: no rolling path keeps quorum.
            raise LabError(
                f"lab {self.name!r} runs etcd {'with' if meta.get('etcd_tls') else 'without'} TLS and "
                f"{topology.source} says security.etcd_tls: {str(topology.security.etcd_tls).lower()} — "
                f"destroy the lab first (`nineslab destroy --lab {self.name}`) to switch"
            )

    def _unchanged(self, meta: dict[str, Any], topology: Topology, start: float) -> DeployResult | list[str]:
        """The result of a deploy that has nothing to do; or the hosts that alone differ from what the lab
        was deployed with (their daemons did not load what is on disk, or they are not healthy), for
        Ansible to configure; or [] when the whole lab must be (then deploy runs in full). Cheapest
        first: inputs, what each daemon loaded, routes in etcd, the lab's health."""
        if meta.get("deploying") or LOCAL not in self.provider.capabilities:
            return []  # an unfinished deploy; or hosts whose files are not on this machine
        if etcd_access.to_issue(self.name, topology):
            return []  # a certificate is missing or expiring: the members must get a new one
        inputs = unchanged.inputs_digest(topology, self.provider.name, etcd_access.pki_dir(self.name))
        if meta.get(unchanged.INPUTS_KEY) != inputs:
            return []
        if self._routes_differ(topology) != []:
            return []  # routes to write, or etcd does not answer as it should: the full deploy repairs it
        stale = {d.split("/")[0] for d in unchanged.stale_daemons(self.name, topology)}
        status = self.status(topology)
        if ROUTER in self.provider.capabilities and not status["fence"]:
            return []
        down = {h["name"] for h in status["hosts"] if not h["healthy"]}
        if not down and not status["healthy"]:
            return []  # the entry point or the etcd leader, with every host up: nothing to narrow it to
        if not stale and not down:
            return DeployResult(
                lab=self.name,
                topology=topology.name,
                seconds=time.monotonic() - start,
                terraform_seconds=0.0,
                ansible_seconds=0.0,
                changed=0,
                status=status,
                noop=True,
            )
        return unchanged.hosts_to_configure(topology, stale | down)

    def _routes_differ(self, topology: Topology) -> list[str] | None:
        """The route keys a deploy of `topology` would write or delete; None when etcd does not answer."""
        try:
            etcd = self.etcd
            return unchanged.routes_differ(topology, etcd.prefix(gateway.ROOTKEY_PREFIX), etcd.get(gateway.DIGEST_KEY))
        except NinesError:
            return None

    def plan(self, topology_name: str) -> DeployPlan:
        """What `deploy(topology_name)` would change, host by host, without changing anything: hosts to
        create, daemons to start or restart (and why), route keys, and each task Ansible's check mode
        says would change a host."""
        topology = load_topology(topology_name)
        _preflight()
        meta = self.meta()
        self._check_compatible(meta, topology)
        topology = self.provider.prepare(topology)
        if not meta:
            hosts = {}
            for h in topology.hosts:
                ds = daemons(h, topology)
                hosts[h.name] = ["create the host", f"configure and start {', '.join(ds)}" if ds else "configure"]
            return DeployPlan(self.name, topology.name, False, hosts, ["every route (a new lab)"])
        only = self._unchanged(meta, topology, time.monotonic())
        if isinstance(only, DeployResult):
            return DeployPlan(self.name, topology.name, True, {}, [])
        todo: dict[str, list[str]] = {}
        present = self.provider.present(topology)
        for h in topology.hosts:
            if not present.get(h.name):
                todo.setdefault(h.name, []).append("create the host (it is not there)")
            for d in daemons(h, topology):
                if present.get(h.name) and self.provider.daemon_pid(h, d) is None:
                    todo.setdefault(h.name, []).append(f"start {d} (not running)")
        for stale in unchanged.stale_daemons(self.name, topology):
            host, _, d = stale.partition("/")
            todo.setdefault(host, []).append(f"restart {d} (what it loaded is not what is on disk)")
        routes = self._routes_differ(topology)
        if routes is None:
            routes = ["(etcd does not answer: the deploy writes every route)"]
        reachable = [ih for ih in self.provider.inventory() if present.get(ih.name)]
        if reachable:
            # Ansible's own files (an inventory of the topology asked for, its log, its temp files) in a
            # directory of their own, removed after; a failed check keeps it, for its log.
            work = self.dir / "plan"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            inventory = work / "inventory.yml"
            inventory.write_text(yaml.safe_dump(build_inventory(self.name, topology, reachable, self.provider)))
            # the hosts the deploy would configure, as it would limit Ansible to them (only)
            limit = ",".join(only) if only else self.provider.deploy_limit
            checked = run_playbook(inventory, work, limit=limit, check=True)
            shutil.rmtree(work, ignore_errors=True)
            for host, tasks in checked.tasks.items():
                todo.setdefault(host, []).extend(tasks)
        return DeployPlan(self.name, topology.name, False, dict(sorted(todo.items())), routes)

    def unfinished_deploy(self) -> bool:
        """The last deploy of this lab was stopped (killed, interrupted) or failed before it was healthy."""
        return bool((self.meta() or {}).get("deploying"))

    # -- destroy --------------------------------------------------------------------------------
    def destroy(self) -> list[str]:
        """Stop our daemons, remove hosts and files. Safe after a crash and when run twice."""
        hosts_dir = self.dir / "hosts"
        hosts = sorted(p.name for p in hosts_dir.iterdir()) if hosts_dir.is_dir() else []
        # 1 s grace: the data is about to be deleted, and an etcd leader whose peers are gone
        # otherwise spends seconds trying to hand over leadership. The hosts are removed meanwhile
        # (one after the other: 1.4 s + 0.9 s on 3dc; a process outlives its namespace's removal).
        every = sorted({d for ds in DAEMONS.values() for d in ds})
        pairs = [(h, d) for h in hosts for d in every]
        stopped = self.provider.stop_daemons(pairs, timeout=1.0, meanwhile=self.provider.destroy)
        # A `slow` fault's cgroups (empty now that the hosts' processes are gone); one that cannot go
        # stays listed by leftovers().
        with contextlib.suppress(OSError):
            cgroups.remove_all(self.name)
        shutil.rmtree(self.dir, ignore_errors=True)
        return stopped

    def leftovers(self) -> list[str]:
        """Anything of this lab still on the machine (empty after destroy)."""
        found = self.provider.leftovers() + [f"cgroup {g}" for g in cgroups.lab_cgroups(self.name)]
        if self.dir.exists():
            found.append(f"dir {self.dir}")
        return found

    # -- looking at it ---------------------------------------------------------------------------
    def checker(self, where: Handle | None = None) -> Checker:
        """Health checks run from the client (its resolv.conf is the lab's), or `where`."""
        return Checker(where or self.provider.host(self.topology().client))

    @property
    def etcd(self) -> EtcdClient:
        """nineslab's own etcd client: from the operator's vantage point (the router namespace), never
        from the client's, which the control-plane fence keeps off etcd."""
        topology = self.topology()
        access = etcd_access.access(self.name, topology, etcd_access.DEPLOYER)  # routes and status: no more
        return EtcdClient(topology, self.checker(self.provider.router()), self.name, access)

    def status(self, topology: Topology | None = None) -> dict[str, Any]:
        return lab_status(self.name, self.provider, topology or self.topology())

    def vip_holders(self) -> dict[str, str | None]:
        """Zone -> the LB holding its floating address now."""
        return vip_holders(self.provider, self.topology())

    def record_clocks(self, run_dir: Path) -> None:
        """Where the hosts keep clocks of their own (machines): each one's offset against this one,
        measured now into the run (the report shows them) and kept for the faults' stamps."""
        clocks = self.provider.measure_clocks()
        if clocks:
            write_json(Run(run_dir).clocks, clocks_to_json(clocks))

    def in_client(self) -> list[str]:
        """Command prefix that runs a program as the lab's client does: in its namespace, with its
        resolv.conf (the lab's nameservers)."""
        return list(self.provider.host(self.topology().client).prefix)

    def load_clients(self) -> list[LoadClient]:
        """Every client host of the lab, the first (health checks, the load's master) first."""
        return [LoadClient(h.name, self.provider.host(h), str(h.address)) for h in self.topology().by_role("client")]

    def load(self, run_dir: Path, rate: float, duration_s: float, **kw: Any) -> LoadRun:
        """A load generator for a run on this lab, in its client namespaces (not started)."""
        clients = self.load_clients()
        return LoadRun(clients, self.topology(), self.dir / LOAD_PIDFILE, run_dir, rate, duration_s, **kw)


def _preflight() -> None:
    if os.geteuid() != 0:
        raise NinesError("deploy needs root (network namespaces) — run it as root, e.g. `sudo make deploy`")
    missing = [t for t in REQUIRED_TOOLS if shutil.which(t, path="/usr/sbin:/usr/bin:/sbin:/bin") is None]
    if missing:
        raise NinesError(f"missing tools: {', '.join(missing)} — run `make setup` (installs the Debian packages)")
