"""Target vocabulary over the hosts of one role: one | follower | leader | minority | majority | all |
zone:X | region:Y. Pure: the caller supplies the etcd leader when the target needs it."""

from __future__ import annotations

import re

from nineslab.errors import NinesError
from nineslab.topology import Host, Topology

TARGET_RE = re.compile(r"^(one|follower|leader|minority|majority|all|zone:[a-z0-9-]+|region:[a-z0-9-]+)$")
ROLES = ("lb", "gateway", "app", "etcd", "dns", "any")


def candidates(topology: Topology, role: str) -> list[Host]:
    """Hosts a fault may touch: never the client (the observer), `any` = every other host."""
    return [h for h in topology.hosts if h.role != "client" and (role == "any" or h.role == role)]


def resolve(topology: Topology, role: str, target: str, leader: str | None = None) -> list[Host]:
    hosts = candidates(topology, role)
    if target == "one":
        chosen = hosts[:1]
    elif target == "all":
        chosen = hosts
    elif target == "minority":
        chosen = hosts[: (len(hosts) - 1) // 2]
    elif target == "majority":
        chosen = hosts[: len(hosts) // 2 + 1]
    elif target in ("leader", "follower"):
        if leader is None:
            raise NinesError(f"target {target}: the etcd cluster has no leader now — run `nineslab heal` first")
        chosen = [h for h in hosts if (h.name == leader) == (target == "leader")][:1]
    elif target.startswith("zone:"):
        zone = target.split(":", 1)[1]
        chosen = [h for h in hosts if h.zone == zone]
    elif target.startswith("region:"):
        region = target.split(":", 1)[1]
        chosen = [h for h in hosts if h.region == region]
    else:
        raise NinesError(f"target {target!r} is not one of one|follower|leader|minority|majority|all|zone:X|region:Y")
    if not chosen:
        raise NinesError(f"target {target} over role {role} matches no host of topology {topology.name}")
    return chosen
