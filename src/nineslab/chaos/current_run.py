"""The run an experiment belongs to: its lab and its run directory (shared by controls and actions
through the environment, since Chaos Toolkit runs them in one process)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from nineslab.lab import DEFAULT_LAB, Lab

RUN_DIR_ENV = "NINESLAB_RUN_DIR"
FAULT_EVENTS = "faults.jsonl"  # in the run directory: one line per inject / recover


def lab_from(configuration: dict[str, Any] | None) -> Lab:
    name = (configuration or {}).get("lab") or os.environ.get("NINESLAB_LAB") or DEFAULT_LAB
    return Lab(str(name))


def current_run_dir() -> Path | None:
    value = os.environ.get(RUN_DIR_ENV)
    return Path(value) if value else None


def record_fault_event(event: dict[str, Any], run_dir: Path | None = None) -> None:
    """Append one fault-window event to <run>/faults.jsonl (flushed at once: a crash keeps it)."""
    rd = run_dir or current_run_dir()
    if rd is None:
        return
    with (rd / FAULT_EVENTS).open("a") as f:
        f.write(json.dumps({"logged_at": time.time(), **event}) + "\n")
