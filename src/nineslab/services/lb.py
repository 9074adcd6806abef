"""Load balancer (haproxy): which gateways each LB forwards to, local zones first, others as backup."""

from __future__ import annotations

from typing import Any

from nineslab.services.gateway import API_PATH
from nineslab.topology import Host, Topology


def backends(topology: Topology, lb: Host, role: str = "gateway") -> list[dict[str, Any]]:
    """The hosts of `role` (gateways, or the WAF tier in front of them) this LB forwards to."""
    primary, backup = topology.next_hops(lb, role)
    return [{"name": g.name, "address": str(g.address), "backup": False} for g in primary] + [
        {"name": g.name, "address": str(g.address), "backup": True} for g in backup
    ]


def health_check(host: Host, topology: Topology) -> dict[str, Any]:
    return {"kind": "http", "url": f"http://{host.address}{API_PATH}", "expect": 200}


ADVERT_S = 0.1  # VRRPv3 advert interval: a silent holder is replaced after 3 adverts + skew, ~0.35 s


def vrrp(topology: Topology, lb: Host) -> dict[str, Any] | None:
    """The LB's share of its zone's floating address (VRRPv3 over unicast to its one peer), or None when
    its zone has none. The first LB of the pair starts with the higher priority; neither takes the
    address back when it returns (nopreempt): a second move would be a second blip."""
    zone = next((z for z in topology.vip_zones() if z.name == lb.zone), None)
    if zone is None:
        return None
    pair = [h for h in topology.by_role("lb") if h.zone == zone.name]
    peer = next(h for h in pair if h.name != lb.name)
    return {
        "vip": f"{zone.vip}/{zone.cidr.prefixlen}",
        "peer": str(peer.address),
        "router_id": topology.zones.index(zone) + 1,
        "priority": 150 if pair[0].name == lb.name else 100,
        "advert_s": ADVERT_S,
        "instance": zone.name,
    }
