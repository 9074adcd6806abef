"""The one verdict rule: evidence first (INCOMPLETE, ABORTED), then FAIL, PARTIAL, PASS; only PASS exits 0."""

from __future__ import annotations

from typing import Any

import pytest

from nineslab.analysis import VERDICTS, exit_code, verdict, verdict_reasons

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
        # The point estimate meets the target but the 95 % bound does not: a weaker PASS.
        ({"projection": {"meets_target": True, "proven": False}}, "PASS_POINT"),
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
    assert exit_code(verdict(res)) == (0 if expected in ("PASS", "PASS_POINT") else 1)
    assert exit_code(verdict(res), require_bound=True) == (0 if expected == "PASS" else 1)


def test_reasons_name_what_is_missing() -> None:
    assert verdict_reasons(results()) == []
    assert verdict_reasons(results(not_run=["bad-route", "zone-isolate"])) == [
        "PARTIAL: faults that apply to 3dc but were not run: bad-route, zone-isolate"
    ]
    stopped = {"healthy": False, "experiments": [{"experiment": "lb-kill", "status": "interrupted"}]}
    assert verdict_reasons(results(outcome=stopped)) == [
        "ABORTED: did not run through: lb-kill (interrupted)",
        "ABORTED: the lab did not come back after heal",
    ]
