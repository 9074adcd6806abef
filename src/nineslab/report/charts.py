"""What the report draws, as data (pure): results -> Plotly figure specs, the plain {data, layout} dicts
that plotly.js renders. Kept apart from the templates so each chart's numbers can be unit-tested."""

from __future__ import annotations

from typing import Any

from nineslab.analysis.core import AFTER_RECOVERY_S

FAULT_FILL = "rgba(244, 162, 97, 0.25)"
BLUE, RED, GREY, GREEN = "#2c7fb8", "#c0392b", "#555555", "#2a9d8f"
# Three stacked plots over one time axis: requests/s, error ratio, p99 latency.
ROWS = (("requests/s", "rps", BLUE, "y"), ("error ratio", "error_ratio", RED, "y2"), ("p99 ms", "p99_ms", GREY, "y3"))
DOMAINS = {"yaxis": [0.7, 1.0], "yaxis2": [0.36, 0.64], "yaxis3": [0.0, 0.3]}


def _x(series: dict[str, Any], offset: float) -> list[float]:
    """Bin centres, in seconds from `offset`."""
    t0, w = series["t0"], series["bin_s"]
    return [round(t0 + (k + 0.5) * w - offset, 3) for k in range(len(series["rps"]))]


def _stacked(series: dict[str, Any], offset: float, xtitle: str, height: int) -> dict[str, Any]:
    x = _x(series, offset)
    data = [
        # steps, not slopes: each value holds for its whole bin
        {"type": "scatter", "mode": "lines", "name": name, "x": x, "y": series[key], "yaxis": ax, "line": {"color": c}}
        for name, key, c, ax in ROWS
    ]
    for trace in data:
        trace["line"]["shape"] = "hvh"
    layout: dict[str, Any] = {
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 30, "b": 40},
        "showlegend": False,
        "hovermode": "x unified",
        # one time axis for the three plots, drawn under the lowest
        "xaxis": {"title": {"text": xtitle}, "ticks": "outside", "showgrid": True, "zeroline": False, "anchor": "y3"},
        "shapes": [],
        "annotations": [],
    }
    for (name, key, _, _), (axis, domain) in zip(ROWS, DOMAINS.items(), strict=True):
        layout[axis] = {"domain": domain, "title": {"text": name}, "ticks": "outside", "rangemode": "tozero"}
        if key == "error_ratio":
            layout[axis].update(range=[0, 1.05], tickformat=".0%")
    return {"data": data, "layout": layout}


def _fault_band(x0: float, x1: float) -> dict[str, Any]:
    """A fault window shaded behind all three plots."""
    return {
        "type": "rect",
        "xref": "x",
        "yref": "paper",
        "x0": x0,
        "x1": x1,
        "y0": 0,
        "y1": 1,
        "fillcolor": FAULT_FILL,
        "line": {"width": 0},
        "layer": "below",
    }


def fault_marks(res: dict[str, Any]) -> list[dict[str, Any]]:
    """Numbered fault windows in seconds since the run's first request (the timeline's legend)."""
    t0 = res["timeline"]["t0"]
    return [
        {
            "n": i,
            "fault": f["fault"],
            "x0": round(f["inject_start"] - t0, 3),
            "x1": round((f["recover_end"] if f["recover_end"] is not None else f["inject_start"]) - t0, 3),
        }
        for i, f in enumerate(res["faults"], 1)
    ]


def timeline_figure(res: dict[str, Any]) -> dict[str, Any]:
    """The whole run: three stacked plots, fault windows shaded and numbered (names on hover and in the
    legend table below the chart, so twenty labels never overprint)."""
    tl = res["timeline"]
    fig = _stacked(tl, tl["t0"], "seconds since the first request", 520)
    for m in fault_marks(res):
        fig["layout"]["shapes"].append(_fault_band(m["x0"], max(m["x1"], m["x0"] + 0.5)))
        fig["layout"]["annotations"].append(
            {
                "x": m["x0"],
                "y": 1.0,
                "xref": "x",
                "yref": "paper",
                "yanchor": "bottom",
                "xanchor": "left",
                "text": str(m["n"]),
                "hovertext": m["fault"],
                "showarrow": False,
                "font": {"size": 11},
            }
        )
    return fig


def panel_figure(fault: dict[str, Any]) -> dict[str, Any]:
    """One fault from shortly before its inject to the end of its after-recovery window, in seconds from
    the inject; the hold shaded, inject / recovered / window-end marked."""
    inject = fault["inject_start"]
    fig = _stacked(fault["panel"], inject, "seconds from inject", 330)
    recovered = fault["recover_end"] - inject if fault["recover_end"] is not None else None
    marks = [(0.0, "inject", RED)]
    if recovered is not None:
        marks += [(recovered, "recovered", GREEN), (recovered + AFTER_RECOVERY_S, "window end", GREY)]
        fig["layout"]["shapes"].append(_fault_band(0, recovered))
    for x, text, colour in marks:
        fig["layout"]["shapes"].append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": round(x, 3),
                "x1": round(x, 3),
                "y0": 0,
                "y1": 1,
                "line": {"color": colour, "width": 1, "dash": "dot" if text == "window end" else "solid"},
            }
        )
        fig["layout"]["annotations"].append(
            {
                "x": round(x, 3),
                "y": 1.0,
                "xref": "x",
                "yref": "paper",
                "yanchor": "bottom",
                "text": text,
                "showarrow": False,
                "font": {"size": 10, "color": colour},
            }
        )
    return fig


def budget_bars(projection: dict[str, Any]) -> list[dict[str, Any]]:
    """Projected annual downtime per term (faults and the baseline), point and 95 % bound, biggest
    eater by the bound (what the verdict is judged on) first."""
    parts = [
        {"name": t["fault"], "point_s": t["annual_downtime_s"], "bound_s": t["annual_downtime_hi_s"]}
        for t in projection["terms"]
    ]
    b = projection["baseline"]
    parts.append(
        {"name": "baseline (no fault)", "point_s": b["annual_downtime_s"], "bound_s": b["annual_downtime_hi_s"]}
    )
    return sorted(parts, key=lambda p: (-p["bound_s"], -p["point_s"], p["name"]))


def budget_figure(projection: dict[str, Any]) -> dict[str, Any]:
    """Horizontal bars of budget_bars against the tier's yearly budget (log scale: the terms span five
    orders of magnitude)."""
    bars = budget_bars(projection)
    names = [b["name"] for b in bars]
    budget = projection["error_budget_s"]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "name": "point estimate",
                "y": names,
                "x": [round(b["point_s"], 3) for b in bars],
                "marker": {"color": BLUE},
            },
            {
                "type": "bar",
                "orientation": "h",
                "name": "95 % upper bound",
                "y": names,
                "x": [round(b["bound_s"], 3) for b in bars],
                "marker": {"color": "rgba(44, 127, 184, 0.35)"},
            },
        ],
        "layout": {
            "height": 140 + 22 * len(bars),
            "barmode": "group",
            "margin": {"l": 190, "r": 20, "t": 30, "b": 50},
            "xaxis": {
                "type": "log",
                "title": {"text": "projected downtime, seconds per year (log)"},
                "ticks": "outside",
            },
            "yaxis": {"autorange": "reversed", "automargin": True},
            "legend": {"orientation": "h", "y": 1.08},
            "shapes": [
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "paper",
                    "x0": budget,
                    "x1": budget,
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": RED, "width": 2, "dash": "dash"},
                }
            ],
            "annotations": [
                {
                    "x": budget,
                    "y": 1.0,
                    "xref": "x",
                    "yref": "paper",
                    "yanchor": "bottom",
                    "text": f"budget {budget:,.0f} s/year",
                    "showarrow": False,
                    "font": {"color": RED},
                }
            ],
        },
    }


def compare_figures(cmp: dict[str, Any]) -> list[dict[str, Any]]:
    """The comparison page: projected nines (point, bound) against each target; per-fault error-seconds
    grouped by topology."""
    topos = [t["topology"] for t in cmp["topologies"]]
    nines = {
        "data": [
            {
                "type": "bar",
                "name": "projected nines",
                "x": topos,
                "y": [t["projected_nines"] for t in cmp["topologies"]],
            },
            {
                "type": "bar",
                "name": "95 % bound",
                "x": topos,
                "y": [t.get("projected_nines_lo") for t in cmp["topologies"]],
            },
            {
                "type": "scatter",
                "mode": "markers",
                "name": "target",
                "x": topos,
                "y": [t["target_nines"] for t in cmp["topologies"]],
                "marker": {"symbol": "line-ew-open", "size": 40, "color": RED, "line": {"width": 3}},
            },
        ],
        "layout": {
            "height": 360,
            "barmode": "group",
            "yaxis": {"title": {"text": "nines"}, "rangemode": "tozero"},
            "margin": {"t": 30},
        },
    }
    faults = [row["fault"] for row in cmp["faults"]]
    per_fault = {
        "data": [
            {
                "type": "bar",
                "name": topo,
                "x": faults,
                "y": [None if row[topo] is None else round(row[topo]["error_seconds"], 3) for row in cmp["faults"]],
            }
            for topo in topos
        ],
        "layout": {
            "height": 420,
            "barmode": "group",
            "yaxis": {"title": {"text": "error-seconds"}, "rangemode": "tozero"},
            "xaxis": {"tickangle": -40, "automargin": True},
            "margin": {"t": 30},
        },
    }
    return [nines, per_fault]


def ledger_figure(ledger: dict[str, Any]) -> dict[str, Any]:
    """Minutes per year each mechanism saves, stacked by the fault that earns it (faults with a rate)."""
    mechanisms = list(ledger["saved_minutes_per_year"])
    faults = sorted({r["fault"] for r in ledger["rows"] if r["saved_minutes_per_year"] is not None})
    data = []
    for fault in faults:
        by = {r["mechanism"]: r["saved_minutes_per_year"] for r in ledger["rows"] if r["fault"] == fault}
        data.append({"type": "bar", "name": fault, "x": mechanisms, "y": [by.get(m) for m in mechanisms]})
    return {
        "data": data,
        "layout": {
            "height": 380,
            "barmode": "relative",
            "yaxis": {"title": {"text": "projected minutes / year saved"}},
            "margin": {"t": 30},
        },
    }
