"""A run's fault events (faults.jsonl): one line per inject and per recover, appended and flushed as
they happen (a crash keeps what was written). One builder each, whoever injects or recovers: a Chaos
Toolkit action, a stop condition, the calibration."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Literal, TypedDict

from nineslab.clocks import stamps
from nineslab.runs.store import Run


class FaultEvent(TypedDict, total=False):
    """Epoch seconds on the client's clock. An inject's window can open at `apply_start` (its op began
    to change the lab) or, on machines with clocks of their own, at `acted_start` (corrected); a
    recovery's ends at `end` or `recovered_end`."""

    fault: str
    phase: Literal["inject", "recover"]
    start: float  # the action began (before its plan: choosing hosts, reading state)
    end: float  # the action returned (an inject: applied, before its hold)
    apply_start: float
    hosts: list[str]
    op: str
    kind: str
    select: str
    role: str
    hold_s: float
    by: str  # who recovered it, when not the experiment ("stop condition")
    logged_at: float
    # where a machine stamped its acts: acted / acted_start / acted_end / acted_error_s /
    # acted_unmeasured, and the same with `recovered`


def inject_event(record: dict[str, Any], started: float, hold_s: float) -> FaultEvent:
    """The inject event of a fault record (faults.engine.inject's) whose action began at `started`."""
    event = FaultEvent(
        fault=record["fault"],
        phase="inject",
        start=started,
        apply_start=record["apply_start"],
        end=record["inject_end"],
        hosts=record["hosts"],
        op=record["op"],
        kind=record["kind"],
        select=record["select"],
        hold_s=hold_s,
    )
    event.update(stamps(record, "acted"))  # type: ignore[typeddict-item]
    return event


def recover_event(result: dict[str, Any], started: float, ended: float, by: str | None = None) -> FaultEvent:
    """The recover event of faults.engine.recover's result (with its stamps where a machine made them)."""
    event = FaultEvent(fault=result["fault"], phase="recover", start=started, end=ended)
    if by:
        event["by"] = by
    event.update(stamps(result, "recovered"))  # type: ignore[typeddict-item]
    return event


def append_event(run_dir: Path, event: FaultEvent) -> None:
    """One event at the end of the run's faults.jsonl, flushed at once."""
    with Run(run_dir).fault_events.open("a") as f:
        f.write(json.dumps({"logged_at": time.time(), **event}) + "\n")


def read_events(run_dir: Path) -> list[FaultEvent]:
    """Every event of the run, in the order written; a line cut short by a crash is left out."""
    path = Run(run_dir).fault_events
    out: list[FaultEvent] = []
    for line in path.read_text().splitlines() if path.exists() else []:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and "fault" in event and "phase" in event:
            out.append(event)  # type: ignore[arg-type]
    return out
