"""Fault catalogue as data, where faults apply, and the host selectors (pure logic)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from nineslab.errors import NinesError
from nineslab.faults import applicable, load_catalogue
from nineslab.faults.catalogue import KINDS, find
from nineslab.faults.ops import OPS
from nineslab.faults.selection import select_hosts
from nineslab.paths import REPO_ROOT
from nineslab.providers.hosts.provider import HostsProvider
from nineslab.providers.netns import NetnsProvider
from nineslab.topology import Topology, load_topology
from nineslab.topology.model import Security


def test_catalogue_covers_every_fault_class_the_issue_names() -> None:
    specs = {s.name: s for s in load_catalogue()}
    assert {s.kind for s in specs.values()} == set(KINDS)
    for needed in (
        "gateway-kill",
        "gateway-pause",
        "app-kill",
        "lb-kill",
        "etcd-follower-down",
        "etcd-leader-down",
        "gateway-host-power-off",
        "zone-power-off",
        "zone-isolate",
        "region-south-cut",
        "dns-primary-blackhole",
        "dns-primary-down",
        "dns-both-down",
        "etcd-quorum-loss",
        "etcd-total-loss",
        "etcd-cold-start-gateway",
        "bad-route",
    ):
        assert needed in specs
    assert all(s.op in OPS for s in specs.values())


def test_region_cut_is_offered_only_where_there_are_two_regions() -> None:
    spec = next(s for s in load_catalogue() if s.name == "region-south-cut")
    assert applicable(spec, load_topology("3dc"))
    assert not applicable(spec, load_topology("2az")) and not applicable(spec, load_topology("1az"))
    with pytest.raises(NinesError, match="does not apply to topology 2az"):
        find("region-south-cut", load_topology("2az"))


@pytest.mark.parametrize(
    ("role", "select", "leader", "expected"),
    [
        ("gateway", "one", None, ["gw-a"]),
        ("etcd", "majority", None, ["etcd-a1", "etcd-a2"]),
        ("etcd", "minority", None, ["etcd-a1"]),
        ("etcd", "all", None, ["etcd-a1", "etcd-a2", "etcd-b1"]),
        ("etcd", "leader", "etcd-a2", ["etcd-a2"]),
        ("etcd", "follower", "etcd-a1", ["etcd-a2"]),
        ("any", "zone:east-b", None, ["lb-b", "gw-b", "app-b", "etcd-b1", "dns-b"]),
        ("dns", "one", None, ["dns-a"]),
    ],
)
def test_selectors_pick_hosts_of_a_role(role: str, select: str, leader: str | None, expected: list[str]) -> None:
    assert [h.name for h in select_hosts(load_topology("2az"), role, select, leader)] == expected


def test_selectors_never_include_the_client_and_refuse_what_does_not_exist() -> None:
    topo = load_topology("3dc")
    assert "client" not in [h.name for h in select_hosts(topo, "any", "all")]
    assert [h.name for h in select_hosts(topo, "any", "region:south")] == ["lb-c", "gw-c", "app-c", "etcd-c", "dns-c"]
    with pytest.raises(NinesError, match="matches no host"):
        select_hosts(topo, "any", "zone:west-z")
    with pytest.raises(NinesError, match="no leader"):
        select_hosts(topo, "etcd", "leader", None)


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda f: f.update(op="explode"), "faults[0].op: 'explode' is unknown"),
        (lambda f: f.update(select="half"), "faults[0].select: 'half' is unknown"),
        (lambda f: f.update(params={"daemon": "traefik"}, op="power_off"), "op power_off takes no such parameter"),
        (lambda f: f.update(params={"share": 0.5}), "params.share: op kill takes no such parameter — it takes: daemon"),
        (lambda f: f.update(params={"daemon": 5}), "params.daemon: 5 must be a daemon name"),
        (lambda f: f.update(params=[1]), "faults[0].params: expected a mapping"),
        (lambda f: f.update(hold_s=-1), "faults[0].hold_s: -1 is not a hold time"),
        (lambda f: f.pop("expected"), "faults[0].expected: is missing"),
        (lambda f: f.update(role="db"), "faults[0].role: 'db' is unknown"),
    ],
)
def test_bad_catalogue_entries_get_one_line_errors(tmp_path: Path, mutate: object, fragment: str) -> None:
    raw = yaml.safe_load((REPO_ROOT / "chaos" / "catalogue.yaml").read_text())
    mutate(raw["faults"][0])  # type: ignore[operator]
    bad = tmp_path / "catalogue.yaml"
    bad.write_text(yaml.safe_dump(raw))
    with pytest.raises(NinesError) as err:
        load_catalogue(bad)
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_unreadable_catalogue_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "catalogue.yaml"
    bad.write_text("faults:\n  - name: x\n    expected: {1az: a: b}\n")
    with pytest.raises(NinesError) as err:
        load_catalogue(bad)
    assert "\n" not in str(err.value) and "cannot read the fault catalogue" in str(err.value)


# Which faults applied to which topology while the rule was "the topology has an `expected` text":
# the rule now reads the topology itself (roles, zones, regions) and gives the same sets.
EVERYWHERE = [
    "gateway-kill", "gateway-down", "gateway-pause", "app-kill", "app-pause", "lb-kill", "lb-down", "lb-pause",
    "etcd-follower-down",
    "etcd-leader-down", "etcd-leader-pause", "gateway-host-power-off", "zone-power-off", "zone-isolate",
    "dns-primary-blackhole", "dns-primary-down", "dns-both-down", "dns-servfail", "dns-nxdomain",
    "etcd-quorum-loss", "etcd-total-loss",
    "etcd-cold-start-gateway", "etcd-cert-expired",
    "gateway-slow", "app-slow", "etcd-leader-slow", "lb-lossy", "zone-link-lossy",
    "bad-route", "bad-route-bypass",
]  # fmt: skip


@pytest.mark.parametrize(
    ("topology", "expected"),
    [
        # only 1az has a zone with a floating address (two LBs): the VIP-holder faults apply there
        (
            "1az",
            EVERYWHERE[:8]
            + ["vip-holder-kill", "vip-holder-pause", "vip-holder-power-off"]
            + EVERYWHERE[8:14]
            + ["zone-power-off-cold-resolver", "region-east-dark"]
            + EVERYWHERE[14:],
        ),
        # losing a region is in every tier's catalogue: the only region of 1az and 2az, each of 3dc's two
        ("2az", EVERYWHERE[:14] + ["zone-power-off-cold-resolver", "region-east-dark"] + EVERYWHERE[14:]),
        (
            "3dc",
            EVERYWHERE[:14]
            + ["zone-power-off-cold-resolver", "region-south-cut", "region-east-dark", "region-south-dark"]
            + EVERYWHERE[14:],
        ),
    ],
)
def test_which_faults_apply_is_read_from_the_topology(topology: str, expected: list[str]) -> None:
    topo = load_topology(topology)
    assert [s.name for s in load_catalogue() if applicable(s, topo, NetnsProvider.capabilities)] == expected


def test_every_fault_of_the_catalogue_has_a_sourced_rate() -> None:
    from nineslab.report.build import load_assumptions

    rates = load_assumptions()
    assert [s.name for s in load_catalogue() if s.name not in rates] == []
    assert all(a.source and a.events_per_year > 0 and a.repair_s > 0 for a in rates.values())


def test_a_dark_region_is_cut_off_whole_and_a_region_cut_only_from_the_other_region() -> None:
    from nineslab.faults.ops.network import plan_cut_region, plan_isolate

    class FakeLab:  # plan_* read only the topology
        def __init__(self, name: str) -> None:
            self.topo = load_topology(name)

        def topology(self) -> Topology:
            return self.topo

    lab = FakeLab("3dc")
    east = select_hosts(lab.topo, "any", "region:east")
    dark = plan_isolate(lab, east, {})  # type: ignore[arg-type]
    # both east zones cut from the whole lab network, the client's segment included
    assert {src for src, _ in dark["rules"]} == {"198.18.1.0/24", "198.18.2.0/24", "198.18.0.0/15"}
    assert dark["cut"]["client"] is True and set(dark["cut"]["outside"]) == {"lb-c", "gw-c", "app-c", "etcd-c", "dns-c"}
    cut = plan_cut_region(lab, select_hosts(lab.topo, "any", "region:south"), {})  # type: ignore[arg-type]
    assert cut["cut"]["client"] is False
    one = FakeLab("1az")
    assert plan_isolate(one, select_hosts(one.topo, "any", "region:east"), {})["cut"]["outside"] == []  # type: ignore[arg-type]


def test_the_expired_certificate_applies_only_where_etcd_runs_with_tls() -> None:
    spec = next(s for s in load_catalogue() if s.name == "etcd-cert-expired")
    topo = load_topology("2az")
    caps = NetnsProvider.capabilities
    assert applicable(spec, topo, caps)
    assert not applicable(spec, dataclasses.replace(topo, security=Security(etcd_tls=False)), caps)


def test_a_fault_applies_without_an_expected_text_and_not_where_its_zone_is_missing() -> None:
    spec = next(s for s in load_catalogue() if s.name == "zone-power-off")
    bare = dataclasses.replace(spec, expected={}, select="zone:south-c")
    assert applicable(bare, load_topology("3dc")) and bare.expected_for("3dc") == "not stated in the catalogue"
    assert not applicable(bare, load_topology("2az"))


def test_ops_a_provider_cannot_do_are_not_offered() -> None:
    topo = load_topology("2az")
    names = {s.name for s in load_catalogue() if applicable(s, topo, frozenset())}
    assert "gateway-kill" in names and "dns-primary-down" in names and "bad-route" not in names
    assert not names & {"zone-power-off", "zone-isolate", "gateway-host-power-off", "dns-primary-blackhole"}
    # machines over SSH: processes, power-off and cuts by their firewalls; nothing that edits a host's
    # files or namespace from here, and no router to blackhole at
    on_machines = {s.name for s in load_catalogue() if applicable(s, topo, HostsProvider.capabilities)}
    assert {"gateway-kill", "dns-primary-down", "zone-isolate", "zone-power-off", "etcd-leader-pause"} <= on_machines
    assert not on_machines & {"dns-primary-blackhole", "bad-route", "dns-nxdomain", "gateway-slow", "lb-lossy"}
