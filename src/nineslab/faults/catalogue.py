"""The fault catalogue: chaos/catalogue.yaml parsed and checked (one-line errors), and which entries a
topology allows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from nineslab.errors import NinesError
from nineslab.faults.targets import ROLES, TARGET_RE
from nineslab.paths import REPO_ROOT
from nineslab.topology import Topology

CATALOGUE = REPO_ROOT / "chaos" / "catalogue.yaml"
OPS = ("kill", "pause", "power_off", "isolate", "cut_region", "blackhole", "cold_start", "bad_route")
KINDS = ("node", "zone", "region", "dns", "etcd", "config")


@dataclass(frozen=True)
class FaultSpec:
    name: str
    kind: str
    op: str
    role: str
    target: str
    hold_s: float
    description: str
    expected: dict[str, str]


def load_catalogue(path: Path | None = None) -> list[FaultSpec]:
    path = path or CATALOGUE
    try:
        raw: Any = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        detail = " ".join(str(exc).split())  # YAML errors span lines; ours are one line
        raise NinesError(
            f"{path}: cannot read the fault catalogue ({detail}) — fix it or restore it from git"
        ) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("faults"), list):
        raise NinesError(f"{path}: expected a mapping with a `faults:` list — see the file's header comment")
    specs = [_spec(path, i, entry) for i, entry in enumerate(raw["faults"])]
    names = [s.name for s in specs]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise NinesError(f"{path}: faults[].name: {sorted(dup)[0]!r} appears twice — give every fault its own name")
    return specs


def _spec(path: Path, i: int, entry: Any) -> FaultSpec:
    where = f"{path}: faults[{i}]"
    if not isinstance(entry, dict):
        raise NinesError(f"{where}: expected a mapping — write `- name: ...` with op, role, target, hold_s")
    for key in ("name", "kind", "op", "role", "target", "hold_s", "expected"):
        if key not in entry:
            raise NinesError(f"{where}.{key}: is missing — add it")
    checks = (("kind", KINDS), ("op", OPS), ("role", ROLES))
    for key, allowed in checks:
        if entry[key] not in allowed:
            raise NinesError(f"{where}.{key}: {entry[key]!r} is unknown — use one of: {', '.join(allowed)}")
    if not isinstance(entry["target"], str) or not TARGET_RE.match(entry["target"]):
        raise NinesError(
            f"{where}.target: {entry['target']!r} is unknown — use one|follower|leader|minority|majority|all|"
            "zone:X|region:Y"
        )
    hold = entry["hold_s"]
    if isinstance(hold, bool) or not isinstance(hold, (int, float)) or not 0 < hold <= 600:
        raise NinesError(f"{where}.hold_s: {hold!r} is not a hold time — use seconds between 0 and 600")
    if not isinstance(entry["expected"], dict):
        raise NinesError(f"{where}.expected: expected a mapping topology -> outcome in words")
    return FaultSpec(
        name=str(entry["name"]),
        kind=entry["kind"],
        op=entry["op"],
        role=entry["role"],
        target=entry["target"],
        hold_s=float(hold),
        description=str(entry.get("description", "")),
        expected={str(k): str(v) for k, v in entry["expected"].items()},
    )


def applicable(spec: FaultSpec, topology: Topology) -> bool:
    """Offered only where the topology allows it: its zone/region exists, a region cut needs two regions."""
    if spec.target.startswith("zone:") and spec.target[5:] not in {z.name for z in topology.zones}:
        return False
    if spec.target.startswith("region:") and spec.target[7:] not in {r.name for r in topology.regions}:
        return False
    if spec.op == "cut_region" and len(topology.regions) < 2:
        return False
    return topology.name in spec.expected


def find(name: str, topology: Topology, specs: list[FaultSpec] | None = None) -> FaultSpec:
    specs = specs if specs is not None else load_catalogue()
    for spec in specs:
        if spec.name == name:
            if not applicable(spec, topology):
                raise NinesError(f"fault {name!r} does not apply to topology {topology.name} — see `nineslab faults`")
            return spec
    known = ", ".join(s.name for s in specs if applicable(s, topology))
    raise NinesError(f"unknown fault {name!r} — faults for {topology.name}: {known}")
