"""Which hosts a fault hits: a selector over the hosts of one role — one | follower | leader | minority |
majority | all | holder | zone:X | region:Y. Pure: the caller supplies the etcd leader, or the LBs that
hold a floating address now (`holder`), when the selector needs them."""

from __future__ import annotations

import re

from nineslab.errors import NinesError
from nineslab.topology import Host, Topology

SELECT_RE = re.compile(r"^(one|follower|leader|minority|majority|all|holder|zone:[a-z0-9-]+|region:[a-z0-9-]+)$")
SELECTORS = "one|follower|leader|minority|majority|all|holder|zone:X|region:Y"
# The roles a fault may name: every role of a topology but the client (the observer), and `any`.
FAULT_ROLES = ("lb", "waf", "gateway", "app", "etcd", "dns", "any")


def candidates(topology: Topology, role: str) -> list[Host]:
    """Hosts a fault may touch: never the client (the observer), `any` = every other host."""
    return [h for h in topology.hosts if h.role != "client" and (role == "any" or h.role == role)]


def select_hosts(
    topology: Topology, role: str, select: str, leader: str | None = None, holders: list[str] | None = None
) -> list[Host]:
    hosts = candidates(topology, role)
    if select == "one":
        chosen = hosts[:1]
    elif select == "all":
        chosen = hosts
    elif select == "minority":
        chosen = hosts[: (len(hosts) - 1) // 2]
    elif select == "majority":
        chosen = hosts[: len(hosts) // 2 + 1]
    elif select in ("leader", "follower"):
        if leader is None:
            raise NinesError(f"select {select}: the etcd cluster has no leader now — run `nineslab heal` first")
        chosen = [h for h in hosts if (h.name == leader) == (select == "leader")][:1]
    elif select == "holder":
        # the first zone's holder of its floating address (a fault hits one LB)
        chosen = [h for h in hosts if h.name in (holders or [])][:1]
        if not chosen:
            raise NinesError("select holder: no LB holds a floating address now — run `nineslab heal` first")
    elif select.startswith("zone:"):
        zone = select.split(":", 1)[1]
        chosen = [h for h in hosts if h.zone == zone]
    elif select.startswith("region:"):
        region = select.split(":", 1)[1]
        chosen = [h for h in hosts if h.region == region]
    else:
        raise NinesError(f"select {select!r} is not one of {SELECTORS}")
    if not chosen:
        raise NinesError(f"select {select} over role {role} matches no host of topology {topology.name}")
    return chosen


def fits(topology: Topology, role: str, select: str) -> bool:
    """Whether the selector can match anything in this topology (its role, zone or region is there)."""
    hosts = candidates(topology, role)
    if select.startswith("zone:"):
        return any(h.zone == select[5:] for h in hosts)
    if select.startswith("region:"):
        return any(h.region == select[7:] for h in hosts)
    if select == "minority":
        return len(hosts) >= 3
    if select == "holder":
        return role == "lb" and bool(topology.vip_zones())
    return bool(hosts)
