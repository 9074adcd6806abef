"""The lab's status: every host's daemons and health check, the etcd cluster, and a real request
through the entry point (DNS -> LB -> gateway -> app), all from the client namespace in one call."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from nineslab.errors import LabError
from nineslab.health.checks import Checker
from nineslab.health.watches import stale_watches
from nineslab.providers import Provider
from nineslab.providers.daemons import SUPERVISOR
from nineslab.security import etcd_access, fence
from nineslab.services import MODULES, daemons
from nineslab.services import dns as dns_service
from nineslab.services import etcd as etcd_service
from nineslab.services.gateway import API_PATH
from nineslab.topology import Topology

ENTRY = "@entrypoint"


def vip_holders(provider: Provider, topology: Topology) -> dict[str, str | None]:
    """Zone -> the LB that holds its floating address now (None: nobody does), for zones that have one."""
    out: dict[str, str | None] = {}
    for zone in topology.vip_zones():
        out[zone.name] = None
        for lb in (h for h in topology.by_role("lb") if h.zone == zone.name):
            res = provider.host(lb).run(["ip", "-o", "-4", "addr", "show"], timeout=10)
            if f" {zone.vip}/" in res.stdout:
                out[zone.name] = lb.name
    return out


def entrypoint_url(topology: Topology) -> str:
    return f"http://{topology.dns_name}{API_PATH}"


def lab_status(lab: str, provider: Provider, topology: Topology) -> dict[str, Any]:
    present = provider.present(topology)
    client = provider.host(topology.client)
    router = provider.router()
    checks: dict[str, dict[str, Any]] = {
        h.name: MODULES[h.role].health_check(h, topology)
        for h in topology.hosts
        if h.role in MODULES and h.role != "etcd"
    }
    checks[ENTRY] = {"kind": "entry", "url": entrypoint_url(topology)}
    results = Checker(client).run(checks)
    # etcd is looked at from the operator's vantage point: the client segment cannot reach it (the fence).
    access = etcd_access.access(lab, topology, etcd_access.DEPLOYER)
    members = {h.name: etcd_service.health_check(h, topology, access) for h in topology.by_role("etcd")}
    results.update(Checker(router).run(members))
    holders = vip_holders(provider, topology)
    stale = stale_watches(provider, topology)
    hosts = []
    for h in topology.hosts:
        pids = {d: provider.daemon_pid(h, d) for d in daemons(h, topology)}
        checked = h.role == "client" or bool(results[h.name].get("healthy"))
        supervisor = provider.daemon_pid(h, SUPERVISOR) if pids else None
        # A supervised host whose supervision tree is gone would not restart a crashed daemon.
        unsupervised = bool(pids) and topology.escape.supervisor and supervisor is None
        # A gateway holding a connection its etcd member no longer has: it answers, but follows no change.
        half_open = stale.get(h.name, [])
        healthy = present[h.name] and all(pids.values()) and checked and not unsupervised and not half_open
        hosts.append(
            {
                "name": h.name,
                "role": h.role,
                "zone": h.zone,
                "region": h.region,
                "address": str(h.address),
                "netns": provider.host(h).label,
                # The host's main daemon (the first); every daemon of the host must run for it to be healthy.
                "pid": next(iter(pids.values()), None),
                "daemons": pids,
                # PID of the host's supervision tree (escape.supervisor), None when it has none running.
                "supervisor": supervisor,
                # gateways: etcd members it holds a half-open connection to (its watch is dead)
                "etcd_half_open": half_open,
                "healthy": healthy,
            }
        )
    entry = results[ENTRY]
    etcd_info = etcd_service.summarize(topology, {h.name: results[h.name] for h in topology.by_role("etcd")})
    return {
        "lab": lab,
        "topology": topology.name,
        "target": topology.target,
        # The escape switches the lab runs with: a run's status-before.json tells which estate it measured.
        "escape": asdict(topology.escape),
        "entrypoint": {
            "url": entrypoint_url(topology),
            "client_netns": client.label,
            "resolvers": dns_service.nameservers(topology),
            "client_resolver": topology.escape.client_resolver,
            "healthy": bool(entry.get("healthy")),
            "served_by": entry.get("served_by", {}),
            "error": entry.get("error"),
        },
        "hosts": hosts,
        "etcd": etcd_info,
        "vips": holders,
        # the control-plane fence: etcd unreachable from the client segment (not part of `healthy`)
        "fence": fence.present(router),
        # etcd's mutual TLS: days left on the lab's CA and each certificate ({} without TLS)
        "etcd_tls": topology.security.etcd_tls,
        "certificates": etcd_access.certificate_days(lab, topology),
        # a floating address nobody holds is an outage of its zone's way in
        "healthy": all(h["healthy"] for h in hosts)
        and bool(entry.get("healthy"))
        and etcd_info["leader"] is not None
        and all(holders.values()),
    }


def unhealthy_hosts(status: dict[str, Any]) -> str:
    """What is down, in words: host names, or the entry point / etcd leader when every host is up."""
    bad = [h["name"] for h in status["hosts"] if not h["healthy"]]
    if not bad and not status["entrypoint"]["healthy"]:
        bad = ["entrypoint"]
    if not bad and status["etcd"]["leader"] is None:
        bad = ["etcd leader"]
    return ", ".join(bad)


def require_healthy(lab: str, status: dict[str, Any]) -> None:
    """A run starts only on a healthy lab: its numbers would describe the leftovers of the last one."""
    if not status["healthy"]:
        raise LabError(
            f"lab {lab!r} is not healthy (down: {unhealthy_hosts(status)}) — run `nineslab heal --lab {lab}` "
            "(or `nineslab deploy` to repair it), then start the run again"
        )
