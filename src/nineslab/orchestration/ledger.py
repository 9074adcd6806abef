"""The nines ledger: what each escape mechanism buys, measured with that one mechanism switched off as
the control. For every mechanism, only the faults it addresses are run — once on the estate as
deployed (every mechanism on), once with the lab redeployed with that one switch off — each side as one
suite under one load; a run already in the store with the same topology, escape switches, rate, holds
and SLO is reused instead. The lab is redeployed as it was at the end (also when something fails)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import yaml

from nineslab.defaults import RATE, SLO_MS
from nineslab.errors import NinesError
from nineslab.faults import load_catalogue
from nineslab.lab import Lab
from nineslab.orchestration.runner import OVERHEAD_S, applicable_faults, run_suite
from nineslab.report.ledger import write_ledger
from nineslab.runs.store import RESULTS_FILE, Run, reports_root
from nineslab.topology import Topology, load_topology

Progress = Callable[[str], None]

# mechanism -> (its "off" value, the faults it addresses: those that apply to the topology are run)
MECHANISMS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "dns_health_checks": (False, ("lb-down", "lb-pause", "zone-power-off", "zone-isolate")),
    "client_resolver": ("stub", ("dns-primary-blackhole", "dns-both-down", "zone-power-off")),
    "lb_vip": (False, ("vip-holder-pause", "vip-holder-power-off", "lb-pause")),
    "fast_ejection": (False, ("gateway-pause", "app-pause", "gateway-host-power-off", "gateway-down")),
    "supervisor": (False, ("gateway-kill", "app-kill", "lb-kill", "vip-holder-kill")),
    "guarded_push": (False, ("bad-route",)),
    "waf_bypass": (False, ("waf-down", "waf-slow")),
}


def variant(topology: Topology, mechanism: str, into: Path) -> Path:
    """The topology's file with one mechanism switched off, under the same name (it redeploys the lab)."""
    data = yaml.safe_load(Path(topology.source).read_text())
    data.setdefault("escape", {})[mechanism] = MECHANISMS[mechanism][0]
    into.mkdir(parents=True, exist_ok=True)
    path = into / f"{topology.name}-{mechanism}-off.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def plan(lab: Lab, topology: Topology, mechanisms: list[str]) -> dict[str, list[str]]:
    """mechanism -> the faults it addresses that apply here (a mechanism already off, or one the topology
    gives nothing to do — a floating address without a zone of two LBs — has nothing to buy)."""
    names = {s.name for s in applicable_faults(lab, topology)}
    out = {}
    for m in mechanisms:
        if m == "lb_vip" and not topology.vip_zones():
            continue
        if getattr(topology.escape, m) != MECHANISMS[m][0]:
            out[m] = [f for f in MECHANISMS[m][1] if f in names]
    return {m: faults for m, faults in out.items() if faults}


def reusable(topology: Topology, rate: float, faults: list[str]) -> dict[str, Any] | None:
    """The newest results in the run store that ran every one of `faults` on this topology with
    these escape switches, this rate, the catalogue's holds and the default SLO; None if there is none."""
    holds = {s.name: s.hold_s for s in load_catalogue()}
    escape = asdict(topology.escape)
    for path in sorted(reports_root().glob(f"*/{RESULTS_FILE}"), reverse=True):
        try:
            res = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if res.get("topology") != topology.name or res.get("escape") != escape or res.get("slo_ms") != SLO_MS:
            continue
        if (res.get("load") or {}).get("rate") != rate:
            continue
        seen = {f["fault"]: f for f in res.get("faults", [])}
        # An unmeasured fault (a client stall in its window) is reused as it is: the ledger row says so.
        if all(f in seen and seen[f]["hold_s"] == holds[f] for f in faults):
            return dict(res)
    return None


def _suite(lab: Lab, say: Progress, faults: list[str], rate: float, label: str, processes: int) -> dict[str, Any]:
    say(f"ledger: {label}: running {', '.join(faults)}")
    suite = run_suite(lab, say, rate=rate, only=faults, processes=processes)
    return dict(json.loads(Run(Path(suite["run"])).results.read_text()))


def estimate_s(lab: Lab, topology: Topology, mechanisms: list[str]) -> float:
    """Seconds a ledger with nothing to reuse would take (holds, overheads, a redeploy per mechanism)."""
    planned = plan(lab, topology, mechanisms)
    holds = {s.name: s.hold_s for s in applicable_faults(lab, topology)}
    every = sorted({f for faults in planned.values() for f in faults})
    runs = [every, *planned.values()]
    return sum(sum(holds[f] + OVERHEAD_S for f in faults) + 30.0 for faults in runs) + 60.0 * len(planned)


def run_ledger(
    lab: Lab,
    say: Progress,
    rate: float = RATE,
    mechanisms: list[str] | None = None,
    scratch: Path | None = None,
    processes: int = 1,
) -> Path:
    """Measure the ledger on the deployed lab; returns the ledger's run directory."""
    unknown = sorted(set(mechanisms or []) - set(MECHANISMS))
    if unknown:
        raise NinesError(f"--mechanism {unknown[0]}: unknown — use one of {', '.join(MECHANISMS)}")
    topology = lab.topology()
    planned = plan(lab, topology, mechanisms or list(MECHANISMS))
    if not planned:
        raise NinesError(f"no escape mechanism of {topology.name} is on with a fault to measure — nothing to ledger")
    say(f"ledger of {topology.name}: about {estimate_s(lab, topology, list(planned)) / 60:.0f} min without reuse")
    scratch = scratch or lab.dir / "ledger"
    scratch.mkdir(parents=True, exist_ok=True)
    # The estate as deployed (its snapshot is overwritten by each variant's deploy): redeployed at the end.
    reference = scratch / f"{topology.name}.yaml"
    reference.write_text(Path(topology.source).read_text())
    topology = load_topology(str(reference))  # each variant from this copy: one switch off, never two
    every = sorted({f for faults in planned.values() for f in faults})
    on = reusable(topology, rate, every) or _suite(lab, say, every, rate, "all on", processes)
    off: dict[str, dict[str, Any]] = {}
    deployed_variant = False
    try:
        for mechanism, faults in planned.items():
            path = variant(topology, mechanism, scratch)
            found = reusable(load_topology(str(path)), rate, faults)
            if found is not None:
                say(f"ledger: {mechanism} off: reusing run {found['run']}")
                off[mechanism] = found
                continue
            say(f"ledger: {mechanism} off — redeploying {lab.name} with that switch off")
            deployed_variant = True
            lab.deploy(str(path), progress=lambda _m: None)
            off[mechanism] = _suite(lab, say, faults, rate, f"{mechanism} off", processes)
    finally:
        if deployed_variant:
            say(f"ledger: redeploying {lab.name} as it was")
            lab.deploy(str(reference), progress=lambda _m: None)
    return write_ledger(topology.name, rate, planned, on, off)
