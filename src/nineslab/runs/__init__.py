"""The run store: reports/<run-id>/ (+ reports/latest), and the names of the files a run leaves."""

from nineslab.runs.store import OUTCOME_FILE, RESULTS_FILE, new_run_dir, reports_root, resolve_run, write_json

__all__ = ["OUTCOME_FILE", "RESULTS_FILE", "new_run_dir", "reports_root", "resolve_run", "write_json"]
