"""The open-loop load generator on this machine: scheduling lag (intended -> actual start) p50/p99 at
200 and 1,000 req/s and the highest rate that keeps p99 under 10 ms, with 1 and 2 Locust processes;
that rate's successful requests/s ÷ wrk's through the same lab path (one run); the recorder's own cost
per request. Needs root.

Both tools send `Connection: close` (as nineslab's load does, so that DNS and LB faults are felt by
every request): each request resolves, connects, and crosses LB -> gateway -> app.
usage: .venv/bin/python bench/load.py [--lab NAME] [--topology 1az] [--seconds 10] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from nineslab.lab import Lab
from nineslab.load import read_samples

NINESLAB = str(Path(sys.executable).parent / "nineslab")
REPO = Path(__file__).resolve().parent.parent


def sh(*cmd: str, timeout: float = 600) -> str:
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if res.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd[:4])}... failed: {res.stderr.strip()[-600:]}")
    return res.stdout


def wrk_rps(lab: str, seconds: int, connections: int) -> float:
    out = sh(
        *Lab(lab).in_client(),
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "-H",
        "Connection: close",
        "http://api.nines.lab/api/",
    )
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m:
        sys.exit(f"bench: cannot read wrk output:\n{out}")
    return float(m.group(1))


RATES = (200, 500, 1000, 1500, 2000, 3000)  # searched upwards for the highest with p99 lag < 10 ms
LAG_GOAL_MS = 10.0


def open_loop(lab: str, rate: int, seconds: int, processes: int) -> dict[str, float]:
    """`nineslab load` at `rate`: successful requests/s and scheduling lag percentiles from its samples."""
    out = json.loads(
        sh(
            NINESLAB,
            "load",
            "--lab",
            lab,
            "--rate",
            str(rate),
            "--duration",
            str(seconds),
            "--processes",
            str(processes),
            "--json",
            timeout=seconds + 120,
        )  # fmt: skip
    )
    samples = read_samples(Path(out["run"]) / "samples")
    lags = sorted(s.lag_ms for s in samples) or [0.0]
    good = sum(1 for s in samples if s.ok)
    return {
        "rate": rate,
        "processes": processes,
        "requests": len(samples),
        "ok_rps": good / seconds,
        "lag_p50_ms": lags[len(lags) // 2],
        "lag_p99_ms": lags[min(len(lags) - 1, int(len(lags) * 0.99))],
    }


def recorder_cost_us(n: int = 200_000) -> float:
    code = f"""
import os, time, tempfile
os.environ["NINESLAB_SAMPLES_DIR"] = tempfile.mkdtemp()
import recorder
h = {{"x-nines-lb": "lb-a1", "x-nines-gateway": "gw-a1", "x-nines-app": "app-a1", "x-nines-zone": "east-a"}}
recorder.record(time.time(), time.time(), 1.0, 200, "", h)
t = time.perf_counter()
for i in range({n}):
    recorder.record(1700000000.0 + i, 1700000000.001 + i, 12.345, 200, "", h)
print((time.perf_counter() - t) / {n} * 1e6)
"""
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO / "loadtests", capture_output=True, text=True, check=True, timeout=300
    )
    return float(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lab", default="bload")
    ap.add_argument("--topology", default="1az")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    scratch = tempfile.mkdtemp(prefix="nineslab-bench-")  # lab state and runs of the bench, removed at the end
    os.environ.setdefault("NINESLAB_STATE_DIR", os.path.join(scratch, "state"))
    os.environ.setdefault("NINESLAB_REPORTS_DIR", os.path.join(scratch, "reports"))
    sh(NINESLAB, "deploy", "--topology", args.topology, "--lab", args.lab)
    rows: list[dict[str, float]] = []
    best: dict[int, dict[str, float]] = {}
    try:
        wrk = wrk_rps(args.lab, args.seconds, 50)
        for processes in (1, 2):
            for rate in RATES:
                row = open_loop(args.lab, rate, args.seconds, processes)
                rows.append(row)
                print(f"  {processes} proc {rate:5d} req/s: lag p50 {row['lag_p50_ms']:.2f} ms p99 "
                      f"{row['lag_p99_ms']:.2f} ms, {row['ok_rps']:.0f} ok/s", file=sys.stderr)  # fmt: skip
                if row["lag_p99_ms"] >= LAG_GOAL_MS and rate >= 1000:
                    break
                if row["lag_p99_ms"] < LAG_GOAL_MS:
                    best[processes] = row
    finally:
        subprocess.run([NINESLAB, "destroy", "--lab", args.lab], capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)
    cost = recorder_cost_us()
    result = {
        "topology": args.topology,
        "wrk_rps": round(wrk),
        "rows": rows,
        "highest_rate_p99_lag_under_10ms": {p: b["rate"] for p, b in best.items()},
        "ratio_ok_rps_to_wrk": {p: round(b["ok_rps"] / wrk, 3) for p, b in best.items()},
        "recorder_us_per_request": round(cost, 2),
        "seconds": args.seconds,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"wrk (-c50, Connection: close): {wrk:8.0f} req/s")
    print("processes  rate   lag p50   lag p99   ok req/s")
    for r in rows:
        lags = f"{r['lag_p50_ms']:7.2f}ms {r['lag_p99_ms']:7.2f}ms"
        print(f"{r['processes']:9.0f} {r['rate']:5.0f} {lags} {r['ok_rps']:9.0f}")
    for p, b in best.items():
        print(f"{p} process(es): highest rate with p99 lag < {LAG_GOAL_MS:g} ms: {b['rate']:.0f} req/s "
              f"({b['ok_rps'] / wrk:.3f} of wrk)")  # fmt: skip
    print(f"recorder cost: {cost:.2f} µs/request")


if __name__ == "__main__":
    main()
