"""The fault catalogue: chaos/catalogue.yaml parsed and checked (one-line errors), and which entries
apply to a topology (decided by the topology and the provider, never by whether `expected` has text)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from nineslab.errors import NinesError
from nineslab.faults.ops import OPS
from nineslab.faults.selection import FAULT_ROLES, SELECT_RE, SELECTORS, fits
from nineslab.paths import REPO_ROOT
from nineslab.textfile import read_user_file
from nineslab.topology import Topology

CATALOGUE = REPO_ROOT / "chaos" / "catalogue.yaml"
KINDS = ("node", "zone", "region", "dns", "etcd", "config")
NOT_STATED = "not stated in the catalogue"
FAULT_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")


@dataclass(frozen=True)
class FaultSpec:
    name: str
    kind: str
    op: str
    role: str
    select: str
    hold_s: float
    description: str
    expected: dict[str, str]
    params: dict[str, Any] = field(default_factory=dict)

    def expected_for(self, topology: str) -> str:
        return self.expected.get(topology, NOT_STATED)


def load_catalogue(path: Path | None = None) -> list[FaultSpec]:
    path = path or CATALOGUE
    text = read_user_file(path, "fault catalogue")
    try:
        raw: Any = yaml.safe_load(text)
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


def check_params(where: str, op: str, params: Any) -> dict[str, Any]:
    """A fault's parameters against what its op takes: one-line error naming `where` otherwise."""
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise NinesError(f"{where}.params: expected a mapping name -> value")
    takes = OPS[op].params
    missing = sorted(OPS[op].required - set(params))
    if missing:
        raise NinesError(f"{where}.params.{missing[0]}: is missing — op {op} needs it")
    for key, value in params.items():
        if key not in takes:
            allowed = ", ".join(takes) or "none"
            raise NinesError(f"{where}.params.{key}: op {op} takes no such parameter — it takes: {allowed}")
        problem = takes[key](value)
        if problem:
            raise NinesError(f"{where}.params.{key}: {value!r} {problem}")
    return dict(params)


def overridden(
    spec: FaultSpec,
    where: str,
    select: str | None = None,
    role: str | None = None,
    hold_s: float | None = None,
    params: dict[str, Any] | None = None,
) -> FaultSpec:
    """The catalogue entry as an experiment file's inject action changes it (select, role, hold, params)."""
    return replace(
        spec,
        select=select or spec.select,
        role=role or spec.role,
        hold_s=float(hold_s if hold_s is not None else spec.hold_s),
        params=spec.params if params is None else check_params(where, spec.op, params),
    )


def _spec(path: Path, i: int, entry: Any) -> FaultSpec:
    where = f"{path}: faults[{i}]"
    if not isinstance(entry, dict):
        raise NinesError(f"{where}: expected a mapping — write `- name: ...` with op, role, select, hold_s")
    for key in ("name", "kind", "op", "role", "select", "hold_s", "expected"):
        if key not in entry:
            raise NinesError(f"{where}.{key}: is missing — add it")
    checks: tuple[tuple[str, Iterable[str]], ...] = (("kind", KINDS), ("op", OPS), ("role", FAULT_ROLES))
    if not isinstance(entry["name"], str) or not FAULT_NAME_RE.match(entry["name"]):
        # the name is also a file name (chaos/experiments/NAME.json) and a command-line word
        raise NinesError(f"{where}.name: {entry['name']!r} is not a fault name — use lowercase letters, digits, dashes")
    for key, allowed in checks:
        if not isinstance(entry[key], str) or entry[key] not in allowed:
            raise NinesError(f"{where}.{key}: {entry[key]!r} is unknown — use one of: {', '.join(allowed)}")
    if not isinstance(entry["select"], str) or not SELECT_RE.match(entry["select"]):
        raise NinesError(f"{where}.select: {entry['select']!r} is unknown — use {SELECTORS}")
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
        select=entry["select"],
        hold_s=float(hold),
        description=str(entry.get("description", "")),
        expected={str(k): str(v) for k, v in entry["expected"].items()},
        params=check_params(where, entry["op"], entry.get("params")),
    )


def applicable(spec: FaultSpec, topology: Topology, capabilities: frozenset[str] | None = None) -> bool:
    """Whether the fault can run on this topology: the hosts it selects exist (role, zone, region),
    the op fits the topology (a region cut needs two regions) and, when `capabilities` is given, the
    provider offers what the op needs."""
    op = OPS[spec.op]
    if capabilities is not None and not op.needs <= capabilities:
        return False
    return fits(topology, spec.role, spec.select) and op.fits(topology)


def find(
    name: str, topology: Topology, specs: list[FaultSpec] | None = None, capabilities: frozenset[str] | None = None
) -> FaultSpec:
    specs = specs if specs is not None else load_catalogue()
    for spec in specs:
        if spec.name == name:
            if not applicable(spec, topology, capabilities):
                raise NinesError(f"fault {name!r} does not apply to topology {topology.name} — see `nineslab faults`")
            return spec
    known = ", ".join(s.name for s in specs if applicable(s, topology, capabilities))
    raise NinesError(f"unknown fault {name!r} — faults for {topology.name}: {known}")


def fault_rows(topology: Topology, capabilities: frozenset[str], active: set[str]) -> list[dict[str, Any]]:
    """The faults that apply, in catalogue (= run) order, as rows for `nineslab faults`."""
    return [
        {
            "name": s.name,
            "kind": s.kind,
            "op": s.op,
            "role": s.role,
            "select": s.select,
            "params": s.params,
            "hold_s": s.hold_s,
            "expected": s.expected_for(topology.name),
            "active": s.name in active,
        }
        for s in load_catalogue()
        if applicable(s, topology, capabilities)
    ]
