"""The report of a run: numbers match the recorded samples; renderings carry the verdict."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from nineslab.analysis import Assumption
from nineslab.report.build import SCHEMA, build_results
from nineslab.report.render import to_html, to_junit, to_markdown
from nineslab.rigs.synthetic import make_run
from tests.unit.cli_run import CliResult, run_cli


def test_results_match_the_samples(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    res = build_results(run, {"lb-kill": Assumption(1, 600, "test")})
    assert res["schema"] == SCHEMA and res["complete"]
    assert (res["requests"]["good"], res["requests"]["total"]) == (1700, 2000)
    assert res["outage_count"] == 1 and res["outages"][0]["seconds"] == pytest.approx(3.0, abs=1e-6)
    f = res["faults"][0]
    assert f["fault"] == "lb-kill" and f["impact"]["error_seconds"] == pytest.approx(3.0, abs=0.011)
    assert res["errors"] == {"refused": 300}
    assert set(res["by"]["lb"]) == {"lb-a", "lb-b", "(none)"}
    # steady impact 100 % -> 600 s per event, once a year, against 99.99 % (3153.6 s): PASS
    # 0 failures in the 499 requests outside the fault window: the point estimate meets the target, but
    # 3/499 as a bound over the rest of the year does not: not proven.
    assert res["projection"]["meets_target"] and res["verdict"] == "UNPROVEN"
    # the window opens one request deadline (2 s) before the fault lands: 200 fewer baseline requests
    assert res["projection"]["baseline"]["requests"] == 499 and res["projection"]["baseline"]["failed"] == 0
    assert res["projection"]["terms"][0]["annual_downtime_s"] == pytest.approx(600.0, abs=0.5)


def test_back_to_back_faults_do_not_charge_each_other(tmp_path: Path) -> None:
    run = make_run(tmp_path)  # lb-kill: every request fails from 5 s to 8 s
    t0 = 1_000_000.0
    earlier = [  # a harmless fault that recovers at 2 s: its 10 s after-recovery window would reach 12 s
        {"fault": "app-kill", "phase": "inject", "start": t0 + 1, "end": t0 + 1.001, "hosts": ["app-a"], "hold_s": 1},
        {"fault": "app-kill", "phase": "recover", "start": t0 + 1.999, "end": t0 + 2},
    ]
    events = run / "faults.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in earlier) + events.read_text())
    res = build_results(run, {"lb-kill": Assumption(1, 600, "test"), "app-kill": Assumption(1, 600, "test")})
    first, second = res["faults"]
    assert first["fault"] == "app-kill" and first["impact"]["error_seconds"] == 0.0
    # cut where the next fault's window opens: its inject (5 s) less the 2 s request deadline
    assert first["impact"]["after_s"] == pytest.approx(1.0) and first["impact"]["time_to_recover_s"] == 0.0
    assert second["impact"]["error_seconds"] == pytest.approx(3.0, abs=0.011)
    assert second["impact"]["after_s"] == pytest.approx(10.0)


def test_an_interrupted_run_is_marked_incomplete(tmp_path: Path) -> None:
    res = build_results(make_run(tmp_path, finished=False), {})
    assert not res["complete"] and "INCOMPLETE" in res["verdict"]
    assert any("did not finish" in r for r in res["incomplete_reasons"])
    assert "INCOMPLETE RUN" in to_markdown(res) and "INCOMPLETE RUN" in to_html(res)


def test_renderings_carry_the_verdict(tmp_path: Path) -> None:
    res = build_results(make_run(tmp_path), {"lb-kill": Assumption(100, 3600, "test")})
    assert not res["projection"]["meets_target"] and res["verdict"] == "FAIL"
    md, page = to_markdown(res), to_html(res)
    assert md.splitlines()[2].startswith("**FAIL: 95 % bound")
    assert 'id="verdict" class="verdict fail"' in page and 'data-figure="fig-timeline"' in page
    # self-contained: plotly.js inline, nothing loaded from anywhere
    assert not re.search(r"""<(script|img|link|iframe)[^>]*(src|href)=["']?(https?:)?//""", page), "no external asset"
    assert page.count("<script>") == 2 and "Plotly.newPlot" in page
    suite = ET.fromstring(to_junit(res))
    names = [c.get("name") for c in suite.iter("testcase")]
    assert names == ["lb-kill", "tier-verdict"]
    assert suite.get("failures") == "1"


def _report(run: Path, rates: str, *extra: str) -> CliResult:
    """`nineslab report RUN` with an assumptions file holding `rates` for lb-kill."""
    assumptions = run.parent / "a.yaml"
    assumptions.write_text(f"version: 1\nfaults:\n  lb-kill: {{{rates}, source: t}}\n")
    return run_cli(
        "report", run.name, "--assumptions", str(assumptions), *extra, env={"NINESLAB_REPORTS_DIR": str(run.parent)}
    )


def test_report_cli_writes_files_and_exits_by_verdict(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    res = _report(run, "events_per_year: 100, repair_s: 3600")
    assert res.returncode == 1 and res.stdout.startswith("FAIL: 95 % bound")
    for name in ("report.html", "report.md", "results.json", "junit.xml"):
        assert (run / name).is_file()
    assert json.loads((run / "results.json").read_text())["schema"] == SCHEMA
    res = _report(run, "events_per_year: 1, repair_s: 60")
    assert res.returncode == 1 and res.stdout.startswith("UNPROVEN"), "same run, new verdict: not proven, not 0"
    assert "more clean baseline requests" in res.stdout.splitlines()[0]
    assert _report(run, "events_per_year: 1, repair_s: 60", "--require", "point").returncode == 0
    (run / "outcome.json").unlink()  # the run itself did not finish: 4, whatever its projection
    assert _report(run, "events_per_year: 1, repair_s: 60").returncode == 4


def test_a_waf_tier_run_counts_what_went_unfiltered_and_every_run_shows_latency_during_the_hold(
    tmp_path: Path,
) -> None:
    run = make_run(tmp_path, outage=(5.0, 8.0))
    t0 = 1_000_000.0
    lines = ["start,lag_ms,latency_ms,status,error,lb,gateway,app,zone,waf"]
    for i in range(2000):  # every request answered; while the fault is held none went through a WAF
        t = i * 0.01
        held = 5.0 <= t < 8.0
        lines.append(f"{t0 + t:.6f},0,{40.0 if held else 4.0},200,,lb-a,gw-a,app-a,east-a,{'' if held else 'waf-a'}")
    (run / "samples" / "samples-client-1.csv").write_text("\n".join(lines) + "\n")
    before = {"topology": "3dc-waf", "target": 0.99999, "hosts": [{"name": "waf-a", "role": "waf"}]}
    (run / "status-before.json").write_text(json.dumps(before))
    res = build_results(run, {})
    assert res["waf"] == {"answered": 2000, "unfiltered": 300, "share": 0.15}
    fault = res["faults"][0]
    assert fault["unfiltered"]["unfiltered"] == 300 and fault["unfiltered"]["share"] == 1.0
    assert fault["latency"]["before"]["p99"] == pytest.approx(4.0) and fault["latency"]["during"]["p50"] == 40.0
    md = to_markdown(res)
    assert "served unfiltered (past the WAF tier): 300 of 2,000 (15.00 %)" in md
    assert "| 4/4 → 40/40 ms | 300 of 300 (100.00 %) |" in md
    assert "served unfiltered (past the WAF)" in to_html(res)
    plain = build_results(make_run(tmp_path / "plain"), {})
    assert plain["waf"] is None and "past the WAF" not in to_markdown(plain)


def test_a_run_on_machines_shows_their_clocks_and_its_workers_and_opens_windows_at_the_stamped_acts(
    tmp_path: Path,
) -> None:
    run = make_run(tmp_path)
    t0 = 1_000_000.0
    events = [json.loads(line) for line in (run / "faults.jsonl").read_text().splitlines()]
    # the machines acted 40 ms after the operator's stamps (their clocks corrected)
    events[0] |= {"acted": {"lb-a": t0 + 5.04}, "acted_start": t0 + 5.04, "acted_error_s": 0.0002}
    events[1] |= {"recovered": {"lb-a": t0 + 7.98}, "recovered_end": t0 + 7.98}
    (run / "faults.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    (run / "clocks.json").write_text(json.dumps({"lb-a": {"offset_ms": 1.5, "error_ms": 0.2}}))
    (run / "load.json").write_text(json.dumps({"rate": 100, "workers": ["client", "client-2"], "master": "x:1"}))
    res = build_results(run, {"lb-kill": Assumption(100, 3600, "test")})
    fault = res["faults"][0]
    assert fault["effective_start"] == t0 + 5.04 and fault["recover_end"] == t0 + 7.98
    # a run made before offsets were kept in seconds still reads: its milliseconds come back as seconds
    assert fault["clock"]["acted_error_s"] == 0.0002 and res["clocks"]["lb-a"] == {
        "offset_s": 0.0015,
        "error_s": 0.0002,
    }
    page = to_html(res)
    assert "lb-a +1.5 ±0.2 ms" in page and "2 workers on client, client-2" in page
    plain = build_results(make_run(tmp_path / "plain"), {"lb-kill": Assumption(100, 3600, "test")})
    assert plain["clocks"] == {} and plain["faults"][0]["clock"] is None and "clocks (machine" not in to_html(plain)
