"""After a zone power-off, does every gateway still follow etcd? Per provider and escape.etcd_keepalive
on/off, on a fresh lab each round: zone-power-off held `--hold` s, recovered, `--after` s later each
gateway's routes marker is changed in etcd; prints how many gateways did not serve the change within
3 s, and how many `status` called STALE (a half-open etcd connection) just before.

  .venv/bin/python bench/stale_watch.py --providers netns,docker --rounds 3
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from nineslab.lab import Lab
from nineslab.paths import TOPOLOGY_DIR
from nineslab.services import etcd, gateway

NINESLAB = str(Path(sys.executable).parent / "nineslab")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NINESLAB, *args], capture_output=True, text=True, timeout=600)


def topology_file(topology: str, keepalive: bool, where: Path) -> str:
    raw = yaml.safe_load((TOPOLOGY_DIR / f"{topology}.yaml").read_text())
    raw.setdefault("escape", {})["etcd_keepalive"] = keepalive
    path = where / f"{topology}-keepalive-{'on' if keepalive else 'off'}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return str(path)


def followers(lab: Lab, token: str, within_s: float = 3.0) -> dict[str, bool]:
    """Each gateway's marker set to `token`; which served it within `within_s`."""
    topo = lab.topology()
    gws = topo.by_role("gateway")
    for gw in gws:
        key = f"{gateway.rootkey(gw)}/{gateway.ROUTES_MARKER}"
        lab.etcd.call("/v3/kv/put", {"key": etcd.b64(key), "value": etcd.b64(token)})
    checks = {g.name: {"kind": "http", "url": f"http://{g.address}{gateway.API_PATH}"} for g in gws}
    seen = {g.name: False for g in gws}
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline and not all(seen.values()):
        for name, res in lab.checker().run(checks).items():
            seen[name] = seen[name] or res.get("served_by", {}).get("X-Nines-Routes") == token
        time.sleep(0.2)
    return seen


def one_round(provider: str, topo_file: str, lab_name: str, hold: float, after: float) -> dict[str, Any]:
    run("destroy", "--lab", lab_name)
    res = run("deploy", "--topology", topo_file, "--provider", provider, "--lab", lab_name)
    if res.returncode:
        raise SystemExit(f"deploy failed: {res.stderr[-500:]}")
    try:
        run("inject", "zone-power-off", "--lab", lab_name)
        time.sleep(hold)
        run("recover", "zone-power-off", "--lab", lab_name)
        time.sleep(after)
        st = json.loads(run("status", "--lab", lab_name, "--json").stdout)
        stale = sorted(h["name"] for h in st["hosts"] if h.get("etcd_half_open"))
        seen = followers(Lab(lab_name), f"bench-{time.time():.0f}")
        return {"stale": stale, "missed": sorted(n for n, ok in seen.items() if not ok)}
    finally:
        run("destroy", "--lab", lab_name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--providers", default="netns,docker")
    ap.add_argument("--topology", default="2az")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--hold", type=float, default=5.0)
    ap.add_argument("--after", type=float, default=8.0)
    ap.add_argument("--lab", default="bstale")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for provider in [p for p in args.providers.split(",") if p]:
            for keepalive in (False, True):
                topo_file = topology_file(args.topology, keepalive, Path(d))
                for i in range(args.rounds):
                    print(f"bench: {provider} keepalive {'on' if keepalive else 'off'} round {i + 1}", file=sys.stderr)
                    found = one_round(provider, topo_file, args.lab, args.hold, args.after)
                    rows.append({"provider": provider, "keepalive": keepalive, "round": i + 1, **found})
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"{'provider':<8} {'keepalive':<9} {'rounds':>6} {'missed the change':>18} {'status STALE':>13}")
    for provider in dict.fromkeys(r["provider"] for r in rows):
        for keepalive in (False, True):
            mine = [r for r in rows if r["provider"] == provider and r["keepalive"] == keepalive]
            missed = sum(1 for r in mine if r["missed"])
            stale = sum(1 for r in mine if r["stale"])
            print(f"{provider:<8} {'on' if keepalive else 'off':<9} {len(mine):>6} {missed:>18} {stale:>13}")
    for r in rows:
        if r["missed"] or r["stale"]:
            on = "on" if r["keepalive"] else "off"
            print(f"  {r['provider']} keepalive {on} round {r['round']}: missed {r['missed']}, stale {r['stale']}")


if __name__ == "__main__":
    main()
