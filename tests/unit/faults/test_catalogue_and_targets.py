"""Fault catalogue as data and the target vocabulary (pure logic)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nineslab.errors import NinesError
from nineslab.faults import applicable, load_catalogue
from nineslab.faults.catalogue import KINDS, find
from nineslab.faults.ops import OPS
from nineslab.faults.targets import resolve
from nineslab.topology import load_topology


def test_catalogue_covers_every_fault_class_the_issue_names() -> None:
    specs = {s.name: s for s in load_catalogue()}
    assert {s.kind for s in specs.values()} == set(KINDS)
    for needed in (
        "gateway-kill",
        "gateway-pause",
        "app-kill",
        "lb-kill",
        "etcd-follower-kill",
        "etcd-leader-kill",
        "gateway-host-power-off",
        "zone-power-off",
        "zone-isolate",
        "region-south-cut",
        "dns-primary-blackhole",
        "dns-primary-kill",
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
    ("role", "target", "leader", "expected"),
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
def test_targets_resolve_over_a_role(role: str, target: str, leader: str | None, expected: list[str]) -> None:
    assert [h.name for h in resolve(load_topology("2az"), role, target, leader)] == expected


def test_targets_never_include_the_client_and_refuse_what_does_not_exist() -> None:
    topo = load_topology("3dc")
    assert "client" not in [h.name for h in resolve(topo, "any", "all")]
    assert [h.name for h in resolve(topo, "any", "region:south")] == ["lb-c", "gw-c", "app-c", "etcd-c"]
    with pytest.raises(NinesError, match="matches no host"):
        resolve(topo, "any", "zone:west-z")
    with pytest.raises(NinesError, match="no leader"):
        resolve(topo, "etcd", "leader", None)


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda f: f.update(op="explode"), "faults[0].op: 'explode' is unknown"),
        (lambda f: f.update(target="half"), "faults[0].target: 'half' is unknown"),
        (lambda f: f.update(hold_s=-1), "faults[0].hold_s: -1 is not a hold time"),
        (lambda f: f.pop("expected"), "faults[0].expected: is missing"),
        (lambda f: f.update(role="db"), "faults[0].role: 'db' is unknown"),
    ],
)
def test_bad_catalogue_entries_get_one_line_errors(tmp_path: Path, mutate: object, fragment: str) -> None:
    raw = yaml.safe_load(Path("chaos/catalogue.yaml").read_text())
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
