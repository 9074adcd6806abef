"""Faults as data (chaos/catalogue.yaml), each a small inject/recover pair over a target of the lab.
Jepsen's nemesis / etcd's functional tester: the catalogue says what, ops say how, state makes recover
work from any process, heal undoes everything."""

from nineslab.faults.catalogue import FaultSpec, applicable, load_catalogue
from nineslab.faults.engine import active_faults, heal, inject, recover

__all__ = ["FaultSpec", "active_faults", "applicable", "heal", "inject", "load_catalogue", "recover"]
