"""results -> report.md, junit.xml, and report.html from Jinja2 templates with Plotly charts (one
self-contained file: plotly.js and the chart data inline, no external asset)."""

from __future__ import annotations

import functools
import html
import json
from typing import Any
from xml.sax.saxutils import quoteattr

import jinja2
from markupsafe import Markup

from nineslab.analysis.verdict import OLD_NAMES, PARTIAL, PASS, UNPROVEN, label, verdict_reasons
from nineslab.report import charts


def pct(x: float | None, digits: int = 4) -> str:
    return "n/a" if x is None else f"{x * 100:.{digits}f} %"


def secs(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f} s"


def millis(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f} ms"


def _ci(r: dict[str, Any]) -> str:
    lo, hi = r["ci95"]
    return f"{pct(r['value'])} (95% CI {pct(lo, 3)}–{pct(hi, 3)}, n={r['total']})"


def latency_change(f: dict[str, Any]) -> str:
    """p50/p99 before the fault -> during its hold, in ms (runs analysed before this existed: n/a)."""
    lat = f.get("latency")
    if not lat:
        return "n/a"

    def pair(d: dict[str, Any]) -> str:
        return "—" if d["p50"] is None else f"{d['p50']:.0f}/{d['p99']:.0f}"

    return f"{pair(lat['before'])} → {pair(lat['during'])} ms"


def unfiltered_text(u: dict[str, Any] | None) -> str:
    """Answered requests no WAF saw (sent past the WAF tier): count and share."""
    if not u:
        return "n/a"
    return f"{u['unfiltered']:,} of {u['answered']:,} ({pct(u['share'], 2)})"


def consistency_text(c: dict[str, Any] | None) -> str:
    """etcd's hash check after the run, in words."""
    if not c:
        return "not checked (no outcome)"
    word = {True: "consistent", False: "INCONSISTENT", None: "not checked"}[c.get("consistent")]
    return f"{word}: {c.get('reason', '')}"


def fault_header(res: dict[str, Any]) -> list[str]:
    return FAULT_HEADER + (["served unfiltered (past the WAF)"] if res.get("waf") else [])


def fault_rows(res: dict[str, Any]) -> list[list[str]]:
    waf_tier = bool(res.get("waf"))
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
                f"{imp.get('stalled_s', 0.0):.2f}s",
                secs(imp["time_to_recover_s"]),
                pct(imp["steady"]["error_ratio"], 2),
                pct(imp["after"]["error_ratio"], 2),
                latency_change(f),
            ]
            + ([unfiltered_text(f.get("unfiltered"))] if waf_tier else [])
        )
    return rows


FAULT_HEADER = [
    "fault",
    "kind",
    "hosts",
    "hold",
    "error-seconds",
    "load generator stalled",
    "time to recover",
    "steady impact",
    "impact after recovery",
    "p50/p99 before → hold",
]


PROJECTION_HEADER = [
    "term",
    "events/year",
    "break-even events/year",
    "repair",
    "95 % bound",
    "annual downtime (point)",
    "bound's budget share",
    "transition (runs)",
    "stalls widen the bound by",
    "more requests for the bound (faults: steady, at their ratio; baseline: clean)",
    "source",
]


def _needed(part: dict[str, Any], rate: float | None) -> str:
    n = part.get("requests_needed")
    if n is None:
        return "— (the point estimate alone misses)"
    if n == 0:
        return "0"
    return f"{n:,}" + (f" (~{n / rate / 60:.0f} min at {rate:g} req/s)" if rate else "")


def _share(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:.1f} %"


def _transition(t: dict[str, Any]) -> str:
    """The transition's point and, over K runs, its spread; a fault measured once says so."""
    if "runs" not in t:  # a results/2 term
        return "n/a"
    lo, hi = t["transition_spread_s"]
    if t["runs"] == 1:
        return f"{t['transition_error_s']:.2f}s (one run)"
    return f"{t['transition_error_s']:.2f}s mean, {lo:.2f}–{hi:.2f}s over {t['runs']} runs"


def _break_even(t: dict[str, Any]) -> str:
    """With every other term as it is; and for this term alone (when the others use the budget already,
    the first is 0 for every term)."""
    be = t.get("break_even_events_per_year")
    if be is None:
        return "∞ (costs nothing)" if "break_even_events_per_year" in t else "n/a"
    alone = t.get("break_even_alone_events_per_year")
    return f"{be:.3g}" + ("" if alone is None else f" (alone: {alone:.3g})")


def projection_rows(res: dict[str, Any]) -> list[list[str]]:
    """One row per projected fault and one for the baseline (no fault under way), bound first."""
    p = res["projection"]
    rate = (res.get("load") or {}).get("rate")
    rows = [
        [
            t["fault"],
            f"{t['events_per_year']:g}",
            _break_even(t),
            f"{t['repair_s']:g}s",
            f"{t['annual_downtime_hi_s']:.1f}s",
            f"{t['annual_downtime_s']:.1f}s",
            _share(t.get("budget_share_hi")),
            _transition(t),
            f"{t.get('stall_widening_s', 0.0):.1f}s ({t.get('stalled_s', 0.0):.2f}s stalled)",
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
            "",
            f"{b['seconds']:.0f}s",
            f"{b['annual_downtime_hi_s']:.1f}s",
            f"{b['annual_downtime_s']:.1f}s (error ratio {pct(b['error_ratio'], 4)} of {b['requests']:,})",
            _share(b.get("budget_share_hi")),
            "",
            f"{b.get('stall_widening_s', 0.0):.1f}s ({b.get('stalled_s', 0.0):.2f}s stalled, "
            f"{b.get('stalled', 0):,} requests)",
            _needed(b, rate),
            "measured outside every fault window",
        ]
    )
    return rows


def missing_evidence(res: dict[str, Any]) -> str:
    """What an UNPROVEN or PARTIAL verdict lacks, in one sentence (empty for the others)."""
    v = OLD_NAMES.get(res["verdict"], res["verdict"])
    if v == PARTIAL:
        parts = []
        if res.get("not_run"):
            parts.append(f"run {', '.join(res['not_run'])}")
        if res.get("unrated"):
            parts.append(f"give {', '.join(res['unrated'])} a rate in the assumptions file")
        return "missing: " + "; ".join(parts)
    if v != UNPROVEN:
        return ""
    p = res["projection"]
    rate = (res.get("load") or {}).get("rate")
    parts = []
    b = p["baseline"].get("requests_needed")
    if b:
        parts.append(
            f"{b:,} more clean baseline requests"
            + (f" (about {b / rate / 60:.0f} min at {rate:g} req/s)" if rate else "")
        )
    for t in p["terms"]:
        n = t.get("requests_needed")
        if n:
            parts.append(f"{n:,} more steady requests of {t['fault']} (a longer hold)")
    widen = p.get("stall_widening_s", 0.0)
    if widen > 0:
        parts.append(f"fewer load-generator stalls (they widen the bound by {widen:.1f} s/year)")
    return "missing: " + ("; ".join(parts[:4]) if parts else "more evidence")


def headline(res: dict[str, Any]) -> str:
    """The verdict and the bound first, then the point estimate, the margin and the biggest eater (by
    the bound); an UNPROVEN or PARTIAL verdict says what evidence it lacks."""
    p = res["projection"]
    text = (
        f"{label(res['verdict'])}: 95 % bound {pct(p['availability_lo'], 5)} ({p['nines_lo']:.2f} nines) against "
        f"the {res['topology']} target {pct(p['target'], 3)}; projected {pct(p['availability'], 5)} "
        f"({p['nines']:.2f} nines); margin {p['margin_hi_s'] / 60:+.1f} min/year by the bound "
        f"({p['margin_s'] / 60:+.1f} by the point); biggest budget eater: {p['biggest_eater'] or 'none'}"
    )
    missing = missing_evidence(res)
    return f"{text}; {missing}" if missing else text


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
        *([f"- served unfiltered (past the WAF tier): {unfiltered_text(res['waf'])}"] if res.get("waf") else []),
        f"- etcd after the run (endpoint hashkv): {consistency_text(res.get('etcd_consistency'))}",
        "",
        "Rules: " + "; ".join(f"{k}: {v}" for k, v in res["rules"].items()),
        "",
        "## Per fault",
        "",
        "| " + " | ".join(fault_header(res)) + " |",
        "|" + "---|" * len(fault_header(res)),
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
    if res.get("unrated"):
        out += ["", f"Not projected (no rate in the assumptions): {', '.join(res['unrated'])}"]
    out += ["", "## By zone / LB / gateway", ""]
    for key, table in res["by"].items():
        out.append(
            f"- {key}: " + ", ".join(f"{name} {pct(r['value'], 3)} (n={r['total']})" for name, r in table.items())
        )
    return "\n".join(out) + "\n"


def table(header: list[str], rows: list[list[str]]) -> Markup:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return Markup(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


@functools.cache
def templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("nineslab.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a missing value is a bug in nineslab, not an empty cell
    )
    # JSON inside <script>: "</" would end the element early.
    env.filters["tojson_script"] = lambda v: Markup(json.dumps(v, separators=(",", ":")).replace("</", "<\\/"))
    return env


@functools.cache
def plotly_js() -> str:
    """plotly.js, embedded once per page: the file opens offline and every chart zooms."""
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


def page(template: str, figures: dict[str, dict[str, Any]], **context: Any) -> str:
    """A self-contained HTML page: the template, plotly.js (when it has charts) and its figures' data."""
    return (
        templates()
        .get_template(template)
        .render(figures=figures, plotly_js=Markup(plotly_js()) if figures else "", **context)
    )


def panel_facts(res: dict[str, Any]) -> list[dict[str, Any]]:
    """The text beside each fault's panel: what was done, what it cost, what the catalogue expected."""
    out = []
    for i, f in enumerate(res["faults"], 1):
        imp = f["impact"]
        steady = imp["steady"]
        lo, hi = steady.get("ci95") or (None, None)
        out.append(
            {
                "n": i,
                "fault": f["fault"],
                "kind": f["kind"],
                "op": f.get("op", ""),
                "hosts": ", ".join(f["hosts"]) or "—",
                "hold": f"{f['hold_s']:g} s",
                "error_seconds": f"{imp['error_seconds']:.3f}",
                "stalled": f"{imp.get('stalled_s', 0.0):.2f} s ({imp.get('stall_share', 0.0):.1%} of its window)",
                "ttr": secs(imp["time_to_recover_s"]),
                "steady": pct(steady["error_ratio"], 2),
                # the CI is of availability; the impact's interval is its mirror image
                "steady_ci": "n/a" if lo is None or hi is None else f"{pct(1 - hi, 2)}–{pct(1 - lo, 2)}",
                "steady_n": steady["total"],
                "after": pct(imp["after"]["error_ratio"], 2),
                "latency": latency_change(f),
                "unfiltered": unfiltered_text(f.get("unfiltered")) if res.get("waf") else None,
                "expected": f.get("expected") or "not stated in the catalogue",
                "measured": imp.get("measured", True),
                "unmeasured_because": imp.get("unmeasured_because", []),
            }
        )
    return out


def to_html(res: dict[str, Any]) -> str:
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
        [
            "load generator stalls",
            f"{res['client']['stalls']} ({res['client']['stall_seconds']:.2f} s, "
            f"{res['client']['left_out_requests']:,} requests left out of the point and failed in the bound; "
            f"largest share of a fault window {res['client'].get('max_stall_share', 0.0):.1%})",
        ],
    ]
    if res.get("waf"):
        measured.append(["served unfiltered (past the WAF tier)", unfiltered_text(res["waf"])])
    measured.append(["etcd after the run (endpoint hashkv)", consistency_text(res.get("etcd_consistency"))])
    figures = {"fig-budget": charts.budget_figure(res["projection"])}
    if res["timeline"]["rps"]:
        figures["fig-timeline"] = charts.timeline_figure(res)
    for i, f in enumerate(res["faults"], 1):
        figures[f"fig-fault-{i}"] = charts.panel_figure(f)
    return page(
        "report.html.j2",
        figures,
        res=res,
        headline=headline(res),
        reasons=verdict_reasons(res),
        verdict_class="pass" if res["verdict"] == PASS else "fail",
        marks=charts.fault_marks(res),
        panels=panel_facts(res),
        tables={
            "faults": table(fault_header(res), fault_rows(res)),
            "projection": table(PROJECTION_HEADER, projection_rows(res)),
            "measured": table(["measure", "value"], measured),
            "by": {
                k: table([k, "availability", "n"], [[n, pct(r["value"], 3), str(r["total"])] for n, r in t.items()])
                for k, t in res["by"].items()
            },
        },
    )


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
    consistency = res.get("etcd_consistency") or {}
    if consistency:
        text = quoteattr(consistency_text(consistency))
        failure = f"<failure message={text}/>" if consistency.get("consistent") is False else ""
        cases.append(f'<testcase classname="etcd" name="etcd-consistency">{failure}</testcase>')
    verdict = quoteattr(headline(res))
    ok = res["verdict"] == PASS
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
