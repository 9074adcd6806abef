"""DNS resolvers (dnsmasq): the API name resolves to every LB; the first resolver is the primary."""

from __future__ import annotations

from typing import Any

from nineslab.topology import Host, Topology


def resolvers(topology: Topology) -> list[str]:
    return [str(h.address) for h in topology.by_role("dns")]


def lb_addresses(topology: Topology) -> list[str]:
    return [str(h.address) for h in topology.by_role("lb")]


def health_check(host: Host, topology: Topology) -> dict[str, Any]:
    return {"kind": "dns", "server": str(host.address), "name": topology.dns_name, "expect": lb_addresses(topology)}
