"""Analysis throughput: samples/s of the full analysis over N synthetic samples (default 10 M).
Goal (issue 4): >= 2 M samples/s. Prints the figure; no lab needed.
usage: .venv/bin/python bench/analysis.py [--samples 10000000] [--json]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from nineslab.analysis import (
    SampleArrays,
    breakdown,
    fault_impact,
    latency_percentiles,
    longest_gap,
    outages,
    request_availability,
    time_availability,
)
from nineslab.defaults import SLO_MS


def synthetic(n: int, seed: int = 7) -> SampleArrays:
    rng = np.random.default_rng(seed)
    start = 1_700_000_000.0 + np.cumsum(rng.exponential(1 / 500, n))  # ~500 req/s
    fail = rng.random(n) < 0.002
    span = start[-1] - start[0]
    for k in range(20):  # twenty injected outages of 1-5 s
        a = start[0] + span * (k + 0.5) / 20
        fail |= (start >= a) & (start < a + 1 + k % 5)
    codes = rng.integers(0, 3, n).astype(np.int32)
    return SampleArrays(
        start=start,
        latency_ms=rng.gamma(2.0, 5.0, n),
        status=np.where(fail, 0, 200).astype(np.int32),
        http_ok=~fail,
        error=fail.astype(np.int32),
        lb=codes,
        gateway=codes,
        zone=codes,
        labels={
            "error": ["", "refused"],
            "lb": ["lb-a", "lb-b", "lb-c"],
            "gateway": ["gw-a", "gw-b", "gw-c"],
            "zone": ["east-a", "east-b", "south-c"],
        },
    )


def analyse(arr: SampleArrays) -> dict[str, object]:
    ok = arr.ok(SLO_MS)
    span = arr.start[-1] - arr.start[0]
    faults = [
        fault_impact(arr.start, ok, arr.start[0] + span * (k + 0.5) / 20, arr.start[0] + span * (k + 0.5) / 20 + 10)
        for k in range(20)
    ]
    return {
        "requests": request_availability(ok).value,
        "t1": time_availability(arr.start, ok, 1.0)["value"],
        "t100": time_availability(arr.start, ok, 0.1)["value"],
        "outages": len(outages(arr.start, ok)),
        "gap": longest_gap(arr.start, ok),
        "lat": latency_percentiles(arr.latency_ms[arr.http_ok]),
        "by": {k: breakdown(arr, ok, k) for k in ("zone", "lb", "gateway")},
        "faults": len(faults),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=10_000_000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    arr = synthetic(args.samples)
    t = time.perf_counter()
    out = analyse(arr)
    seconds = time.perf_counter() - t
    rate = args.samples / seconds
    result = {
        "samples": args.samples,
        "seconds": round(seconds, 3),
        "samples_per_s": round(rate),
        "outages_found": out["outages"],
        "goal_samples_per_s": 2_000_000,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"analysed {args.samples:,} samples in {seconds:.2f}s: {rate / 1e6:.2f} M samples/s "
            f"({out['outages']} outages found; goal >= 2 M/s)"
        )


if __name__ == "__main__":
    main()
