"""The runner's and the controls' own logic: what a `chaos run` came to, when a run went through,
and how a stock `chaos run` names its run directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from nineslab.analysis.verdict import ran_clean
from nineslab.chaos.controls import run_label
from nineslab.chaos.inprocess import ExperimentResult
from nineslab.orchestration.runner import applicable_faults
from nineslab.providers.netns import NetnsProvider
from nineslab.topology import load_topology


@pytest.mark.parametrize(
    ("status", "deviated", "exit_code"),
    [("completed", False, 0), ("completed", True, 1), ("aborted", False, 1), ("interrupted", False, 1)],
)
def test_an_experiment_exits_as_chaos_run_would(status: str, deviated: bool, exit_code: int) -> None:
    out = ExperimentResult("lb-kill", status, deviated, Path("j.json")).as_dict()
    assert out == {
        "experiment": "lb-kill",
        "exit_code": exit_code,
        "status": status,
        "deviated": deviated,
        "journal": "j.json",
    }


def test_a_run_went_through_only_when_every_experiment_completed_and_the_lab_came_back() -> None:
    ok = {"status": "completed", "deviated": False}
    assert ran_clean({"experiments": [ok, ok], "healthy": True}) and ran_clean({"experiments": [], "healthy": True})
    assert not ran_clean({"experiments": [ok], "healthy": False})
    assert not ran_clean({"experiments": [ok, {"status": "completed", "deviated": True}], "healthy": True})
    assert not ran_clean({"experiments": [{"status": "interrupted", "deviated": False}], "healthy": True})
    # stopped by its own bound, or etcd's members disagreeing afterwards: not clean either
    assert not ran_clean({"experiments": [ok], "healthy": True, "stopped": {"reason": "x"}})
    assert not ran_clean({"experiments": [ok], "healthy": True, "etcd_consistency": {"consistent": False}})
    assert ran_clean({"experiments": [ok], "healthy": True, "etcd_consistency": {"consistent": None}})


def test_stock_chaos_run_names_its_run_directory_after_the_fault() -> None:
    assert run_label("zone-power-off: power_off any:zone:east-a for 15s") == "zone-power-off"
    assert run_label("my experiment / v2") == "my-experiment---v2"
    assert run_label(":") == "experiment"


class NetnsLab:
    provider = NetnsProvider("unit")


def test_a_suite_runs_the_faults_that_apply_in_catalogue_order() -> None:
    names = [s.name for s in applicable_faults(NetnsLab(), load_topology("3dc"))]
    assert names[0] == "gateway-kill" and "region-south-cut" in names
    assert names[-2:] == ["bad-route", "bad-route-bypass"]
    assert "region-south-cut" not in [s.name for s in applicable_faults(NetnsLab(), load_topology("2az"))]


def test_a_fault_that_applies_without_a_rate_is_refused_before_the_suite_starts() -> None:
    from nineslab.errors import NinesError
    from nineslab.faults import load_catalogue
    from nineslab.orchestration.runner import require_rates
    from nineslab.report.build import load_assumptions

    topology = load_topology("1az")
    specs = [s for s in load_catalogue() if s.name in ("gateway-kill", "dns-nxdomain")]
    rates = load_assumptions()
    require_rates(specs, topology, rates)  # every fault has one: nothing to say
    # dns-nxdomain costs 100 % of requests for its whole hold: without a rate it would be left out
    without = {k: v for k, v in rates.items() if k != "dns-nxdomain"}
    with pytest.raises(NinesError) as err:
        require_rates(specs, topology, without)
    text = str(err.value)
    assert "no rate for dns-nxdomain, which applies to 1az" in text and "fault-rates.yaml" in text
    assert "\n" not in text
