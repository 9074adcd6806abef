"""kill -9 anywhere (a short seeded campaign, one kill point per command): after each SIGKILL the lab
comes back through `heal` (or `deploy`), healthy, with etcd's members agreeing; a killed suite still
reports from its samples; the final destroy leaves nothing. bench/reliability.py runs 20 or more."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nineslab.rigs.kill9 import COMMANDS, plan, run_campaign
from tests.integration.conftest import nineslab

LAB = "itkill"


def test_the_plan_is_seeded_and_covers_every_command() -> None:
    points = plan(7, 10)
    assert points == plan(7, 10) and points != plan(8, 10)
    assert [p.command for p in points[:5]] == list(COMMANDS) and {p.command for p in points[5:]} == set(COMMANDS)


def test_every_kill_point_is_restored_and_destroy_leaves_nothing(tmp_path_factory: pytest.TempPathFactory) -> None:
    reports = tmp_path_factory.mktemp("reports")
    os.environ["NINESLAB_REPORTS_DIR"] = str(reports)
    nineslab("destroy", "--lab", LAB, check=False)
    try:
        out = run_campaign(LAB, "2az", seed=1, points=len(COMMANDS), reports=Path(reports), say=print)
    finally:
        nineslab("destroy", "--lab", LAB, check=False)
    failed = [p for p in out["points"] if not p["restored"] or p["error"] or p["consistent"] is False]
    assert not failed, failed
    assert out["leftovers"] == [] and out["mismatches"] == 0 and out["hash_checks"] >= 3
    suite = next(p for p in out["points"] if p["command"] == "suite")
    assert suite["report"] in ("INCOMPLETE", "no run (killed before it started)"), suite
    if suite["report"] == "INCOMPLETE":
        assert suite["samples"] and suite["samples"] > 0, "the killed suite's samples were flushed as they went"
