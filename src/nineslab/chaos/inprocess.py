"""One experiment run in this process through chaostoolkit-lib, as `chaos run --rollback-strategy
always` runs it (load, validate, run, journal), without a process of its own: no interpreter start and
no Lab rebuilt from the environment per fault, next to a fault's window on a machine whose cores the
load generator shares. chaoslib's runner installs its signal handlers while it runs, so this runs in
the main thread. A stop (the run's stop condition, from another thread) ends a hold at once and
interrupts the experiment, whose rollbacks run — as SIGTERM did to a `chaos run` child."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chaoslib.exceptions import ChaosException
from chaoslib.experiment import ensure_experiment_is_valid, run_experiment
from chaoslib.loader import load_experiment
from chaoslib.types import Schedule, Strategy

from nineslab.chaos.current_run import CurrentRun, bound
from nineslab.errors import NinesError
from nineslab.runs.records import ExperimentOutcome

__all__ = ["ExperimentRunner", "ExperimentResult"]

CHAOS_LOGGER = "chaostoolkit"
SETTINGS: dict[str, Any] = {"runtime": {"rollbacks": {"strategy": "always"}, "hypothesis": {"strategy": "default"}}}


@dataclass(frozen=True)
class ExperimentResult:
    experiment: str  # its name (the file's stem)
    status: str  # the journal's: completed, failed, aborted, interrupted
    deviated: bool
    journal: Path

    @property
    def exit_code(self) -> int:
        """As `chaos run` would have exited: 0 when it completed without deviating."""
        return 0 if self.status == "completed" and not self.deviated else 1

    def as_dict(self) -> ExperimentOutcome:
        return {
            "experiment": self.experiment,
            "exit_code": self.exit_code,
            "status": self.status,
            "deviated": self.deviated,
            "journal": str(self.journal),
        }


class _ToLog(logging.Handler):
    """Chaos Toolkit's log lines into the run's chaos.log, and its INFO and above to `say`."""

    def __init__(self, log: Path, say: Callable[[str], None]) -> None:
        super().__init__(logging.INFO)
        self.file = log.open("a")
        self.say = say
        self.setFormatter(logging.Formatter("[%(asctime)s %(levelname)s] %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.file.write(self.format(record) + "\n")
        self.file.flush()
        self.say("chaos: " + record.getMessage())

    def close(self) -> None:
        self.file.close()
        super().close()


class ExperimentRunner:
    """Runs experiments one after another in this process, each with `run` as the current run (one Lab
    object for all of them). Once `run.stopping` is set, a hold in flight ends (the inject action waits
    on it and leaves through chaoslib's graceful exit: interrupted, rollbacks run) and no later fault is
    injected; a probe or a recovery in flight finishes first (the stop condition has already recovered
    every fault)."""

    def __init__(self, run: CurrentRun, log: Path, say: Callable[[str], None]) -> None:
        self.run_ = run
        self.log = log
        self.say = say

    @property
    def stopped(self) -> bool:
        return self.run_.stopping.is_set()

    def run(self, experiment: Path, journal: Path) -> ExperimentResult:
        """Load, validate and run `experiment` (rollbacks always); its journal written to `journal`.
        An experiment that chaoslib refuses is one line naming the file. Ctrl-C or SIGTERM during it
        interrupts the experiment (its rollbacks run) and then this run: KeyboardInterrupt."""
        with self._chaos_log():
            try:
                exp = load_experiment(str(experiment), SETTINGS)
                ensure_experiment_is_valid(exp)
            except ChaosException as exc:
                raise NinesError(f"{experiment}: {exc} — fix the experiment file") from None
            if self.stopped:
                return self._not_run(experiment, journal)
            with bound(self.run_):
                result = run_experiment(
                    exp,
                    settings=SETTINGS,
                    strategy=Strategy.DEFAULT,
                    schedule=Schedule(),
                    experiment_vars=({"lab": self.run_.lab.name}, {}),  # the lab by name, not by environment
                )
        journal.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))
        status = str(result.get("status", "no journal"))
        if status == "interrupted" and not self.stopped:  # the user's Ctrl-C or SIGTERM, not the guard
            raise KeyboardInterrupt
        return ExperimentResult(experiment.stem, status, bool(result.get("deviated", False)), journal)

    def _not_run(self, experiment: Path, journal: Path) -> ExperimentResult:
        journal.write_text(json.dumps({"status": "interrupted", "deviated": False, "not_started": True}))
        return ExperimentResult(experiment.stem, "interrupted", False, journal)

    @contextmanager
    def _chaos_log(self) -> Iterator[None]:
        # what `chaos run` prints (INFO and above), into chaos.log and the progress; not to the root
        # logger as well (Python would print its warnings a second time, on stderr)
        logger = logging.getLogger(CHAOS_LOGGER)
        handler = _ToLog(self.log, self.say)
        logger.addHandler(handler)
        level, propagate = logger.level, logger.propagate
        logger.setLevel(logging.INFO)
        logger.propagate = False
        try:
            yield
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.propagate = propagate
            handler.close()
