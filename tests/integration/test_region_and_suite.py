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
    SHARED_NAMES,
    both_providers,
    client_get,
    client_try,
    nineslab,
    nineslab_json,
    shared_lab,
    steady_impact,
)

SHARED_TOPOLOGY = "3dc"
LAB = SHARED_NAMES[SHARED_TOPOLOGY]


@pytest.fixture(scope="module")
def lab(provider: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with shared_lab(SHARED_TOPOLOGY, provider, tmp_path_factory.mktemp("reports")) as (_, deployed):
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
        "--only",
        "region-east-dark",
        "--only",
        "region-south-dark",
        "--rate",
        "50",
        "--json",
        check=False,
        timeout=900,
    )
    out = json.loads(res.stdout)
    assert [e["experiment"] for e in out["experiments"]] == [
        "gateway-kill",
        "region-south-cut",
        "region-east-dark",
        "region-south-dark",
    ]
    assert all(e["status"] == "completed" for e in out["experiments"])
    # The suite ends with its report: four of the faults that apply to 3dc were run, so it cannot PASS,
    # and it exits as its verdict does: 1 for a tier not proven.
    assert out["healthy"] and out["verdict"] in ("PARTIAL", "FAIL") and res.returncode == 1
    assert Path(out["report"]).is_file()
    # Either region dark: 3dc serves from the other one (1az and 2az lose everything: their modules).
    results = json.loads((Path(out["run"]) / "results.json").read_text())
    assert steady_impact(results, "region-east-dark") <= 0.01
    assert steady_impact(results, "region-south-dark") <= 0.01
    run = Path(out["run"])
    windows = [json.loads(line) for line in (run / "faults.jsonl").read_text().splitlines()]
    order = ["gateway-kill", "region-south-cut", "region-east-dark", "region-south-dark"]
    assert [(w["fault"], w["phase"]) for w in windows] == [(f, p) for f in order for p in ("inject", "recover")]
    assert sorted(p.name for p in (run / "journals").iterdir()) == sorted(f"{f}.json" for f in order)
    assert out["requests"] > 50 * 20, "one load ran through the whole suite"
    # The region cut split etcd's members; once joined again they hold the same store.
    check = json.loads((run / "outcome.json").read_text())["etcd_consistency"]
    assert check["consistent"] is True and len(check["hashes"]) == 3, check
