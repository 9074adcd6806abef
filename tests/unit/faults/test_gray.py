"""The gray-failure ops' pure parts: their parameters, what they plan, the drop rules and the CPU quota.
Their effect on a real lab is tests/integration/test_gray.py."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from nineslab import cgroups
from nineslab.chaos.experiments import check_experiment, experiment_for
from nineslab.errors import NinesError
from nineslab.faults.catalogue import check_params, find, load_catalogue
from nineslab.faults.ops import OPS
from nineslab.faults.ops.network import _drop_rules
from nineslab.topology import load_topology
from tests.unit.faults.fake_lab import FakeLab


@pytest.mark.parametrize("share", [0, 1, 1.5, -0.1, "0.3", True])
def test_a_share_outside_zero_and_one_is_refused_naming_the_entry(share: object) -> None:
    with pytest.raises(NinesError, match=r"^faults\[3\]\.params\.share: .* strictly between 0 and 1"):
        check_params("faults[3]", "slow", {"share": share})


def test_the_share_is_required_and_ops_without_parameters_take_none() -> None:
    with pytest.raises(NinesError, match=r"params\.share: is missing — op lossy needs it"):
        check_params("faults[0]", "lossy", None)
    with pytest.raises(NinesError, match=r"params\.share: op isolate takes no such parameter — it takes: none"):
        check_params("faults[0]", "isolate", {"share": 0.3})
    assert check_params("faults[0]", "lossy_link", {"share": 0.1}) == {"share": 0.1}


def test_a_catalogue_entry_with_a_bad_share_names_the_file_and_entry(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.yaml"
    path.write_text(
        "faults:\n  - {name: x, kind: node, op: slow, role: gateway, select: one, hold_s: 5,"
        " params: {share: 2}, expected: {}}\n"
    )
    with pytest.raises(NinesError, match=rf"^{path}: faults\[0\]\.params\.share: 2 must be a share"):
        load_catalogue(path)


def test_an_experiment_with_a_bad_share_names_the_file(tmp_path: Path) -> None:
    topo = load_topology("2az")
    exp = experiment_for(find("lb-lossy", topo))
    assert exp["method"][0]["provider"]["arguments"]["params"] == {"share": 0.3}
    exp["method"][0]["provider"]["arguments"]["params"] = {"share": 30}
    path = tmp_path / "lb-lossy.json"
    path.write_text(json.dumps(exp))
    with pytest.raises(NinesError, match=rf"^{path}: method\[0\]\.provider\.arguments\.params\.share: 30 must"):
        check_experiment(path, topo)


def test_a_lossy_link_drops_between_the_zone_and_the_rest_in_the_router() -> None:
    lab = FakeLab("3dc")
    topo = lab.topology()
    state = OPS["lossy_link"].plan(lab, [h for h in topo.hosts if h.zone == "east-a"], {"share": 0.1})
    assert state == {"netns": ["unit-core"], "zones": ["198.18.1.0/24"], "share": 0.1}
    host = OPS["lossy"].plan(lab, [topo.host("lb-a")], {"share": 0.3})
    assert host == {"hosts": ["lb-a"], "netns": ["unit-lb-a"], "share": 0.3}


def test_the_drop_rules_drop_the_share_in_tenths_of_a_percent_each_way() -> None:
    rules = _drop_rules(0.3, 'iifname != "lo"', 'oifname != "lo"', "input", "output")
    assert rules.count("numgen random mod 1000 < 300 drop") == 2
    assert "hook input" in rules and "hook output" in rules
    assert "< 1 drop" in _drop_rules(0.0001, "", "", "forward", "forward")  # never rounded to nothing


def test_the_cpu_quota_is_the_share_of_a_period_and_never_under_the_kernel_minimum() -> None:
    assert cgroups.quota_us(0.02) == 2_000
    assert cgroups.quota_us(0.5) == 50_000
    assert cgroups.quota_us(0.005) == 5_000 and cgroups.period_us(0.005) == 1_000_000  # under 1 %: a 1 s period
    assert cgroups.quota_us(0.0001) == cgroups.MIN_QUOTA_US  # 0.1 % is the least there is


def test_only_the_labs_own_cgroups_are_listed(tmp_path: Path) -> None:
    for name in ("unit-slow-gw-a", "unit2-slow-gw-a", "other", "unit-slowx"):
        (tmp_path / name).mkdir()
    assert [p.name for p in cgroups.lab_cgroups("unit", tmp_path)] == ["unit-slow-gw-a"]
    assert cgroups.unavailable(tmp_path) is not None  # no cpu.cfs_quota_us there


def test_a_process_cpu_cgroup_is_read_from_proc() -> None:
    assert isinstance(cgroups.cpu_cgroup(os.getpid()), str)
    assert cgroups.cpu_cgroup(2**22 + 1) is None  # above pid_max: never a process
