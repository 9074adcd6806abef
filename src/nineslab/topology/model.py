"""The topology model: regions hold zones, zones hold hosts; a client host sits outside every zone."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

HOST_ROLES = ("lb", "waf", "gateway", "app", "etcd", "dns", "client")
# How long the LBs give a WAF to answer its health check before they send past it (the talk's example).
WAF_BUDGET_MS = 50.0
# The one network every lab address must come from (RFC 2544 benchmarking range).
LAB_NETWORK = ipaddress.IPv4Network("198.18.0.0/15")


@dataclass(frozen=True)
class Segment:
    """One L2 segment (a bridge in the lab's router namespace): a zone, or the client's edge network."""

    name: str
    cidr: ipaddress.IPv4Network

    @property
    def gateway(self) -> ipaddress.IPv4Address:
        """The router's address on this segment: the first host address of the subnet."""
        return next(self.cidr.hosts())


@dataclass(frozen=True)
class Zone(Segment):
    region: str = ""
    # The zone's floating LB address (VRRP), when it has two LBs and escape.lb_vip is on.
    vip: ipaddress.IPv4Address | None = None


CLIENT_RESOLVERS = ("caching", "stub")


@dataclass(frozen=True)
class Escape:
    """The escape mechanisms, each a switch (all on by default): health-checked authoritative DNS, a
    caching resolver in front of the client (or the seed's glibc stub), a floating LB address per zone,
    fast ejection of a failing gateway or app (short timeouts that retry elsewhere, errors that mark a
    server down at once), every daemon under a process supervisor (runit: a crashed one is back at
    once), route pushes through a canary gateway with automatic rollback, — where the topology has a
    WAF tier — requests sent straight to the gateways while no WAF answers within its budget, and TCP
    keepalive of seconds on the gateways' etcd connections (a member that vanished without a word is
    noticed and the watch made again, where the kernel's default would wait two hours)."""

    dns_health_checks: bool = True
    client_resolver: str = "caching"
    lb_vip: bool = True
    fast_ejection: bool = True
    supervisor: bool = True
    guarded_push: bool = True
    waf_bypass: bool = True
    etcd_keepalive: bool = True


@dataclass(frozen=True)
class Security:
    """How the control plane is protected (on by default): etcd with mutual TLS for peer and client
    traffic and authentication on (a user per gateway, read-only on its own routes). Off only to measure
    what TLS costs, as the control."""

    etcd_tls: bool = True


@dataclass(frozen=True)
class Region:
    name: str
    zones: tuple[str, ...]


@dataclass(frozen=True)
class Host:
    name: str
    role: str
    address: ipaddress.IPv4Address
    zone: str | None  # None only for the client
    region: str | None
    # Zones this LB / gateway forwards to in normal operation, and the zones it falls back to
    # only when none of those is healthy (haproxy "backup" servers).
    sends_to: tuple[str, ...] = ()
    backup_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class Topology:
    name: str
    description: str
    target: float
    dns_name: str
    regions: tuple[Region, ...]
    zones: tuple[Zone, ...]
    client_segment: Segment
    hosts: tuple[Host, ...]
    escape: Escape = field(default_factory=Escape)
    security: Security = field(default_factory=Security)
    waf_budget_ms: float = WAF_BUDGET_MS
    source: str = field(default="", compare=False)

    def by_role(self, role: str) -> list[Host]:
        return [h for h in self.hosts if h.role == role]

    def host(self, name: str) -> Host:
        for h in self.hosts:
            if h.name == name:
                return h
        raise KeyError(name)

    def zone(self, name: str) -> Zone:
        for z in self.zones:
            if z.name == name:
                return z
        raise KeyError(name)

    def vip_zones(self) -> list[Zone]:
        """Zones whose LBs share a floating address (escape.lb_vip on and a vip given)."""
        return [z for z in self.zones if self.escape.lb_vip and z.vip is not None]

    def entry_points(self) -> list[str]:
        """What DNS hands out for the API name: a zone's floating address where it has one, else each
        of its LBs."""
        out = []
        vips = {z.name: str(z.vip) for z in self.vip_zones()}
        for z in self.zones:
            if z.name in vips:
                out.append(vips[z.name])
            else:
                out += [str(h.address) for h in self.hosts if h.role == "lb" and h.zone == z.name]
        return out

    @property
    def client(self) -> Host:
        return self.by_role("client")[0]

    @property
    def segments(self) -> list[Segment]:
        """Client edge first, then zones in file order: the order defines bridge indexes."""
        return [self.client_segment, *self.zones]

    def segment_of(self, host: Host) -> Segment:
        return self.client_segment if host.zone is None else self.zone(host.zone)

    def next_hops(self, host: Host, role: str) -> tuple[list[Host], list[Host]]:
        """Hosts of `role` that `host` sends to: (primary, backup), each in file order."""
        primary = [h for h in self.by_role(role) if h.zone in host.sends_to]
        backup = [h for h in self.by_role(role) if h.zone in host.backup_to and h.zone not in host.sends_to]
        return primary, backup
