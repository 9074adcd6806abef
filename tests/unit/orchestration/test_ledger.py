"""The ledger's pure parts: which faults each mechanism runs on which tier, the variant with one switch
off, the rows (saved = off - on, per fault and per mechanism) and the reuse rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nineslab.defaults import SLO_MS
from nineslab.orchestration.ledger import MECHANISMS, plan, reusable, variant
from nineslab.providers.netns import NetnsProvider
from nineslab.report.ledger import ledger_rows, table_rows, totals
from nineslab.rigs.synthetic import fault_results
from nineslab.topology import load_topology


class NetnsLab:
    provider = NetnsProvider("unit")


def test_each_mechanism_runs_only_the_faults_it_addresses_that_apply() -> None:
    one = plan(NetnsLab(), load_topology("1az"), list(MECHANISMS))  # type: ignore[arg-type]
    two = plan(NetnsLab(), load_topology("2az"), list(MECHANISMS))  # type: ignore[arg-type]
    assert one["lb_vip"] == ["vip-holder-pause", "vip-holder-power-off", "lb-pause"]
    assert "lb_vip" not in two, "2az has no zone with two LBs: no floating address to switch off"
    assert two["guarded_push"] == ["bad-route"] and "bad-route-bypass" not in sum(two.values(), [])
    assert all(set(faults) <= set(MECHANISMS[m][1]) for m, faults in two.items())


def test_a_mechanism_already_off_has_nothing_to_buy() -> None:
    topo = load_topology("topologies/examples/2az-no-escape.yaml")
    planned = plan(NetnsLab(), topo, list(MECHANISMS))  # type: ignore[arg-type]
    assert "dns_health_checks" not in planned and "client_resolver" not in planned


def test_the_variant_switches_one_mechanism_off_and_keeps_the_name(tmp_path: Path) -> None:
    path = variant(load_topology("3dc"), "supervisor", tmp_path)
    topo = load_topology(str(path))
    assert topo.name == "3dc" and topo.escape.supervisor is False and topo.escape.fast_ejection is True


def test_rows_give_what_each_mechanism_saves_per_fault_and_in_all() -> None:
    on = fault_results("r-on", {"bad-route": (0.2, 0.0, 0.8), "gateway-kill": (0.1, 0.0, 1.2)})
    off = {
        "guarded_push": fault_results("r-g", {"bad-route": (9.5, 1.0, 2400.0)}),
        "supervisor": fault_results("r-s", {"gateway-kill": (0.4, 0.0, 4.8)}),
    }
    rows = ledger_rows({"guarded_push": ["bad-route"], "supervisor": ["gateway-kill"]}, on, off)
    by = {(r["mechanism"], r["fault"]): r for r in rows}
    assert by["guarded_push", "bad-route"]["saved_error_seconds"] == pytest.approx(9.3)
    assert by["guarded_push", "bad-route"]["saved_minutes_per_year"] == pytest.approx((2400 - 0.8) / 60)
    assert totals(rows) == pytest.approx({"guarded_push": 39.9867, "supervisor": 0.06}, rel=1e-3)
    assert all(r["measured"] for r in rows) and len(table_rows(rows)) == 2


def test_a_fault_without_a_rate_or_not_run_saves_nothing_projected() -> None:
    on = fault_results("r-on", {"vip-holder-kill": (0.1, 0.0, None)})
    rows = ledger_rows({"supervisor": ["vip-holder-kill", "lb-kill"]}, on, {"supervisor": fault_results("r", {})})
    assert [r["saved_minutes_per_year"] for r in rows] == [None, None]
    assert not any(r["measured"] for r in rows) and totals(rows) == {"supervisor": 0.0}


def test_a_run_is_reused_only_with_the_same_topology_switches_rate_and_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NINESLAB_REPORTS_DIR", str(tmp_path))
    topo = load_topology("2az")
    base = fault_results("20260101-000000-suite-2az", {"gateway-kill": (0.1, 0.0, 1.0)})
    base.update(topology="2az", escape={**vars(topo.escape)}, slo_ms=SLO_MS, load={"rate": 200.0})
    run = tmp_path / base["run"]
    run.mkdir()
    (run / "results.json").write_text(json.dumps(base))
    assert reusable(topo, 200.0, ["gateway-kill"]) is not None
    assert reusable(topo, 400.0, ["gateway-kill"]) is None, "another rate"
    assert reusable(topo, 200.0, ["gateway-kill", "app-kill"]) is None, "a fault it did not run"
    assert reusable(load_topology(str(variant(topo, "supervisor", tmp_path / "v"))), 200.0, ["gateway-kill"]) is None
    base["faults"][0]["hold_s"] = 30.0
    (run / "results.json").write_text(json.dumps(base))
    assert reusable(topo, 200.0, ["gateway-kill"]) is None, "another hold"


def test_each_variant_switches_off_one_mechanism_even_after_another_variant_was_deployed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nineslab.orchestration.ledger as ledger

    class FakeLab:
        """A lab whose deploy overwrites its topology snapshot, as the real one does."""

        provider = NetnsProvider("unit")
        name = "unit"
        dir = tmp_path / "lab"

        def __init__(self) -> None:
            self.dir.mkdir()
            self.snapshot = self.dir / "topology.yaml"
            self.snapshot.write_text((Path("topologies") / "2az.yaml").read_text())
            self.deployed: list[dict[str, Any]] = []

        def topology(self) -> Any:
            return load_topology(str(self.snapshot))

        def deploy(self, path: str, progress: Any = None) -> None:
            self.snapshot.write_text(Path(path).read_text())
            self.deployed.append(dict(vars(load_topology(path).escape)))

    lab = FakeLab()
    monkeypatch.setattr(ledger, "reusable", lambda *a: None)
    monkeypatch.setattr(ledger, "_suite", lambda *a: {"run": "r"})
    monkeypatch.setattr(ledger, "write_ledger", lambda *a: tmp_path)
    ledger.run_ledger(lab, lambda _m: None, mechanisms=["dns_health_checks", "supervisor"])  # type: ignore[arg-type]
    off = [{k for k, v in escape.items() if v is not True and v != "caching"} for escape in lab.deployed]
    assert off == [{"dns_health_checks"}, {"supervisor"}, set()], "one switch off at a time, then as it was"
