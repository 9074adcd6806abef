"""What etcd's mutual TLS and users cost, measured with TLS switched off as the control: for each mode,
deploys the topology (2az by default) with `security.etcd_tls` on or off, times the deploy and a no-op
redeploy, runs the full suite RUNS times under one load each, and destroys the lab. Prints per fault
the error-seconds of every run, the spread of the runs without TLS (min-max), and whether each run
with TLS falls inside it; then deploy times, the wall time of one read through nineslab's etcd client
(with TLS also with a fresh login per call), and p50/p99 (the whole run, and the quiet 10 s before each
fault, median over faults). Needs root; about 13 min per suite on 2az.

usage: .venv/bin/python bench/etcd_tls.py [--topology 2az] [--runs 2] [--modes off,on] [--json]
         [--from off=RUN_DIR ...]   (suites run before, added to the mode's runs; --modes "" runs nothing)
         [--only FAULT ...]         (each suite runs only these faults: more runs of one fault, same time)
  --runs 0 times deploy, no-op redeploy and destroy only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from nineslab.analysis import permutation_p

NINESLAB = str(Path(sys.executable).parent / "nineslab")
REPO = Path(__file__).resolve().parent.parent


def topology_file(topology: str, tls: bool, into: Path) -> Path:
    """The reference topology with only security.etcd_tls set (its name unchanged: the same estate)."""
    source = REPO / "topologies" / f"{topology}.yaml" if "/" not in topology else Path(topology)
    data = yaml.safe_load(source.read_text())
    data["security"] = {"etcd_tls": tls}
    path = into / f"{data['name']}-tls-{'on' if tls else 'off'}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def timed(*args: str) -> float:
    start = time.monotonic()
    if subprocess.run([NINESLAB, *args], stdout=subprocess.DEVNULL).returncode:
        sys.exit(f"nineslab {' '.join(args)} failed")
    return time.monotonic() - start


def call_ms(lab: str, calls: int = 20, fresh_login: bool = False) -> float:
    """Median wall time of one read through nineslab's etcd client (a checker run), in ms; with
    `fresh_login`, forgetting the remembered tokens before each (a password check per member per call)."""
    from nineslab.health import checks
    from nineslab.lab import Lab
    from nineslab.services import gateway

    client, times = Lab(lab).etcd, []
    for _ in range(calls):
        if fresh_login:
            checks._TOKENS.clear()
        start = time.monotonic()
        client.get(gateway.DIGEST_KEY)
        times.append((time.monotonic() - start) * 1000)
    return statistics.median(times)


def run_mode(topology: str, tls: bool, runs: int, lab: str, tmp: Path, only: list[str]) -> dict[str, Any]:
    path = str(topology_file(topology, tls, tmp))
    out: dict[str, Any] = {"runs": []}
    try:
        out["deploy_s"] = timed("deploy", "--topology", path, "--lab", lab)
        out["redeploy_s"] = timed("deploy", "--topology", path, "--lab", lab)
        out["call_ms"] = call_ms(lab)
        if tls:
            out["call_ms_fresh_login"] = call_ms(lab, fresh_login=True)
        for _ in range(runs):
            suite = [NINESLAB, "suite", "--lab", lab, *[a for fault in only for a in ("--only", fault)], "--json"]
            res = subprocess.run(suite, stdout=subprocess.PIPE, text=True)
            out["runs"].append(json.loads(res.stdout)["run"])
    finally:
        start = time.monotonic()
        subprocess.run([NINESLAB, "destroy", "--lab", lab], capture_output=True)
        out["destroy_s"] = time.monotonic() - start
    return out


def results(run: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((Path(run) / "results.json").read_text())
    return data


def quiet_latency(res: dict[str, Any]) -> tuple[float, float]:
    """Median over faults of p50 and p99 in the 10 s before each (no fault acting: the steady data path)."""
    before = [f["latency"]["before"] for f in res["faults"] if f["latency"]["before"]["p50"] is not None]
    return statistics.median(b["p50"] for b in before), statistics.median(b["p99"] for b in before)


def report(modes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per fault: error-seconds per run and mode, the spread without TLS, and which TLS runs fall outside."""
    res = {m: [results(r) for r in d["runs"]] for m, d in modes.items() if d["runs"]}
    # every fault of any run, in run order (a fault only one mode has, like etcd-cert-expired, too)
    faults = list(dict.fromkeys(f["fault"] for rs in res.values() for r in rs for f in r["faults"]))
    table = {}
    for fault in faults:
        row: dict[str, Any] = {
            m: [next((f["impact"]["error_seconds"] for f in r["faults"] if f["fault"] == fault), None) for r in rs]
            for m, rs in res.items()
        }
        # at the precision printed (hundredths of an error-second)
        off = [round(v, 2) for v in row.get("off", []) if v is not None]
        row["spread_off"] = [min(off), max(off)] if off else None
        on = [round(v, 2) for v in row.get("on", []) if v is not None]
        row["outside"] = [v for v in on if off and not min(off) <= v <= max(off)]
        # a range of a few runs is narrow: whether the two modes differ at all is a permutation test
        row["p"] = permutation_p(off, on)
        table[fault] = row
    latency = {
        m: [
            {"run_p50": r["latency_ms"]["p50"], "run_p99": r["latency_ms"]["p99"], "quiet": quiet_latency(r)}
            for r in rs
        ]
        for m, rs in res.items()
    }
    keys = ("deploy_s", "redeploy_s", "destroy_s", "call_ms", "call_ms_fresh_login")
    times = {m: {k: d.get(k) for k in keys} for m, d in modes.items()}
    return {"faults": table, "latency_ms": latency, "times_s": times, "runs": {m: d["runs"] for m, d in modes.items()}}


def print_report(out: dict[str, Any]) -> None:
    modes = [m for m, runs in out["runs"].items() if runs]
    print(f"{'fault':<30} " + "  ".join(f"{m:>14}" for m in modes) + "   spread off      p   on outside it")
    for fault, row in out["faults"].items():
        cells = "  ".join(f"{' '.join('—' if v is None else f'{v:.2f}' for v in row[m]):>14}" for m in modes)
        spread = "—" if row["spread_off"] is None else f"{row['spread_off'][0]:.2f}-{row['spread_off'][1]:.2f}"
        p = "—" if row.get("p") is None else f"{row['p']:.2f}"
        print(f"{fault:<30} {cells}   {spread:>11}   {p:>4}   {' '.join(f'{v:.2f}' for v in row['outside']) or '-'}")
    differ = [f"{fault} (p {row['p']:.2f})" for fault, row in out["faults"].items() if (row.get("p") or 1) < 0.05]
    print(
        f"faults whose error-seconds differ between the modes (permutation test, p < 0.05): "
        f"{', '.join(differ) or 'none'}"
    )
    for m in out["runs"]:
        lat = "; ".join(
            f"run p50/p99 {x['run_p50']:.1f}/{x['run_p99']:.1f} ms, quiet {x['quiet'][0]:.1f}/{x['quiet'][1]:.1f} ms"
            for x in out["latency_ms"].get(m, [])
        )
        t = out["times_s"][m]
        times = ", ".join(
            f"{k.removesuffix('_s')} {v:.1f} s" if k.endswith("_s") else f"etcd read ({k}) {v:.0f} ms"
            for k, v in t.items()
            if v is not None
        )
        print(f"TLS {m}: {times or 'times not measured'}; {lat}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--topology", default="2az")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--modes", default="off,on")
    ap.add_argument("--lab", default="bxtls")
    ap.add_argument("--from", dest="existing", action="append", default=[], help="MODE=RUN_DIR made before")
    ap.add_argument("--only", action="append", default=[], help="run only this fault in each suite")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    modes: dict[str, dict[str, Any]] = {}
    for item in args.existing:
        mode, _, run = item.partition("=")
        modes.setdefault(mode, {"runs": []})["runs"].append(run)
    with tempfile.TemporaryDirectory(prefix="nineslab-tls-") as tmp:
        os.environ.setdefault("NINESLAB_REPORTS_DIR", str(Path(tmp) / "reports"))
        for mode in filter(None, args.modes.split(",")):
            fresh = run_mode(args.topology, mode == "on", args.runs, args.lab, Path(tmp), args.only)
            modes[mode] = {**fresh, "runs": modes.get(mode, {"runs": []})["runs"] + fresh["runs"]}
        out = report(modes)
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print_report(out)


if __name__ == "__main__":
    main()
