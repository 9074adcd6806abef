"""Experiment files: one per catalogue fault, valid for stock `chaos run`, checked with one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nineslab.chaos.experiments import EXPERIMENT_DIR, check_experiment, experiment_for
from nineslab.errors import NinesError
from nineslab.faults import applicable, load_catalogue
from nineslab.topology import load_topology


def test_every_catalogue_fault_has_an_experiment_file_that_injects_it() -> None:
    topos = [load_topology(t) for t in ("3dc", "1az", "topologies/examples/3dc-waf.yaml")]
    for spec in load_catalogue():
        path = EXPERIMENT_DIR / f"{spec.name}.json"
        assert path.is_file(), f"missing {path}: run `nineslab chaos generate`"
        topo = next(t for t in topos if applicable(spec, t))
        assert check_experiment(path, topo) == spec.name
        exp = json.loads(path.read_text())
        assert exp["rollbacks"], "rollbacks always recover"
        assert exp["controls"][0]["provider"]["module"] == "nineslab.chaos.controls"


def test_generated_experiment_uses_the_extension_modules() -> None:
    spec = load_catalogue()[0]
    exp = experiment_for(spec)
    modules = {a["provider"]["module"] for a in exp["method"] + exp["rollbacks"]}
    assert modules == {"nineslab.chaos.actions"}
    assert exp["method"][0]["provider"]["arguments"]["hold_s"] == spec.hold_s


def test_bad_experiment_files(tmp_path: Path) -> None:
    topo = load_topology("1az")
    bad = tmp_path / "x.json"
    bad.write_text("{")
    with pytest.raises(NinesError, match="not valid JSON"):
        check_experiment(bad, topo)
    bad.write_text(json.dumps({"title": "t", "description": "d", "method": [{"type": "action"}]}))
    with pytest.raises(NinesError, match="no nineslab inject_fault action"):
        check_experiment(bad, topo)
    exp = experiment_for(load_catalogue()[0])
    exp["method"][0]["provider"]["arguments"]["hold_s"] = 0
    bad.write_text(json.dumps(exp))
    with pytest.raises(NinesError, match=r"hold_s: 0"):
        check_experiment(bad, topo)
    with pytest.raises(NinesError, match="no such experiment"):
        check_experiment(tmp_path / "nope.json", topo)


def test_chaos_extension_modules_declare_all() -> None:
    from nineslab.chaos import actions, controls, probes

    assert set(actions.__all__) == {"inject_fault", "recover_fault"}
    assert set(probes.__all__) == {"api_serves"}
    assert "before_experiment_control" in controls.__all__
