"""Experiment files: one stock Chaos Toolkit JSON per catalogue entry in chaos/experiments/. The files
are the place to change hold times, selected hosts and load; this module writes missing ones and checks a
file before `nineslab chaos run` hands it to `chaos run`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nineslab.analysis.core import AFTER_RECOVERY_S
from nineslab.defaults import DEADLINE_S, RATE
from nineslab.errors import NinesError
from nineslab.faults.catalogue import FaultSpec, check_params, find
from nineslab.paths import REPO_ROOT
from nineslab.textfile import read_user_file
from nineslab.topology import Topology

EXPERIMENT_DIR = REPO_ROOT / "chaos" / "experiments"
MODULE = "nineslab.chaos"


def experiment_for(spec: FaultSpec) -> dict[str, Any]:
    def py(kind: str, name: str, module: str, func: str, arguments: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": kind,
            "name": name,
            "provider": {"type": "python", "module": f"{MODULE}.{module}", "func": func, "arguments": arguments},
        }

    expected = " | ".join(f"{topo}: {text}" for topo, text in spec.expected.items())
    return {
        "version": "1.0.0",
        "title": f"{spec.name}: {spec.op} {spec.role}:{spec.select} for {spec.hold_s:g}s",
        "description": f"Expected — {expected}",
        "tags": ["nineslab", spec.kind],
        "configuration": {"lab": {"type": "env", "key": "NINESLAB_LAB", "default": "nines"}},
        "controls": [
            {
                "name": "nineslab-load",
                "provider": {
                    "type": "python",
                    "module": f"{MODULE}.controls",
                    # Load runs on through the whole after-recovery window: an unloaded window is unmeasured.
                    "arguments": {
                        "rate": RATE,
                        "deadline_s": DEADLINE_S,
                        "warmup_s": 5,
                        "cooldown_s": AFTER_RECOVERY_S,
                    },
                },
            }
        ],
        "steady-state-hypothesis": {
            "title": "a client gets its answer through DNS, LB, gateway and app",
            "probes": [{**py("probe", "api-serves", "probes", "api_serves", {"within_s": 30}), "tolerance": True}],
        },
        "method": [
            py(
                "action",
                "inject",
                "actions",
                "inject_fault",
                {
                    "fault": spec.name,
                    "hold_s": spec.hold_s,
                    "select": spec.select,
                    "role": spec.role,
                    **({"params": spec.params} if spec.params else {}),
                },
            ),
            py("action", "recover", "actions", "recover_fault", {"fault": spec.name}),
        ],
        "rollbacks": [py("action", "recover", "actions", "recover_fault", {"fault": spec.name})],
    }


def write_missing(specs: list[FaultSpec], force: bool = False) -> list[Path]:
    EXPERIMENT_DIR.mkdir(parents=True, exist_ok=True)
    written = []
    for spec in specs:
        path = EXPERIMENT_DIR / f"{spec.name}.json"
        if force or not path.exists():
            path.write_text(json.dumps(experiment_for(spec), indent=2, ensure_ascii=False) + "\n")
            written.append(path)
    return written


def experiment_path(name_or_path: str) -> Path:
    if name_or_path.endswith(".json") or "/" in name_or_path:
        return Path(name_or_path)
    return EXPERIMENT_DIR / f"{name_or_path}.json"


def inject_arguments(path: Path) -> list[dict[str, Any]]:
    """The arguments of every nineslab inject action of a checked experiment file, in method order."""
    exp = json.loads(path.read_text())
    acts = [a.get("provider", {}) for a in exp["method"] if isinstance(a, dict)]
    return [dict(p.get("arguments", {})) for p in acts if p.get("func") == "inject_fault"]


def check_experiment(path: Path, topology: Topology, capabilities: frozenset[str] | None = None) -> str:
    """One-line errors for a file `chaos run` would choke on; returns the fault it injects."""
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in EXPERIMENT_DIR.glob("*.json")))
        raise NinesError(f"{path}: no such experiment — use one of: {known}")
    try:
        exp = json.loads(read_user_file(path, "experiment file"))
    except ValueError as exc:
        raise NinesError(f"{path}: not valid JSON ({exc}) — fix the syntax") from None
    if not isinstance(exp, dict):
        raise NinesError(f"{path}: expected a JSON object (a Chaos Toolkit experiment)")
    for key in ("title", "description", "method"):
        if key not in exp:
            raise NinesError(f"{path}: `{key}` is missing — every Chaos Toolkit experiment needs it")
    if not isinstance(exp["method"], list) or not exp["method"]:
        raise NinesError(f"{path}: method: expected a non-empty list of activities")
    faults = []
    for i, act in enumerate(exp["method"]):
        provider = act.get("provider", {}) if isinstance(act, dict) else {}
        if provider.get("func") == "inject_fault":
            args = provider.get("arguments", {})
            if "fault" not in args:
                raise NinesError(f"{path}: method[{i}].provider.arguments.fault is missing — name a catalogue fault")
            if "target" in args:
                raise NinesError(
                    f"{path}: method[{i}].provider.arguments.target: renamed `select` — rename the key "
                    "(or `nineslab chaos generate --force` to write the stock files again)"
                )
            spec = find(str(args["fault"]), topology, capabilities=capabilities)  # unknown or not applicable
            if "params" in args:
                check_params(f"{path}: method[{i}].provider.arguments", spec.op, args["params"])
            hold = args.get("hold_s", 1)
            if isinstance(hold, bool) or not isinstance(hold, (int, float)) or not 0 < hold <= 600:
                raise NinesError(f"{path}: method[{i}].provider.arguments.hold_s: {hold!r} — use seconds in (0, 600]")
            faults.append(str(args["fault"]))
    if not faults:
        raise NinesError(f"{path}: method has no nineslab inject_fault action — nothing would be injected")
    return faults[0]
