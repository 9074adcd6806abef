"""Calibration on a real lab: a known outage is injected under load; the report's outage length is
within 50 ms of it, and its availability is exactly what the recorded samples say."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nineslab.load import read_samples
from tests.integration.conftest import lab_with_reports, nineslab

LAB = "itcal"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with lab_with_reports(LAB, "1az", tmp_path_factory.mktemp("reports")) as deployed:
        yield deployed


def test_known_outage_is_measured_within_50ms(lab: dict[str, Any]) -> None:
    rows = json.loads(nineslab("calibrate", "--lab", LAB, "--outage", "2", "--json").stdout)
    row = rows[0]
    assert abs(row["true_s"] - 2.0) < 0.05
    assert abs(row["error_ms"]) <= 50, row
    run = Path(row["run"])
    results = json.loads((run / "results.json").read_text())
    samples = read_samples(run / "samples")
    good = sum(1 for s in samples if s.ok and s.latency_ms <= results["slo_ms"])
    # On a busy machine the load generator may stall for a moment outside the outage: those requests are
    # left out (they measure the client, not the estate); every other recorded request is counted.
    left_out = results["client"]["left_out_requests"]
    assert results["complete"] and left_out <= 0.02 * len(samples), (left_out, results["incomplete_reasons"])
    assert results["requests"]["total"] == len(samples) - left_out
    assert good - left_out <= results["requests"]["good"] <= good
    assert results["errors"].get("refused", 0) >= 200 * 2 * 0.8, "the outage was felt by the recorded requests"
    assert results["faults"][0]["fault"] == "calibration-outage"


def test_a_hanging_outage_is_measured_and_a_client_stall_is_not_an_outage(lab: dict[str, Any]) -> None:
    """Connections dropped (they hang to the deadline) for 2 s, and the load generator itself stopped
    (SIGSTOP) for 1 s well before: the outage is measured within 50 ms and every outage reported is in its
    window; the stop is reported as the client's stall, its requests left out, and no fault is charged for it."""
    args = ("calibrate", "--lab", LAB, "--outage", "2", "--kind", "hang", "--client-stall", "1", "--json")
    row = json.loads(nineslab(*args).stdout)[0]
    assert row["kind"] == "hang" and abs(row["error_ms"]) <= 50, row
    # The client's stop is not an outage of the estate: every outage reported is the fault's, within its
    # window (a request in flight when the drop began may fail a few ms before it: one CI run reported a
    # 3 ms sliver there, split from the 2 s outage by a request that got its answer just in time).
    results = json.loads((Path(row["run"]) / "results.json").read_text())
    fault = results["faults"][0]
    deadline = json.loads((Path(row["run"]) / "load.json").read_text())["deadline_s"]
    window = (fault["effective_start"] - deadline, fault["recover_end"] + deadline)
    assert row["outages_reported"] >= 1 and all(
        window[0] <= o["start"] and o["end"] <= window[1] for o in results["outages"]
    ), (window, results["outages"])
    assert row["client_stall_true_s"] <= row["client_stall_reported_s"] < 5, row
    assert results["client"]["left_out_requests"] > 0 and results["complete"], results["incomplete_reasons"]
