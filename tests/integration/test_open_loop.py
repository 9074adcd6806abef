"""Measurement truth on one real 1az lab (one deploy for both parts).

Calibration: a known outage is injected under load; the report's outage length is within 50 ms of it,
and its availability is exactly what the recorded samples say.

Open-loop load: the client is cut off for 10 s (answers dropped: requests hang; or refused at once),
and the report's request-based availability matches the truth — the share of intended requests whose
intended start fell outside the cut, the cut timed by this test, not by the recorder — within 0.5
percentage points. A closed loop read 99.1 % against a true 91.7 % here."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nineslab import analysis
from nineslab.analysis import checker
from nineslab.lab import Lab
from nineslab.load import read_samples
from nineslab.load.samples import CLIENT_OVERLOAD, read_heartbeats
from tests.integration.conftest import (
    NINESLAB,
    SHARED_NAMES,
    answered_while_dark,
    nineslab,
    nineslab_json,
    shared_lab,
    steady_impact,
    suite_run,
)

SHARED_TOPOLOGY = "1az"
LAB = SHARED_NAMES[SHARED_TOPOLOGY]
CUT_TABLE = f"{LAB}cut"  # in the client namespace
# 2 minutes of load (as the measurement-truth issue asks): a hang's edge is up to ~0.3 s wide (the
# resolver retries the other nameserver after its 1 s timeout, past the end of the cut), 0.25 points of 2 min.
DURATION_S, CUT_AT_S, CUT_S = 120, 40, 10
# hang: answers from the lab are dropped on their way back (lookups and requests hang to the deadline);
# fast: the lab is unreachable from the client (a policy rule), so every connect fails at once. (An
# nft reject on the way out no longer fails fast here: the client's caching resolver answers from its
# cache on its own loopback, and a rejected SYN is only a soft error for connect().)
HANG_RULE = ("input", "ip saddr 198.18.0.0/15 drop")
FAST_RULE = ["rule", "add", "to", "198.18.0.0/15", "unreachable", "priority", "100"]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with shared_lab(SHARED_TOPOLOGY, "netns", tmp_path_factory.mktemp("reports")) as (_, deployed):
        yield deployed


def test_known_outage_is_measured_within_50ms(lab: dict[str, Any]) -> None:
    rows = json.loads(nineslab("calibrate", "--lab", LAB, "--outage", "2", "--json").stdout)
    row = rows[0]
    assert abs(row["true_s"] - 2.0) < 0.05
    assert abs(row["error_ms"]) <= 50, row
    run = Path(row["run"])
    results = json.loads((run / "results.json").read_text())
    samples = read_samples(run / "samples")
    good = sum(1 for s in samples if s.ok and s.lag_ms + s.latency_ms <= results["slo_ms"])  # from the intended start
    # On a busy machine the load generator may stall for a moment outside the outage: those requests are
    # left out (they measure the client, not the estate); every other recorded request is counted.
    left_out = results["client"]["left_out_requests"]
    assert results["complete"] and left_out <= 0.02 * len(samples), (left_out, results["incomplete_reasons"])
    assert results["requests"]["total"] == len(samples) - left_out
    assert good - left_out <= results["requests"]["good"] <= good
    assert results["errors"].get("refused", 0) >= 200 * 2 * 0.8, "the outage was felt by the recorded requests"
    assert results["faults"][0]["fault"] == "calibration-outage"


# On a busy 2-core machine the generator can stall on its own inside the outage's 2 s window (0.35 s has
# been seen, two processes), and the report then rightly calls the fault unmeasured and the run
# incomplete: the machine's stall, not the report's error. Rerun once for that reason only; a wrong
# measurement or a misplaced outage fails at once.
@pytest.mark.flaky(reruns=1, only_rerun=["the load generator itself stalled for .* of its window"])
def test_a_hanging_outage_is_measured_and_a_client_stall_is_not_an_outage(lab: dict[str, Any]) -> None:
    """Connections dropped (they hang to the deadline) for 2 s, and the load generator itself stopped
    (SIGSTOP) for 1 s well before: the outage is measured within 50 ms and every outage reported is in its
    window; the stop is reported as the client's stall, its requests left out, and no fault is charged for it."""
    # Two load processes, as the README advises for hang-type faults on 2 cores: with one, 400 requests
    # hung at once can stall the generator itself 0.15 s inside the outage — a stall of the client, not a
    # property of the report.
    args = ("calibrate", "--lab", LAB, "--outage", "2", "--kind", "hang", "--client-stall", "1", "--processes", "2")
    args = (*args, "--json")
    row = json.loads(nineslab(*args).stdout)[0]
    assert row["kind"] == "hang" and abs(row["error_ms"]) <= 50, row
    # The client's stop is not an outage of the estate: every outage reported is the fault's, within its
    # window (a request in flight when the drop began may fail a few ms before it: a 3 ms sliver there,
    # split from the 2 s outage by a request that got its answer just in time).
    results = json.loads((Path(row["run"]) / "results.json").read_text())
    fault = results["faults"][0]
    deadline = json.loads((Path(row["run"]) / "load.json").read_text())["deadline_s"]
    window = (fault["effective_start"] - deadline, fault["recover_end"] + deadline)
    assert row["outages_reported"] >= 1 and all(
        window[0] <= o["start"] and o["end"] <= window[1] for o in results["outages"]
    ), (window, results["outages"])
    assert row["client_stall_true_s"] <= row["client_stall_reported_s"] < 5, row
    assert results["client"]["left_out_requests"] > 0 and results["complete"], results["incomplete_reasons"]


def test_a_load_generator_stopped_inside_a_fault_window_widens_the_bound_and_the_fault_stays_measured(
    lab: dict[str, Any], tmp_path: Path
) -> None:
    """The load generator stopped on purpose (SIGSTOP/SIGCONT of its process groups) for 0.6 s inside a
    fault's window, 1 s after a 2 s outage: its requests leave the point estimate and count as failed in
    the bound; a stop of 4 % of the window leaves the fault measured and the run complete."""
    args = ("calibrate", "--lab", LAB, "--outage", "2", "--client-stall", "0.6", "--stall-inside", "--json")
    row = json.loads(nineslab(*args, "--processes", "2").stdout)[0]
    stopped, resumed = row["client_stall"]
    run = Path(row["run"])
    # the calibration outage has no catalogue rate: give it one to see its term priced
    rates = tmp_path / "rates.yaml"
    rates.write_text("faults:\n  calibration-outage: {events_per_year: 1, repair_s: 600, source: 'assumption: test'}\n")
    res = nineslab("report", run.name, "--assumptions", str(rates), "--json", check=False)
    results = json.loads(res.stdout)
    fault = results["faults"][0]
    imp = fault["impact"]
    window = (fault["effective_start"] - 2.0, fault["recover_end"] + imp["after_s"])
    assert window[0] < stopped < resumed < window[1], "the stop fell inside the fault's window"
    # the whole measured stop is priced there (the heartbeat sees it up to one 100 ms beat wider)
    assert resumed - stopped - 0.01 <= imp["stalled_s"] <= imp["stall_share"] * (window[1] - window[0]) + 1e-9
    assert imp["measured"] and imp["stall_share"] <= 0.10 and results["complete"], results["incomplete_reasons"]
    # every request the schedule put inside the stop is left out of the point and failed in the bound
    samples = read_samples(run / "samples")
    inside = sum(1 for s in samples if stopped <= s.start <= resumed)
    assert inside >= 0.5 * 200 * (resumed - stopped) and results["client"]["left_out_requests"] >= inside
    (term,) = results["projection"]["terms"]
    assert term["stalled_s"] == pytest.approx(imp["stalled_s"]) and term["stall_widening_s"] > 0
    assert term["annual_downtime_hi_s"] > term["annual_downtime_s"]


def test_suite_repeat_runs_each_fault_k_times_and_the_bound_takes_the_worst_transition(lab: dict[str, Any]) -> None:
    res = nineslab(
        "suite", "--lab", LAB, "--only", "gateway-kill", "--repeat", "2", "--rate", "50", "--json",
        check=False, timeout=600,
    )  # fmt: skip
    out = json.loads(res.stdout)
    assert [e["experiment"] for e in out["experiments"]] == ["gateway-kill", "gateway-kill"], out["experiments"]
    run = Path(out["run"])
    assert sorted(p.name for p in (run / "journals").iterdir()) == ["gateway-kill-1.json", "gateway-kill-2.json"]
    results = json.loads((run / "results.json").read_text())
    assert [f["fault"] for f in results["faults"]] == ["gateway-kill", "gateway-kill"]
    (term,) = [t for t in results["projection"]["terms"] if t["fault"] == "gateway-kill"]
    lo, hi = term["transition_spread_s"]
    assert term["runs"] == 2 and lo <= term["transition_error_s"] <= hi <= term["transition_error_s_hi"]
    assert res.returncode == 1  # one fault of many: PARTIAL, not proven


def test_a_dark_region_is_a_total_outage_of_1az(lab: dict[str, Any]) -> None:
    """1az's only region dark (cut from clients and everything else): every request fails while held."""
    code, out, results = suite_run(LAB, "region-east-dark")
    assert out["experiments"][0]["status"] == "completed" and out["healthy"]
    # nothing is answered while it is dark (a request started within one SLO of the recovery may be
    # answered in time once the cut is lifted: the steady ratio is 97 %, not 100 %)
    assert answered_while_dark(Path(out["run"]), "region-east-dark") == 0
    assert steady_impact(results, "region-east-dark") >= 0.85
    # one fault of many run: PARTIAL at best, and a tier not proven exits 1
    assert results["verdict"] in ("PARTIAL", "FAIL") and code == 1


def _timed(cmd: list[str]) -> float:
    """Run a command that switches the cut; the time it took effect (midpoint of the call)."""
    before = time.time()
    subprocess.run(cmd, check=True, capture_output=True)
    return (before + time.time()) / 2


@pytest.mark.parametrize(("rate", "mode"), [(50, "hang"), (500, "fast")])
def test_request_availability_matches_the_truth_of_a_timed_cut(lab: dict[str, Any], rate: int, mode: str) -> None:
    client = Lab(LAB).in_client()
    ns = Lab(LAB).provider.netns(Lab(LAB).topology().client)
    # 500 req/s from one Locust process on a busy 2-core machine stalls the client now and then, and the
    # report leaves a client stall out (it says nothing about the estate): two processes, as the README
    # advises for such rates, keep the comparison with the truth about the estate alone.
    processes = "2" if rate >= 500 else "1"
    load = subprocess.Popen(
        [
            NINESLAB,
            "load",
            "--lab",
            LAB,
            "--duration",
            str(DURATION_S),
            "--rate",
            str(rate),
            "--processes",
            processes,
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        time.sleep(CUT_AT_S)
        if mode == "hang":
            hook, rule = HANG_RULE
            _timed([*client, "nft", "add", "table", "ip", CUT_TABLE])
            chain = f"{{ type filter hook {hook} priority 0 ; policy accept ; }}"
            _timed([*client, "nft", "add", "chain", "ip", CUT_TABLE, "c", chain])
            cut_on = _timed([*client, "nft", "add", "rule", "ip", CUT_TABLE, "c", *rule.split()])
            time.sleep(CUT_S)
            cut_off = _timed([*client, "nft", "flush", "chain", "ip", CUT_TABLE, "c"])
        else:
            cut_on = _timed(["ip", "-n", ns, *FAST_RULE])
            time.sleep(CUT_S)
            cut_off = _timed(["ip", "-n", ns, *FAST_RULE[:1], "del", *FAST_RULE[2:]])
    finally:
        subprocess.run([*client, "nft", "delete", "table", "ip", CUT_TABLE], capture_output=True)
        subprocess.run(["ip", "-n", ns, *FAST_RULE[:1], "del", *FAST_RULE[2:]], capture_output=True)
    out = json.loads(load.communicate(timeout=DURATION_S + 60)[0])
    run = Path(out["run"])
    samples = read_samples(run / "samples")
    assert abs(len(samples) - rate * DURATION_S) < 0.1 * rate * DURATION_S, "every intended request recorded"
    results = nineslab_json("report", str(run), check=False)
    # The report leaves out the requests the load generator itself held up (started in one of its stalls,
    # or in flight when one came: they measure the client, not the estate): the truth leaves out the same
    # requests, and they may be no more than a small part of the run.
    start = np.array([s.start for s in samples])
    life_end = start + np.array([max(0.0, s.lag_ms) + s.latency_ms for s in samples]) / 1000
    overloaded = [s.start for s in samples if s.error == CLIENT_OVERLOAD]
    spans = checker.stall_spans(read_heartbeats(run / "samples"), analysis.from_samples(samples), overloaded)
    stalled = analysis.overlapping(start, life_end, spans)
    kept = [s for s, out in zip(samples, stalled.tolist(), strict=True) if not out]
    assert len(samples) - len(kept) == results["client"]["left_out_requests"] <= 0.1 * len(samples)
    truth = sum(1 for s in kept if not cut_on <= s.start < cut_off) / len(kept)
    measured = results["requests"]["value"]
    bad = sorted(s.start for s in samples if not (s.ok and s.latency_ms <= 1000))
    edges = (round(bad[0] - cut_on, 3), round(bad[-1] - cut_off, 3), round(cut_off - cut_on, 3))
    assert abs(measured - truth) * 100 <= 0.5, (measured, truth, edges)
    # Inside the cut, every request failed, and for the cut's reason (in its last 1.5 s a hung lookup is
    # retried after the cut, at 1 s, and answered just over the SLO: that edge is left out here).
    failed = {s.error for s in samples if cut_on + 0.05 <= s.start < cut_off - 1.5}
    assert failed <= ({"deadline", "dns"} if mode == "hang" else {"dns", "refused", "unreachable"}), failed


def test_holds_for_target_plans_first_then_runs_the_baseline_the_bound_needs(lab: dict[str, Any]) -> None:
    reports = Path(os.environ["NINESLAB_REPORTS_DIR"])
    runs_before = sorted(reports.iterdir())
    plan = nineslab_json("suite", "--lab", LAB, "--only", "gateway-kill", "--rate", "200", "--plan")["plan"]
    assert sorted(reports.iterdir()) == runs_before, "--plan runs nothing"
    # 1az's 99.9 % budget is 31,536 s a year: a few thousand clean baseline requests prove it.
    assert 2_000 < plan["requests"]["baseline"] < 20_000 and plan["capped"] == []
    res = subprocess.run(
        [NINESLAB, "suite", "--lab", LAB, "--only", "gateway-kill", "--rate", "200", "--holds-for-target", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = json.loads(res.stdout)
    run = Path(out["run"])
    suite = json.loads((run / "suite.json").read_text())
    assert suite["baseline_s"] == plan["baseline_s"]
    assert suite["holds"] == {"gateway-kill": plan["holds"]["gateway-kill"]}
    results = json.loads((run / "results.json").read_text())
    # Poisson arrivals: the baseline holds about rate × its length, never much less than planned.
    assert results["projection"]["baseline"]["requests"] >= 0.9 * plan["requests"]["baseline"]
