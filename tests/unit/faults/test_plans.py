"""The plans of the fault ops (what recover will need, saved before anything is injected) and the
engine's order: state first, then apply. Pure: a stand-in lab, the real topologies and op table."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest

from nineslab.errors import NinesError
from nineslab.faults import engine
from nineslab.faults.catalogue import find
from nineslab.faults.ops import OPS, Op, sweeps
from nineslab.faults.ops.base import plan_hosts
from nineslab.faults.ops.control_plane import plan_bad_route
from nineslab.faults.ops.network import RULE_PRIORITY
from nineslab.providers.docker.provider import DockerProvider
from nineslab.providers.hosts.provider import HostsProvider
from nineslab.providers.netns import NetnsProvider
from nineslab.topology import load_topology
from tests.unit.faults.fake_lab import FakeLab


def _hosts(topology: str, *names: str) -> list[Any]:
    topo = load_topology(topology)
    return [topo.host(n) for n in names]


def test_kill_plans_every_daemon_of_each_host_or_only_the_one_named() -> None:
    lab = FakeLab("2az")
    state = OPS["kill"].plan(lab, _hosts("2az", "gw-a", "etcd-a1"), {})
    assert state == {"hosts": ["gw-a", "etcd-a1"], "daemons": {"gw-a": ["traefik"], "etcd-a1": ["etcd"]}}
    only = plan_hosts(lab, _hosts("2az", "gw-a"), {"daemon": "traefik"})
    assert only["daemons"] == {"gw-a": ["traefik"]}
    with pytest.raises(NinesError, match="no selected host runs 'haproxy'"):
        plan_hosts(lab, _hosts("2az", "gw-a"), {"daemon": "haproxy"})


def test_isolate_cuts_the_zone_both_ways_and_a_region_cut_spares_the_client() -> None:
    lab = FakeLab("3dc")
    zone = OPS["isolate"].plan(lab, _hosts("3dc", "gw-a"), {})
    cidr = str(load_topology("3dc").zone("east-a").cidr)
    assert zone["rules"] == [(cidr, "198.18.0.0/15"), ("198.18.0.0/15", cidr)]
    # the same cut where no router exists (machines over SSH): each side's firewall, the client cut too
    east_a = [h.name for h in load_topology("3dc").hosts if h.zone == "east-a"]
    assert zone["cut"]["inside"] == east_a and zone["cut"]["client"] is True
    assert "gw-b" in zone["cut"]["outside"] and "client" not in zone["cut"]["outside"]
    region = OPS["cut_region"].plan(lab, _hosts("3dc", "gw-c"), {})
    topo = load_topology("3dc")
    south = str(topo.zone("south-c").cidr)
    east = {str(topo.zone(z).cidr) for z in ("east-a", "east-b")}
    assert {(a, b) for a, b in region["rules"]} == {(south, e) for e in east} | {(e, south) for e in east}
    assert str(topo.client_segment.cidr) not in {x for pair in region["rules"] for x in pair}
    assert region["cut"]["client"] is False and "gw-c" in region["cut"]["inside"]
    assert {"gw-a", "gw-b"} <= set(region["cut"]["outside"]) and "gw-c" not in region["cut"]["outside"]


def test_blackhole_drops_the_host_both_ways() -> None:
    state = OPS["blackhole"].plan(FakeLab("2az"), _hosts("2az", "dns-a"), {})
    addr = f"{load_topology('2az').host('dns-a').address}/32"
    assert state == {"rules": [(addr, "198.18.0.0/15"), ("198.18.0.0/15", addr)]}


def test_cold_start_stops_every_etcd_member_and_restarts_the_gateway() -> None:
    state = OPS["cold_start"].plan(FakeLab("2az"), _hosts("2az", "gw-a"), {})
    assert state["hosts"] == ["etcd-a1", "etcd-a2", "etcd-b1"] and state["restarted"] == ["gw-a"]
    assert state["daemons"]["gw-a"] == ["traefik"]


def test_bad_route_remembers_the_revision_to_roll_back_to() -> None:
    lab = FakeLab("2az")
    state = plan_bad_route(lab, _hosts("2az", "gw-a", "gw-b"), {})
    assert state == {"revision": 41, "roots": ["traefik-gw-a./", "traefik-gw-b./"]}


def test_a_host_of_another_lab_or_outside_the_lab_network_is_refused() -> None:
    lab = FakeLab("2az")
    outsider = dataclasses.replace(load_topology("2az").host("gw-a"), address=ipaddress.ip_address("203.0.113.5"))
    with pytest.raises(NinesError, match="refusing to touch gw-a"):
        plan_hosts(lab, [outsider], {})


def test_every_op_is_complete_and_heal_runs_each_sweep_once_in_table_order() -> None:
    for name, op in OPS.items():
        assert op.name == name and all(callable(f) for f in (op.plan, op.apply, op.recover, op.sweep))
    names = [s.__name__ for s in sweeps(DockerProvider.capabilities)]
    # (power_off's sweep starts every daemon after the ports are up: the plain start is not run again)
    assert names == [
        "sweep_pause",
        "sweep_slow",
        "sweep_power_off",
        "sweep_cut",
        "sweep_bad_answer",
        "sweep_rules",
        "sweep_lossy",
        "sweep_disk_full",
        "sweep_memory_pressure",
        "sweep_expired_cert",
        "sweep_routes",
        "sweep_gray_members",
        "sweep_stale_watches",
    ]
    # machines over SSH: only what can act there (no router, nothing of theirs on this machine)
    names = [s.__name__ for s in sweeps(HostsProvider.capabilities)]
    assert names == ["sweep_pause", "sweep_power_off", "sweep_cut"]
    assert RULE_PRIORITY == 1100  # heal removes exactly the rules of this priority


def test_inject_writes_the_state_file_before_it_applies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lab = FakeLab("2az", state=tmp_path)

    def crash(_lab: Any, _state: Any) -> None:
        raise RuntimeError("the machine died mid-inject")

    monkeypatch.setitem(OPS, "kill", dataclasses.replace(OPS["kill"], apply=crash))
    spec = find("gateway-kill", lab.topology())
    with pytest.raises(RuntimeError):
        engine.inject(lab, spec.name, spec)
    saved = json.loads((tmp_path / "faults" / "gateway-kill.json").read_text())
    assert saved["hosts"] == ["gw-a"] and saved["state"]["daemons"] == {"gw-a": ["traefik"]}
    assert saved["op"] == "kill" and saved["select"] == "one" and "inject_end" not in saved
    with pytest.raises(NinesError, match="already injected"):
        engine.inject(lab, spec.name, spec)


def test_recover_uses_only_the_saved_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lab = FakeLab("2az", state=tmp_path)
    seen: list[dict[str, Any]] = []
    quiet = dataclasses.replace(OPS["kill"], apply=lambda _l, _s: None, recover=lambda _l, s: seen.append(s))
    monkeypatch.setitem(OPS, "kill", quiet)
    engine.inject(lab, "gateway-kill")
    out = engine.recover(lab, "gateway-kill")
    assert out["recovered"] and seen == [{"hosts": ["gw-a"], "daemons": {"gw-a": ["traefik"]}}]
    assert engine.recover(lab, "gateway-kill")["recovered"] is False, "a second recover is a no-op"


def test_provider_names_what_faults_touch() -> None:
    provider = NetnsProvider("unit")
    topo = load_topology("2az")
    assert provider.router().label == "unit-core" and provider.host(topo.client).label == "unit-client"
    assert provider.host(topo.client).argv(["true"]) == ["ip", "netns", "exec", "unit-client", "true"]
    assert provider.port(topo, topo.hosts[3]) == "unit-h3"
    assert isinstance(OPS["power_off"], Op) and OPS["power_off"].needs <= provider.capabilities
