"""Runs live in reports/<run-id>/; reports/latest points at the newest. NINESLAB_REPORTS_DIR moves the
whole store (tests use it). `Run` names every file a run leaves — nothing else spells one."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from nineslab.errors import NinesError
from nineslab.paths import REPO_ROOT

OUTCOME_FILE = "outcome.json"  # how the run went: experiments, their status, the lab after heal
RESULTS_FILE = "results.json"  # what the analysis made of it (schema nineslab.results/N)
SAMPLES_DIR = "samples"  # one CSV per load process, flushed as requests end (+ heartbeats)
FAULT_EVENTS_FILE = "faults.jsonl"  # one line per inject / recover, flushed as they happen


class Run:
    """One run directory and the names of its files. Every time in every file is epoch seconds on the
    client's clock (the machine nineslab runs on), unless a key says otherwise."""

    def __init__(self, path: Path) -> None:
        self.dir = path

    @property
    def name(self) -> str:
        return self.dir.name

    # what the run records as it goes
    @property
    def samples(self) -> Path:
        return self.dir / SAMPLES_DIR

    @property
    def fault_events(self) -> Path:
        return self.dir / FAULT_EVENTS_FILE

    @property
    def load_settings(self) -> Path:
        return self.dir / "load.json"  # the load's settings and its start, written as it starts

    @property
    def locust_log(self) -> Path:
        return self.dir / "locust.log"

    @property
    def chaos_log(self) -> Path:
        return self.dir / "chaos.log"

    @property
    def status_before(self) -> Path:
        return self.dir / "status-before.json"  # the lab's status, target and escape switches at the start

    @property
    def status_after(self) -> Path:
        return self.dir / "status-after.json"

    @property
    def versions(self) -> Path:
        return self.dir / "versions.json"

    @property
    def clocks(self) -> Path:
        return self.dir / "clocks.json"  # machines with clocks of their own: offsets at the run's start

    @property
    def heal(self) -> Path:
        return self.dir / "heal.json"

    @property
    def experiment(self) -> Path:
        return self.dir / "experiment.json"  # a stock `chaos run`: the experiment as Chaos Toolkit read it

    @property
    def journal(self) -> Path:
        return self.dir / "journal.json"  # one experiment's Chaos Toolkit journal

    @property
    def journals(self) -> Path:
        return self.dir / "journals"  # a suite's: one journal per fault run

    def journal_of(self, fault: str, k: int, repeat: int) -> Path:
        return self.journals / (f"{fault}.json" if repeat == 1 else f"{fault}-{k}.json")

    @property
    def experiments(self) -> Path:
        return self.dir / "experiments"  # a suite's experiment files with their holds sized for the target

    @property
    def suite(self) -> Path:
        return self.dir / "suite.json"  # a suite's plan: faults, holds, baseline, rate

    @property
    def outcome(self) -> Path:
        return self.dir / OUTCOME_FILE

    # what the analysis and its renderings make of it
    @property
    def results(self) -> Path:
        return self.dir / RESULTS_FILE

    @property
    def report_html(self) -> Path:
        return self.dir / "report.html"

    @property
    def report_md(self) -> Path:
        return self.dir / "report.md"

    @property
    def junit(self) -> Path:
        return self.dir / "junit.xml"

    @property
    def compare_json(self) -> Path:
        return self.dir / "compare.json"

    @property
    def compare_md(self) -> Path:
        return self.dir / "compare.md"

    @property
    def compare_html(self) -> Path:
        return self.dir / "compare.html"

    @property
    def ledger_json(self) -> Path:
        return self.dir / "ledger.json"

    @property
    def ledger_html(self) -> Path:
        return self.dir / "ledger.html"

    def read(self, path: Path) -> dict[str, Any]:
        """A JSON file of the run as a dict; {} when it is missing or unreadable (a run cut short)."""
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}


def reports_root() -> Path:
    return Path(os.environ.get("NINESLAB_REPORTS_DIR", REPO_ROOT / "reports"))


def new_run_dir(label: str) -> Path:
    root = reports_root()
    root.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    run = root / f"{stamp}-{label}"
    n = 1
    while run.exists():
        n += 1
        run = root / f"{stamp}-{label}-{n}"
    Run(run).samples.mkdir(parents=True)
    latest = root / "latest"
    tmp = root / ".latest.tmp"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(run.name)
    tmp.replace(latest)  # atomic switch of the `latest` pointer
    return run


def resolve_run(run: str | None) -> Path:
    """A run by id or path; default: the newest (reports/latest)."""
    root = reports_root()
    path = Path(run) if run and ("/" in run) else root / (run or "latest")
    if not path.is_dir():
        hint = "run `nineslab chaos run NAME` or `nineslab load` first"
        raise NinesError(f"no run {run or 'latest'!r} in {root} — {hint}")
    return path.resolve()


def write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, default=str))
    tmp.replace(path)
