"""Chaos Toolkit controls: give the experiment a run directory, record lab status and component
versions, run Locust (a subprocess: importing locust here crashes) around the whole experiment,
save the journal, and end every run with heal-everything and a health check."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from nineslab.analysis.core import AFTER_RECOVERY_S
from nineslab.chaos.current_run import RUN_DIR_ENV, current_run_dir, lab_from
from nineslab.defaults import DEADLINE_S, HEAL_WAIT_S, RATE
from nineslab.faults import heal
from nineslab.load import LoadRun
from nineslab.runs import Run, new_run_dir, write_json
from nineslab.versions import component_versions

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
    lab = lab_from(configuration)
    rd = current_run_dir()
    stock = rd is None
    if rd is None:  # stock `chaos run`: make our own run directory
        rd = new_run_dir(run_label(str(context.get("title", "experiment"))))
        os.environ[RUN_DIR_ENV] = str(rd)
    rd.mkdir(parents=True, exist_ok=True)
    if os.environ.get("NINESLAB_LOAD") == "external":  # a suite records these once and runs one load
        return
    write_json(Run(rd).experiment, context)
    write_json(Run(rd).status_before, lab.status())
    write_json(Run(rd).versions, component_versions())
    if stock:  # `nineslab chaos run` measured the clocks as it made the run directory (start_run)
        lab.record_clocks(rd)
    _load = lab.load(rd, rate=rate, duration_s=max_duration_s, deadline_s=deadline_s)
    _load.start()
    logger.info(f"nineslab: load {rate:g} req/s running; samples in {Run(rd).samples}")
    time.sleep(warmup_s)  # a baseline before the fault


def after_experiment_control(
    context: dict[str, Any],
    state: dict[str, Any],
    cooldown_s: float = AFTER_RECOVERY_S,
    configuration: dict[str, Any] | None = None,
    **_kw: Any,
) -> None:
    global _load
    rd = current_run_dir()
    lab = lab_from(configuration)
    try:
        if _load is not None:
            time.sleep(cooldown_s)  # watch the recovery under load
            _load.stop()
            _load = None
    finally:
        result = heal(lab, wait_s=HEAL_WAIT_S)
        if rd is not None and os.environ.get("NINESLAB_LOAD") != "external":
            # `chaos run --journal-path` overwrites this with the final journal; stock runs keep it.
            write_json(Run(rd).journal, state)
            write_json(Run(rd).heal, {k: v for k, v in result.items() if k != "status"})
            write_json(Run(rd).status_after, result["status"])
        if result["healthy"]:
            logger.info("nineslab: lab healed and healthy")
        else:
            logger.error("nineslab: THE LAB DID NOT COME BACK after heal — run `nineslab status` / `nineslab deploy`")
