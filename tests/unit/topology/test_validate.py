"""Topology validation: the three reference files load, and malformed files get one-line errors
that name the file, the field and what to do."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from nineslab.errors import TopologyError
from nineslab.paths import TOPOLOGY_DIR
from nineslab.topology import load_topology
from nineslab.topology.model import Escape
from nineslab.topology.validate import build_topology

REFERENCE = {"1az": (0.999, 1, 1), "2az": (0.9999, 2, 1), "3dc": (0.99999, 3, 2)}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_reference_topologies_load(name: str) -> None:
    topo = load_topology(name)
    target, zones, regions = REFERENCE[name]
    assert topo.target == target
    assert len(topo.zones) == zones and len(topo.regions) == regions
    assert len(topo.by_role("etcd")) == 3
    # nameservers: one per zone in 2az and 3dc, two in 1az; every escape mechanism on
    assert len(topo.by_role("dns")) == max(2, zones)
    assert topo.escape == Escape()
    assert len(topo.by_role("lb")) >= 2 and len(topo.by_role("gateway")) >= 2 and len(topo.by_role("app")) >= 2
    assert topo.client.zone is None


def test_extra_clients_sit_on_the_client_edge_behind_the_first() -> None:
    topo = load_topology("topologies/examples/2az-clients.yaml")
    clients = topo.by_role("client")
    assert [h.name for h in clients] == ["client", "client-2", "client-3"]
    assert topo.client.name == "client"  # the first: health checks, the load's master
    assert all(h.zone is None and h.address in topo.client_segment.cidr for h in clients)
    servers = [h for h in topo.hosts if h.role != "client"]
    assert servers == [h for h in load_topology("2az").hosts if h.role != "client"]


def test_2az_places_etcd_two_plus_one() -> None:
    topo = load_topology("2az")
    per_zone = sorted(sum(1 for h in topo.by_role("etcd") if h.zone == z.name) for z in topo.zones)
    assert per_zone == [1, 2]


def test_3dc_has_one_etcd_member_per_zone_and_south_falls_back_across_regions() -> None:
    topo = load_topology("3dc")
    assert sorted(h.zone or "" for h in topo.by_role("etcd")) == ["east-a", "east-b", "south-c"]
    primary, backup = topo.next_hops(topo.host("lb-c"), "gateway")
    assert [g.name for g in primary] == ["gw-c"]
    assert [g.name for g in backup] == ["gw-a", "gw-b"]


def _raw() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((TOPOLOGY_DIR / "2az.yaml").read_text())
    return data


def _mutations() -> list[tuple[str, Any, str]]:
    """(description, mutate(raw), expected fragment of the error)."""

    def even_etcd(d: dict[str, Any]) -> None:
        d["hosts"] = [h for h in d["hosts"] if h["name"] != "etcd-b1"]

    def dup_name(d: dict[str, Any]) -> None:
        d["hosts"][1]["name"] = d["hosts"][0]["name"]

    def dup_addr(d: dict[str, Any]) -> None:
        d["hosts"][2]["address"] = d["hosts"][0]["address"]  # gw-a shares east-a with lb-a

    def private_addr(d: dict[str, Any]) -> None:
        d["hosts"][0]["address"] = "10.0.0.5"

    def unknown_role(d: dict[str, Any]) -> None:
        d["hosts"][0]["role"] = "cache"

    def unknown_zone(d: dict[str, Any]) -> None:
        d["hosts"][0]["zone"] = "west-z"

    def unknown_sends_to(d: dict[str, Any]) -> None:
        d["hosts"][0]["sends_to"] = ["east-a", "mars-1"]

    def address_outside_zone(d: dict[str, Any]) -> None:
        d["hosts"][0]["address"] = "198.18.2.99"  # lb-a lives in east-a (198.18.1.0/24)

    def router_address(d: dict[str, Any]) -> None:
        d["hosts"][0]["address"] = "198.18.1.1"

    def public_cidr(d: dict[str, Any]) -> None:
        d["regions"][0]["zones"][0]["cidr"] = "8.8.8.0/24"

    def overlapping(d: dict[str, Any]) -> None:
        d["regions"][0]["zones"][1]["cidr"] = "198.18.1.0/25"

    def bad_target(d: dict[str, Any]) -> None:
        d["target"] = 99.99

    def missing_hosts(d: dict[str, Any]) -> None:
        del d["hosts"]

    def unknown_key(d: dict[str, Any]) -> None:
        d["hosts"][0]["weight"] = 3

    def one_dns(d: dict[str, Any]) -> None:
        d["hosts"] = [h for h in d["hosts"] if h["name"] != "dns-b"]

    def four_dns_for_a_stub(d: dict[str, Any]) -> None:
        d["escape"] = {"client_resolver": "stub"}
        d["hosts"] += [
            {"name": f"dns-x{i}", "role": "dns", "zone": "east-a", "address": f"198.18.1.{90 + i}"} for i in range(2)
        ]

    def unknown_escape_key(d: dict[str, Any]) -> None:
        d["escape"] = {"dns_failover": True}

    def escape_not_a_switch(d: dict[str, Any]) -> None:
        d["escape"] = {"lb_vip": "yes"}

    def unknown_resolver(d: dict[str, Any]) -> None:
        d["escape"] = {"client_resolver": "systemd"}

    def vip_with_one_lb(d: dict[str, Any]) -> None:
        d["regions"][0]["zones"][0]["vip"] = "198.18.1.10"

    def vip_outside_its_zone(d: dict[str, Any]) -> None:
        d["regions"][0]["zones"][0]["vip"] = "198.18.2.10"

    def vip_on_a_host_address(d: dict[str, Any]) -> None:
        d["hosts"].append(
            {"name": "lb-a2", "role": "lb", "zone": "east-a", "address": "198.18.1.12", "sends_to": ["east-a"]}
        )
        d["regions"][0]["zones"][0]["vip"] = "198.18.1.12"

    def two_lbs_without_a_vip(d: dict[str, Any]) -> None:
        d["hosts"].append(
            {"name": "lb-a2", "role": "lb", "zone": "east-a", "address": "198.18.1.12", "sends_to": ["east-a"]}
        )

    def lb_without_sends_to(d: dict[str, Any]) -> None:
        del d["hosts"][0]["sends_to"]

    def sends_to_zone_without_gateway(d: dict[str, Any]) -> None:
        d["hosts"] = [h for h in d["hosts"] if h["name"] != "gw-b"]
        d["hosts"][0]["sends_to"] = ["east-b"]

    def waf_without_sends_to(d: dict[str, Any]) -> None:
        d["hosts"][0] = {"name": "waf-x", "role": "waf", "zone": "east-a", "address": "198.18.1.61"}

    def waf_budget_out_of_range(d: dict[str, Any]) -> None:
        d["waf"] = {"budget_ms": 0}

    def unknown_waf_key(d: dict[str, Any]) -> None:
        d["waf"] = {"budget_ms": 50, "rules": "owasp"}

    def extra_client_with_a_cidr(d: dict[str, Any]) -> None:
        d["client"]["extra"] = [{"name": "client-2", "address": "198.19.255.11", "cidr": "198.19.254.0/24"}]

    def extra_client_off_the_edge(d: dict[str, Any]) -> None:
        d["client"]["extra"] = [{"name": "client-2", "address": "198.18.1.99"}]

    def extra_client_named_twice(d: dict[str, Any]) -> None:
        d["client"]["extra"] = [{"name": d["client"]["name"], "address": "198.19.255.11"}]

    def extra_clients_not_a_list(d: dict[str, Any]) -> None:
        d["client"]["extra"] = {"name": "client-2"}

    return [
        ("extra client with a cidr", extra_client_with_a_cidr, "client.extra[0].cidr: an extra client shares"),
        ("extra client off the edge", extra_client_off_the_edge, "client.extra[0].address: 198.18.1.99 is not a"),
        ("extra client named twice", extra_client_named_twice, "hosts[].name"),
        ("extra clients not a list", extra_clients_not_a_list, "client.extra: expected a non-empty list"),
        ("even etcd count", even_etcd, "odd number of etcd hosts"),
        ("duplicate name", dup_name, "hosts[].name"),
        ("duplicate address", dup_addr, "hosts[].address"),
        ("address outside 198.18.0.0/15", private_addr, "hosts[0].address: 10.0.0.5 is outside 198.18.0.0/15"),
        ("unknown role", unknown_role, "hosts[0].role: unknown role 'cache'"),
        ("unknown zone", unknown_zone, "hosts[0].zone: unknown zone 'west-z'"),
        ("unknown zone in sends_to", unknown_sends_to, "hosts[0].sends_to: unknown zone 'mars-1'"),
        ("address outside its zone", address_outside_zone, "not a usable address of east-a"),
        ("router address", router_address, "not a usable address of east-a"),
        ("public cidr", public_cidr, "regions[0].zones[0].cidr: 8.8.8.0/24 is outside"),
        ("overlapping zones", overlapping, "overlaps"),
        ("target as percent", bad_target, "target: 99.99 is not an availability target"),
        ("missing hosts", missing_hosts, "hosts: is missing"),
        ("unknown key", unknown_key, "hosts[0].weight: unknown key"),
        ("one nameserver", one_dns, "use at least two nameservers"),
        ("four nameservers for a stub", four_dns_for_a_stub, "escape.client_resolver: stub, with 4 nameservers"),
        ("unknown escape key", unknown_escape_key, "escape.dns_failover: unknown key"),
        ("escape not a switch", escape_not_a_switch, "escape.lb_vip: 'yes' is not a switch"),
        ("unknown resolver", unknown_resolver, "escape.client_resolver: unknown value 'systemd'"),
        ("vip with one LB", vip_with_one_lb, "regions[0].zones[0].vip: 1 LBs share it"),
        ("vip outside its zone", vip_outside_its_zone, "regions[0].zones[0].vip: 198.18.2.10 is not a usable"),
        ("vip on a host address", vip_on_a_host_address, "'198.18.1.12' appears more than once"),
        ("two LBs without a vip", two_lbs_without_a_vip, "regions[0].zones[0]: east-a has two LBs but no `vip:`"),
        ("lb without sends_to", lb_without_sends_to, "hosts[0].sends_to"),
        ("sends to a zone with no gateway", sends_to_zone_without_gateway, "no gateway"),
        ("waf without sends_to", waf_without_sends_to, "hosts[0].sends_to: a waf needs the zones it forwards to"),
        ("waf budget out of range", waf_budget_out_of_range, "waf.budget_ms: 0 is not a budget"),
        ("unknown waf key", unknown_waf_key, "waf.rules: unknown key"),
    ]


@pytest.mark.parametrize(("desc", "mutate", "fragment"), _mutations(), ids=[m[0] for m in _mutations()])
def test_malformed_topology_gets_one_line_error(desc: str, mutate: Any, fragment: str) -> None:
    raw = copy.deepcopy(_raw())
    mutate(raw)
    with pytest.raises(TopologyError) as err:
        build_topology(raw, "bad.yaml")
    message = str(err.value)
    assert message.startswith("bad.yaml: "), message
    assert fragment in message, message
    assert " — " in message, "every error says what to do"
    assert "\n" not in message


def test_not_a_mapping_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(TopologyError, match="top level: expected a mapping"):
        build_topology(["a", "b"], "x.yaml")
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: x\nhosts: [\n")
    with pytest.raises(TopologyError, match=r"broken\.yaml: line \d+ is not valid YAML"):
        load_topology(str(bad))


def test_unknown_topology_name_lists_known_ones() -> None:
    with pytest.raises(TopologyError, match="use one of: 1az, 2az, 3dc"):
        load_topology("4az")
