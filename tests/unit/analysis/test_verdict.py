"""The one verdict rule: evidence first (INCOMPLETE, ABORTED), then FAIL, PARTIAL, UNPROVEN, PASS; only a
proven PASS exits 0, a run that failed itself exits 4."""

from __future__ import annotations

from typing import Any

import pytest

from nineslab.analysis import VERDICTS, exit_code, label, verdict, verdict_reasons

DEVIATED = {"experiment": "x", "status": "completed", "deviated": True}


def results(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "topology": "3dc",
        "complete": True,
        "incomplete_reasons": [],
        "projection": {"meets_target": True, "proven": True},
        "outcome": {"healthy": True, "experiments": [{"experiment": "gateway-kill", "status": "completed"}]},
        "not_run": [],
    }
    base.update(over)
    return base


@pytest.mark.parametrize(
    ("over", "expected"),
    [
        ({}, "PASS"),
        # The point estimate meets the target but the 95 % bound does not: not a PASS at all.
        ({"projection": {"meets_target": True, "proven": False}}, "UNPROVEN"),
        # A fault that applies without a rate: not projected, so never better than PARTIAL.
        ({"unrated": ["dns-nxdomain"]}, "PARTIAL"),
        ({"unrated": ["dns-nxdomain"], "projection": {"meets_target": False}}, "FAIL"),
        ({"projection": {"meets_target": False}}, "FAIL"),
        ({"not_run": ["bad-route"]}, "PARTIAL"),
        # Running less never looks better: a failing projection with faults missing is still FAIL.
        ({"not_run": ["bad-route"], "projection": {"meets_target": False}}, "FAIL"),
        ({"complete": False, "incomplete_reasons": ["no samples recorded"]}, "INCOMPLETE"),
        ({"outcome": {"healthy": False, "experiments": []}}, "ABORTED"),
        ({"outcome": {"healthy": True, "experiments": [{"experiment": "x", "status": "aborted"}]}}, "ABORTED"),
        ({"outcome": {"healthy": True, "experiments": [DEVIATED]}}, "FAIL"),
        # An incomplete run says nothing about the tier, whatever its projection says.
        ({"complete": False, "incomplete_reasons": ["x"], "outcome": {}}, "INCOMPLETE"),
    ],
)
def test_verdict(over: dict[str, Any], expected: str) -> None:
    res = results(**over)
    assert verdict(res) == expected and expected in VERDICTS
    assert exit_code(verdict(res)) == {"PASS": 0, "INCOMPLETE": 4, "ABORTED": 4}.get(expected, 1)
    # `report --require point`, asked for by name, lets an UNPROVEN through; nothing else changes
    assert exit_code(verdict(res), accept_point=True) == {"PASS": 0, "UNPROVEN": 0, "INCOMPLETE": 4, "ABORTED": 4}.get(
        expected, 1
    )


def test_an_old_runs_verdict_keeps_its_meaning() -> None:
    assert exit_code("PASS_POINT") == 1 and label("PASS_POINT").startswith("UNPROVEN")


def test_reasons_name_what_is_missing() -> None:
    assert verdict_reasons(results()) == []
    assert verdict_reasons(results(not_run=["bad-route", "zone-isolate"])) == [
        "PARTIAL: faults that apply to 3dc but were not run: bad-route, zone-isolate"
    ]
    assert verdict_reasons(results(unrated=["dns-nxdomain"])) == [
        "PARTIAL: faults without a rate in the assumptions (not projected): dns-nxdomain"
    ]
    stopped = {"healthy": False, "experiments": [{"experiment": "lb-kill", "status": "interrupted"}]}
    assert verdict_reasons(results(outcome=stopped)) == [
        "ABORTED: did not run through: lb-kill (interrupted)",
        "ABORTED: the lab did not come back after heal",
    ]
