"""The run store: reports/<run-id>/ (+ reports/latest); `Run` names the files a run leaves, and
`events` writes and reads its fault events."""

from nineslab.runs.store import (
    OUTCOME_FILE,
    RESULTS_FILE,
    Run,
    new_run_dir,
    reports_root,
    resolve_run,
    write_json,
)

__all__ = ["OUTCOME_FILE", "RESULTS_FILE", "Run", "new_run_dir", "reports_root", "resolve_run", "write_json"]
