"""The run an experiment belongs to: its lab and its run directory (shared by controls and actions
through the environment, since Chaos Toolkit runs them in one process)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from nineslab.lab import DEFAULT_LAB, Lab
from nineslab.runs.events import FaultEvent, append_event

RUN_DIR_ENV = "NINESLAB_RUN_DIR"


def lab_from(configuration: dict[str, Any] | None) -> Lab:
    name = (configuration or {}).get("lab") or os.environ.get("NINESLAB_LAB") or DEFAULT_LAB
    return Lab(str(name))


def current_run_dir() -> Path | None:
    value = os.environ.get(RUN_DIR_ENV)
    return Path(value) if value else None


def record_fault_event(event: FaultEvent) -> None:
    """Append one fault-window event to the current run's faults.jsonl (none: a bare action, no run)."""
    rd = current_run_dir()
    if rd is not None:
        append_event(rd, event)
