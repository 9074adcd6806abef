"""Side by side: the same fault schedule on several topologies -> one comparison (md, html, json)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from nineslab.report.render import pct
from nineslab.runs import new_run_dir, write_json

SCHEMA = "nineslab.compare/1"


def compare_results(results: list[dict[str, Any]]) -> dict[str, Any]:
    faults: list[str] = []
    for res in results:
        for f in res["faults"]:
            if f["fault"] not in faults:
                faults.append(f["fault"])
    rows = []
    for name in faults:
        row: dict[str, Any] = {"fault": name}
        for res in results:
            f = next((x for x in res["faults"] if x["fault"] == name), None)
            row[res["topology"]] = (
                None
                if f is None
                else {
                    "error_seconds": f["impact"]["error_seconds"],
                    "time_to_recover_s": f["impact"]["time_to_recover_s"],
                    "steady_error_ratio": f["impact"]["steady"]["error_ratio"],
                }
            )
        rows.append(row)
    return {
        "schema": SCHEMA,
        "topologies": [
            {
                "topology": r["topology"],
                "run": r["run"],
                "target": r["target"],
                "measured": r["requests"]["value"],
                "measured_ci95": r["requests"]["ci95"],
                "time_1s": r["time_1s"]["value"],
                "projected": r["projection"]["availability"],
                "projected_nines": r["projection"]["nines"],
                "verdict": r["verdict"],
                "biggest_eater": r["projection"]["biggest_eater"],
                "complete": r["complete"],
            }
            for r in results
        ],
        "faults": rows,
    }


def compare_markdown(cmp: dict[str, Any]) -> str:
    topos = [t["topology"] for t in cmp["topologies"]]
    out = ["# nineslab comparison", "", "| | " + " | ".join(topos) + " |", "|---|" + "---|" * len(topos)]
    for label, key, fmt in (
        ("target", "target", lambda v: pct(v, 3)),
        ("measured (requests)", "measured", pct),
        ("measured (1 s windows)", "time_1s", pct),
        ("projected", "projected", lambda v: pct(v, 5)),
        ("projected nines", "projected_nines", lambda v: f"{v:.2f}"),
        ("verdict", "verdict", str),
        ("biggest budget eater", "biggest_eater", str),
    ):
        out.append(f"| {label} | " + " | ".join(fmt(t[key]) for t in cmp["topologies"]) + " |")
    out += [
        "",
        "## Error-seconds per fault",
        "",
        "| fault | " + " | ".join(topos) + " |",
        "|---|" + "---|" * len(topos),
    ]
    for row in cmp["faults"]:
        cells = ["not run" if row[t] is None else f"{row[t]['error_seconds']:.2f}" for t in topos]
        out.append(f"| {row['fault']} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def compare_html(cmp: dict[str, Any]) -> str:
    md = compare_markdown(cmp)
    rows = []
    for line in md.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
        elif line.startswith("#"):
            rows.append(f"</table><h2>{html.escape(line.lstrip('# '))}</h2><table>")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>nineslab comparison</title>'
        "<style>body{font-family:sans-serif;margin:2em}td{border:1px solid #ccc;padding:3px 8px}"
        "table{border-collapse:collapse}</style></head><body><table>" + "".join(rows) + "</table></body></html>\n"
    )


def write_comparison(results: list[dict[str, Any]]) -> Path:
    cmp = compare_results(results)
    run_dir = new_run_dir("compare")
    (run_dir / "samples").rmdir()
    write_json(run_dir / "compare.json", cmp)
    (run_dir / "compare.md").write_text(compare_markdown(cmp))
    (run_dir / "compare.html").write_text(compare_html(cmp))
    return run_dir
