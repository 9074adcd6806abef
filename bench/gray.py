"""Gray failures and the WAF's escape, measured: for each topology, deploys a lab, runs one suite of the
gray faults (and, on a topology with a WAF tier, the WAF faults) under load, and prints per fault the
error-seconds, steady impact, p50/p99 before -> during the hold and, with a WAF tier, the share of
answered requests served unfiltered during the hold. Destroys the lab. Needs root; about 4 min per
topology at 200 req/s. usage: .venv/bin/python bench/gray.py [--topology 2az ...] [--rate 200] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

NINESLAB = str(Path(sys.executable).parent / "nineslab")
GRAY = ("gateway-slow", "app-slow", "etcd-leader-slow", "lb-lossy", "zone-link-lossy")
WAF = ("waf-kill", "waf-down", "waf-slow", "waf-lossy")
TOPOLOGIES = ("1az", "2az", "3dc", "topologies/examples/3dc-waf.yaml")


def run_topology(topology: str, lab: str, rate: float) -> dict[str, Any]:
    """One suite of the faults that apply here; results.json of the run."""
    try:
        if subprocess.run([NINESLAB, "deploy", "--topology", topology, "--lab", lab], text=True).returncode:
            sys.exit(f"deploy of {topology} failed")
        applies = {r["name"] for r in json.loads(
            subprocess.run([NINESLAB, "faults", "--lab", lab, "--json"], stdout=subprocess.PIPE, text=True).stdout
        )}  # fmt: skip
        only = [a for f in (*GRAY, *WAF) if f in applies for a in ("--only", f)]
        res = subprocess.run(
            [NINESLAB, "suite", "--lab", lab, "--rate", str(rate), "--json", *only], stdout=subprocess.PIPE, text=True
        )
        out = json.loads(res.stdout)
        results: dict[str, Any] = json.loads((Path(out["run"]) / "results.json").read_text())
        return results
    finally:
        subprocess.run([NINESLAB, "destroy", "--lab", lab], capture_output=True)


def row(f: dict[str, Any]) -> str:
    imp, lat, past = f["impact"], f["latency"], f.get("unfiltered")

    def ms(d: dict[str, Any]) -> str:
        return "—" if d["p50"] is None else f"{d['p50']:.0f}/{d['p99']:.0f}"

    ratio = imp["steady"]["error_ratio"]
    steady = "n/a" if ratio is None else f"{ratio:.2%}"
    text = (
        f"  {f['fault']:<18} {imp['error_seconds']:6.2f} error-s  steady {steady:>7}"
        f"  p50/p99 {ms(lat['before'])} -> {ms(lat['during'])} ms"
    )
    if past and past["share"] is not None:
        text += f"  unfiltered {past['unfiltered']}/{past['answered']} ({past['share']:.1%})"
    return text + ("" if imp["measured"] else "  UNMEASURED")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--topology", action="append", default=[])
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--lab", default="bxgray")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    out = {}
    with tempfile.TemporaryDirectory(prefix="nineslab-gray-") as tmp:
        os.environ.setdefault("NINESLAB_REPORTS_DIR", str(Path(tmp) / "reports"))
        for topology in args.topology or TOPOLOGIES:
            out[topology] = run_topology(topology, args.lab, args.rate)
    if args.json:
        print(json.dumps({t: r["faults"] for t, r in out.items()}, indent=2))
        return
    for topology, res in out.items():
        waf = res.get("waf")
        overall = f"; unfiltered over the run {waf['unfiltered']}/{waf['answered']}" if waf else ""
        print(f"{topology} at {args.rate:g} req/s ({res['verdict']}){overall}")
        for f in res["faults"]:
            print(row(f))


if __name__ == "__main__":
    main()
