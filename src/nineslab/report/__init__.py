"""Run store (reports/<run-id>/ + reports/latest); rendering comes with the SLA report."""

from nineslab.report.store import new_run_dir, reports_root, resolve_run

__all__ = ["new_run_dir", "reports_root", "resolve_run"]
