"""The run an experiment belongs to: its lab and its run directory. Chaos Toolkit calls the controls,
probes and actions in the process that runs the experiment, so they share it here: bound by the
orchestrator for the experiments it runs in-process (one Lab object, no environment in between), or
made by the load control for a stock `chaos run` (which names its lab in $NINESLAB_LAB)."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nineslab.health import require_healthy
from nineslab.lab import DEFAULT_LAB, Lab
from nineslab.runs import Run, new_run_dir, write_json
from nineslab.runs.events import FaultEvent, append_event
from nineslab.topology import Topology
from nineslab.versions import component_versions


@dataclass(frozen=True)
class CurrentRun:
    lab: Lab
    run_dir: Path
    # The orchestrator runs one load for a whole suite: the experiment's load control then leaves the
    # load alone (for one experiment, `nineslab chaos run`, the control runs it around the experiment).
    external_load: bool
    # A stock `chaos run`: its control made the run and ends it (heal, status after); the orchestrator
    # ends its own runs once.
    stock: bool = False
    # Set when the run is stopped (its stop condition crossed): a fault not yet injected is not, and a
    # hold in progress ends at once.
    stopping: threading.Event = field(default_factory=threading.Event)


_current: CurrentRun | None = None


@contextlib.contextmanager
def bound(run: CurrentRun) -> Iterator[CurrentRun]:
    """`run` is the current run while the block runs (its experiments' actions use its Lab)."""
    global _current
    before, _current = _current, run
    try:
        yield run
    finally:
        _current = before


def current() -> CurrentRun | None:
    return _current


def bind_stock(run: CurrentRun) -> None:
    """A stock `chaos run` made its own run: current until the process ends."""
    global _current
    _current = run


def lab_from(configuration: dict[str, Any] | None) -> Lab:
    """The lab an activity acts on: the current run's (one object for the whole run), else the one the
    experiment's configuration names (default $NINESLAB_LAB, then `nines`)."""
    name = str((configuration or {}).get("lab") or os.environ.get("NINESLAB_LAB") or DEFAULT_LAB)
    if _current is not None and _current.lab.name == name:
        return _current.lab
    return Lab(name)


def current_run_dir() -> Path | None:
    return _current.run_dir if _current is not None else None


def record_fault_event(event: FaultEvent) -> None:
    """Append one fault-window event to the current run's faults.jsonl (none: a bare action, no run)."""
    if _current is not None:
        append_event(_current.run_dir, event)


def start_run(lab: Lab, topology: Topology, label: str, refuse_unhealthy: bool = True) -> Path:
    """Every run starts here: refuse an unhealthy lab (before anything is made; a stock `chaos run`
    leaves that to its hypothesis), then a new run directory with the lab's status, the component
    versions and, where hosts keep clocks of their own, each one's offset."""
    status = lab.status(topology)
    if refuse_unhealthy:
        require_healthy(lab.name, status)
    run_dir = new_run_dir(label)
    run = Run(run_dir)
    write_json(run.status_before, status)
    write_json(run.versions, component_versions())
    lab.record_clocks(run_dir)
    return run_dir
