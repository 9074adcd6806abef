"""What each escape mechanism buys, measured with the mechanism switched off as the control: for each
mechanism, the faults it addresses are run once with it on and once with it off (the same lab
redeployed with that one switch changed; same experiment files, rate, holds and SLO), and the
error-seconds and steady impact of each are printed side by side. Needs root; ~1 min per fault run.
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
from typing import Any

import yaml

NINESLAB = str(Path(sys.executable).parent / "nineslab")
REPO = Path(__file__).resolve().parent.parent
# mechanism -> the faults it addresses (those that apply to the topology are run)
ADDRESSES = {
    "dns_health_checks": ["lb-kill", "lb-pause", "zone-power-off", "zone-isolate"],
    "client_resolver": ["dns-primary-blackhole", "dns-both-down", "zone-power-off"],
    "lb_vip": ["vip-holder-pause", "lb-pause"],
    "fast_ejection": ["gateway-pause", "app-pause", "gateway-host-power-off"],
}
OFF = {"dns_health_checks": False, "client_resolver": "stub", "lb_vip": False, "fast_ejection": False}


def nineslab(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NINESLAB, *args], capture_output=True, text=True, timeout=timeout)


def variant(topology: str, mechanism: str | None, into: Path) -> Path:
    """The reference topology with one mechanism off, under the same name (so it redeploys the lab)."""
    data = yaml.safe_load((REPO / "topologies" / f"{topology}.yaml").read_text())
    if mechanism:
        data.setdefault("escape", {})[mechanism] = OFF[mechanism]
    path = into / f"{topology}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def run_fault(lab: str, fault: str) -> dict[str, Any] | None:
    res = nineslab("chaos", "run", fault, "--lab", lab, "--json")
    try:
        run = Path(json.loads(res.stdout)["run"])
        results = json.loads((run / "results.json").read_text())
    except (ValueError, KeyError, OSError):
        print(f"  {fault}: no result ({res.stderr.strip()[-200:]})", file=sys.stderr)
        return None
    imp = next(f["impact"] for f in results["faults"] if f["fault"] == fault)
    return {
        "error_seconds": round(imp["error_seconds"], 2),
        "steady": imp["steady"]["error_ratio"],
        "measured": imp.get("measured", True),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--topology", default="2az")
    ap.add_argument("--mechanism", action="append", choices=sorted(ADDRESSES))
    ap.add_argument("--lab", default="bxesc")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    table: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="nineslab-escape-") as tmp:
        os.environ.setdefault("NINESLAB_REPORTS_DIR", str(Path(tmp) / "reports"))
        try:
            for mechanism in args.mechanism or sorted(ADDRESSES):
                rows: dict[str, Any] = {}
                for state in ("on", "off"):
                    topo = variant(args.topology, mechanism if state == "off" else None, Path(tmp))
                    dep = nineslab("deploy", "--topology", str(topo), "--lab", args.lab)
                    if dep.returncode != 0:
                        sys.exit(f"deploy ({mechanism} {state}) failed: {dep.stderr.strip()[-300:]}")
                    faults = json.loads(nineslab("faults", "--lab", args.lab, "--json").stdout)
                    applicable = {f["name"] for f in faults}
                    for fault in (f for f in ADDRESSES[mechanism] if f in applicable):
                        print(f"{mechanism} {state}: {fault}", file=sys.stderr)
                        rows.setdefault(fault, {})[state] = run_fault(args.lab, fault)
                table[mechanism] = rows
        finally:
            nineslab("destroy", "--lab", args.lab)
    if args.json:
        print(json.dumps({"topology": args.topology, "mechanisms": table}, indent=2))
        return
    print(f"{args.topology}: error-seconds (steady impact) with each mechanism on / off")
    for mechanism, rows in table.items():
        for fault, r in rows.items():
            cells = []
            for state in ("on", "off"):
                x = r.get(state)
                cells.append(
                    "n/a"
                    if x is None
                    else f"{x['error_seconds']:6.2f} ({(x['steady'] or 0) * 100:5.1f} %)"
                    + ("" if x["measured"] else " unmeasured")
                )
            print(f"{mechanism:<18} {fault:<24} on {cells[0]:<24} off {cells[1]}")


if __name__ == "__main__":
    main()
