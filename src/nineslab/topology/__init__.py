"""Topologies: the single source of truth for placement (model), read from YAML (load) and checked (validate)."""

from nineslab.topology.load import load_topology, topology_names, topology_path
from nineslab.topology.model import ROLES, Host, Region, Segment, Topology, Zone

__all__ = ["ROLES", "Host", "Region", "Segment", "Topology", "Zone", "load_topology", "topology_names", "topology_path"]
