"""Analysis on synthetic sample sets with known answers, and property tests of its invariants."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nineslab.analysis import (
    Assumption,
    FaultRun,
    fault_impact,
    from_samples,
    latency_percentiles,
    latency_shift,
    longest_gap,
    outages,
    permutation_p,
    project,
    request_availability,
    time_availability,
    unfiltered,
    wilson,
)
from nineslab.load.samples import Sample


def synth(t_end: float, step: float, failing: list[tuple[float, float]], latency: float = 5.0) -> list[Sample]:
    out = []
    n = int(round(t_end / step))
    for i in range(n):
        t = round(i * step, 6)
        bad = any(a <= t < b for a, b in failing)
        out.append(
            Sample(1000.0 + t, latency, 0 if bad else 200, "refused" if bad else "", "lb-a", "gw-a", "app-a", "east-a")
        )
    return out


def test_a_gap_of_exactly_three_seconds() -> None:
    arr = from_samples(synth(20.0, 0.01, [(5.0, 8.0)]))
    ok = arr.ok(1000)
    outs = outages(arr.start, ok)
    assert len(outs) == 1
    assert outs[0][1] - outs[0][0] == pytest.approx(3.000, abs=1e-9)
    assert longest_gap(arr.start, ok) == pytest.approx(3.01, abs=1e-9)  # last success 4.99 -> 8.00
    r = request_availability(ok)
    assert (r.good, r.total) == (1700, 2000)
    imp = fault_impact(arr.start, ok, 1005.0, 1008.0, after_s=5.0)
    assert imp["error_seconds"] == pytest.approx(3.0, abs=1e-9)
    assert imp["time_to_recover_s"] == pytest.approx(3.0, abs=1e-9)
    assert imp["steady"]["error_ratio"] == 1.0 and imp["after"]["error_ratio"] == 0.0


def test_a_fault_with_no_impact() -> None:
    arr = from_samples(synth(10.0, 0.01, []))
    imp = fault_impact(arr.start, arr.ok(1000), 1002.0, 1004.0)
    assert imp["error_seconds"] == 0 and imp["time_to_recover_s"] == 0.0
    assert imp["steady"]["error_ratio"] == 0.0 and imp["during"]["good"] == 200


def test_a_run_with_no_successes() -> None:
    arr = from_samples(synth(2.0, 0.1, [(0.0, 99.0)]))
    ok = arr.ok(1000)
    r = request_availability(ok)
    assert r.value == 0.0 and r.lo == 0.0 and 0 < r.hi < 0.2
    assert longest_gap(arr.start, ok) is None
    assert len(outages(arr.start, ok)) == 1
    assert time_availability(arr.start, ok, 1.0)["value"] == 0.0
    assert fault_impact(arr.start, ok, 1000.0, 1001.0)["time_to_recover_s"] is None


def test_a_run_with_no_samples() -> None:
    arr = from_samples([])
    ok = arr.ok(1000)
    assert request_availability(ok).value is None
    assert outages(arr.start, ok) == [] and longest_gap(arr.start, ok) is None
    assert time_availability(arr.start, ok, 0.1)["total"] == 0
    assert latency_percentiles(arr.latency_ms)["p99"] is None


def test_latency_over_the_slo_counts_as_failure() -> None:
    samples = synth(1.0, 0.1, []) + [Sample(1001.5, 1500.0, 200, "", "lb-a", "gw-a", "app-a", "east-a")]
    arr = from_samples(samples)
    assert request_availability(arr.ok(1000)).good == 10
    assert request_availability(arr.ok(2000)).good == 11


def test_wilson_known_values() -> None:
    r = wilson(0, 10)
    assert r.lo == 0 and r.hi == pytest.approx(0.2775, abs=1e-4)
    r = wilson(95, 100)
    assert r.lo == pytest.approx(0.8882, abs=1e-4) and r.hi == pytest.approx(0.9785, abs=1e-4)


def test_projection_arithmetic_and_verdict() -> None:
    impacts = {
        "a": [FaultRun(error_seconds=3.0, hold_s=10, steady_good=100, steady_total=100)],
        "b": [FaultRun(error_seconds=10.0, hold_s=10, steady_good=50, steady_total=100)],
    }
    assumptions = {"a": Assumption(10, 600, "x"), "b": Assumption(1, 3600, "y")}
    p = project(impacts, assumptions, 0.9999)
    # a: 10 × 3 s = 30 s; b: 1 × (10 - 0.5×10 + 0.5×3600) = 1805 s
    assert p["annual_downtime_s"] == pytest.approx(1835.0)
    assert p["biggest_eater"] == "baseline"  # by the bound: nothing measured outside the faults is 100 %
    assert max(p["terms"], key=lambda t: t["annual_downtime_s"])["fault"] == "b"
    assert p["availability"] == pytest.approx(1 - 1835 / (365 * 86400))
    assert p["meets_target"] and p["margin_s"] == pytest.approx(0.0001 * 365 * 86400 - 1835)  # budget 3153.6 s
    assert not project(impacts, assumptions, 0.99995)["meets_target"]  # budget 1576.8 s
    # break-even: b's per-event bound is 5 s + 3600 s x its steady upper limit; a alone (3 s a time,
    # 0 steady failures) would use the 3153.6 s budget at 3153.6 / (3 + 600 x its steady upper limit)
    a_term = next(t for t in p["terms"] if t["fault"] == "a")
    assert a_term["break_even_alone_events_per_year"] == pytest.approx(
        p["error_budget_s"] / a_term["downtime_per_event_hi_s"]
    )
    assert a_term["break_even_events_per_year"] == 0.0  # nothing measured outside: the baseline's bound is 100 %


def reference_outages(start: list[float], ok: list[bool]) -> list[tuple[float, float]]:
    """Outages by a plain walk over the requests (independent of the numpy edge detection)."""
    out, begin = [], None
    for t, good in zip(start, ok, strict=True):
        if not good and begin is None:
            begin = t
        elif good and begin is not None:
            out.append((begin, t))
            begin = None
    if begin is not None:
        out.append((begin, start[-1]))
    return out


def reference_windows(start: list[float], ok: list[bool], w: float) -> tuple[int, int, int]:
    """(windows up, windows with requests, empty windows) by counting each request into its window."""
    t0, t1 = start[0], start[-1] + 1e-9
    n = max(1, math.ceil((t1 - t0) / w - 1e-9))
    counts: dict[int, list[int]] = {}
    for t, good in zip(start, ok, strict=True):
        c = counts.setdefault(min(int((t - t0) / w), n - 1), [0, 0])
        c[0] += 1
        c[1] += good
    up = sum(1 for total, g in counts.values() if g >= 0.99 * total)
    return up, len(counts), n - len(counts)


def test_time_availability_on_an_irregular_history() -> None:
    # 1 s windows over [0, 5): w0 all good, w1 empty, w2 one of two failed, w3 empty, w4 good.
    start = np.array([1000.0, 1000.5, 1002.1, 1002.9, 1004.2])
    ok = np.array([True, True, True, False, True])
    t = time_availability(start, ok, 1.0)
    assert (t["good"], t["total"], t["empty_windows"]) == (2, 3, 2)
    assert outages(start, ok) == [(1002.9, 1004.2)]


oks = st.lists(st.booleans(), min_size=0, max_size=300)


@settings(max_examples=200, deadline=None)
@given(oks, st.floats(min_value=0.001, max_value=0.5), st.randoms(use_true_random=False))
def test_invariants(flags: list[bool], step: float, rnd: random.Random) -> None:
    # irregular spacing: each gap between requests is 0-3 steps
    start = 1000.0 + np.cumsum([0.0] + [step * rnd.randint(0, 3) for _ in flags[1:]]) if flags else np.array([])
    ok = np.array(flags, dtype=bool)
    r = request_availability(ok)
    if r.total:
        assert 0 <= r.lo <= r.value <= r.hi <= 1  # type: ignore[operator]
        assert (r.good, r.total) == (sum(flags), len(flags))
    outs = outages(start, ok)
    assert outs == reference_outages([float(x) for x in start], flags)
    span = float(start[-1] - start[0]) if len(flags) else 0.0
    gap = longest_gap(start, ok)
    if gap is not None:
        inner = [b - a for a, b in outs if a > start[ok][0] and b <= start[ok][-1]]
        assert all(d <= gap + 1e-9 for d in inner)
    if len(flags):
        imp = fault_impact(start, ok, float(start[0]), float(start[-1]), after_s=0.0)
        assert 0 <= imp["error_seconds"] <= span + 0.1 + 1e-9
        t = time_availability(start, ok, 0.1)
        assert (t["good"], t["total"], t["empty_windows"]) == reference_windows(list(start), flags, 0.1)


def test_latency_during_a_hold_is_set_against_the_time_before_the_window_opens() -> None:
    start = np.arange(0.0, 40.0, 0.1)
    # 20 ms before the fault, 400 ms while it is held (a slow host), unanswered requests left out
    latency = np.where((start >= 20) & (start < 30), 400.0, 20.0)
    answered = ~((start >= 25) & (start < 26))
    latency[~answered] = 1.0  # a refused connection fails fast: it must not pull p50 down
    shift = latency_shift(start, latency, answered, opens=18.0, effective_start=20.0, recover_end=30.0)
    assert shift["before"]["p50"] == pytest.approx(20.0) and shift["before"]["count"] == 100
    assert shift["during"]["p50"] == pytest.approx(400.0) and shift["during"]["count"] == 90
    empty = latency_shift(start, latency, answered, opens=0.0, effective_start=50.0, recover_end=60.0)
    assert empty["before"]["p99"] is None and empty["during"]["count"] == 0


def test_unfiltered_counts_the_answered_requests_no_waf_saw() -> None:
    start = np.arange(10.0)
    answered = np.array([True] * 8 + [False] * 2)
    filtered = np.array([True] * 4 + [False] * 6)
    overall = unfiltered(start, answered, filtered)
    assert overall == {"answered": 8, "unfiltered": 4, "share": 0.5}
    assert unfiltered(start, answered, filtered, 4.0, 8.0) == {"answered": 4, "unfiltered": 4, "share": 1.0}
    assert unfiltered(start, answered, filtered, 20.0, 30.0)["share"] is None


def test_runs_of_one_estate_are_not_called_different_and_separated_runs_are() -> None:
    # zone-link-lossy error-seconds measured on 2az: 4 runs without etcd TLS, 5 with it
    off, on = [2.12, 1.95, 3.84, 4.30], [2.94, 3.54, 4.58, 2.73, 2.93]
    assert permutation_p(off, on) == pytest.approx(83 / 126)  # every one of the 126 splits
    assert permutation_p([1, 2, 3, 4], [10, 11, 12, 13]) == pytest.approx(2 / 70)  # the two extreme splits
    assert permutation_p([1.0, 1.0], [1.0, 1.0]) == 1.0
    assert permutation_p([], [1.0]) is None
    # past 20000 splits: seeded random ones, the same answer every time
    many = permutation_p(list(range(20)), [x + 5.0 for x in range(20)])
    assert many == permutation_p(list(range(20)), [x + 5.0 for x in range(20)]) and many is not None and many < 0.05
