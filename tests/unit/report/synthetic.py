"""A synthetic run directory, as a chaos run would leave it, with a known outage."""

from __future__ import annotations

import json
from pathlib import Path


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
    (run / "samples").mkdir(parents=True)
    lines = ["start,latency_ms,status,error,lb,gateway,app,zone"]
    t0 = 1_000_000.0
    for i in range(int(round(t_end / step))):
        t = round(i * step, 6)
        if outage[0] <= t < outage[1]:
            lines.append(f"{t0 + t:.6f},0.5,0,refused,,,,")
        else:
            lines.append(f"{t0 + t:.6f},4.0,200,,lb-{'ab'[i % 2]},gw-a,app-a,east-a")
    (run / "samples" / "samples-client-1.csv").write_text("\n".join(lines) + "\n")
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
    (run / "faults.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    (run / "status-before.json").write_text(json.dumps({"topology": topology, "target": target}))
    if finished:
        experiment = {"experiment": "lb-kill", "status": "completed", "deviated": False}
        outcome = {"topology": topology, "experiments": [experiment], "healthy": True, "applicable": ["lb-kill"]}
        (run / "outcome.json").write_text(json.dumps(outcome))
    return run
