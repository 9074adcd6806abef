"""What nineslab derives for the escape mechanisms from a topology: the health-checked DNS record, the
entry points, each host's daemons per switch, the VRRP pair, the DNS health rule, the cold-resolver
fault's plan and its parameter check."""

from __future__ import annotations

import pytest

from nineslab.errors import NinesError
from nineslab.faults.catalogue import check_params
from nineslab.faults.ops import OPS
from nineslab.services import daemons, dns, gateway, lb
from nineslab.services.checker import dns_answer_healthy
from nineslab.topology import load_topology
from tests.unit.faults.fake_lab import FakeLab


def test_the_lua_record_checks_every_entry_point_and_fails_open() -> None:
    rec = dns.lua_record(load_topology("3dc"))
    assert rec.startswith("ifurlup('http://api.nines.lab/api/', {'198.18.1.11', '198.18.2.11', '198.19.3.11'}")
    assert "selector='all'" in rec and "backupSelector='all'" in rec and "timeout=1" in rec


def test_a_zone_with_a_floating_address_hands_out_only_that() -> None:
    assert load_topology("1az").entry_points() == ["198.18.1.10"]
    assert load_topology("topologies/examples/1az-no-vip.yaml").entry_points() == ["198.18.1.11", "198.18.1.12"]
    assert load_topology("2az").entry_points() == ["198.18.1.11", "198.18.2.11"]
    assert "'198.18.1.10'" in dns.lua_record(load_topology("1az"))


@pytest.mark.parametrize(
    ("topology", "host", "expected"),
    [
        ("2az", "dns-a", ("pdns",)),
        ("topologies/examples/2az-no-escape.yaml", "dns-a", ("dnsmasq",)),
        ("2az", "client", ("unbound",)),
        ("topologies/examples/2az-no-escape.yaml", "client", ()),
        ("1az", "lb-a1", ("haproxy", "keepalived")),
        ("topologies/examples/1az-no-vip.yaml", "lb-a1", ("haproxy",)),
        ("3dc", "lb-c", ("haproxy",)),
    ],
)
def test_a_hosts_daemons_follow_the_switches(topology: str, host: str, expected: tuple[str, ...]) -> None:
    topo = load_topology(topology)
    assert daemons(topo.host(host), topo) == expected


def test_the_two_lbs_of_a_zone_share_its_address_over_unicast() -> None:
    topo = load_topology("1az")
    a1, a2 = lb.vrrp(topo, topo.host("lb-a1")), lb.vrrp(topo, topo.host("lb-a2"))
    assert a1 is not None and a2 is not None
    assert (a1["vip"], a1["peer"], a2["peer"]) == ("198.18.1.10/24", "198.18.1.12", "198.18.1.11")
    assert a1["router_id"] == a2["router_id"] == 1 and a1["priority"] > a2["priority"]
    assert lb.vrrp(load_topology("2az"), load_topology("2az").host("lb-a")) is None


def test_a_health_checked_answer_may_drop_entry_points_but_never_be_empty() -> None:
    check = {"expect": ["198.18.1.11", "198.18.2.11"], "subset": True}
    assert dns_answer_healthy(["198.18.2.11"], check)
    assert not dns_answer_healthy([], check)
    assert not dns_answer_healthy(["198.18.9.9"], check)
    static = {"expect": ["198.18.1.11", "198.18.2.11"]}
    assert not dns_answer_healthy(["198.18.2.11"], static)
    assert dns_answer_healthy(["198.18.2.11", "198.18.1.11"], static)


def test_the_cold_resolver_power_off_plans_the_flush_and_checks_its_parameter() -> None:
    topo = load_topology("2az")
    state = OPS["power_off"].plan(FakeLab("2az"), [topo.host("gw-a")], {"flush_client_resolver": True})
    assert state["flush_client_resolver"] is True and state["hosts"] == ["gw-a"]
    assert OPS["power_off"].plan(FakeLab("2az"), [topo.host("gw-a")], {})["flush_client_resolver"] is False
    with pytest.raises(NinesError, match=r"x\.params\.flush_client_resolver: 'yes' must be true or false"):
        check_params("x", "power_off", {"flush_client_resolver": "yes"})


def test_fast_ejection_bounds_how_long_a_gateway_waits_for_an_app() -> None:
    on = load_topology("2az")
    off = load_topology("topologies/examples/2az-no-escape.yaml")
    keys_on = gateway.route_keys(on, on.host("gw-a"))
    transport = "traefik-gw-a./http/serversTransports/fast/forwardingTimeouts"
    assert keys_on[f"{transport}/responseHeaderTimeout"] == keys_on[f"{transport}/dialTimeout"] == "300ms"
    assert keys_on["traefik-gw-a./http/services/apps/loadBalancer/serversTransport"] == "fast"
    assert not any("serversTransport" in k for k in gateway.route_keys(off, off.host("gw-a")))
