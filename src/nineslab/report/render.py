"""results -> report.md, report.html (self-contained: inline SVG, no script, no external asset), junit.xml."""

from __future__ import annotations

import html
from typing import Any
from xml.sax.saxutils import quoteattr

from nineslab.analysis.verdict import PASS, PASS_POINT, label, verdict_reasons


def pct(x: float | None, digits: int = 4) -> str:
    return "n/a" if x is None else f"{x * 100:.{digits}f} %"


def secs(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f} s"


def millis(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f} ms"


def _ci(r: dict[str, Any]) -> str:
    lo, hi = r["ci95"]
    return f"{pct(r['value'])} (95% CI {pct(lo, 3)}–{pct(hi, 3)}, n={r['total']})"


def fault_rows(res: dict[str, Any]) -> list[list[str]]:
    rows = []
    for f in res["faults"]:
        imp = f["impact"]
        rows.append(
            [
                f["fault"] if imp.get("measured", True) else f"{f['fault']} (UNMEASURED)",
                f["kind"],
                ", ".join(f["hosts"]),
                f"{f['hold_s']:g}s",
                f"{imp['error_seconds']:.3f}",
                secs(imp["time_to_recover_s"]),
                pct(imp["steady"]["error_ratio"], 2),
                pct(imp["after"]["error_ratio"], 2),
            ]
        )
    return rows


FAULT_HEADER = [
    "fault",
    "kind",
    "hosts",
    "hold",
    "error-seconds",
    "time to recover",
    "steady impact",
    "impact after recovery",
]


PROJECTION_HEADER = [
    "term",
    "events/year",
    "repair",
    "downtime/event",
    "annual downtime",
    "95 % bound",
    "budget share",
    "more requests for the bound",
    "source",
]


def _needed(part: dict[str, Any], rate: float | None) -> str:
    n = part.get("requests_needed")
    if n is None:
        return "— (the point estimate alone misses)"
    if n == 0:
        return "0"
    return f"{n:,}" + (f" (~{n / rate / 60:.0f} min at {rate:g} req/s)" if rate else "")


def projection_rows(res: dict[str, Any]) -> list[list[str]]:
    """One row per projected fault and one for the baseline (no fault under way)."""
    p = res["projection"]
    rate = (res.get("load") or {}).get("rate")
    rows = [
        [
            t["fault"],
            f"{t['events_per_year']:g}",
            f"{t['repair_s']:g}s",
            f"{t['downtime_per_event_s']:.2f}s",
            f"{t['annual_downtime_s']:.1f}s",
            f"{t['annual_downtime_hi_s']:.1f}s",
            "n/a" if t["budget_share"] is None else f"{t['budget_share'] * 100:.1f} %",
            _needed(t, rate),
            t["source"],
        ]
        for t in p["terms"]
    ]
    b = p["baseline"]
    rows.append(
        [
            "baseline (no fault)",
            "",
            f"{b['seconds']:.0f}s",
            f"error ratio {pct(b['error_ratio'], 4)} of {b['requests']}",
            f"{b['annual_downtime_s']:.1f}s",
            f"{b['annual_downtime_hi_s']:.1f}s",
            "",
            _needed(b, rate),
            "measured outside every fault window",
        ]
    )
    return rows


def headline(res: dict[str, Any]) -> str:
    p = res["projection"]
    return (
        f"{label(res['verdict'])}: projected {pct(p['availability'], 5)} ({p['nines']:.2f} nines; 95 % bound "
        f"{pct(p['availability_lo'], 5)}) against the {res['topology']} target {pct(p['target'], 3)}; "
        f"margin {p['margin_s'] / 60:+.1f} min/year (bound {p['margin_hi_s'] / 60:+.1f}); "
        f"biggest budget eater: {p['biggest_eater'] or 'none'}"
    )


def to_markdown(res: dict[str, Any]) -> str:
    p = res["projection"]
    out = [f"# nineslab report — run {res['run']} ({res['topology']})", "", f"**{headline(res)}**", ""]
    for reason in verdict_reasons(res):
        out += [f"> {reason}", ""]
    out += [
        "## Measured",
        "",
        f"- request-based availability: {_ci(res['requests'])}",
        f"- time-based (1 s windows): {_ci(res['time_1s'])}, empty windows {res['time_1s']['empty_windows']}",
        f"- time-based (100 ms windows): {_ci(res['time_100ms'])}, empty windows {res['time_100ms']['empty_windows']}",
        f"- longest gap between successes: {secs(res['longest_gap_s'])}; outages: {res['outage_count']}",
        f"- latency of HTTP successes: p50 {millis(res['latency_ms']['p50'])}, p99 {millis(res['latency_ms']['p99'])}",
        f"- errors: {res['errors'] or 'none'}",
        "",
        "Rules: " + "; ".join(f"{k}: {v}" for k, v in res["rules"].items()),
        "",
        "## Per fault",
        "",
        "| " + " | ".join(FAULT_HEADER) + " |",
        "|" + "---|" * len(FAULT_HEADER),
    ]
    out += ["| " + " | ".join(r) + " |" for r in fault_rows(res)]
    out += [
        "",
        "## Annual projection",
        "",
        p["model"],
        "",
        "| " + " | ".join(PROJECTION_HEADER) + " |",
        "|" + "---|" * len(PROJECTION_HEADER),
    ]
    out += ["| " + " | ".join(row) + " |" for row in projection_rows(res)]
    if p["not_projected"]:
        out += ["", f"Not projected (no assumption): {', '.join(p['not_projected'])}"]
    out += ["", "## By zone / LB / gateway", ""]
    for key, table in res["by"].items():
        out.append(
            f"- {key}: " + ", ".join(f"{name} {pct(r['value'], 3)} (n={r['total']})" for name, r in table.items())
        )
    return "\n".join(out) + "\n"


def _svg_timeline(res: dict[str, Any]) -> str:
    tl = res["timeline"]
    n = len(tl["rps"])
    if n == 0:
        return "<p>No samples.</p>"
    width, left, h, gap = 960, 60, 110, 30

    def x(t: float) -> float:
        return float(left + (t - tl["t0"]) / max(n, 1) * (width - left - 10))

    series = [
        ("requests/s", tl["rps"], None),
        ("error ratio", tl["error_ratio"], 1.0),
        ("p99 latency ms", tl["p99_ms"], None),
    ]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{3 * (h + gap) + 20}" role="img" '
        f'aria-label="timeline">'
    ]
    for f in res["faults"]:
        x0, x1 = x(f["inject_start"]), x(f["recover_end"])
        parts.append(
            f'<rect x="{x0:.1f}" y="0" width="{max(1.0, x1 - x0):.1f}" height="{3 * (h + gap)}" '
            f'fill="#f4a261" fill-opacity="0.25"><title>{html.escape(f["fault"])}</title></rect>'
        )
        parts.append(
            f'<text x="{x0 + 2:.1f}" y="{3 * (h + gap) + 14}" font-size="10" '
            f'transform="rotate(0)">{html.escape(f["fault"])}</text>'
        )
    for i, (name, values, fixed_max) in enumerate(series):
        top = i * (h + gap) + 14
        vals = [v for v in values if v is not None]
        vmax = fixed_max or (max(vals) if vals else 1.0) or 1.0
        parts.append(f'<text x="4" y="{top - 2}" font-size="12" font-weight="bold">{name}</text>')
        parts.append(f'<line x1="{left}" y1="{top + h}" x2="{width - 10}" y2="{top + h}" stroke="#999"/>')
        parts.append(f'<text x="4" y="{top + 10}" font-size="10">{vmax:.3g}</text>')
        pts = [
            f"{x(tl['t0'] + k + 0.5):.1f},{top + h - (v / vmax) * h:.1f}" for k, v in enumerate(values) if v is not None
        ]
        colour = "#c0392b" if name == "error ratio" else "#2c7fb8"
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{" ".join(pts)}"/>')
    parts.append("</svg>")
    return "".join(parts)


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def to_html(res: dict[str, Any]) -> str:
    p = res["projection"]
    cls = "pass" if res["verdict"] in (PASS, PASS_POINT) else "fail"
    proj_rows = projection_rows(res)
    incomplete = "".join(f'<p class="warn">{html.escape(reason)}</p>' for reason in verdict_reasons(res))
    measured = [
        ["request-based", _ci(res["requests"])],
        ["time-based, 1 s windows", _ci(res["time_1s"]) + f", empty windows {res['time_1s']['empty_windows']}"],
        [
            "time-based, 100 ms windows",
            _ci(res["time_100ms"]) + f", empty windows {res['time_100ms']['empty_windows']}",
        ],
        ["longest gap between successes", secs(res["longest_gap_s"])],
        ["outages", str(res["outage_count"])],
        ["latency p50 / p99 (HTTP successes)", " / ".join(millis(res["latency_ms"][p]) for p in ("p50", "p99"))],
        ["errors", ", ".join(f"{k}: {v}" for k, v in res["errors"].items()) or "none"],
    ]
    by_tables = "".join(
        f"<h3>{html.escape(k)}</h3>"
        + _table([k, "availability", "n"], [[n, pct(r["value"], 3), str(r["total"])] for n, r in t.items()])
        for k, t in res["by"].items()
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>nineslab report {html.escape(res["run"])}</title>
<style>
body{{font-family:sans-serif;margin:2em;max-width:1000px}} table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}}
.verdict{{font-size:1.3em;padding:.6em;border-radius:4px}}
.pass{{background:#d8f3dc}} .fail{{background:#ffd6d6}} .warn{{color:#a00;font-weight:bold}} small{{color:#555}}
</style></head><body>
<h1>nineslab report — {html.escape(res["topology"])}</h1>
<div id="verdict" class="verdict {cls}">{html.escape(headline(res))}</div>
{incomplete}
<p><small>run {html.escape(res["run"])}; SLO {res["slo_ms"]:g} ms; {html.escape(p["model"])}</small></p>
<h2>Timeline</h2><p><small>per second; shaded: fault windows (inject → recovered)</small></p>
{_svg_timeline(res)}
<h2>Per fault</h2>{_table(FAULT_HEADER, fault_rows(res))}
<h2>Annual projection</h2>
{_table(PROJECTION_HEADER, proj_rows)}
<h2>Measured</h2>{_table(["measure", "value"], measured)}
<p><small>{html.escape("; ".join(f"{k}: {v}" for k, v in res["rules"].items()))}</small></p>
<h2>By zone, LB, gateway</h2>
{by_tables}
</body></html>
"""


def to_junit(res: dict[str, Any]) -> str:
    cases = []
    for f in res["faults"]:
        after = f["impact"]["after"]["error_ratio"]
        name = quoteattr(f["fault"])
        detail = (
            f"error-seconds {f['impact']['error_seconds']:.3f}, time to recover "
            f"{secs(f['impact']['time_to_recover_s'])}, impact after recovery {pct(after, 2)}"
        )
        if after is not None and after > 0.01:
            cases.append(
                f'<testcase classname="faults" name={name}>'
                f"<failure message={quoteattr('did not recover: ' + detail)}/></testcase>"
            )
        else:
            cases.append(
                f'<testcase classname="faults" name={name}><system-out>{html.escape(detail)}</system-out></testcase>'
            )
    verdict = quoteattr(headline(res))
    ok = res["verdict"] in (PASS, PASS_POINT)
    cases.append(
        '<testcase classname="tier" name="tier-verdict">'
        + ("" if ok else f"<failure message={verdict}/>")
        + "</testcase>"
    )
    failures = sum("<failure" in c for c in cases)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name={quoteattr("nineslab " + res["topology"])} '
        f'tests="{len(cases)}" failures="{failures}">\n' + "\n".join(cases) + "\n</testsuite>\n"
    )
