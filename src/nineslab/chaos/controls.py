"""Chaos Toolkit controls: give the experiment a run directory, run Locust (a subprocess: importing
locust here crashes) around the whole experiment, save the journal, and end the run with
heal-everything and a health check — unless the orchestrator runs the experiment inside a run of its
own, with one load for the whole run and one heal at its end (then these leave both to it)."""

from __future__ import annotations

import logging
import time
from typing import Any

from nineslab.analysis.core import AFTER_RECOVERY_S
from nineslab.chaos.current_run import CurrentRun, bind_stock, current, lab_from, start_run
from nineslab.defaults import DEADLINE_S, HEAL_WAIT_S, RATE
from nineslab.faults import heal
from nineslab.lab import Lab
from nineslab.load import LoadRun
from nineslab.runs import Run, write_json

__all__ = ["after_experiment_control", "before_experiment_control"]

logger = logging.getLogger("chaostoolkit")
_load: LoadRun | None = None


def run_label(title: str) -> str:
    """A run directory's label from an experiment's title: `zone-power-off: power_off ...` -> its name."""
    label = title.split(":")[0].strip().replace(" ", "-").replace("/", "-")[:40]
    return label or "experiment"


def before_experiment_control(
    context: dict[str, Any],
    rate: float = RATE,
    deadline_s: float = DEADLINE_S,
    warmup_s: float = 5.0,
    max_duration_s: float = 900.0,
    configuration: dict[str, Any] | None = None,
    **_kw: Any,
) -> None:
    global _load
    run = current()
    if run is not None and run.external_load:  # a suite records the run once and runs one load
        return
    lab = lab_from(configuration)
    if run is None:  # stock `chaos run`: the run starts here
        label = run_label(str(context.get("title", "experiment")))
        run_dir = start_run(lab, lab.topology(), label, refuse_unhealthy=False)
        run = CurrentRun(lab, run_dir, external_load=False, stock=True)
        bind_stock(run)
    write_json(Run(run.run_dir).experiment, context)
    _load = lab.load(run.run_dir, rate=rate, duration_s=max_duration_s, deadline_s=deadline_s)
    _load.start()
    logger.info(f"nineslab: load {rate:g} req/s running; samples in {Run(run.run_dir).samples}")
    time.sleep(warmup_s)  # a baseline before the fault


def after_experiment_control(
    context: dict[str, Any],
    state: dict[str, Any],
    cooldown_s: float = AFTER_RECOVERY_S,
    configuration: dict[str, Any] | None = None,
    **_kw: Any,
) -> None:
    global _load
    run = current()
    if run is not None and run.external_load:  # the orchestrator's load, its sweeps and its heal
        return
    try:
        if _load is not None:
            time.sleep(cooldown_s)  # watch the recovery under load
            _load.stop()
            _load = None
    finally:
        if run is None or run.stock:  # the orchestrator heals its own runs once, at their end
            _end_stock_run(run, lab_from(configuration), state)


def _end_stock_run(run: CurrentRun | None, lab: Lab, state: dict[str, Any]) -> None:
    """A stock `chaos run` ends with heal-everything and a health check, recorded in its run."""
    result = heal(lab, wait_s=HEAL_WAIT_S)
    if run is not None:
        # `chaos run --journal-path` overwrites this with the final journal; stock runs keep it.
        files = Run(run.run_dir)
        write_json(files.journal, state)
        write_json(files.heal, {k: v for k, v in result.items() if k != "status"})
        write_json(files.status_after, result["status"])
    if result["healthy"]:
        logger.info("nineslab: lab healed and healthy")
    else:
        logger.error("nineslab: THE LAB DID NOT COME BACK after heal — run `nineslab status` / `nineslab deploy`")
