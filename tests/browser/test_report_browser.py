"""The HTML pages open offline in headless Chromium (Debian `chromium`, driven over the DevTools pipe):
the run report of a 20-fault suite shows its verdict and a panel per fault, and every chart draws; the
comparison page and the run index open too; no console error anywhere. Screenshots are saved for
people to look at (reports/screenshots/, or NINESLAB_SCREENSHOTS)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from nineslab.analysis import Assumption
from nineslab.paths import REPO_ROOT
from nineslab.report import write_report
from nineslab.report.build import build_results
from nineslab.report.compare import write_comparison
from nineslab.report.ledger import write_ledger
from nineslab.report.render import to_html
from nineslab.rigs.browser import Browser
from nineslab.rigs.synthetic import fault_results, make_run, make_suite

SHOTS = Path(os.environ.get("NINESLAB_SCREENSHOTS", REPO_ROOT / "reports" / "screenshots"))
DRAWN = "Number(document.body.dataset.chartsDrawn || 0)"


def draw_all(b: Browser, timeout: float = 30) -> int:
    """Scroll down the page in steps (charts draw when they come near the screen); charts drawn."""
    height = int(b.evaluate("document.documentElement.scrollHeight"))
    total = int(b.evaluate("Number(document.body.dataset.charts)"))
    end = time.monotonic() + timeout
    y = 0
    while time.monotonic() < end and int(b.evaluate(DRAWN)) < total:
        y = min(y + 900, height)
        b.evaluate(f"window.scrollTo(0, {y})")
        time.sleep(0.15)
    return int(b.evaluate(DRAWN))


def test_a_suite_report_shows_its_verdict_a_panel_per_fault_and_every_chart(tmp_path: Path) -> None:
    run = make_suite(tmp_path, faults=20, rate=200)
    rates = {f"fault-{k:02d}": Assumption(1, 600, "t") for k in range(1, 21)}
    (run / "report.html").write_text(to_html(build_results(run, rates)))
    SHOTS.mkdir(parents=True, exist_ok=True)
    with Browser() as b:
        b.open((run / "report.html").as_uri(), DRAWN + " >= 2")
        verdict = b.evaluate("document.getElementById('verdict').textContent")
        assert verdict.startswith("UNPROVEN") and "more clean baseline requests" in verdict
        assert b.evaluate("document.getElementById('verdict').className") == "verdict fail", "no green unless proven"
        assert b.evaluate("document.querySelectorAll('section.panel').length") == 20
        assert b.evaluate("document.querySelectorAll('section.panel .expected').length") == 20
        assert b.evaluate("Number(document.body.dataset.charts)") == 22  # timeline, budget, 20 panels
        b.screenshot(SHOTS / "report-top.png")
        assert draw_all(b) == 22, "every chart draws when scrolled to"
        assert b.evaluate("document.querySelectorAll('#fault-20 .main-svg').length") > 0
        b.evaluate("document.getElementById('fault-1').scrollIntoView()")
        b.screenshot(SHOTS / "report-panel.png")
        assert b.console_errors() == []
    assert (SHOTS / "report-top.png").stat().st_size > 20_000


def test_the_compare_page_and_the_run_index_open_without_errors(tmp_path: Path) -> None:
    os.environ["NINESLAB_REPORTS_DIR"] = str(tmp_path)
    try:
        results = []
        for topo, target, outage in (("1az", 0.999, (5.0, 6.0)), ("3dc", 0.99999, (5.0, 5.5))):
            (tmp_path / topo).mkdir()
            run = make_run(tmp_path / topo, outage=outage, topology=topo, target=target)
            dest = run.rename(tmp_path / f"20260101-00000{len(results)}-suite-{topo}")
            results.append(write_report(dest, None))
        cmp_dir = write_comparison(results)
    finally:
        del os.environ["NINESLAB_REPORTS_DIR"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    with Browser() as b:
        b.open((cmp_dir / "compare.html").as_uri(), DRAWN + " >= 2")
        assert b.evaluate("document.querySelectorAll('.main-svg .bars .point').length") >= 4  # grouped bars
        b.screenshot(SHOTS / "compare.png")
        assert b.console_errors() == []
        b.open((tmp_path / "index.html").as_uri(), "document.readyState === 'complete'")
        links = b.evaluate("Array.from(document.querySelectorAll('td a')).map(a => a.getAttribute('href'))")
        assert links == [
            f"{cmp_dir.name}/compare.html",
            "20260101-000001-suite-3dc/report.html",
            "20260101-000000-suite-1az/report.html",
        ]
        b.open((tmp_path / links[1]).as_uri(), DRAWN + " >= 1")
        assert "FAIL" in b.evaluate("document.getElementById('verdict').textContent")
        b.screenshot(SHOTS / "index-linked-report.png")
        assert b.console_errors() == []


def test_the_ledger_page_draws_each_mechanism_s_saving_and_the_index_links_it(tmp_path: Path) -> None:
    on = fault_results("on", {"bad-route": (0.3, 0.0, 1.3), "gateway-pause": (0.0, 0.0, 0.0)})
    off = {
        "guarded_push": fault_results("g", {"bad-route": (12.4, 1.0, 2409.6)}),
        "fast_ejection": fault_results("f", {"gateway-pause": (1.8, 0.0, 7.2)}),
    }
    os.environ["NINESLAB_REPORTS_DIR"] = str(tmp_path)
    try:
        run = write_ledger("2az", 200.0, {"guarded_push": ["bad-route"], "fast_ejection": ["gateway-pause"]}, on, off)
    finally:
        del os.environ["NINESLAB_REPORTS_DIR"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    with Browser() as b:
        b.open((run / "ledger.html").as_uri(), DRAWN + " >= 1")
        assert b.evaluate("document.querySelectorAll('.main-svg .bars .point').length") >= 2  # one bar per saving
        assert "guarded_push" in b.evaluate("document.body.textContent")
        b.screenshot(SHOTS / "ledger.png")
        assert b.console_errors() == []
        b.open((tmp_path / "index.html").as_uri(), "document.readyState === 'complete'")
        links = b.evaluate("Array.from(document.querySelectorAll('td a')).map(a => a.getAttribute('href'))")
        assert links == [f"{run.name}/ledger.html"]
