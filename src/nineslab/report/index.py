"""reports/index.html: every run in the store, newest first, each linked to its report — rewritten after
each report and comparison (like Jepsen's store browser), and served by `nineslab serve`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nineslab.analysis.verdict import label
from nineslab.report.render import page
from nineslab.runs import Run, reports_root

INDEX_FILE = "index.html"
STAMP_LEN = len("20261126-132321")


def run_kind(name: str) -> str:
    """What made a run, from its directory name `<stamp>-<label>`."""
    lbl = name[STAMP_LEN + 1 :]
    for prefix in ("suite", "compare", "ledger", "calibration", "load"):
        if lbl == prefix or lbl.startswith(prefix + "-"):
            return prefix
    return "experiment"


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def run_rows(root: Path) -> list[dict[str, Any]]:
    """One row per run directory; a run without a report yet (running, or interrupted before one was
    written) is listed without a link."""
    rows = []
    runs = [
        p for p in root.iterdir() if p.is_dir() and not p.is_symlink() and p.name[:STAMP_LEN].replace("-", "").isdigit()
    ]
    for run in sorted(runs, key=lambda p: p.name, reverse=True):
        stamp = run.name[:STAMP_LEN]
        row = {
            "run": run.name,
            "started": f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]} {stamp[9:11]}:{stamp[11:13]}:{stamp[13:15]} UTC",
            "kind": run_kind(run.name),
            "topology": "",
            "verdict": "no report",
            "nines": "",
            "nines_lo": "",
            "link": None,
        }
        res = _read(Run(run).results)
        cmp = _read(Run(run).compare_json)
        if res.get("verdict"):
            proj = res.get("projection", {})
            row.update(
                topology=res.get("topology", ""),
                verdict=label(res["verdict"]),
                nines=f"{proj.get('nines', 0):.2f}",
                nines_lo=f"{proj.get('nines_lo', 0):.2f}",
                link=f"{run.name}/report.html" if Run(run).report_html.exists() else None,
            )
        elif (ledger := _read(Run(run).ledger_json)).get("rows") is not None:
            saved = ledger.get("saved_minutes_per_year", {})
            row.update(
                topology=ledger.get("topology", ""),
                verdict=", ".join(f"{m}: {v:.1f} min/yr" for m, v in saved.items()) or "nothing saved",
                link=f"{run.name}/ledger.html" if Run(run).ledger_html.exists() else None,
            )
        elif cmp.get("topologies"):
            row.update(
                topology=", ".join(t["topology"] for t in cmp["topologies"]),
                verdict=", ".join(f"{t['topology']}: {label(t['verdict'])}" for t in cmp["topologies"]),
                link=f"{run.name}/compare.html" if Run(run).compare_html.exists() else None,
            )
        rows.append(row)
    return rows


def write_index(root: Path | None = None) -> Path:
    root = root or reports_root()
    root.mkdir(parents=True, exist_ok=True)
    path = root / INDEX_FILE
    tmp = path.with_name(".index.html.tmp")
    tmp.write_text(page("index.html.j2", {}, runs=run_rows(root), where=str(root)))
    tmp.replace(path)
    return path
