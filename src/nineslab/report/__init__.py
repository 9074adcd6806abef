"""Run store (reports/<run-id>/ + reports/latest), results from a run, and their renderings."""

from nineslab.report.store import new_run_dir, reports_root, resolve_run

__all__ = ["new_run_dir", "reports_root", "resolve_run", "write_report"]


def write_report(run: str | None, assumptions: str | None = None, slo_ms: float = 1000.0) -> dict[str, object]:
    """Analyse a run and write results.json, report.md, report.html, junit.xml into its directory."""
    from pathlib import Path

    from nineslab.report.build import build_results, load_assumptions
    from nineslab.report.render import to_html, to_junit, to_markdown
    from nineslab.report.store import write_json

    run_dir = resolve_run(run)
    res = build_results(run_dir, load_assumptions(Path(assumptions) if assumptions else None), slo_ms=slo_ms)
    write_json(run_dir / "results.json", res)
    (run_dir / "report.md").write_text(to_markdown(res))
    (run_dir / "report.html").write_text(to_html(res))
    (run_dir / "junit.xml").write_text(to_junit(res))
    res["files"] = {name: str(run_dir / name) for name in ("report.html", "report.md", "results.json", "junit.xml")}
    return res
