"""3dc: the south region cut off from east keeps both sides serving (on both providers); `nineslab suite`
runs faults in catalogue order under one continuous load into one run directory."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import (
    both_providers,
    client_get,
    client_try,
    lab_with_reports,
    nineslab,
    nineslab_json,
)

LAB = "itreg"


@pytest.fixture(scope="module")
def lab(provider: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with lab_with_reports(LAB, "3dc", tmp_path_factory.mktemp("reports"), provider) as deployed:
        yield deployed


@both_providers
def test_region_cut_keeps_both_sides_serving(lab: dict[str, Any]) -> None:
    assert "region-south-cut" in [r["name"] for r in nineslab_json("faults", "--lab", LAB)]
    nineslab("inject", "region-south-cut", "--lab", LAB)
    try:
        time.sleep(2)
        south = [client_get(LAB, "http://198.19.3.11/api/") for _ in range(4)]
        assert {(r["headers"]["x-nines-gateway"], r["headers"]["x-nines-app"]) for r in south} == {("gw-c", "app-c")}
        east = [client_get(LAB, "http://198.18.1.11/api/") for _ in range(4)]
        assert {r["headers"]["x-nines-app"] for r in east} <= {"app-a", "app-b"}
        assert client_try(LAB, "http://198.19.3.31/health")["status"] == 200, "the client still reaches south"
    finally:
        nineslab("recover", "region-south-cut", "--lab", LAB)
    deadline = time.monotonic() + 20
    while not nineslab_json("status", "--lab", LAB, check=False)["healthy"]:
        assert time.monotonic() < deadline, "the lab is healthy again after the cut is recovered"
        time.sleep(1)


def test_suite_runs_faults_in_catalogue_order_under_one_load(lab: dict[str, Any]) -> None:
    res = nineslab(
        "suite",
        "--lab",
        LAB,
        "--only",
        "region-south-cut",
        "--only",
        "gateway-kill",
        "--rate",
        "50",
        "--json",
        check=False,
        timeout=600,
    )
    out = json.loads(res.stdout)
    assert [e["experiment"] for e in out["experiments"]] == ["gateway-kill", "region-south-cut"]
    assert all(e["status"] == "completed" for e in out["experiments"])
    assert out["healthy"] and res.returncode == (0 if out["clean"] else 1)
    # The suite ends with its report: two of the faults that apply to 3dc were run, so it cannot PASS.
    assert out["verdict"] in ("PARTIAL", "FAIL") and Path(out["report"]).is_file()
    run = Path(out["run"])
    windows = [json.loads(line) for line in (run / "faults.jsonl").read_text().splitlines()]
    assert [(w["fault"], w["phase"]) for w in windows] == [
        ("gateway-kill", "inject"),
        ("gateway-kill", "recover"),
        ("region-south-cut", "inject"),
        ("region-south-cut", "recover"),
    ]
    assert sorted(p.name for p in (run / "journals").iterdir()) == ["gateway-kill.json", "region-south-cut.json"]
    assert out["requests"] > 50 * 20, "one load ran through the whole suite"
    # The region cut split etcd's members; once joined again they hold the same store.
    check = json.loads((run / "outcome.json").read_text())["etcd_consistency"]
    assert check["consistent"] is True and len(check["hashes"]) == 3, check
