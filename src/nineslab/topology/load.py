"""Read a topology file (by name or path) into the model, validating everything before returning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from nineslab.errors import TopologyError
from nineslab.paths import TOPOLOGY_DIR
from nineslab.textfile import read_user_file
from nineslab.topology.model import Topology
from nineslab.topology.validate import build_topology


def topology_names() -> list[str]:
    return sorted(p.stem for p in TOPOLOGY_DIR.glob("*.yaml"))


def topology_path(name_or_path: str) -> Path:
    """`3dc` means topologies/3dc.yaml; anything with a slash or a .yaml suffix is a path."""
    if "/" in name_or_path or name_or_path.endswith((".yaml", ".yml")):
        return Path(name_or_path)
    return TOPOLOGY_DIR / f"{name_or_path}.yaml"


def load_topology(name_or_path: str) -> Topology:
    path = topology_path(name_or_path)
    if not path.is_file():
        known = ", ".join(topology_names())
        raise TopologyError(f"{path}: no such topology file — use one of: {known}, or a path to a .yaml file")
    try:
        raw: Any = yaml.safe_load(read_user_file(path, "topology file"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", exc)
        raise TopologyError(f"{path}:{where} is not valid YAML ({problem}) — fix the syntax") from None
    return build_topology(raw, str(path))


def topology_row(topology: Topology) -> dict[str, Any]:
    """One topology in a few fields, as `nineslab topologies` lists it."""
    return {
        "name": topology.name,
        "target": topology.target,
        "zones": [z.name for z in topology.zones],
        "regions": [r.name for r in topology.regions],
        "roles": {
            r: len(topology.by_role(r)) for r in ("lb", "waf", "gateway", "app", "etcd", "dns") if topology.by_role(r)
        },
        "description": topology.description,
    }
