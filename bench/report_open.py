"""How fast the HTML report of a real-sized suite opens: a synthetic 3dc suite of 20 faults at
200 req/s (about 170,000 samples) is analysed and rendered, then opened in headless Chromium over
the DevTools pipe — cold (a fresh browser each time, no code cache) and warm (the same browser again),
and a blank page in the same browser as the floor. Opened = the verdict shown and the charts of the
first screen drawn. Goal (report issue): under 2 s. Prints the figures; no lab needed.
usage: .venv/bin/python bench/report_open.py [--runs 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from nineslab.analysis import Assumption
from nineslab.report.build import build_results
from nineslab.report.render import to_html
from nineslab.rigs.browser import Browser
from nineslab.rigs.synthetic import make_suite

READY = "Number(document.body && document.body.dataset.chartsDrawn || 0) >= 2"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="nineslab-bench-") as tmp:
        run = make_suite(Path(tmp), faults=20, rate=200)
        started = time.monotonic()
        res = build_results(run, {f"fault-{k:02d}": Assumption(1, 600, "bench") for k in range(1, 21)})
        analysed = time.monotonic() - started
        page = to_html(res)
        rendered = time.monotonic() - started - analysed
        path = run / "report.html"
        path.write_text(page)
        cold, warm, blank = [], [], []
        for _ in range(args.runs):
            with Browser() as b:
                cold.append(b.open(path.as_uri(), READY))
                warm.append(b.open(path.as_uri(), READY))
                blank.append(b.open("data:text/html,<p>blank</p>", "!!document.body"))
        figures = {
            "samples": int(res["requests"]["total"]),
            "faults": len(res["faults"]),
            "report_bytes": path.stat().st_size,
            "analyse_s": round(analysed, 3),
            "render_s": round(rendered, 3),
            "open_cold_s": [round(x, 3) for x in cold],
            "open_cold_median_s": round(statistics.median(cold), 3),
            "open_warm_median_s": round(statistics.median(warm), 3),
            "blank_page_median_s": round(statistics.median(blank), 3),
        }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"report of {figures['faults']} faults, {figures['samples']:,} samples: {figures['report_bytes']:,} bytes")
    print(f"analyse {figures['analyse_s']} s, render {figures['render_s']} s")
    print(
        f"open in headless Chromium: cold median {figures['open_cold_median_s']} s {figures['open_cold_s']}, "
        f"warm {figures['open_warm_median_s']} s, blank page {figures['blank_page_median_s']} s (goal: < 2 s)"
    )


if __name__ == "__main__":
    main()
