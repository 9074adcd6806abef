"""A dry run in words (pure), and that planning writes no state file (the engine's plan/inject split).
Against a real lab: tests/integration/test_faults.py::test_dry_runs_print_the_plan_and_change_nothing."""

from __future__ import annotations

from pathlib import Path

from nineslab.faults import engine
from nineslab.faults.catalogue import find
from tests.unit.faults.fake_lab import FakeLab


def test_the_plan_names_hosts_processes_and_rules() -> None:
    plan = {
        "fault": "zone-power-off",
        "op": "power_off",
        "hold_s": 15.0,
        "hosts": ["gw-a", "etcd-a1"],
        "summary": "switch port down + processes killed",
        "processes": {"gw-a/traefik": 41, "etcd-a1/etcd": None},
        "state": {"rules": [["198.18.1.0/24", "198.18.0.0/15"]], "flush_client_resolver": False},
    }
    assert engine.describe_dry_run(plan) == [
        "zone-power-off: power_off for 15 s on gw-a, etcd-a1 — switch port down + processes killed",
        "  processes: gw-a/traefik pid 41, etcd-a1/etcd pid not running",
        "  router rule: blackhole from 198.18.1.0/24 to 198.18.0.0/15",
        "  flush_client_resolver: False",
    ]


def test_a_fault_whose_hosts_depend_on_the_moment_says_so() -> None:
    plan = {"fault": "etcd-leader-down", "op": "stop", "hold_s": 10.0, "hosts": [], "unplanned": "no leader now"}
    assert engine.describe_dry_run(plan) == [
        "etcd-leader-down: stop for 10 s — hosts chosen when it runs (no leader now)"
    ]


def test_a_dry_run_writes_no_state_file(tmp_path: Path) -> None:
    lab = FakeLab("2az", state=tmp_path)
    spec = find("zone-isolate", lab.topology())
    plan = engine.dry_run(lab, spec)  # type: ignore[arg-type]
    assert plan["hosts"] == ["lb-a", "gw-a", "app-a", "etcd-a1", "etcd-a2", "dns-a"]
    assert plan["hold_s"] == spec.hold_s and plan["state"]["rules"]
    assert not (tmp_path / "faults").exists()
