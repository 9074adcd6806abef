"""Chaos Toolkit actions. Every action takes the experiment's `configuration` (its `lab` key names
the lab; default $NINESLAB_LAB or `nines`)."""

from __future__ import annotations

import time
from typing import Any

from nineslab.chaos.current_run import current, lab_from, record_fault_event
from nineslab.faults import inject, recover
from nineslab.faults.catalogue import find, overridden
from nineslab.runs.events import inject_event, recover_event

__all__ = ["inject_fault", "recover_fault"]

# chaoslib reads SystemExit(20) as its graceful exit (SIGUSR1): the experiment is interrupted and its
# rollbacks run (a plain exception would only fail the action and go on with the method).
STOPPED = 20


def inject_fault(
    fault: str,
    hold_s: float | None = None,
    select: str | None = None,
    role: str | None = None,
    configuration: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Inject catalogue fault `fault` (select/role/hold/params overridable here), hold it for `hold_s`, return.
    The window starts at this action's own start time."""
    started = time.time()
    run = current()
    if run is not None and run.stopping.is_set():
        raise SystemExit(STOPPED)  # the run was stopped before this fault began: not injected
    lab = lab_from(configuration)
    spec = find(fault, lab.topology(), capabilities=lab.provider.capabilities)
    spec = overridden(spec, f"experiment {fault}", select, role, hold_s, params)
    record = inject(lab, spec.name, spec)
    record["action_start"] = started
    record_fault_event(inject_event(record, started, spec.hold_s))
    if run is None:
        time.sleep(spec.hold_s)
    elif run.stopping.wait(spec.hold_s):
        raise SystemExit(STOPPED)  # stopped during the hold: the rollbacks recover it
    return record


def recover_fault(fault: str, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Recover `fault` (idempotent: a rollback after a successful recover is a no-op)."""
    started = time.time()
    result = recover(lab_from(configuration), fault)
    if result.get("recovered"):
        record_fault_event(recover_event(result, started, time.time()))
    return result
