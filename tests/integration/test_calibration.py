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
    assert results["client"]["left_out_requests"] == 0, "at 200 req/s with refusals the client never stalls"
    assert (results["requests"]["good"], results["requests"]["total"]) == (good, len(samples))
    assert results["errors"].get("refused", 0) >= 200 * 2 * 0.8, "the outage was felt by the recorded requests"
    assert results["faults"][0]["fault"] == "calibration-outage"
