"""Topologies: the single source of truth for placement (model), read from YAML (load) and checked (validate)."""

from nineslab.topology.load import load_topology, topology_names, topology_path, topology_row
from nineslab.topology.model import HOST_ROLES, Host, Region, Segment, Topology, Zone

__all__ = [
    "HOST_ROLES",
    "Host",
    "Region",
    "Segment",
    "Topology",
    "Zone",
    "load_topology",
    "topology_names",
    "topology_path",
    "topology_row",
]
