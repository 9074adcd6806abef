"""A synthetic run directory, as a chaos run would leave it, with a known outage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nineslab.runs import Run


def make_run(
    root: Path,
    outage: tuple[float, float] = (5.0, 8.0),
    step: float = 0.01,
    t_end: float = 20.0,
    finished: bool = True,
    topology: str = "2az",
    target: float = 0.9999,
) -> Path:
    run = root / "20260101-000000-synthetic"
    Run(run).samples.mkdir(parents=True)
    lines = ["start,latency_ms,status,error,lb,gateway,app,zone"]
    t0 = 1_000_000.0
    for i in range(int(round(t_end / step))):
        t = round(i * step, 6)
        if outage[0] <= t < outage[1]:
            lines.append(f"{t0 + t:.6f},0.5,0,refused,,,,")
        else:
            lines.append(f"{t0 + t:.6f},4.0,200,,lb-{'ab'[i % 2]},gw-a,app-a,east-a")
    (Run(run).samples / "samples-client-1.csv").write_text("\n".join(lines) + "\n")
    events = [
        {
            "fault": "lb-kill",
            "phase": "inject",
            "start": t0 + outage[0],
            "end": t0 + outage[0] + 0.001,
            "hosts": ["lb-a", "lb-b"],
            "op": "kill",
            "kind": "node",
            "role": "lb",
            "select": "all",
            "hold_s": outage[1] - outage[0],
        },
    ]
    if finished:
        events.append({"fault": "lb-kill", "phase": "recover", "start": t0 + outage[1] - 0.001, "end": t0 + outage[1]})
    Run(run).fault_events.write_text("".join(json.dumps(e) + "\n" for e in events))
    Run(run).status_before.write_text(json.dumps({"topology": topology, "target": target}))
    if finished:
        experiment = {"experiment": "lb-kill", "status": "completed", "deviated": False}
        outcome = {"topology": topology, "experiments": [experiment], "healthy": True, "applicable": ["lb-kill"]}
        (run / "outcome.json").write_text(json.dumps(outcome))
    return run


def make_suite(root: Path, faults: int = 20, rate: float = 200.0, spacing_s: float = 40.0) -> Path:
    """A synthetic suite as big as a real 3dc one: `faults` faults, each held 10 s with every request
    failing for its first 2 s, one every `spacing_s`, under `rate` req/s (evenly spaced)."""
    run = root / "20260101-000000-suite-3dc"
    Run(run).samples.mkdir(parents=True)
    t0, step = 1_000_000.0, 1.0 / rate
    injects = [30.0 + i * spacing_s for i in range(faults)]
    lines = ["start,lag_ms,latency_ms,status,error,lb,gateway,app,zone"]
    n = int((injects[-1] + spacing_s) * rate)
    for i in range(n):
        t = i * step
        bad = any(a <= t < a + 2.0 for a in injects)
        lines.append(
            f"{t0 + t:.6f},0.1,0.5,0,refused,,,," if bad else f"{t0 + t:.6f},0.1,4.0,200,,lb-a,gw-a,app-a,east-a"
        )
    (Run(run).samples / "samples-client-1.csv").write_text("\n".join(lines) + "\n")
    events = []
    for k, a in enumerate(injects):
        name = f"fault-{k + 1:02d}"
        common = {"fault": name, "hosts": ["gw-a"], "op": "kill", "kind": "process", "hold_s": 10.0}
        events.append({**common, "phase": "inject", "start": t0 + a, "end": t0 + a + 0.01})
        events.append({"fault": name, "phase": "recover", "start": t0 + a + 10.0, "end": t0 + a + 10.01})
    Run(run).fault_events.write_text("".join(json.dumps(e) + "\n" for e in events))
    Run(run).status_before.write_text(json.dumps({"topology": "3dc", "target": 0.99999}))
    names = [e["fault"] for e in events if e["phase"] == "inject"]
    experiments = [{"experiment": x, "status": "completed", "deviated": False} for x in names]
    outcome = {"topology": "3dc", "experiments": experiments, "healthy": True, "applicable": names}
    (run / "outcome.json").write_text(json.dumps(outcome))
    return run


def fault_results(run: str, impacts: dict[str, tuple[float, float, float | None]]) -> dict[str, Any]:
    """A run's results reduced to what the ledger reads: per fault (error-seconds, steady error ratio,
    projected seconds a year — None: no rate), each measured with a 10 s hold."""
    faults = [
        {"fault": f, "hold_s": 10.0, "impact": {"error_seconds": es, "steady": {"error_ratio": st}, "measured": True}}
        for f, (es, st, _) in impacts.items()
    ]
    terms = [{"fault": f, "annual_downtime_s": a} for f, (_, _, a) in impacts.items() if a is not None]
    return {"run": run, "faults": faults, "projection": {"terms": terms}}
