"""The escapable WAF on a real 3dc-waf lab: a healthy WAF blocks the attack pattern; when the WAF tier
is down or slower than its budget, the LBs send requests straight to the gateways — they keep
succeeding, unfiltered, and the report counts them; destroy leaves no WAF process behind."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nineslab.paths import REPO_ROOT
from nineslab.services import waf
from tests.integration.conftest import (
    NINESLAB,
    alive,
    client_get,
    client_try,
    lab_pids,
    lab_with_reports,
    leftovers,
    nineslab,
    settles,
)

LAB = "itwaf"
TOPOLOGY = str(REPO_ROOT / "topologies" / "examples" / "3dc-waf.yaml")
LB_A = "http://198.18.1.11/api/"
ATTACK = LB_A + "?q=1%20UNION+select+password"
SETTLE_S = 20
HEADER = waf.HEADER.lower()


def filtered(r: dict[str, Any]) -> bool:
    return r["status"] == 200 and bool(r["headers"].get(HEADER))


def unfiltered(r: dict[str, Any]) -> bool:
    return r["status"] == 200 and not r["headers"].get(HEADER)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with lab_with_reports(LAB, TOPOLOGY, tmp_path_factory.mktemp("reports")) as deployed:
        yield deployed


def test_a_healthy_waf_filters_every_request_and_blocks_the_attack_pattern(lab: dict[str, Any]) -> None:
    assert all(filtered(client_get(LAB, LB_A)) for _ in range(4))
    blocked = client_try(LAB, ATTACK)
    assert blocked["status"] == 403 and blocked["headers"].get(HEADER), blocked


def test_a_waf_tier_down_is_bypassed_and_the_attack_pattern_goes_through(lab: dict[str, Any]) -> None:
    try:
        nineslab("inject", "waf-down", "--lab", LAB)
        assert settles(LAB, LB_A, unfiltered, SETTLE_S) is not None, "the LB sends past the WAF tier"
        assert all(unfiltered(client_get(LAB, LB_A)) for _ in range(6)), "requests keep succeeding, unfiltered"
        assert client_try(LAB, ATTACK)["status"] == 200, "the price: the attack pattern goes through"
        nineslab("recover", "waf-down", "--lab", LAB)
        assert settles(LAB, LB_A, filtered, SETTLE_S) is not None, "filtered again once the WAF is back"
    finally:
        nineslab("heal", "--lab", LAB)


# On a busy machine 9 of 10 requests have met a 503 here, while alone and beside two busy loops it
# passed 3 of 3: one rerun, reported as such in pytest's summary; a mechanism that is broken fails both.
# (Issue 32 replaces this stand-in WAF and its test.)
@pytest.mark.flaky(reruns=1)
def test_a_waf_tier_slower_than_its_budget_is_bypassed_under_load(lab: dict[str, Any]) -> None:
    # Slow only under load: idle, even a WAF held to 0.5 % of a CPU answers its checks in time.
    load = subprocess.Popen(
        [NINESLAB, "load", "--lab", LAB, "--rate", "200", "--duration", "40"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        nineslab("inject", "waf-slow", "--lab", LAB)
        assert settles(LAB, LB_A, unfiltered, SETTLE_S) is not None, "the LB sends past the slow WAF tier"
        served = [client_try(LAB, LB_A) for _ in range(10)]
        # What a user relies on is that requests keep succeeding, not which path serves them. Once the
        # bypass has taken its traffic away, a slow WAF passes its checks again (rise 3) and is tried
        # again: it stalls and is ejected, or it keeps up with the share one LB gives it and filters
        # (measured: a WAF needs 0.8-1.4 % of a CPU at 200 req/s, 0.5-0.9 % at 100; it is held to 0.5 %).
        # A few requests may meet it mid-stall — the report measures those.
        # (status, the WAF that answered or None when none did): a 503 of the WAF itself is told from the LB's
        seen = [(r["status"], r["headers"].get(HEADER)) for r in served]
        assert sum(r["status"] == 200 for r in served) >= 7, seen
        nineslab("recover", "waf-slow", "--lab", LAB)
        assert settles(LAB, LB_A, filtered, SETTLE_S) is not None, "filtered again once the WAF is back"
    finally:
        load.wait(timeout=120)
        nineslab("heal", "--lab", LAB)


def test_the_report_counts_the_requests_served_unfiltered(lab: dict[str, Any]) -> None:
    res = nineslab("suite", "--lab", LAB, "--only", "waf-down", "--rate", "50", "--json", check=False, timeout=600)
    assert res.stdout, f"suite exited {res.returncode} without a result: {res.stderr[-500:]}"
    out = json.loads(res.stdout)
    assert [e["status"] for e in out["experiments"]] == ["completed"] and out["healthy"]
    results = json.loads((Path(out["run"]) / "results.json").read_text())
    fault = results["faults"][0]["unfiltered"]
    assert fault["answered"] > 0 and fault["share"] > 0.5, fault
    overall = results["waf"]
    assert 0 < overall["unfiltered"] < overall["answered"], "before and after the fault the WAF filtered"
    assert "served unfiltered (past the WAF" in Path(out["report"]).read_text()


def test_destroy_leaves_no_waf_process_behind(lab: dict[str, Any]) -> None:
    wafs = [pid for name, pid in lab_pids(LAB).items() if name.startswith("waf-")]
    assert len(wafs) >= 3 and all(alive(p) for p in wafs)
    nineslab("destroy", "--lab", LAB)
    assert not any(alive(p) for p in wafs) and leftovers(LAB) == []
