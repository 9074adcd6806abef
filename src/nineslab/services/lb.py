"""Load balancer (haproxy): which gateways each LB forwards to, local zones first, others as backup."""

from __future__ import annotations

from typing import Any

from nineslab.services.gateway import API_PATH
from nineslab.topology import Host, Topology


def backends(topology: Topology, lb: Host) -> list[dict[str, Any]]:
    primary, backup = topology.next_hops(lb, "gateway")
    return [{"name": g.name, "address": str(g.address), "backup": False} for g in primary] + [
        {"name": g.name, "address": str(g.address), "backup": True} for g in backup
    ]


def health_check(host: Host, topology: Topology) -> dict[str, Any]:
    return {"kind": "http", "url": f"http://{host.address}{API_PATH}", "expect": 200}
