"""An experiment run in-process through chaostoolkit-lib (no lab: the activities are the test's own):
the lab is passed by name, the journal and chaos.log are written, a stop ends a hold at once with the
rollbacks run, and a refused experiment is one line naming its file."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from nineslab.chaos.current_run import CurrentRun
from nineslab.chaos.inprocess import ExperimentRunner
from nineslab.errors import NinesError
from nineslab.lab import Lab

MODULE = "tests.unit.chaos.activities"


def experiment(tmp_path: Path, method: list[dict[str, Any]], rollbacks: list[dict[str, Any]] | None = None) -> Path:
    exp = {
        "version": "1.0.0",
        "title": "in-process",
        "description": "a test",
        "configuration": {"lab": {"type": "env", "key": "NINESLAB_TEST_NO_SUCH_VAR", "default": "nines"}},
        "method": method,
        "rollbacks": rollbacks or [],
    }
    path = tmp_path / "exp.json"
    path.write_text(json.dumps(exp))
    return path


def action(name: str, func: str, **arguments: Any) -> dict[str, Any]:
    return {
        "type": "action",
        "name": name,
        "provider": {"type": "python", "module": MODULE, "func": func, "arguments": arguments},
    }


def runner(tmp_path: Path, lines: list[str]) -> ExperimentRunner:
    return ExperimentRunner(
        CurrentRun(Lab("itinproc"), tmp_path, external_load=True), tmp_path / "chaos.log", lines.append
    )


def test_an_experiment_runs_in_this_process_with_the_lab_given_by_name(tmp_path: Path) -> None:
    lines: list[str] = []
    result = runner(tmp_path, lines).run(experiment(tmp_path, [action("name", "lab_name")]), tmp_path / "j.json")
    assert result.status == "completed" and result.exit_code == 0
    journal = json.loads((tmp_path / "j.json").read_text())
    assert journal["run"][0]["output"] == "itinproc"  # the runner's lab, not the configuration's default
    assert any("Experiment ended with status: completed" in x for x in lines)
    assert "Experiment ended with status: completed" in (tmp_path / "chaos.log").read_text()


def test_a_stop_ends_the_hold_at_once_and_the_rollbacks_run(tmp_path: Path) -> None:
    lines: list[str] = []
    run = runner(tmp_path, lines)
    marker = tmp_path / "rolled-back"
    path = experiment(tmp_path, [action("hold", "hold", seconds=30)], [action("undo", "mark", path=str(marker))])
    threading.Timer(0.5, run.run_.stopping.set).start()
    started = time.monotonic()
    result = run.run(path, tmp_path / "j.json")
    assert time.monotonic() - started < 10, "the 30 s hold ended when the run was stopped"
    assert result.status == "interrupted" and result.exit_code == 1
    assert marker.read_text() == "rolled back"
    # and a later experiment does not start at all
    again = run.run(path, tmp_path / "j2.json")
    assert again.status == "interrupted" and json.loads((tmp_path / "j2.json").read_text())["not_started"]


def test_a_refused_experiment_is_one_line_naming_its_file(tmp_path: Path) -> None:
    path = experiment(tmp_path, [action("bad", "no_such_function")])
    with pytest.raises(NinesError, match=r"exp\.json: .* — fix the experiment file"):
        runner(tmp_path, []).run(path, tmp_path / "j.json")
