"""Faults as data (chaos/catalogue.yaml), each a complete op (plan / apply / recover / sweep) over the
hosts it selects.
Jepsen's nemesis / etcd's functional tester: the catalogue says what, ops say how, state makes recover
work from any process, heal undoes everything."""

from nineslab.faults.catalogue import FaultSpec, applicable, fault_rows, load_catalogue
from nineslab.faults.engine import active_faults, heal, inject, recover, sweep_after

__all__ = [
    "FaultSpec",
    "active_faults",
    "applicable",
    "fault_rows",
    "heal",
    "inject",
    "load_catalogue",
    "recover",
    "sweep_after",
]
