"""Side by side: the same fault schedule on several topologies -> one comparison (md, html, json)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from nineslab.analysis.verdict import label
from nineslab.report.charts import compare_figures
from nineslab.report.index import write_index
from nineslab.report.render import page, pct, table, unfiltered_text
from nineslab.runs import Run, new_run_dir, write_json

SCHEMA = "nineslab.compare/2"  # 2: tiers ordered by their 95 % bound; the bound's downtime; verdict labels


def compare_results(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The runs side by side, ordered by their 95 % bound (lowest availability first): the bound is
    what a tier is judged on."""
    results = sorted(results, key=lambda r: r["projection"]["availability_lo"])
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
                "projected_lo": r["projection"]["availability_lo"],
                "projected_nines_lo": r["projection"]["nines_lo"],
                "target_nines": r["projection"]["target_nines"],
                "verdict": label(r["verdict"]),
                "bound_downtime_s": r["projection"]["annual_downtime_hi_s"],
                "biggest_eater": r["projection"]["biggest_eater"],
                "complete": r["complete"],
                "unfiltered": r.get("waf"),  # a WAF tier's price: answered requests no WAF saw (None: no tier)
            }
            for r in results
        ],
        "faults": rows,
    }


SUMMARY_ROWS: list[tuple[str, str, Callable[[Any], str]]] = [
    ("target", "target", lambda v: pct(v, 3)),
    ("measured (requests)", "measured", pct),
    ("measured (1 s windows)", "time_1s", pct),
    ("verdict", "verdict", str),
    ("projected, 95 % bound", "projected_lo", lambda v: pct(v, 5)),
    ("nines, 95 % bound", "projected_nines_lo", lambda v: f"{v:.2f}"),
    ("downtime a year, 95 % bound", "bound_downtime_s", lambda v: f"{v:,.0f} s"),
    ("projected (point)", "projected", lambda v: pct(v, 5)),
    ("projected nines (point)", "projected_nines", lambda v: f"{v:.2f}"),
    ("biggest budget eater (by the bound)", "biggest_eater", str),
    ("served unfiltered (past a WAF tier)", "unfiltered", lambda u: "no WAF tier" if u is None else unfiltered_text(u)),
]


def summary_rows(cmp: dict[str, Any]) -> list[list[str]]:
    """The summary table; the unfiltered row only when one of the runs had a WAF tier."""
    waf = any(t.get("unfiltered") for t in cmp["topologies"])
    rows = [r for r in SUMMARY_ROWS if r[1] != "unfiltered" or waf]
    return [[name] + [fmt(t.get(key)) for t in cmp["topologies"]] for name, key, fmt in rows]


def fault_rows(cmp: dict[str, Any]) -> list[list[str]]:
    topos = [t["topology"] for t in cmp["topologies"]]
    return [
        [row["fault"]] + ["not run" if row[t] is None else f"{row[t]['error_seconds']:.2f}" for t in topos]
        for row in cmp["faults"]
    ]


def compare_markdown(cmp: dict[str, Any]) -> str:
    topos = [t["topology"] for t in cmp["topologies"]]

    def md_table(first: str, rows: list[list[str]]) -> list[str]:
        head = [f"| {first} | " + " | ".join(topos) + " |", "|---|" + "---|" * len(topos)]
        return head + ["| " + " | ".join(r) + " |" for r in rows]

    out = ["# nineslab comparison", "", *md_table("", summary_rows(cmp)), "", "## Error-seconds per fault", ""]
    return "\n".join(out + md_table("fault", fault_rows(cmp))) + "\n"


def compare_html(cmp: dict[str, Any]) -> str:
    topos = [t["topology"] for t in cmp["topologies"]]
    figures = {f"fig-compare-{i}": fig for i, fig in enumerate(compare_figures(cmp))}
    return page(
        "compare.html.j2",
        figures,
        cmp=cmp,
        summary=table(["", *topos], summary_rows(cmp)),
        per_fault=table(["fault", *topos], fault_rows(cmp)),
    )


def write_comparison(results: list[dict[str, Any]]) -> Path:
    cmp = compare_results(results)
    run_dir = new_run_dir("compare")
    Run(run_dir).samples.rmdir()
    write_json(Run(run_dir).compare_json, cmp)
    Run(run_dir).compare_md.write_text(compare_markdown(cmp))
    Run(run_dir).compare_html.write_text(compare_html(cmp))
    write_index(run_dir.parent)
    return run_dir
