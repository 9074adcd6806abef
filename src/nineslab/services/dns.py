"""Nameservers of the lab's domain, answering the API name with the entry points (a zone's floating
address, or its LBs). With escape.dns_health_checks: PowerDNS, whose LUA record `ifurlup` checks each
entry point's real route and answers only the healthy ones (all of them when none is: fail open, as
Route 53 does). Without: dnsmasq with a static answer (the seed's setup). The first nameserver is the
primary — the one a glibc stub asks first."""

from __future__ import annotations

from typing import Any

from nineslab.services.gateway import API_PATH
from nineslab.topology import Host, Topology

# Drop time of a failed entry point = check interval + check timeout (a hung one) + TTL in caches.
CHECK_INTERVAL_S = 1  # pdns lua-health-checks-interval: global, whole seconds (default 5)
CHECK_TIMEOUT_S = 1  # ifurlup's timeout (default 2): a hung entry point counts as down after this
TTL_S = 1  # 1 s, not 5: a dropped entry point must leave the client's resolver cache within the 3 s budget


def nameservers(topology: Topology) -> list[str]:
    return [str(h.address) for h in topology.by_role("dns")]


def daemon(topology: Topology) -> str:
    return "pdns" if topology.escape.dns_health_checks else "dnsmasq"


def domain(topology: Topology) -> str:
    return topology.dns_name.split(".", 1)[1]


def lua_record(topology: Topology) -> str:
    """The LUA A record of the API name: every entry point whose real route answers, checked every
    CHECK_INTERVAL_S; `selector='all'` (not one random address) and `backupSelector='all'` (fail open)."""
    addresses = ", ".join(f"'{a}'" for a in topology.entry_points())
    return (
        f"ifurlup('http://{topology.dns_name}{API_PATH}', {{{addresses}}}, "
        f"{{selector='all', backupSelector='all', timeout={CHECK_TIMEOUT_S}}})"
    )


def health_check(host: Host, topology: Topology) -> dict[str, Any]:
    """A nameserver is healthy when it answers the API name with entry points: all of them (a static
    answer), or — health-checked — any non-empty subset (a down entry point is dropped on purpose)."""
    return {
        "kind": "dns",
        "server": str(host.address),
        "name": topology.dns_name,
        "expect": topology.entry_points(),
        "subset": topology.escape.dns_health_checks,
    }
