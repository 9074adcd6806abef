"""What every provider offers: make and remove the hosts, and name the places nothing above this layer
may build by hand (a host's namespace, the router, a host's switch port). A later docker or cloud
provider implements the same; nothing above this layer knows how a host is made."""

from __future__ import annotations

import abc
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from nineslab import process
from nineslab.clocks import Acts, Clock, ClockTable
from nineslab.errors import LabError
from nineslab.handle import Handle
from nineslab.providers import daemons
from nineslab.topology import Host, Topology
from nineslab.topology.model import LAB_NETWORK

# What a provider can do to its hosts beyond running processes in them; a fault op that needs one of
# these is offered only on providers that have it.
SWITCH_PORT = "switch_port"  # a host's link can be taken down (power off)
ROUTER = "router"  # traffic between zones/regions passes one router where it can be cut
CONTAINER = "container"  # each host is a container: its own file system, cgroups, pause and kill
CUT = "cut"  # a zone or region can be cut off from the rest (a router's rules, or each machine's firewall)
# the hosts' files, cgroups and namespaces are on this machine: ops that edit a host's zone file, move its
# processes into a cgroup or add rules inside its namespace need it (not machines reached over SSH)
LOCAL = "local"


class Started(NamedTuple):
    """What a start of a daemon did: started it (False: it was running already), and its acts."""

    started: bool
    acts: Acts


@dataclass(frozen=True)
class InventoryHost:
    """A host as the provider made it: enough for Ansible to reach it and for health checks to find it."""

    name: str
    role: str
    address: str
    zone: str | None
    region: str | None
    netns: str
    interface: str = ""  # the host's network device inside its namespace
    init_pidfile: str = ""  # a container host: the pidfile of its init (commands enter through it)


class Provider(abc.ABC):
    name: str = ""
    capabilities: frozenset[str] = frozenset()

    def __init__(self, lab: str) -> None:
        self.lab = lab

    @abc.abstractmethod
    def create(self, topology: Topology) -> list[InventoryHost]:
        """Create (or repair) every host of the topology; idempotent."""

    @abc.abstractmethod
    def destroy(self) -> None:
        """Remove every host, link and file of the lab; works after a crash and when run twice."""

    @abc.abstractmethod
    def inventory(self) -> list[InventoryHost]:
        """The hosts the provider last created (empty when there is no lab)."""

    @abc.abstractmethod
    def present(self, topology: Topology) -> dict[str, bool]:
        """Host name -> whether the host exists right now (the client: with its resolver configuration)."""

    @abc.abstractmethod
    def leftovers(self) -> list[str]:
        """Anything of this lab the provider made that is still on the machine (empty after destroy)."""

    @abc.abstractmethod
    def host(self, host: Host) -> Handle:
        """The way into `host` (the client too: it runs with the lab's resolver configuration)."""

    @abc.abstractmethod
    def router(self) -> Handle:
        """The operator's vantage point: where etcd is checked from and where cuts between zones and
        regions go (the router's namespace; on machines reached over SSH, the machine nineslab runs on)."""

    def netns(self, host: Host) -> str:
        """The network namespace the host's processes run in (the providers whose hosts are namespaces;
        what runs in a host goes through `host`)."""
        raise NotImplementedError(f"the {self.name} provider's hosts are not namespaces of this machine")

    @abc.abstractmethod
    def pids(self, host: Host) -> list[int]:
        """Every process running on the host (whatever started it): what a whole-host fault acts on."""

    @abc.abstractmethod
    def port(self, topology: Topology, host: Host) -> str:
        """The host's link as seen from the router (its "switch port")."""

    # The hands below return their acts (nineslab.clocks.Acts): stamps where the hosts keep their own
    # clocks (machines), [] elsewhere.
    def power_off(self, topology: Topology, host: Host) -> Acts:
        """The host off the network (its switch port down); its processes are the caller's to kill."""
        raise NotImplementedError(f"the {self.name} provider cannot power a host off")

    def power_on(self, topology: Topology, host: Host) -> Acts:
        """Undo power_off (idempotent: a host that is on stays on); its daemons are the caller's to start."""
        raise NotImplementedError(f"the {self.name} provider cannot power a host on")

    def freeze(self, host: Host, frozen: bool) -> bool:
        """Freeze (or thaw) the whole host at once, where the provider can (a container's cgroup freezer);
        False where it cannot (the caller stops the host's daemons instead)."""
        return False

    def throttle(self, host: Host, share: float | None) -> bool:
        """Hold the whole host to `share` of one CPU (None: no limit) where the provider owns its cgroups
        (a container's CPU limit); False where it does not (the caller moves its processes instead)."""
        return False

    def fill_disk(self, host: Host, full: bool) -> str:
        """Fill the host's data disk to the last byte (or free it again); what was done, in words."""
        raise NotImplementedError(f"the {self.name} provider gives hosts no disk of their own")

    def squeeze_memory(self, host: Host, on: bool) -> str:
        """Leave the host's daemons no memory (its limit lowered, the daemons marked the OOM killer's first
        choice, a squeezer keeping the limit at what the host holds), or give it back; what was done, in words."""
        raise NotImplementedError(f"the {self.name} provider gives hosts no memory limit of their own")

    # -- what a provider whose hosts nineslab did not make says differently (the hosts provider) --------
    ship_playbook: str | None = None  # run before site.yml: what the roles expect to find on a host
    deploy_limit: str | None = None  # the hosts site.yml configures (None: all)

    def prepare_ship(self, hosts: list[InventoryHost]) -> None:
        """Before ship_playbook runs: what it ships, made ready on this machine (a provider with one)."""
        raise LabError(f"the {self.name} provider ships nothing: its hosts read the lab's own files")

    def use_inventory(self, path: object) -> None:
        """Take the machines of an existing-hosts inventory (only providers of existing machines do)."""
        raise LabError(f"--inventory is for --provider hosts; the {self.name} provider makes its own hosts")

    def prepare(self, topology: Topology) -> Topology:
        """Check what this provider needs beyond the topology (before anything is changed) and return the
        topology as its hosts will be (the same, unless the hosts are machines with their own addresses)."""
        return topology

    def bind(self, topology: Topology) -> Topology:
        """A deployed lab's topology as its hosts are (see prepare)."""
        return topology

    def ansible_vars(self) -> dict[str, Any]:
        """Inventory variables for every host that differ on this provider."""
        return {}

    def ansible_host_vars(self, host: InventoryHost) -> dict[str, Any]:
        """Inventory variables for one host that differ on this provider."""
        return {}

    # -- the fault layer's hands on a host's daemons (by the lab's pidfiles; over SSH on machines) ------
    def owns(self, host: Host) -> bool:
        """Whether `host` is one of this lab's (the blast-radius guard: faults touch nothing else)."""
        return self.netns(host).startswith(f"{self.lab}-") and host.address in LAB_NETWORK

    def daemon_pid(self, host: Host, daemon: str) -> int | None:
        """The PID of the host's `daemon` from its pidfile if it runs, else None."""
        return daemons.daemon_pid(self.lab, host.name, daemon)

    def signal_daemon(self, host: Host, daemon: str, sig: int) -> Acts:
        """`sig` to the daemon its pidfile names (nothing if it is not running)."""
        daemons.signal_daemon(self.lab, host.name, daemon, sig)
        return []

    def start_daemon(self, host: Host, daemon: str) -> Started:
        """Start the daemon with the command its deploy used (not started: it was running)."""
        return Started(daemons.start_daemon(self.lab, self.netns(host), host.name, daemon), [])

    def hold_down(self, host: Host, daemon: str) -> Acts:
        """The daemon killed and kept down until started again (its supervisor told first); returns once
        it is gone (bounded)."""
        process.wait_gone(daemons.hold_down(self.lab, host.name, daemon))
        return []

    def stop_supervisor(self, host: Host) -> Acts:
        """The host's supervision tree ended, so that nothing restarts its daemons (a power-off)."""
        daemons.stop_supervisor(self.lab, host.name)
        return []

    def stop_daemons(
        self, pairs: list[tuple[str, str]], timeout: float = 5.0, meanwhile: Callable[[], None] | None = None
    ) -> list[str]:
        """Every (host, daemon) stopped at once, the hosts' supervisors first, `meanwhile` run while they
        exit (destroy); "host/daemon" of each process stopped."""
        return daemons.stop_daemons(self.lab, pairs, timeout, meanwhile)

    def restart_daemon(self, host: Host, daemon: str, graceful: bool = False) -> Acts:
        """The daemon ended and started again with the command its deploy used: SIGKILL (a crash), or
        graceful: its supervisor and it stopped (SIGTERM, SIGKILL after 5 s). For the ops and sweeps
        that need the lab's hosts on this machine (LOCAL)."""
        if graceful:
            daemons.stop_daemons(self.lab, [(host.name, daemon)])
        else:
            process.wait_gone(daemons.signal_daemon(self.lab, host.name, daemon, signal.SIGKILL))
        daemons.start_daemon(self.lab, self.netns(host), host.name, daemon)
        return []

    def cut(self, inside: list[str], outside: list[str], client: bool) -> Acts:
        """Cut the hosts `inside` off from those `outside` (and from the client, if `client`), both ways:
        providers with CUT and no ROUTER (a router's cuts are rules the fault ops add there)."""
        raise NotImplementedError(f"the {self.name} provider cuts at its router")

    def uncut(self) -> tuple[list[str], Acts]:
        """Undo every cut and power-off of `cut`/`power_off` (idempotent); the hosts that had one."""
        raise NotImplementedError(f"the {self.name} provider cuts at its router")

    def measure_clocks(self) -> ClockTable:
        """Each host's clock offset against the client's (seconds, host minus client) and the bound of
        that measurement, measured now and kept for clock_offsets; {} where every host reads this
        machine's clock (namespaces, containers). None for a host that did not answer."""
        return {}

    def clock_offsets(self) -> dict[str, Clock]:
        """The offsets measure_clocks found last (what fault acts stamped on a host are corrected by)."""
        return {}
