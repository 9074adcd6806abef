"""What each escape mechanism buys, measured with the mechanism switched off as the control: deploys a
lab, runs `nineslab ledger` on it (for each mechanism the faults it addresses, on and off — the same
experiment files, rate, holds and SLO), prints error-seconds and steady impact of each fault side by
side with the projected minutes/year saved, and destroys the lab. Needs root; about 25 min for 2az.
usage: .venv/bin/python bench/escape.py [--topology 2az] [--mechanism NAME ...] [--lab bxesc] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

NINESLAB = str(Path(sys.executable).parent / "nineslab")


def cell(x: dict[str, object] | None) -> str:
    if x is None:
        return "n/a"
    steady = float(x["steady"] or 0) * 100  # type: ignore[arg-type]
    return f"{x['error_seconds']:6.2f} ({steady:5.1f} %)" + ("" if x["measured"] else " unmeasured")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--topology", default="2az")
    ap.add_argument("--mechanism", action="append", default=[])
    ap.add_argument("--lab", default="bxesc")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="nineslab-escape-") as tmp:
        os.environ.setdefault("NINESLAB_REPORTS_DIR", str(Path(tmp) / "reports"))
        try:
            dep = subprocess.run([NINESLAB, "deploy", "--topology", args.topology, "--lab", args.lab], text=True)
            if dep.returncode != 0:
                sys.exit(f"deploy of {args.topology} failed")
            mech = [a for m in args.mechanism for a in ("--mechanism", m)]
            res = subprocess.run(
                [NINESLAB, "ledger", "--lab", args.lab, "--json", *mech], stdout=subprocess.PIPE, text=True
            )
            if res.returncode != 0:
                sys.exit(f"ledger failed (exit {res.returncode})")
            ledger = json.loads(res.stdout)
        finally:
            subprocess.run([NINESLAB, "destroy", "--lab", args.lab], capture_output=True)
    if args.json:
        print(json.dumps(ledger, indent=2))
        return
    print(f"{args.topology}: error-seconds (steady impact) with each mechanism on / off; projected min/year saved")
    for r in ledger["rows"]:
        saved = r["saved_minutes_per_year"]
        per_year = "no rate" if saved is None else f"{saved:8.1f}"
        print(f"{r['mechanism']:<18} {r['fault']:<24} on {cell(r['on']):<24} off {cell(r['off']):<24} {per_year}")
    for m, v in ledger["saved_minutes_per_year"].items():
        print(f"{m:<18} saves {v:.1f} projected min/year")


if __name__ == "__main__":
    main()
