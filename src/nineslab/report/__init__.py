"""Results from a run (build) and their renderings (render, compare)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nineslab.defaults import SLO_MS
from nineslab.runs import RESULTS_FILE, resolve_run, write_json

__all__ = ["write_report"]

REPORT_FILES = ("report.html", "report.md", RESULTS_FILE, "junit.xml")


def write_report(run: str | Path | None, assumptions: str | None = None, slo_ms: float = SLO_MS) -> dict[str, Any]:
    """Analyse a run and write results.json, report.md, report.html, junit.xml into its directory."""
    from nineslab.report.build import build_results, load_assumptions
    from nineslab.report.index import write_index
    from nineslab.report.render import to_html, to_junit, to_markdown

    run_dir = resolve_run(str(run) if run is not None else None)
    res = build_results(run_dir, load_assumptions(Path(assumptions) if assumptions else None), slo_ms=slo_ms)
    write_json(run_dir / RESULTS_FILE, res)
    (run_dir / "report.md").write_text(to_markdown(res))
    (run_dir / "report.html").write_text(to_html(res))
    (run_dir / "junit.xml").write_text(to_junit(res))
    write_index(run_dir.parent)
    res["files"] = {name: str(run_dir / name) for name in REPORT_FILES}
    return res
