"""Results from a run (build) and their renderings (render, compare)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nineslab.defaults import SLO_MS
from nineslab.runs import Run, resolve_run, write_json

__all__ = ["write_report"]


def write_report(run: str | Path | None, assumptions: str | None = None, slo_ms: float = SLO_MS) -> dict[str, Any]:
    """Analyse a run and write results.json, report.md, report.html, junit.xml into its directory."""
    from nineslab.report.build import build_results, load_assumptions
    from nineslab.report.index import write_index
    from nineslab.report.render import to_html, to_junit, to_markdown

    run_dir = resolve_run(str(run) if run is not None else None)
    res = build_results(run_dir, load_assumptions(Path(assumptions) if assumptions else None), slo_ms=slo_ms)
    stored = Run(run_dir)
    write_json(stored.results, res)
    stored.report_md.write_text(to_markdown(res))
    stored.report_html.write_text(to_html(res))
    stored.junit.write_text(to_junit(res))
    write_index(run_dir.parent)
    res["files"] = {p.name: str(p) for p in (stored.report_html, stored.report_md, stored.results, stored.junit)}
    return res
