"""Measured vs true length of an injected outage, over several lengths, on a real lab (needs root).
usage: .venv/bin/python bench/calibration.py [--lab bcal] [--outages 0.2,0.5,1,2,5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

NINESLAB = str(Path(sys.executable).parent / "nineslab")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lab", default="bcal")
    ap.add_argument("--outages", default="0.2,0.5,1,2,5")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    scratch = tempfile.mkdtemp(prefix="nineslab-bench-")  # lab state and runs of the bench, removed at the end
    os.environ.setdefault("NINESLAB_STATE_DIR", os.path.join(scratch, "state"))
    os.environ.setdefault("NINESLAB_REPORTS_DIR", os.path.join(scratch, "reports"))
    subprocess.run([NINESLAB, "deploy", "--topology", "1az", "--lab", args.lab], check=True, capture_output=True)
    try:
        cmd = [NINESLAB, "calibrate", "--lab", args.lab, "--json"]
        for o in args.outages.split(","):
            cmd += ["--outage", o]
        rows = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    finally:
        subprocess.run([NINESLAB, "destroy", "--lab", args.lab], capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'true (s)':>10} {'measured (s)':>13} {'error (ms)':>11}")
    for r in rows:
        print(f"{r['true_s']:>10.4f} {r['measured_s']:>13.4f} {r['error_ms']:>+11.1f}")
    print(f"max |error|: {max(abs(r['error_ms']) for r in rows):.1f} ms (goal: within 50 ms)")


if __name__ == "__main__":
    main()
