"""The nines ledger on a real 1az lab, for one mechanism (the guarded push): the bad push is run with
the guard on and with it off (the lab redeployed without it, then back as it was); the guard's saving
shows in error-seconds and projected minutes a year; a second ledger reuses both runs and runs nothing."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import SHARED_NAMES, nineslab_json, shared_lab

SHARED_TOPOLOGY = "1az"
LAB = SHARED_NAMES[SHARED_TOPOLOGY]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    # the ledger redeploys the lab without the guard and back again; handed on redeployed as it was
    with shared_lab(SHARED_TOPOLOGY, "netns", tmp_path_factory.mktemp("reports"), restore=True) as (_, deployed):
        yield deployed


def test_the_guard_earns_its_minutes_by_measurement_and_a_second_ledger_reuses_the_runs(lab: dict[str, Any]) -> None:
    first = nineslab_json("ledger", "--lab", LAB, "--mechanism", "guarded_push")
    (row,) = first["rows"]
    assert row["mechanism"] == "guarded_push" and row["fault"] == "bad-route"
    assert row["off"]["steady"] > 0.9, "without the guard every gateway serves 404 until recovery"
    assert row["on"]["error_seconds"] < 3.0 < row["off"]["error_seconds"]
    assert row["saved_minutes_per_year"] > 30, "4 bad pushes a year of 10 minutes each, nearly all saved"
    page = Path(first["run"]) / "ledger.html"
    assert "guarded_push" in page.read_text() and "fig-ledger" in page.read_text()
    status = nineslab_json("status", "--lab", LAB)
    assert status["healthy"] and status["escape"]["guarded_push"] is True, "redeployed as it was"

    runs = sorted(p.name for p in Path(os.environ["NINESLAB_REPORTS_DIR"]).iterdir() if "suite" in p.name)
    second = nineslab_json("ledger", "--lab", LAB, "--mechanism", "guarded_push")
    assert second["runs"] == first["runs"], "the same runs, reused"
    after = sorted(p.name for p in Path(os.environ["NINESLAB_REPORTS_DIR"]).iterdir() if "suite" in p.name)
    assert after == runs, "nothing was run again"
    assert json.loads((Path(second["run"]) / "ledger.json").read_text())["rows"][0]["on"] == row["on"]
