"""Chaos Toolkit actions. Every action takes the experiment's `configuration` (its `lab` key names
the lab; default $NINESLAB_LAB or `nines`)."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from nineslab.chaos.runctx import lab_from, log_window
from nineslab.faults import heal, inject, recover
from nineslab.faults.catalogue import find

__all__ = ["heal_lab", "inject_fault", "recover_fault"]


def inject_fault(
    fault: str,
    hold_s: float | None = None,
    target: str | None = None,
    role: str | None = None,
    configuration: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Inject catalogue fault `fault` (target/role/hold overridable here), hold it for `hold_s`, return.
    The window starts at this action's own start time."""
    started = time.time()
    lab = lab_from(configuration)
    spec = find(fault, lab.topology())
    spec = dataclasses.replace(
        spec,
        target=target or spec.target,
        role=role or spec.role,
        hold_s=float(hold_s if hold_s is not None else spec.hold_s),
    )
    record = inject(lab, spec.name, spec)
    record["action_start"] = started
    log_window(
        {
            "fault": spec.name,
            "phase": "inject",
            "start": started,
            "end": record["inject_end"],
            "hosts": record["hosts"],
            "op": spec.op,
            "kind": spec.kind,
            "target": spec.target,
            "hold_s": spec.hold_s,
        }
    )
    time.sleep(spec.hold_s)
    return record


def recover_fault(fault: str, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Recover `fault` (idempotent: a rollback after a successful recover is a no-op)."""
    started = time.time()
    result = recover(lab_from(configuration), fault)
    if result.get("recovered"):
        log_window({"fault": fault, "phase": "recover", "start": started, "end": time.time()})
    return result


def heal_lab(configuration: dict[str, Any] | None = None, wait_s: float = 60.0) -> dict[str, Any]:
    """Undo everything and wait for a healthy lab; raises if the lab did not come back."""
    result = heal(lab_from(configuration), wait_s=wait_s)
    if not result["healthy"]:
        raise RuntimeError(f"lab did not come back after heal: {result['errors'] or 'unhealthy'}")
    return {k: v for k, v in result.items() if k != "status"}
