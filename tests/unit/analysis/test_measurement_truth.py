"""Known answers on non-uniform synthetic histories: a verdict that cannot pass without evidence.
Each case states the number it expects and why."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nineslab.analysis import Assumption, client_stalls, fault_impact, from_samples, overlapping, within
from nineslab.analysis.projection import requests_for_bound
from nineslab.load.samples import Heartbeat, Sample
from nineslab.report.build import build_results
from nineslab.rigs.synthetic import make_run

T0 = 1_000_000.0


def arrays(points: list[tuple[float, bool]]) -> tuple[np.ndarray, np.ndarray]:
    start = np.array([T0 + t for t, _ in points])
    ok = np.array([good for _, good in points])
    return start, ok


def every(a: float, b: float, step: float, good: bool) -> list[tuple[float, bool]]:
    return [(round(a + i * step, 6), good) for i in range(int(round((b - a) / step)))]


def test_load_that_stops_during_an_outage_is_not_charged_past_its_last_request_and_is_unmeasured() -> None:
    # Requests every 10 ms until 6 s (failing from 5 s), then none: the fault is held 5 -> 8 s.
    start, ok = arrays(every(0, 5, 0.01, True) + every(5, 6, 0.01, False))
    imp = fault_impact(start, ok, T0 + 5, T0 + 8, after_s=2)
    # Charged for 5 -> 6 s (1.0 error-second), not carried forward to 10 s (5.0 error-seconds).
    assert imp["error_seconds"] == pytest.approx(1.0, abs=0.011)
    assert not imp["measured"] and imp["steady"]["total"] == 0
    assert any("steady window" in why for why in imp["unmeasured_because"])


def test_a_thin_window_is_unmeasured() -> None:
    # One request every 500 ms: 80 % of the 100 ms windows are empty.
    start, ok = arrays(every(0, 20, 0.5, True))
    imp = fault_impact(start, ok, T0 + 5, T0 + 10, after_s=2)
    assert not imp["measured"] and "saw no request" in imp["unmeasured_because"][0]


def test_one_late_slow_request_does_not_stretch_time_to_recover() -> None:
    # Held 5 -> 8 s, failing 5 -> 6.5 s; one stray failure 9.5 s after recovery (17.5 s).
    pts = every(0, 5, 0.01, True) + every(5, 6.5, 0.01, False) + every(6.5, 20, 0.01, True)
    pts = [(t, False if t == 17.5 else good) for t, good in pts]
    start, ok = arrays(pts)
    imp = fault_impact(start, ok, T0 + 5, T0 + 8, after_s=10)
    assert imp["time_to_recover_s"] == pytest.approx(1.5, abs=0.011)  # was 12.5 s when the stray counted
    # Nothing failed during the hold: 0, whatever happens after it.
    start, ok = arrays([(t, t != 9.0) for t, _ in every(0, 20, 0.01, True)])
    assert fault_impact(start, ok, T0 + 5, T0 + 8)["time_to_recover_s"] == 0.0


def test_a_request_in_flight_when_the_client_stalls_is_held_up_too() -> None:
    spans = [(T0 + 10.0, T0 + 11.0)]
    start = np.array([T0 + 8.0, T0 + 9.5, T0 + 10.5, T0 + 11.5])
    end = start + np.array([0.2, 2.0, 0.004, 0.004])  # the second hung to its 2 s deadline over the stall
    assert overlapping(start, end, spans).tolist() == [False, True, True, False]
    assert overlapping(start, start, spans).tolist() == within(start, spans).tolist()


def test_client_stalls_from_heartbeat_and_lag() -> None:
    start = np.array([T0 + 1.0, T0 + 2.0, T0 + 3.0])
    lag = np.array([1.0, 120.0, 2.0])  # the second request left 120 ms late
    # an older heartbeat (no wake-up time): its window widened both ways by the lag
    spans = client_stalls([Heartbeat(T0 + 5.1, 300.0), Heartbeat(T0 + 5.2, 2.0)], start, lag, threshold_ms=50)
    assert spans == [(T0 + 2.0, pytest.approx(T0 + 2.12)), (pytest.approx(T0 + 4.7), pytest.approx(T0 + 5.4))]
    assert within(np.array([T0 + 2.05, T0 + 3.0, T0 + 4.9]), spans).tolist() == [True, False, True]
    # a loop stopped 0.6 s from 10.0 s writes its window's scheduled end (10.05 s) only on waking at
    # 10.6 s: the stall is where it woke, not before the window's end
    beat = Heartbeat(T0 + 10.05, 600.0, T0 + 10.6)
    assert client_stalls([beat], start[:0], lag[:0]) == [(pytest.approx(T0 + 10.0), T0 + 10.6)]


def test_bound_needs_about_three_over_n() -> None:
    # 0 failures: the exact one-sided 95 % upper bound is 1 - 0.05^(1/n) ~ 3.0 / n: 2995 requests for 0.1 %.
    need = requests_for_bound(0, 100, 0.001)
    assert need is not None and 2995 <= need <= 2998
    assert requests_for_bound(0, 10_000, 0.001) == 0
    assert requests_for_bound(5, 100, 0.01) is None  # 5 % seen: no amount of it gets under 1 %


def _events(run: Path, events: list[dict[str, object]]) -> None:
    (run / "faults.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))


def test_overlapping_fault_windows_make_the_run_incomplete(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    _events(
        run,
        [
            {"fault": "lb-kill", "phase": "inject", "start": T0 + 5, "hosts": [], "hold_s": 3},
            {"fault": "app-kill", "phase": "inject", "start": T0 + 6, "hosts": [], "hold_s": 1},
            {"fault": "app-kill", "phase": "recover", "start": T0 + 7, "end": T0 + 7},
            {"fault": "lb-kill", "phase": "recover", "start": T0 + 8, "end": T0 + 8},
        ],
    )
    res = build_results(run, {})
    assert res["verdict"] == "INCOMPLETE"
    assert any("overlap: app-kill was injected before lb-kill recovered" in r for r in res["incomplete_reasons"])


def test_a_fault_run_twice_keeps_both_the_mean_is_the_point_and_the_worst_is_in_the_bound(tmp_path: Path) -> None:
    run = make_run(tmp_path, t_end=40.0)  # every request from 5 to 8 s fails
    _events(
        run,
        [
            {"fault": "lb-kill", "phase": "inject", "start": T0 + 5, "hosts": [], "hold_s": 3},
            {"fault": "lb-kill", "phase": "recover", "start": T0 + 8, "end": T0 + 8},
            {"fault": "lb-kill", "phase": "inject", "start": T0 + 20, "hosts": [], "hold_s": 3},
            {"fault": "lb-kill", "phase": "recover", "start": T0 + 23, "end": T0 + 23},
        ],
    )
    res = build_results(run, {"lb-kill": Assumption(1, 60, "t")})
    assert [f["impact"]["error_seconds"] for f in res["faults"]] == [pytest.approx(3.0, abs=0.011), 0.0]
    term = res["projection"]["terms"][0]
    # steady windows pooled: 150 failed of 300; transitions 3.0 - 0.5 x 3 = 1.5 s and 0 s
    assert term["runs"] == 2 and term["steady_error_ratio"] == pytest.approx(0.5)
    assert term["transition_error_s"] == pytest.approx(0.75, abs=0.01)  # the mean in the point
    assert term["transition_error_s_hi"] == pytest.approx(1.5, abs=0.011)  # the worst in the bound
    assert term["transition_spread_s"] == [0.0, pytest.approx(1.5, abs=0.011)]


def test_a_60ms_stall_in_a_fault_window_widens_the_bound_and_leaves_the_run_complete(tmp_path: Path) -> None:
    run = make_run(tmp_path, t_end=40.0)
    rates = {"lb-kill": Assumption(1, 60, "t")}
    clean = build_results(run, rates)
    # The event loop stalled 60 ms up to 2.005 s (no fault) and up to 10.505 s: in lb-kill's window (held
    # 5 -> 8 s, charged to 18 s), where requests succeed again — a stall where all fail would cost nothing.
    beats = f"t,max_lag_ms,woke\n{T0 + 2.0},60,{T0 + 2.005}\n{T0 + 10.5},60,{T0 + 10.505}\n"
    (run / "samples" / "heartbeat-client-1.csv").write_text(beats)
    res = build_results(run, rates)
    # 1.945 -> 2.005 s and 10.445 -> 10.505 s: 6 requests each at 100 req/s
    assert res["client"]["left_out_requests"] == 12 and res["client"]["stall_seconds"] == pytest.approx(0.12)
    imp = res["faults"][0]["impact"]
    assert imp["measured"] and res["complete"] and res["verdict"] != "INCOMPLETE"
    assert imp["stalled_s"] == pytest.approx(0.06) and imp["stall_share"] < 0.1
    # left out of the point, counted as failed in the bound: the point is unchanged, the bound wider
    p, q = res["projection"], clean["projection"]
    assert p["baseline"]["stalled"] == 6 and p["baseline"]["requests"] == q["baseline"]["requests"] - 6
    assert p["annual_downtime_s"] == pytest.approx(q["annual_downtime_s"], rel=1e-3)
    assert p["annual_downtime_hi_s"] > q["annual_downtime_hi_s"] and p["stall_widening_s"] > 0
    assert p["baseline"]["stall_widening_s"] > 0
    assert p["terms"][0]["stall_widening_s"] == pytest.approx(0.06, abs=0.011)  # 1 event x 60 ms failed


def test_stalls_over_a_tenth_of_a_fault_window_make_that_fault_unmeasured(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    # Window: inject 5 s - the 2 s deadline -> recover 8 s + 10 s: 15 s; 2 s of stall is 13 %.
    beats = "".join(f"{T0 + 4.0 + 0.1 * k:.1f},150\n" for k in range(20))
    (run / "samples" / "heartbeat-client-1.csv").write_text("t,max_lag_ms\n" + beats)
    res = build_results(run, {"lb-kill": Assumption(1, 60, "t")})
    imp = res["faults"][0]["impact"]
    assert not imp["measured"] and imp["stall_share"] > 0.1 and res["verdict"] == "INCOMPLETE"
    assert any("load generator itself stalled" in r for r in res["incomplete_reasons"])
    from nineslab.report.render import to_markdown

    assert "lb-kill (UNMEASURED)" in to_markdown(res)


def test_an_unrated_fault_at_full_impact_makes_an_old_run_partial(tmp_path: Path) -> None:
    run = make_run(tmp_path)  # lb-kill: 100 % of requests fail for its whole hold
    res = build_results(run, {})
    assert res["unrated"] == ["lb-kill"] and res["verdict"] == "PARTIAL"
    from nineslab.report.render import headline

    assert "give lb-kill a rate" in headline(res)


def test_latency_counts_from_the_intended_start(tmp_path: Path) -> None:
    # 900 ms late + 200 ms answered is 1.1 s for its user: over a 1 s SLO, failed.
    late = Sample(T0 + 1.0, 200.0, 200, "", "lb-a", "gw-a", "app-a", "east-a", lag_ms=900.0)
    on_time = Sample(T0 + 1.1, 200.0, 200, "", "lb-a", "gw-a", "app-a", "east-a", lag_ms=1.0)
    assert from_samples([late, on_time]).ok(1000.0).tolist() == [False, True]


def test_no_status_before_means_no_target_and_an_incomplete_run(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    (run / "status-before.json").unlink()
    res = build_results(run, {"lb-kill": Assumption(1, 60, "t")})
    assert res["verdict"] == "INCOMPLETE" and any("target" in r for r in res["incomplete_reasons"])


def test_intended_start_is_what_counts(tmp_path: Path) -> None:
    # A request sent 900 ms late (client lag) still belongs where the schedule put it.
    s = Sample(T0 + 1.0, 5.0, 200, "", "lb-a", "gw-a", "app-a", "east-a", lag_ms=900.0)
    assert from_samples([s]).start.tolist() == [T0 + 1.0]


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ("{events_per_year: -1, repair_s: 60, source: x}", "faults.lb-kill.events_per_year: -1 is not a number >= 0"),
        ("{events_per_year: 1, repair_s: soon, source: x}", "faults.lb-kill.repair_s: 'soon' is not a number >= 0"),
        ("{events_per_year: 1, repair_s: 60}", "faults.lb-kill.source: 'missing'"),
        ("{events_per_year: 1, repair_s: 60, source: assumption}", "or write `assumption: ` and the reasoning"),
    ],
)
def test_assumptions_are_checked_with_one_line_errors(tmp_path: Path, entry: str, fragment: str) -> None:
    from nineslab.errors import NinesError
    from nineslab.report.build import load_assumptions

    path = tmp_path / "rates.yaml"
    path.write_text(f"faults:\n  lb-kill: {entry}\n")
    with pytest.raises(NinesError) as err:
        load_assumptions(path)
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_the_shipped_assumptions_all_have_a_source_with_reasoning() -> None:
    from nineslab.report.build import load_assumptions

    rates = load_assumptions()
    from nineslab.faults import load_catalogue

    # Variants of a rated fault (vip-holder-*, zone-power-off-cold-resolver) carry no rate of their own.
    assert set(rates) <= {s.name for s in load_catalogue()} and len(rates) >= 20, "every rate names a fault"
    assert all(len(a.source) > len("assumption: ") for a in rates.values())


def test_a_request_in_flight_when_the_fault_lands_is_the_fault_s_not_the_baseline_s(tmp_path: Path) -> None:
    # The synthetic run's lb-kill lands at 5 s; one request started 0.3 s before it hangs to its 2 s
    # deadline (the LB died under it). It must count against lb-kill, never against the baseline —
    # where one failure in a few hundred requests would be projected over the whole year.
    run = make_run(tmp_path)
    samples = next((run / "samples").glob("samples-*.csv"))
    lines = samples.read_text().splitlines()
    hung = next(i for i, line in enumerate(lines) if line.startswith(f"{T0 + 4.7:.6f}"))
    cols = lines[hung].split(",")  # start, latency_ms, status, error, ...
    cols[1], cols[2], cols[3] = "2001.0", "0", "deadline"
    lines[hung] = ",".join(cols)
    samples.write_text("\n".join(lines) + "\n")
    res = build_results(run, {"lb-kill": Assumption(1, 600, "test")})
    assert res["projection"]["baseline"]["failed"] == 0
    assert res["faults"][0]["impact"]["error_seconds"] == pytest.approx(3.0 + 0.01, abs=0.011)
    assert res["requests"]["total"] - res["requests"]["good"] == 301
