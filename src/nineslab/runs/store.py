"""Runs live in reports/<run-id>/ (journal, samples, fault windows, lab status, versions);
reports/latest points at the newest. NINESLAB_REPORTS_DIR moves the whole store (tests use it)."""

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
    (run / "samples").mkdir(parents=True)
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
