"""Looking at a running lab from inside it: health checks run in the client namespace, the etcd
client built on them, and the lab's status (hosts, etcd, the entry point)."""

from nineslab.health.checks import Checker
from nineslab.health.etcd_client import EtcdClient
from nineslab.health.status import lab_status, require_healthy, unhealthy_hosts

__all__ = ["Checker", "EtcdClient", "lab_status", "require_healthy", "unhealthy_hosts"]
