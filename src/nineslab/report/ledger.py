"""The nines ledger as a page: per escape mechanism, the faults it addresses with it on and off —
error-seconds, steady impact, projected downtime per year — and what it saves (pure rows; the chart
in charts.ledger_figure; written to a run directory of the store like a comparison)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nineslab.report.charts import ledger_figure
from nineslab.report.index import write_index
from nineslab.report.render import page, secs, table
from nineslab.runs import Run
from nineslab.runs.store import new_run_dir, write_json


def _measure(results: dict[str, Any], fault: str) -> dict[str, Any] | None:
    """One fault's figures in one run's results: error-seconds, steady ratio, projected s/year (None
    without a rate), measured; None when the run did not run it."""
    found = [f for f in results.get("faults", []) if f["fault"] == fault]
    if not found:
        return None
    worst = max(found, key=lambda f: f["impact"]["error_seconds"])  # as the projection counts a repeat
    term = next((t for t in results.get("projection", {}).get("terms", []) if t["fault"] == fault), None)
    return {
        "error_seconds": worst["impact"]["error_seconds"],
        "steady": worst["impact"]["steady"]["error_ratio"],
        "annual_s": term["annual_downtime_s"] if term else None,
        "measured": bool(worst["impact"].get("measured")),
        "run": results.get("run"),
    }


def ledger_rows(
    planned: dict[str, list[str]], on: dict[str, Any], off: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """One row per (mechanism, fault): on / off figures and what the mechanism saves."""
    rows = []
    for mechanism, faults in planned.items():
        for fault in faults:
            a, b = _measure(on, fault), _measure(off.get(mechanism, {}), fault)
            saved_es = b["error_seconds"] - a["error_seconds"] if a and b else None
            has_rate = a is not None and b is not None and a["annual_s"] is not None and b["annual_s"] is not None
            saved_s = b["annual_s"] - a["annual_s"] if has_rate and a and b else None
            rows.append(
                {
                    "mechanism": mechanism,
                    "fault": fault,
                    "on": a,
                    "off": b,
                    "saved_error_seconds": saved_es,
                    "saved_minutes_per_year": saved_s / 60 if saved_s is not None else None,
                    "measured": bool(a and b and a["measured"] and b["measured"]),
                }
            )
    return rows


def totals(rows: list[dict[str, Any]]) -> dict[str, float]:
    """mechanism -> projected minutes/year it saves (faults without a rate do not count)."""
    out: dict[str, float] = {}
    for r in rows:
        out[r["mechanism"]] = out.get(r["mechanism"], 0.0) + (r["saved_minutes_per_year"] or 0.0)
    return out


def _cell(x: dict[str, Any] | None) -> str:
    if x is None:
        return "not run"
    steady = f"{(x['steady'] or 0) * 100:.1f} %"
    flag = "" if x["measured"] else " (unmeasured)"
    return f"{x['error_seconds']:.2f} es, steady {steady}{flag}"


def table_rows(rows: list[dict[str, Any]]) -> list[list[str]]:
    out = []
    for r in rows:
        per_year = [secs(x["annual_s"]) if x and x["annual_s"] is not None else "no rate" for x in (r["on"], r["off"])]
        saved = r["saved_minutes_per_year"]
        out.append(
            [
                r["mechanism"],
                r["fault"],
                _cell(r["on"]),
                _cell(r["off"]),
                f"{r['saved_error_seconds']:.2f}" if r["saved_error_seconds"] is not None else "—",
                f"{per_year[0]} / {per_year[1]}",
                f"{saved:.1f}" if saved is not None else "—",
            ]
        )
    return out


def write_ledger(
    topology: str, rate: float, planned: dict[str, list[str]], on: dict[str, Any], off: dict[str, dict[str, Any]]
) -> Path:
    rows = ledger_rows(planned, on, off)
    ledger = {
        "topology": topology,
        "rate": rate,
        "runs": {"on": on.get("run"), **{m: r.get("run") for m, r in off.items()}},
        "rows": rows,
        "saved_minutes_per_year": totals(rows),
        "complete": all(r["measured"] for r in rows),
    }
    run_dir = new_run_dir(f"ledger-{topology}")
    Run(run_dir).samples.rmdir()
    write_json(Run(run_dir).ledger_json, ledger)
    header = ["mechanism", "fault", "on", "off", "es saved", "per year on / off", "min/year saved"]
    html = page(
        "ledger.html.j2", {"fig-ledger": ledger_figure(ledger)}, ledger=ledger, rows=table(header, table_rows(rows))
    )
    Run(run_dir).ledger_html.write_text(html)
    write_index(run_dir.parent)
    return run_dir
