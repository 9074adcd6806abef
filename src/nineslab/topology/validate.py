"""Turn raw YAML into a Topology, or raise TopologyError naming file, field and fix. Nothing is touched."""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from dataclasses import fields
from typing import Any

from nineslab.errors import TopologyError
from nineslab.topology.model import (
    CLIENT_RESOLVERS,
    HOST_ROLES,
    LAB_NETWORK,
    WAF_BUDGET_MS,
    Escape,
    Host,
    Region,
    Security,
    Segment,
    Topology,
    Zone,
)

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,23}$")
FORWARDING_ROLES = {"lb": "gateway", "waf": "gateway", "gateway": "app"}


class _Checker:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, field: str, problem: str, fix: str) -> TopologyError:
        return TopologyError(f"{self.source}: {field}: {problem} — {fix}")

    def mapping(self, value: Any, field: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(field, f"expected a mapping, got {type(value).__name__}", "write it as `key: value` lines")
        return value

    def seq(self, value: Any, field: str) -> list[Any]:
        if not isinstance(value, list) or not value:
            raise self.fail(field, "expected a non-empty list", "write it as a YAML list (`- item`)")
        return value

    def required(self, data: dict[str, Any], key: str, field: str) -> Any:
        if key not in data or data[key] is None:
            raise self.fail(f"{field}.{key}" if field else key, "is missing", f"add `{key}:`")
        return data[key]

    def name(self, value: Any, field: str) -> str:
        if not isinstance(value, str) or not NAME_RE.match(value):
            raise self.fail(
                field,
                f"{value!r} is not a valid name",
                "use 1-24 lowercase letters, digits or dashes, starting with a letter or digit",
            )
        return value

    def network(self, value: Any, field: str) -> ipaddress.IPv4Network:
        try:
            net = ipaddress.ip_network(str(value), strict=True)
        except ValueError:
            raise self.fail(field, f"{value!r} is not a network", "write a CIDR such as 198.18.1.0/24") from None
        if not isinstance(net, ipaddress.IPv4Network) or not net.subnet_of(LAB_NETWORK):
            raise self.fail(field, f"{value} is outside {LAB_NETWORK}", f"lab networks must come from {LAB_NETWORK}")
        if net.prefixlen > 29:
            raise self.fail(field, f"{value} is too small", "use a /29 or larger")
        return net

    def address(self, value: Any, field: str) -> ipaddress.IPv4Address:
        try:
            addr = ipaddress.ip_address(str(value))
        except ValueError:
            raise self.fail(
                field, f"{value!r} is not an IPv4 address", "write an address such as 198.18.1.10"
            ) from None
        if not isinstance(addr, ipaddress.IPv4Address) or addr not in LAB_NETWORK:
            raise self.fail(field, f"{value} is outside {LAB_NETWORK}", f"lab addresses must come from {LAB_NETWORK}")
        return addr

    def zones_list(self, value: Any, field: str, known: set[str]) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(field, "expected a list of zone names", "write e.g. [east-a, east-b]")
        for zone in value:
            if zone not in known:
                raise self.fail(field, f"unknown zone {zone!r}", f"use one of: {', '.join(sorted(known))}")
        return tuple(value)


def build_topology(raw: Any, source: str) -> Topology:
    c = _Checker(source)
    data = c.mapping(raw, "top level")
    known_keys = {
        "name",
        "description",
        "target",
        "dns_name",
        "regions",
        "client",
        "hosts",
        "escape",
        "security",
        "waf",
    }
    for key in data:
        if key not in known_keys:
            raise c.fail(str(key), "unknown key", f"remove it; known keys: {', '.join(sorted(known_keys))}")
    name = c.name(c.required(data, "name", ""), "name")
    target = c.required(data, "target", "")
    if isinstance(target, bool) or not isinstance(target, (int, float)) or not 0.9 <= target < 1:
        raise c.fail("target", f"{target!r} is not an availability target", "write a ratio such as 0.9999 (99.99 %)")
    dns_name = c.required(data, "dns_name", "")
    if not isinstance(dns_name, str) or not re.match(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$", dns_name):
        raise c.fail("dns_name", f"{dns_name!r} is not a DNS name", "write a name such as api.nines.lab")

    regions: list[Region] = []
    zones: list[Zone] = []
    zone_fields: dict[str, str] = {}
    for ri, rraw in enumerate(c.seq(c.required(data, "regions", ""), "regions")):
        rfield = f"regions[{ri}]"
        r = c.mapping(rraw, rfield)
        rname = c.name(c.required(r, "name", rfield), f"{rfield}.name")
        znames = []
        for zi, zraw in enumerate(c.seq(c.required(r, "zones", rfield), f"{rfield}.zones")):
            zfield = f"{rfield}.zones[{zi}]"
            z = c.mapping(zraw, zfield)
            for key in z:
                if key not in ("name", "cidr", "vip"):
                    raise c.fail(f"{zfield}.{key}", "unknown key", "remove it; known keys: cidr, name, vip")
            zname = c.name(c.required(z, "name", zfield), f"{zfield}.name")
            cidr = c.network(c.required(z, "cidr", zfield), f"{zfield}.cidr")
            vip = None
            if z.get("vip") is not None:
                vip = c.address(z["vip"], f"{zfield}.vip")
                seg = Segment(zname, cidr)
                if vip not in cidr or vip in (cidr.network_address, cidr.broadcast_address, seg.gateway):
                    raise c.fail(f"{zfield}.vip", f"{vip} is not a usable address of {cidr}", f"pick one inside {cidr}")
            zones.append(Zone(name=zname, cidr=cidr, region=rname, vip=vip))
            zone_fields[zname] = zfield
            znames.append(zname)
        regions.append(Region(name=rname, zones=tuple(znames)))
    _unique(c, [r.name for r in regions], "regions[].name")
    _unique(c, [z.name for z in zones], "regions[].zones[].name")

    client_raw = c.mapping(c.required(data, "client", ""), "client")
    client_name = c.name(c.required(client_raw, "name", "client"), "client.name")
    client_seg = Segment(name="client", cidr=c.network(c.required(client_raw, "cidr", "client"), "client.cidr"))
    segments: list[Segment] = [client_seg, *zones]
    for i, a in enumerate(segments):
        for b in segments[i + 1 :]:
            if a.cidr.overlaps(b.cidr):
                raise c.fail(
                    "cidr", f"{a.name} ({a.cidr}) overlaps {b.name} ({b.cidr})", "give every zone its own subnet"
                )

    zone_names = {z.name for z in zones}
    main_client = {k: v for k, v in client_raw.items() if k != "extra"}
    hosts: list[Host] = [
        _host(c, main_client, "client", client_seg, None, role="client", name=client_name, zone_names=zone_names)
    ]
    # More client hosts on the client edge, each its own namespace and resolver: `load --workers` spreads
    # Locust's workers over every client (the first runs the master and the health checks).
    extra = c.seq(client_raw["extra"], "client.extra") if "extra" in client_raw else []
    for ei, eraw in enumerate(extra):
        efield = f"client.extra[{ei}]"
        e = c.mapping(eraw, efield)
        if "cidr" in e:
            raise c.fail(f"{efield}.cidr", "an extra client shares the client edge", "remove it (client.cidr holds)")
        ename = c.name(c.required(e, "name", efield), f"{efield}.name")
        hosts.append(_host(c, e, efield, client_seg, None, role="client", name=ename, zone_names=zone_names))
    for hi, hraw in enumerate(c.seq(c.required(data, "hosts", ""), "hosts")):
        hfield = f"hosts[{hi}]"
        h = c.mapping(hraw, hfield)
        role = c.required(h, "role", hfield)
        if not isinstance(role, str) or role not in HOST_ROLES or role == "client":
            roles = ", ".join(r for r in HOST_ROLES if r != "client")
            raise c.fail(f"{hfield}.role", f"unknown role {role!r}", f"use one of: {roles}")
        zname = c.required(h, "zone", hfield)
        if not isinstance(zname, str) or zname not in zone_names:
            raise c.fail(f"{hfield}.zone", f"unknown zone {zname!r}", f"use one of: {', '.join(sorted(zone_names))}")
        zone = next(z for z in zones if z.name == zname)
        hname = c.name(c.required(h, "name", hfield), f"{hfield}.name")
        hosts.append(_host(c, h, hfield, zone, zone.region, role=role, name=hname, zone_names=zone_names))

    _unique(c, [h.name for h in hosts], "hosts[].name")
    _unique(c, [str(h.address) for h in hosts] + [str(z.vip) for z in zones if z.vip], "hosts[].address and vips")
    topo = Topology(
        name=name,
        description=str(data.get("description", "")),
        target=float(target),
        dns_name=dns_name,
        regions=tuple(regions),
        zones=tuple(zones),
        client_segment=client_seg,
        hosts=tuple(hosts),
        escape=_escape(c, data.get("escape")),
        security=Security(**_switches(c, data.get("security"), "security", Security)),
        waf_budget_ms=_waf_budget(c, data.get("waf")),
        source=source,
    )
    _check_placement(c, topo, zone_fields)
    return topo


def _host(
    c: _Checker,
    h: dict[str, Any],
    field: str,
    seg: Segment,
    region: str | None,
    *,
    role: str,
    name: str,
    zone_names: set[str],
) -> Host:
    known = {"name", "role", "zone", "address", "sends_to", "backup_to", "cidr"}
    for key in h:
        if key not in known:
            raise c.fail(f"{field}.{key}", "unknown key", f"remove it; known keys: {', '.join(sorted(known))}")
    addr = c.address(c.required(h, "address", field), f"{field}.address")
    if addr not in seg.cidr or addr in (seg.cidr.network_address, seg.cidr.broadcast_address, seg.gateway):
        raise c.fail(
            f"{field}.address",
            f"{addr} is not a usable address of {seg.name} ({seg.cidr}, router {seg.gateway})",
            f"pick a free address inside {seg.cidr}",
        )
    sends_to = c.zones_list(h.get("sends_to"), f"{field}.sends_to", zone_names)
    backup_to = c.zones_list(h.get("backup_to"), f"{field}.backup_to", zone_names)
    if role in FORWARDING_ROLES and not sends_to:
        raise c.fail(f"{field}.sends_to", f"a {role} needs the zones it forwards to", "add e.g. `sends_to: [east-a]`")
    if role not in FORWARDING_ROLES and (sends_to or backup_to):
        raise c.fail(f"{field}.sends_to", f"a {role} does not forward traffic", "remove sends_to/backup_to")
    return Host(
        name=name,
        role=role,
        address=addr,
        zone=None if role == "client" else seg.name,
        region=region,
        sends_to=sends_to,
        backup_to=backup_to,
    )


def _switches(c: _Checker, raw: Any, block: str, cls: type, *, other: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A block of switches (`escape:`, `security:`): known keys only, each true or false (but `other`);
    missing keys keep the defaults."""
    if raw is None:
        return {}
    data = c.mapping(raw, block)
    known = {f.name for f in fields(cls)}
    for key in data:
        if key not in known:
            raise c.fail(f"{block}.{key}", "unknown key", f"remove it; known keys: {', '.join(sorted(known))}")
    for key in known - other:
        if key in data and not isinstance(data[key], bool):
            raise c.fail(f"{block}.{key}", f"{data[key]!r} is not a switch", "write true or false")
    return data


def _escape(c: _Checker, raw: Any) -> Escape:
    """The `escape:` block: each mechanism a switch; missing keys keep the defaults (all on)."""
    data = _switches(c, raw, "escape", Escape, other=frozenset({"client_resolver"}))
    resolver = data.get("client_resolver", Escape.client_resolver)
    if not isinstance(resolver, str) or resolver not in CLIENT_RESOLVERS:
        raise c.fail(
            "escape.client_resolver", f"unknown value {resolver!r}", f"use one of: {', '.join(CLIENT_RESOLVERS)}"
        )
    return Escape(**{**data, "client_resolver": resolver})


def _waf_budget(c: _Checker, raw: Any) -> float:
    """The `waf:` block: `budget_ms`, how long a WAF may take before the LBs send past it."""
    if raw is None:
        return WAF_BUDGET_MS
    data = c.mapping(raw, "waf")
    for key in data:
        if key != "budget_ms":
            raise c.fail(f"waf.{key}", "unknown key", "remove it; known keys: budget_ms")
    budget = data.get("budget_ms", WAF_BUDGET_MS)
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not 1 <= budget <= 5000:
        raise c.fail("waf.budget_ms", f"{budget!r} is not a budget", "write milliseconds between 1 and 5000, e.g. 50")
    return float(budget)


def _unique(c: _Checker, values: list[str], field: str) -> None:
    dup = [v for v, n in Counter(values).items() if n > 1]
    if dup:
        raise c.fail(field, f"{dup[0]!r} appears more than once", "make every name and address unique")


def _check_placement(c: _Checker, topo: Topology, zone_fields: dict[str, str]) -> None:
    counts = Counter(h.role for h in topo.hosts)
    etcd = counts["etcd"]
    if etcd < 3 or etcd % 2 == 0:
        raise c.fail(
            "hosts", f"{etcd} etcd members", "use an odd number of etcd hosts, at least 3 (quorum needs a majority)"
        )
    for role, need in (("lb", 1), ("gateway", 1), ("app", 1)):
        if counts[role] < need:
            raise c.fail("hosts", f"no {role} host", f"add at least one host with role: {role}")
    if counts["dns"] < 2:
        raise c.fail("hosts", f"{counts['dns']} dns hosts", "use at least two nameservers (the first is the primary)")
    if topo.escape.client_resolver == "stub" and counts["dns"] > 3:
        raise c.fail(
            "escape.client_resolver",
            f"stub, with {counts['dns']} nameservers",
            "a glibc stub uses at most 3: list at most three dns hosts, or use `caching`",
        )
    for zone in topo.zones:
        where = zone_fields.get(zone.name, f"zone {zone.name}")
        lbs = [h for h in topo.hosts if h.role == "lb" and h.zone == zone.name]
        if zone.vip is not None and len(lbs) != 2:
            raise c.fail(
                f"{where}.vip",
                f"{len(lbs)} LBs share it",
                "a floating address needs exactly two LBs in the zone",
            )
        if topo.escape.lb_vip and len(lbs) == 2 and zone.vip is None:
            raise c.fail(
                where,
                f"{zone.name} has two LBs but no `vip:`",
                "give the zone a floating address (`vip:` an unused address of its subnet) or set escape.lb_vip: false",
            )
    for i, host in enumerate(topo.hosts[1:]):
        target_role = FORWARDING_ROLES.get(host.role)
        if target_role is None:
            continue
        primary, _ = topo.next_hops(host, target_role)
        if not primary:
            raise c.fail(
                f"hosts[{i}].sends_to",
                f"{host.name} sends to {list(host.sends_to)} where there is no {target_role}",
                f"list a zone that holds a {target_role}",
            )
