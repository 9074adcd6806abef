"""--holds-for-target: the evidence plan has known answers, and a perfect estate run to plan is proven."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from nineslab.analysis import Assumption, BaselineEvidence, FaultRun, project
from nineslab.analysis.projection import YEAR_S, evidence_plan
from nineslab.faults import FaultSpec
from nineslab.orchestration.runner import with_hold
from nineslab.orchestration.sizing import MAX_HOLD_S, plan_suite


def spec(name: str, hold_s: float = 10.0) -> FaultSpec:
    return FaultSpec(name, "process", "kill", "gateway", "one", hold_s, "", {})


def test_one_part_needs_about_three_over_the_allowed_ratio() -> None:
    # The exact one-sided bound with no failure in n is 1 - 0.05^(1/n): it meets 1/1000 at
    # n = ln 0.05 / ln 0.999 = 2994.2 (about 3/ratio; Wilson's z²/ratio would ask 28 % more).
    n = evidence_plan({"only": 1000.0}, budget_s=1.0)["only"]
    assert n == pytest.approx(math.log(0.05) / math.log(0.999), rel=1e-3)


def test_budget_shares_go_with_the_square_root_of_the_weights() -> None:
    # weights 1:4 -> shares 1:2 of the budget -> requests w/share = 1:2 (a perfect part costs z²·w/n).
    plan = evidence_plan({"a": 1e4, "b": 4e4}, budget_s=3.0)
    assert plan["b"] / plan["a"] == pytest.approx(2.0, rel=1e-2)
    assert evidence_plan({"a": 1e4}, budget_s=0.0) == {"a": 0}


def test_a_perfect_estate_run_to_plan_is_proven_and_half_the_evidence_is_not() -> None:
    assumptions = {"x": Assumption(4, 600, "s"), "y": Assumption(0.5, 14400, "s")}
    target = 0.99999
    weights = {k: a.events_per_year * a.repair_s for k, a in assumptions.items()}
    weights["baseline"] = YEAR_S - sum(weights.values())
    need = evidence_plan(weights, (1 - target) * YEAR_S)

    def run(scale: float) -> dict[str, object]:
        n = {k: int(v * scale) for k, v in need.items()}
        impacts = {k: [FaultRun(error_seconds=0, hold_s=10, steady_good=n[k], steady_total=n[k])] for k in assumptions}
        return project(impacts, assumptions, target, BaselineEvidence(n["baseline"], n["baseline"]))

    assert run(1.0)["proven"] is True
    # proven: every term's rate is under its break-even (the rate at which the bound would cross)
    assert all(t["events_per_year"] <= t["break_even_events_per_year"] for t in run(1.0)["terms"])
    assert any(t["events_per_year"] > t["break_even_events_per_year"] for t in run(0.5)["terms"])
    assert run(0.5)["proven"] is False and run(0.5)["meets_target"] is True


def test_holds_are_twice_the_steady_requests_over_the_rate_capped_and_never_shorter() -> None:
    assumptions = {"short": Assumption(0.01, 1, "s"), "long": Assumption(1, 7200, "s"), "huge": Assumption(1, 1e6, "s")}
    specs = [spec("short", 20), spec("long"), spec("huge"), spec("unrated")]
    plan = plan_suite(specs, assumptions, 0.9999, rate=10, gap_s=10, overhead_s=13)
    assert plan.holds["short"] == 20 and plan.holds["unrated"] == 10  # the catalogue's hold is the least
    assert plan.holds["long"] == pytest.approx(2 * plan.requests["long"] / 10, abs=1)
    assert plan.holds["huge"] == MAX_HOLD_S and plan.capped == ["huge"]
    assert plan.baseline_s == pytest.approx(plan.requests["baseline"] / 10, abs=1)
    assert plan.run_s == pytest.approx(plan.baseline_s + sum(plan.holds.values()) + 4 * 13)
    assert "raise --rate" in plan.summary(10, 0.9999)


def test_with_hold_keeps_the_users_edits(tmp_path: Path) -> None:
    exp = {
        "title": "t",
        "description": "d",
        "method": [{"provider": {"func": "inject_fault", "arguments": {"fault": "x", "hold_s": 5, "select": "all"}}}],
    }
    src = tmp_path / "x.json"
    src.write_text(json.dumps(exp))
    out = json.loads(with_hold(src, 42.0, tmp_path / "run").read_text())
    assert out["method"][0]["provider"]["arguments"] == {"fault": "x", "hold_s": 42.0, "select": "all"}
    assert json.loads(src.read_text()) == exp  # the stock file is untouched
    assert replace(spec("x"), hold_s=1).hold_s == 1
