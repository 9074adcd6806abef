"""The stop condition's pure parts: the error ratio of a window of requests by start time, and when it
counts as crossed. On a real lab: tests/integration/test_faults.py (a suite crossing its bound)."""

from __future__ import annotations

from typing import Any

from nineslab.analysis import verdict, verdict_reasons
from nineslab.orchestration.stop import MIN_SAMPLES, ErrorWindow, StopCondition, crossed
from tests.unit.analysis.test_verdict import results


def window(samples: list[tuple[float, bool]]) -> ErrorWindow:
    w = ErrorWindow()
    for start, ok in samples:
        w.add(start, ok)
    return w


def test_the_ratio_is_over_the_requests_that_started_in_the_window() -> None:
    # 10 s at 10 req/s, the last 2 s all failing; recorded out of order (failures end at their deadline)
    good = [(i / 10, True) for i in range(80)]
    bad = [(8 + i / 10, False) for i in range(20)]
    w = window(bad + good)
    ratio, n = w.ratio(2.0)
    assert n == 21 and abs(ratio - 20 / 21) < 1e-9  # 7.9 .. 9.9: one good request at 7.9
    assert w.ratio(4.0) == (20 / 41, 41)


def test_nothing_is_judged_before_a_full_window_or_on_a_handful_of_requests() -> None:
    cond = StopCondition(0.5, 5.0)
    assert window([(i / 10, False) for i in range(40)]).ratio(5.0) == (0.0, 0), "3.9 s seen: no full window"
    assert crossed(cond, window([(float(i), False) for i in range(MIN_SAMPLES - 1)])) is None, "too few"
    reason = crossed(cond, window([(i / 10, False) for i in range(100)]))
    assert reason == "stop condition crossed: 100% of 51 requests failed over the last 5 s"


def test_a_ratio_under_the_bound_does_not_stop() -> None:
    samples = [(i / 10, i % 3 != 0) for i in range(200)]  # a third failing
    assert crossed(StopCondition(0.5, 5.0), window(samples)) is None
    assert crossed(StopCondition(0.3, 5.0), window(samples)) is not None


def test_forgetting_old_requests_keeps_the_window() -> None:
    w = window([(i / 10, i < 50) for i in range(200)])
    w.forget_before(19.9 - 5.0 - 1.0)
    assert w.starts[0] >= 13.9 and w.ratio(5.0) == (1.0, 51)  # the last 5 s: all failing


def test_a_stopped_run_is_aborted_with_its_reason_never_passed() -> None:
    stopped: dict[str, Any] = {"condition": "error ratio >= 0.5 over 5 s", "reason": "stop condition crossed: x"}
    outcome = {"healthy": True, "experiments": [{"experiment": "zone-isolate", "status": "completed"}]}
    res = results(outcome={**outcome, "stopped": stopped})
    assert verdict(res) == "ABORTED"
    assert (
        verdict(results(outcome={**outcome, "stopped": stopped}, complete=False, incomplete_reasons=["x"])) == "ABORTED"
    )
    assert verdict_reasons(res) == [
        "ABORTED: stop condition crossed: x (bound: error ratio >= 0.5 over 5 s); every fault recovered at once"
    ]
