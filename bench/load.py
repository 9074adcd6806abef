"""Locust-with-recorder requests/s ÷ wrk requests/s through the same lab path, measured in one run,
plus the recorder's own cost per request. Goal (issue 3): ratio >= 0.7. Needs root.

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
import time
from pathlib import Path

from nineslab.lab import Lab

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


def locust_rps(lab: str, seconds: int, processes: int, users: int) -> tuple[float, int]:
    """Locust unpaced (per-user rate far above what a user can do), `users` concurrent like wrk's
    connections; successful requests/s counted from the recorder's samples."""
    samples = Path(os.environ["NINESLAB_REPORTS_DIR"]) / "bench-samples"
    env = dict(os.environ, NINESLAB_SAMPLES_DIR=str(samples), NINESLAB_USER_RATE="1000", NINESLAB_DEADLINE_S="2")
    cmd = [
        *Lab(lab).in_client(),
        str(Path(sys.executable).parent / "locust"),
        "-f",
        str(REPO / "loadtests" / "locustfile.py"),
        "--headless",
        "--host",
        "http://api.nines.lab",
        "-u",
        str(users),
        "-r",
        str(users),
        "-t",
        f"{seconds}s",
        "--only-summary",
        "--loglevel",
        "ERROR",
    ]
    if processes > 1:
        cmd += ["--processes", str(processes)]
    subprocess.run(cmd, env=env, capture_output=True, timeout=seconds + 60)
    rows = [line.split(",") for f in samples.glob("samples-*.csv") for line in f.read_text().splitlines()[1:]]
    starts = sorted(float(r[0]) for r in rows if len(r) == 8)
    ok = sum(1 for r in rows if len(r) == 8 and r[2] == "200" and r[3] == "")
    span = (starts[-1] - starts[0]) if len(starts) > 1 else float(seconds)
    return ok / span, len(rows) - ok


def recorder_cost_us(n: int = 200_000) -> float:
    code = f"""
import os, time, tempfile
os.environ["NINESLAB_SAMPLES_DIR"] = tempfile.mkdtemp()
import recorder
h = {{"x-nines-lb": "lb-a1", "x-nines-gateway": "gw-a1", "x-nines-app": "app-a1", "x-nines-zone": "east-a"}}
recorder.record(time.time(), 1.0, 200, "", h)
t = time.perf_counter()
for i in range({n}):
    recorder.record(1700000000.0 + i, 12.345, 200, "", h)
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
    ap.add_argument("--processes", type=int, default=2, help="Locust processes (the machine has 2 cores)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    scratch = tempfile.mkdtemp(prefix="nineslab-bench-")  # lab state and runs of the bench, removed at the end
    os.environ.setdefault("NINESLAB_STATE_DIR", os.path.join(scratch, "state"))
    os.environ.setdefault("NINESLAB_REPORTS_DIR", os.path.join(scratch, "reports"))
    sh(NINESLAB, "deploy", "--topology", args.topology, "--lab", args.lab)
    try:
        wrk = wrk_rps(args.lab, args.seconds, 50)
        time.sleep(2)
        loc, errors = locust_rps(args.lab, args.seconds, args.processes, 50)
    finally:
        subprocess.run([NINESLAB, "destroy", "--lab", args.lab], capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)
    cost = recorder_cost_us()
    result = {
        "topology": args.topology,
        "wrk_rps": round(wrk),
        "locust_rps": round(loc),
        "locust_errors": errors,
        "ratio": round(loc / wrk, 3),
        "recorder_us_per_request": round(cost, 2),
        "seconds": args.seconds,
        "locust_processes": args.processes,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"wrk (-c50, Connection: close):  {wrk:8.0f} req/s")
    print(f"Locust + recorder ({args.processes} proc, 50 users): {loc:8.0f} req/s  ({errors} errors)")
    print(f"ratio Locust/wrk:               {loc / wrk:8.3f}   (goal >= 0.7)")
    print(f"recorder cost:                  {cost:8.2f} µs/request")


if __name__ == "__main__":
    main()
