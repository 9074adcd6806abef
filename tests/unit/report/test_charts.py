"""What each chart draws, from a synthetic run with a known outage; every figure is a valid Plotly
figure; the run index lists runs newest first; `serve` answers on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import pytest

from nineslab.analysis import Assumption
from nineslab.report import charts, write_report
from nineslab.report.build import build_results
from nineslab.report.compare import compare_html, compare_results
from nineslab.report.index import run_kind, run_rows, write_index
from nineslab.report.serve import serve
from nineslab.rigs.synthetic import make_run

T0 = 1_000_000.0  # the synthetic run's first request


@pytest.fixture()
def res(tmp_path: Path) -> dict[str, Any]:
    # 100 req/s for 20 s; every request fails from 5.0 to 8.0 s (lb-kill held 3 s).
    return build_results(make_run(tmp_path), {"lb-kill": Assumption(2, 900, "t")})


def test_the_fault_panel_spans_5s_before_inject_to_the_end_of_its_window(res: dict[str, Any]) -> None:
    fig = charts.panel_figure(res["faults"][0])
    rps, err, p99 = fig["data"]
    x = rps["x"]
    assert x[0] == pytest.approx(-4.75) and x[-1] == pytest.approx(3.0 + 10.0 - 0.25)  # 0.5 s bins, centred
    by_x = dict(zip(x, err["y"], strict=True))
    assert by_x[-0.25] == 0.0 and by_x[0.25] == 1.0 and by_x[2.75] == 1.0 and by_x[3.25] == 0.0
    assert set(rps["y"]) == {100.0}, "100 req/s in every bin: the open loop kept firing through the outage"
    marks = {a["text"]: a["x"] for a in fig["layout"]["annotations"]}
    assert marks == {"inject": 0.0, "recovered": pytest.approx(3.0), "window end": pytest.approx(13.0)}
    go.Figure(fig)  # a valid Plotly figure (raises on an unknown property)


def test_the_timeline_numbers_faults_instead_of_printing_their_names(res: dict[str, Any]) -> None:
    fig = charts.timeline_figure(res)
    assert [a["text"] for a in fig["layout"]["annotations"]] == ["1"]
    assert fig["layout"]["annotations"][0]["hovertext"] == "lb-kill"
    assert charts.fault_marks(res) == [{"n": 1, "fault": "lb-kill", "x0": 5.0, "x1": 8.0}]
    assert fig["layout"]["xaxis"]["title"]["text"] == "seconds since the first request"
    assert len(fig["data"][0]["x"]) == 20 and sum(fig["data"][0]["y"]) == 2000  # 1 s bins: every request
    go.Figure(fig)


def test_the_budget_chart_puts_the_biggest_eater_first_with_point_and_bound() -> None:
    projection = {
        "terms": [
            {"fault": "small", "annual_downtime_s": 1.0, "annual_downtime_hi_s": 50.0},
            {"fault": "big", "annual_downtime_s": 900.0, "annual_downtime_hi_s": 1000.0},
        ],
        "baseline": {"annual_downtime_s": 10.0, "annual_downtime_hi_s": 400.0},
        "error_budget_s": 315.36,
    }
    bars = charts.budget_bars(projection)
    assert [b["name"] for b in bars] == ["big", "baseline (no fault)", "small"]
    fig = charts.budget_figure(projection)
    assert fig["data"][0]["x"] == [900.0, 10.0, 1.0] and fig["data"][1]["x"] == [1000.0, 400.0, 50.0]
    assert fig["layout"]["shapes"][0]["x0"] == 315.36
    go.Figure(fig)


def test_compare_charts_group_error_seconds_by_topology(tmp_path: Path) -> None:
    results = []
    for topo, target, outage in (("1az", 0.999, (5.0, 6.0)), ("3dc", 0.99999, (5.0, 5.5))):
        (tmp_path / topo).mkdir()
        results.append(build_results(make_run(tmp_path / topo, outage=outage, topology=topo, target=target), {}))
    cmp = compare_results(results)
    nines, per_fault = charts.compare_figures(cmp)
    assert [t["name"] for t in per_fault["data"]] == ["1az", "3dc"]
    assert per_fault["data"][0]["y"] == [pytest.approx(1.0, abs=0.02)]
    assert per_fault["data"][1]["y"] == [pytest.approx(0.5, abs=0.02)]
    assert nines["data"][2]["y"] == [pytest.approx(3.0), pytest.approx(5.0)]  # the targets
    go.Figure(nines), go.Figure(per_fault)
    assert compare_html(cmp).count('data-figure="fig-compare-') == 2


def test_the_index_lists_runs_newest_first_with_their_verdicts(tmp_path: Path) -> None:
    first = make_run(tmp_path)
    write_report(first)
    later = tmp_path / "20260102-000000-suite-2az"
    first.rename(later)
    (tmp_path / "20260103-120000-load" / "samples").mkdir(parents=True)  # no report (yet)
    (tmp_path / "latest").symlink_to(later.name)
    rows = run_rows(tmp_path)
    assert [(r["run"], r["kind"], r["link"]) for r in rows] == [
        ("20260103-120000-load", "load", None),
        ("20260102-000000-suite-2az", "suite", "20260102-000000-suite-2az/report.html"),
    ]
    assert rows[1]["verdict"].startswith(("FAIL", "PASS", "PARTIAL", "UNPROVEN")) and rows[1]["topology"] == "2az"
    assert rows[0]["started"] == "2026-01-03 12:00:00 UTC"
    page = write_index(tmp_path).read_text()
    assert page.index("20260103-120000-load") < page.index("20260102-000000-suite-2az")
    assert [run_kind(f"20260101-000000-{x}") for x in ("calibration-hang-2s", "gateway-kill", "compare")] == [
        "calibration",
        "experiment",
        "compare",
    ]


def test_serve_answers_with_the_index_on_localhost(tmp_path: Path) -> None:
    write_report(make_run(tmp_path))
    said: list[str] = []
    thread = threading.Thread(target=serve, args=(tmp_path, 0, said.append, 3.0), daemon=True)
    thread.start()
    deadline = time.monotonic() + 3
    while not said and time.monotonic() < deadline:
        time.sleep(0.05)
    url = said[0].split(" at ")[1].split(" ")[0]
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url, timeout=2) as r:
        assert "20260101-000000-synthetic/report.html" in r.read().decode()
    with urllib.request.urlopen(url.replace("index.html", "20260101-000000-synthetic/results.json"), timeout=2) as r:
        assert json.loads(r.read())["topology"] == "2az"
    thread.join(5)
    assert not thread.is_alive(), "--for ends the server by itself"


def test_serve_on_a_port_in_use_is_a_one_line_error(tmp_path: Path) -> None:
    from tests.unit.cli_run import run_cli

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        res = run_cli("serve", "--port", str(port), "--for", "1", env={"NINESLAB_REPORTS_DIR": str(tmp_path)})
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    assert f"--port {port}" in res.stderr and "pick another port" in res.stderr
    assert not (tmp_path / "index.html").exists(), "a refused serve changes nothing"
