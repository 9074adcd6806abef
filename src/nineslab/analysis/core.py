"""Availability from recorded requests. Conventions (written into every report):
- a request succeeds when it got an HTTP 2xx/3xx, no error, and lag + latency <= the SLO, lag being
  its actual start - its intended start on the open-loop schedule (the wrk2 rule: a request the client
  sent late was late for its user too);
- request-based availability = successes / requests;
- time-based availability: the run is cut into windows (1 s and 100 ms); a window is UP when at least
  `window_ok_ratio` of the requests that started in it succeeded; windows in which no request started
  say nothing and are left out (their count is reported);
- an outage is a maximal run of failed requests between two successes, from the first failure's start
  to the next success's start; the longest gap is the longest time between two consecutive successes.
Every ratio carries its sample count and a Wilson 95 % interval."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from nineslab.load.samples import Heartbeat, Sample

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Ratio:
    good: int
    total: int
    lo: float
    hi: float

    @property
    def value(self) -> float | None:
        return self.good / self.total if self.total else None

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "good": self.good, "total": self.total, "ci95": [self.lo, self.hi]}


def wilson(good: int, total: int, z: float = Z95) -> Ratio:
    """Wilson score interval: sane at 0 %, 100 % and small counts (unlike the normal approximation)."""
    if total <= 0:
        return Ratio(good, total, 0.0, 1.0)
    p = good / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    lo = 0.0 if good == 0 else max(0.0, centre - half)  # exact at the ends (no rounding residue)
    hi = 1.0 if good == total else min(1.0, centre + half)
    return Ratio(good, total, lo, hi)


@dataclass
class SampleArrays:
    """Columns of a run's samples, sorted by start time; labels as small integer codes."""

    start: npt.NDArray[np.float64]
    latency_ms: npt.NDArray[np.float64]
    status: npt.NDArray[np.int32]
    http_ok: npt.NDArray[np.bool_]  # 2xx/3xx and no error (the SLO is applied later)
    error: npt.NDArray[np.int32]
    lb: npt.NDArray[np.int32]
    gateway: npt.NDArray[np.int32]
    zone: npt.NDArray[np.int32]
    labels: dict[str, list[str]] = field(default_factory=dict)
    filtered: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))  # a WAF saw it
    lag_ms: npt.NDArray[np.float64] | None = None  # actual start - intended start (None: all on time)

    def __len__(self) -> int:
        return int(self.start.size)

    def from_intended(self) -> npt.NDArray[np.float64]:
        """Latency counted from the intended start: the client's lag plus the measured latency."""
        return self.latency_ms if self.lag_ms is None else self.lag_ms + self.latency_ms

    def ok(self, slo_ms: float) -> npt.NDArray[np.bool_]:
        """Success: HTTP-level success with lag + latency within the SLO (slower counts as failure)."""
        return self.http_ok & (self.from_intended() <= slo_ms)

    def take(self, keep: npt.NDArray[np.bool_]) -> SampleArrays:
        """The same columns for the samples where `keep` is True (labels shared)."""
        return SampleArrays(
            start=self.start[keep],
            latency_ms=self.latency_ms[keep],
            status=self.status[keep],
            http_ok=self.http_ok[keep],
            error=self.error[keep],
            lb=self.lb[keep],
            gateway=self.gateway[keep],
            zone=self.zone[keep],
            labels=self.labels,
            filtered=self.filtered[keep] if self.filtered.size else self.filtered,
            lag_ms=None if self.lag_ms is None else self.lag_ms[keep],
        )


def from_samples(samples: list[Sample]) -> SampleArrays:
    samples = sorted(samples, key=lambda s: s.start)
    labels: dict[str, list[str]] = {"error": [], "lb": [], "gateway": [], "zone": []}
    index: dict[str, dict[str, int]] = {k: {} for k in labels}

    def code(kind: str, value: str) -> int:
        table = index[kind]
        if value not in table:
            table[value] = len(table)
            labels[kind].append(value)
        return table[value]

    return SampleArrays(
        start=np.array([s.start for s in samples], dtype=np.float64),
        latency_ms=np.array([s.latency_ms for s in samples], dtype=np.float64),
        status=np.array([s.status for s in samples], dtype=np.int32),
        http_ok=np.array([s.ok for s in samples], dtype=np.bool_),
        error=np.array([code("error", s.error) for s in samples], dtype=np.int32),
        lb=np.array([code("lb", s.lb) for s in samples], dtype=np.int32),
        gateway=np.array([code("gateway", s.gateway) for s in samples], dtype=np.int32),
        zone=np.array([code("zone", s.zone) for s in samples], dtype=np.int32),
        labels=labels,
        filtered=np.array([bool(s.waf) for s in samples], dtype=np.bool_),
        lag_ms=np.array([max(0.0, s.lag_ms) for s in samples], dtype=np.float64),
    )


def request_availability(ok: npt.NDArray[np.bool_]) -> Ratio:
    return wilson(int(np.count_nonzero(ok)), int(ok.size))


def window_counts(
    start: npt.NDArray[np.float64], ok: npt.NDArray[np.bool_], t0: float, t1: float, window_s: float
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Requests and successes per window [t0 + k*w, t0 + (k+1)*w) over [t0, t1)."""
    n = max(1, int(math.ceil((t1 - t0) / window_s - 1e-9)))
    inside = (start >= t0) & (start < t1)
    idx = np.minimum(((start[inside] - t0) / window_s).astype(np.int64), n - 1)
    total = np.bincount(idx, minlength=n)
    good = np.bincount(idx, weights=ok[inside].astype(np.float64), minlength=n).astype(np.int64)
    return total, good


def series(
    start: npt.NDArray[np.float64],
    ok: npt.NDArray[np.bool_],
    latency_ms: npt.NDArray[np.float64],
    t0: float,
    t1: float,
    bin_s: float,
) -> dict[str, Any]:
    """Requests/s, error ratio and p99 latency per bin [t0 + k*bin, t0 + (k+1)*bin) over [t0, t1): what
    the charts draw. A bin without requests has no error ratio and no p99 (None), never 0."""
    if t1 <= t0:
        return {"t0": t0, "bin_s": bin_s, "rps": [], "error_ratio": [], "p99_ms": []}
    total, good = window_counts(start, ok, t0, t1, bin_s)
    inside = (start >= t0) & (start < t1)
    idx = np.minimum(((start[inside] - t0) / bin_s).astype(np.int64), total.size - 1)
    lat = latency_ms[inside]
    order = np.argsort(idx, kind="stable")
    bounds = np.searchsorted(idx[order], np.arange(total.size + 1))
    p99: list[float | None] = []
    for k in range(total.size):
        chunk = lat[order[bounds[k] : bounds[k + 1]]]
        p99.append(round(float(np.percentile(chunk, 99)), 2) if chunk.size else None)
    err = [None if t == 0 else round(1 - g / t, 4) for t, g in zip(total.tolist(), good.tolist(), strict=True)]
    # the last bin may be cut short by t1: its rate is over the part that exists
    widths = [min(bin_s, t1 - (t0 + k * bin_s)) for k in range(total.size)]
    rps = [round(t / w, 2) if w > 0 else None for t, w in zip(total.tolist(), widths, strict=True)]
    return {"t0": t0, "bin_s": bin_s, "rps": rps, "error_ratio": err, "p99_ms": p99}


def time_availability(
    start: npt.NDArray[np.float64],
    ok: npt.NDArray[np.bool_],
    window_s: float,
    t0: float | None = None,
    t1: float | None = None,
    window_ok_ratio: float = 0.99,
) -> dict[str, Any]:
    if start.size == 0:
        return {"window_s": window_s, **wilson(0, 0).as_dict(), "empty_windows": 0}
    t0 = float(start[0]) if t0 is None else t0
    t1 = float(start[-1]) + 1e-9 if t1 is None else t1
    total, good = window_counts(start, ok, t0, t1, window_s)
    seen = total > 0
    up = seen & (good >= window_ok_ratio * total)
    r = wilson(int(np.count_nonzero(up)), int(np.count_nonzero(seen)))
    return {
        "window_s": window_s,
        **r.as_dict(),
        "empty_windows": int(np.count_nonzero(~seen)),
        "rule": f"a window is up when >= {window_ok_ratio:.0%} of the requests started in it succeeded",
    }


def outages(start: npt.NDArray[np.float64], ok: npt.NDArray[np.bool_]) -> list[tuple[float, float]]:
    """(begin, end) of each maximal run of failures: first failure's start -> next success's start.
    A run of failures at the very end (no success after it) ends at its last request."""
    if start.size == 0:
        return []
    fail = ~ok
    # edges of runs of failures
    d = np.diff(np.concatenate(([0], fail.astype(np.int8), [0])))
    begins = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1)  # index of the first success after the run (or len)
    out = []
    for b, e in zip(begins, ends, strict=True):
        end = float(start[e]) if e < start.size else float(start[-1])
        out.append((float(start[b]), end))
    return out


def longest_gap(start: npt.NDArray[np.float64], ok: npt.NDArray[np.bool_]) -> float | None:
    """Longest time between two consecutive successes (None with fewer than two successes)."""
    s = start[ok]
    return float(np.max(np.diff(s))) if s.size >= 2 else None


def latency_percentiles(
    latency_ms: npt.NDArray[np.float64], qs: tuple[float, ...] = (50, 90, 99, 99.9)
) -> dict[str, Any]:
    if latency_ms.size == 0:
        return {"count": 0, **{f"p{q:g}": None for q in qs}}
    values = np.percentile(latency_ms, qs)
    return {"count": int(latency_ms.size), **{f"p{q:g}": float(v) for q, v in zip(qs, values, strict=True)}}


# How far back "before the fault" reaches for its latency: the quiet time a suite leaves between faults.
LATENCY_BEFORE_S = 10.0


def latency_shift(
    start: npt.NDArray[np.float64],
    latency_ms: npt.NDArray[np.float64],
    answered: npt.NDArray[np.bool_],
    opens: float,
    effective_start: float,
    recover_end: float,
    before_s: float = LATENCY_BEFORE_S,
) -> dict[str, Any]:
    """p50/p99 of the answered requests during the hold [effective_start, recover_end) against the
    `before_s` before the fault's window `opens`: a slow-but-up fault shows here even when nothing fails."""

    def span(a: float, b: float) -> dict[str, Any]:
        return latency_percentiles(latency_ms[answered & (start >= a) & (start < b)], (50, 99))

    return {"before": span(opens - before_s, opens), "during": span(effective_start, recover_end)}


def unfiltered(
    start: npt.NDArray[np.float64],
    answered: npt.NDArray[np.bool_],
    filtered: npt.NDArray[np.bool_],
    a: float = -np.inf,
    b: float = np.inf,
) -> dict[str, Any]:
    """Of the requests started in [a, b) that were answered, how many no WAF saw (sent past the WAF
    tier): the price at which the WAF's escape kept them available."""
    inside = answered & (start >= a) & (start < b)
    total = int(np.count_nonzero(inside))
    past = int(np.count_nonzero(inside & ~filtered))
    return {"answered": total, "unfiltered": past, "share": past / total if total else None}


def breakdown(arrays: SampleArrays, ok: npt.NDArray[np.bool_], key: str) -> dict[str, dict[str, Any]]:
    """Request-based availability per LB / gateway / zone label of the successful responder.
    Failed requests carry no responder label ("" = unknown); they are reported under "(none)"."""
    codes: npt.NDArray[np.int32] = getattr(arrays, key)
    names = arrays.labels.get(key, [])
    out = {}
    for i, name in enumerate(names):
        m = codes == i
        out[name or "(none)"] = wilson(int(np.count_nonzero(ok & m)), int(np.count_nonzero(m))).as_dict()
    return out


# A fault is charged for what follows its recovery (stale connections, health checks rising again).
AFTER_RECOVERY_S = 10.0


# A fault window is measured when the load covered it: at most this share of its 100 ms windows saw no
# request start (open-loop load at >= ~25 req/s leaves almost none empty), and the load generator's
# own stalls cover at most this share of it (a shorter stall widens the bound instead).
MAX_EMPTY_SHARE = 0.10
MAX_STALL_SHARE = MAX_EMPTY_SHARE
# The client itself lagged when a request started this much later than intended, or its event loop
# woke this much late: such time measures the load generator, not the estate.
CLIENT_STALL_MS = 50.0


def time_to_recover(
    s: npt.NDArray[np.float64], o: npt.NDArray[np.bool_], effective_start: float, recover_end: float, sustain_s: float
) -> float | None:
    """0 when nothing failed while the fault was held; else effective start -> the first success after
    the failures of the hold that is not followed by a failure within `sustain_s` (a stray failure
    after the hold does not count); None when success never became sustained."""
    held = (s >= effective_start) & (s < recover_end)
    hold_fails = s[held & ~o]
    if hold_fails.size == 0:
        return 0.0
    fails = s[~o & (s >= hold_fails[0])]
    succ = s[o & (s > hold_fails[-1])]
    if succ.size == 0:
        return None
    nxt = np.searchsorted(fails, succ, side="right")
    next_fail = np.where(nxt < fails.size, fails[np.minimum(nxt, fails.size - 1)], np.inf)
    good = np.flatnonzero(next_fail >= succ + sustain_s)
    return float(succ[good[0]] - effective_start) if good.size else None


def _error_seconds(
    start: npt.NDArray[np.float64], ok: npt.NDArray[np.bool_], first: float, end: float, last_start: float
) -> tuple[float, npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """∫ error ratio dt over the 100 ms windows of [first, end): a window in which no request started
    (clients stuck waiting on a dead path) keeps the state of the last window that had requests (an
    outage does not end because requests stopped starting), never past `last_start` (the load had
    stopped: what was not measured is not charged). Also each window's request count and coverage."""
    total, good = window_counts(start, ok, first, end, 0.1)
    seen = total > 0
    covered = np.arange(seen.size) * 0.1 + first <= last_start
    err_ratio = np.where(seen, 1 - good / np.maximum(total, 1), np.nan)
    last = np.maximum.accumulate(np.where(seen, np.arange(seen.size), -1))
    filled = np.where((last >= 0) & covered, err_ratio[np.maximum(last, 0)], 0.0)
    return float(filled.sum() * 0.1), total, seen


def fault_impact(
    start: npt.NDArray[np.float64],
    ok: npt.NDArray[np.bool_],
    effective_start: float,
    recover_end: float,
    after_s: float = AFTER_RECOVERY_S,
    sustain_s: float = 1.0,
    in_flight_s: float = 0.0,
    stalled: npt.NDArray[np.bool_] | None = None,
) -> dict[str, Any]:
    """What one fault cost, from its effective start (`effective_start`: the injection in place).
    error_seconds = ∫ error ratio dt over 100 ms windows from inject to recover_end + after_s (see
    _error_seconds); time_to_recover: see time_to_recover; steady impact = error ratio over the second
    half of the hold (the fault's lasting effect), with its interval; after impact = error ratio in the
    `after_s` following recovery. `measured` is False when the load did not cover the window.
    in_flight_s: the error-seconds also count the requests started this long before the injection (the
    request deadline): they were in flight when it landed, and what they lost is the fault's, not the
    baseline's.
    stalled: requests the load generator itself held up (it stalled). They say nothing about the
    estate: left out of every point figure, and counted as failed in the worst-case figures
    (`error_seconds_hi`, `steady.stalled`) the bound is built from. They still count as load (a window
    they started in is covered)."""
    stalled = np.zeros(start.size, dtype=np.bool_) if stalled is None else stalled
    end = recover_end + after_s
    first = effective_start - in_flight_s
    last_start = float(start[-1]) if start.size else -np.inf
    p_start, p_ok = start[~stalled], ok[~stalled]
    error_seconds, _, _ = _error_seconds(p_start, p_ok, first, end, last_start)
    error_seconds_hi, total, seen = _error_seconds(start, ok & ~stalled, first, end, last_start)

    m = (p_start >= effective_start) & (p_start < end)
    ttr = time_to_recover(p_start[m], p_ok[m], effective_start, recover_end, sustain_s)

    def ratio(a: float, b: float) -> dict[str, Any]:
        r = request_availability(p_ok[(p_start >= a) & (p_start < b)])
        d = r.as_dict()
        d["error_ratio"] = None if r.value is None else 1 - r.value
        d["error_ratio_hi"] = None if r.value is None else 1 - r.lo  # Wilson's upper limit (display)
        d["stalled"] = int(np.count_nonzero(stalled & (start >= a) & (start < b)))
        return d

    mid = effective_start + (recover_end - effective_start) / 2
    steady = ratio(mid, recover_end)
    empty = int(np.count_nonzero(~seen))
    problems = []
    if not np.count_nonzero(total):
        problems.append("no request started in its window")
    elif empty > MAX_EMPTY_SHARE * seen.size:
        problems.append(f"{empty} of its {seen.size} 100 ms windows saw no request (load stopped or too thin)")
    if steady["total"] == 0:
        problems.append("no request in its steady window (the second half of the hold)")
    return {
        "error_seconds": error_seconds,
        "error_seconds_hi": error_seconds_hi,
        "time_to_recover_s": ttr,
        "steady": steady,
        "after": ratio(recover_end, end),
        "during": ratio(effective_start, recover_end),
        "empty_100ms_windows": empty,
        "after_s": after_s,
        "measured": not problems,
        "unmeasured_because": problems,
    }


def client_stalls(
    heartbeats: list[Heartbeat],
    start: npt.NDArray[np.float64],
    lag_ms: npt.NDArray[np.float64],
    threshold_ms: float = CLIENT_STALL_MS,
    heartbeat_window_s: float = 0.1,
) -> list[tuple[float, float]]:
    """Intervals in which the load generator itself lagged by more than `threshold_ms`: a heartbeat
    whose worst wake-up came that late (woke - lag -> woke), or a request that started that much after
    its intended start (intended -> actual start). Merged, sorted. A heartbeat of an older file has no
    wake-up time, only its window's scheduled end, which a long stall can lie after: its span is widened
    both ways (window start - lag -> window end + lag)."""
    spans = []
    for beat in heartbeats:
        if beat.lag_ms <= threshold_ms:
            continue
        lag = beat.lag_ms / 1000
        if beat.woke is not None:
            spans.append((beat.woke - lag, beat.woke))
        else:
            spans.append((beat.t - heartbeat_window_s - lag, beat.t + lag))
    late = lag_ms > threshold_ms
    spans += [(float(a), float(a + b / 1000)) for a, b in zip(start[late], lag_ms[late], strict=True)]
    return merge_spans(spans)


def merge_spans(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Overlapping or touching [a, b] spans joined; sorted."""
    merged: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def overlapping(
    start: npt.NDArray[np.float64], end: npt.NDArray[np.float64], spans: list[tuple[float, float]]
) -> npt.NDArray[np.bool_]:
    """Which [start, end] intervals meet any of the (sorted, disjoint) spans [a, b]: a request whose life
    (intended start -> its answer or its deadline) a client stall fell into was held up by the client
    too — its latency measures the stall (a 1 s SIGSTOP failed the requests sent just before it)."""
    if not spans:
        return np.zeros(start.size, dtype=np.bool_)
    a = np.array([x for x, _ in spans])
    b = np.array([y for _, y in spans])
    i = np.searchsorted(a, end, side="right") - 1  # the last span that starts before the interval ends
    return (i >= 0) & (b[np.maximum(i, 0)] >= start)


def within(start: npt.NDArray[np.float64], spans: list[tuple[float, float]]) -> npt.NDArray[np.bool_]:
    """Which starts fall inside any of the (sorted, disjoint) spans [a, b]."""
    if not spans:
        return np.zeros(start.size, dtype=np.bool_)
    a = np.array([x for x, _ in spans])
    b = np.array([y for _, y in spans])
    i = np.searchsorted(a, start, side="right") - 1
    return (i >= 0) & (start <= b[np.maximum(i, 0)])


def permutation_p(a: list[float], b: list[float], resamples: int = 20000, seed: int = 1) -> float | None:
    """Two-sided p-value that runs `a` and `b` come from one distribution (difference of means, every
    split of the pooled runs when there are at most `resamples` of them, else that many seeded random
    ones). Few runs of a noisy fault fall outside each other's min-max by chance — with 4 runs of a
    control, a fifth run of the same estate does so 2 times in 5 — so a range alone cannot say "worse"."""
    if not a or not b:
        return None
    pooled = np.array(a + b, dtype=np.float64)
    n, total = len(a), len(a) + len(b)
    observed = abs(float(np.mean(a)) - float(np.mean(b)))
    if math.comb(total, n) <= resamples:
        splits = np.array(list(itertools.combinations(range(total), n)))
    else:
        rng = np.random.default_rng(seed)
        splits = np.array([rng.permutation(total)[:n] for _ in range(resamples)])
    mask = np.zeros((len(splits), total), dtype=np.bool_)
    np.put_along_axis(mask, splits, True, axis=1)
    sum_a = (mask * pooled).sum(axis=1)
    diffs = np.abs(sum_a / n - (pooled.sum() - sum_a) / (total - n))
    return float(np.mean(diffs >= observed - 1e-12))
