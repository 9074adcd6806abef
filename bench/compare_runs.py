"""What two sets of suite runs of the same estate show side by side (bench/etcd_tls.py: TLS off and on;
bench/providers.py: netns and docker): per fault the error-seconds of every run, the spread of the
control's runs, which of the other's fall outside it, and whether the two differ at all (an exact
permutation test); p50/p99 of each run and of its quiet windows."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from nineslab.analysis import permutation_p

NINESLAB = str(Path(sys.executable).parent / "nineslab")


def arguments(doc: str, topology: str, runs: int, modes: tuple[str, str], lab: str) -> argparse.ArgumentParser:
    """The options both benches take; `modes` = (option name, its default)."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--topology", default=topology)
    ap.add_argument("--runs", type=int, default=runs)
    ap.add_argument(f"--{modes[0]}", default=modes[1])
    ap.add_argument("--lab", default=lab)
    ap.add_argument("--from", dest="existing", action="append", default=[], help="MODE=RUN_DIR made before")
    ap.add_argument("--only", action="append", default=[], help="run only this fault in each suite")
    ap.add_argument("--json", action="store_true")
    return ap


def suites(
    lab: str, runs: int, only: list[str], label: str, prefix: tuple[str, ...] = (), extra: tuple[str, ...] = ()
) -> list[str]:
    """The suite run `runs` times on the deployed `lab` (only these faults, if any): the run directories.
    `prefix` runs nineslab elsewhere (an operator's namespace); `extra`: more suite options."""
    done = []
    for i in range(runs):
        print(f"bench: {label} suite {i + 1}/{runs}", file=sys.stderr)
        faults = [a for fault in only for a in ("--only", fault)]
        cmd = [*prefix, NINESLAB, "suite", "--lab", lab, *faults, *extra, "--json"]
        done.append(json.loads(subprocess.run(cmd, stdout=subprocess.PIPE, text=True).stdout)["run"])
    return done


def destroy_s(lab: str) -> float:
    """Destroy `lab`, whatever state it is in; the seconds it took."""
    start = time.monotonic()
    subprocess.run([NINESLAB, "destroy", "--lab", lab], capture_output=True)
    return time.monotonic() - start


def results(run: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((Path(run) / "results.json").read_text())
    return data


def quiet_latency(res: dict[str, Any]) -> tuple[float, float]:
    """Median over faults of p50 and p99 in the 10 s before each (no fault acting: the steady data path)."""
    before = [f["latency"]["before"] for f in res["faults"] if f["latency"]["before"]["p50"] is not None]
    return statistics.median(b["p50"] for b in before), statistics.median(b["p99"] for b in before)


def report(modes: dict[str, dict[str, Any]], control: str, treated: str) -> dict[str, Any]:
    """Per fault: error-seconds per run and mode, the spread of the `control` runs, and which `treated`
    runs fall outside it; whether the two differ at all (a permutation test)."""
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
        off = [round(v, 2) for v in row.get(control, []) if v is not None]
        row["spread_control"] = [min(off), max(off)] if off else None
        on = [round(v, 2) for v in row.get(treated, []) if v is not None]
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
    runs = {m: d["runs"] for m, d in modes.items()}
    return {
        "control": control,
        "treated": treated,
        "faults": table,
        "latency_ms": latency,
        "times_s": times,
        "runs": runs,
    }


def print_report(out: dict[str, Any], label: str = "") -> None:
    modes = [m for m, runs in out["runs"].items() if runs]
    control, treated = out["control"], out["treated"]
    head = f"   spread {control}      p   {treated} outside it"
    print(f"{'fault':<30} " + "  ".join(f"{m:>14}" for m in modes) + head)
    for fault, row in out["faults"].items():
        cells = "  ".join(f"{' '.join('—' if v is None else f'{v:.2f}' for v in row[m]):>14}" for m in modes)
        lo_hi = row["spread_control"]
        spread = "—" if lo_hi is None else f"{lo_hi[0]:.2f}-{lo_hi[1]:.2f}"
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
        print(f"{label + ' ' if label else ''}{m}: {times or 'times not measured'}; {lat}")
