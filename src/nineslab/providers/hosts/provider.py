"""The hosts provider: every lab host but the client is a machine that already exists, reached over SSH
(Ansible's own ssh connection for the deploy, `ssh` with one shared connection per machine for the rest).
nineslab creates no machine and removes none: `create` proves every machine answers before anything is
changed, `destroy` removes what nineslab put there (its daemons by pidfile, its directory).

A host's handle runs a command on its machine over SSH (as root through sudo where the machine's user is
not root); the client's, and the router's (the operator's vantage point), run it on the machine
nineslab runs on."""

from __future__ import annotations

import io
import json
import shlex
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import yaml

from nineslab.clocks import Acts, Clock, ClockTable, clocks_from_json, clocks_to_json, measured
from nineslab.errors import LabError, NinesError
from nineslab.handle import Handle
from nineslab.paths import PLAYBOOK_DIR, binaries, host_dir, lab_dir
from nineslab.providers.base import CUT, SWITCH_PORT, InventoryHost, Provider, Started
from nineslab.providers.daemons import pidfile
from nineslab.providers.hosts import firewall, ssh
from nineslab.providers.hosts.inventory import Machine, bind, load_inventory
from nineslab.security import etcd_access, pki
from nineslab.topology import Host, Topology, load_topology

INVENTORY_COPY = "machines.yaml"  # the inventory as deployed, in the lab's state directory
CLOCKS_FILE = "clocks.json"  # each machine's clock offset and bound, as the last run's start measured them
# The Go daemons are shipped (the same binaries the other providers run); the Debian daemons are the
# machine's own, from its packages (`nineslab machines` checks them).
SHIPPED = {"etcd": ["etcd"], "gateway": ["traefik"], "app": ["caddy"]}
PYTHON = "/usr/bin/python3"
CHECKER = Path(__file__).resolve().parents[2] / "services" / "checker.py"  # stdlib only: runs anywhere
# The lab's daemon control (roles/common/files/daemonctl.sh), sent to a machine on stdin for each act:
# signal, start, hold and unsupervise a daemon by the lab's pidfiles; purge a machine of the lab
# (every daemon ended by its pidfile, supervisors first, then the lab's directory: all nineslab put there).
DAEMON_CTL = (PLAYBOOK_DIR / "roles" / "common" / "files" / "daemonctl.sh").read_text()
CTL_TIMEOUT_S = 30.0


class HostsProvider(Provider):
    name = "hosts"
    # power off = the machine's lab traffic dropped (its firewall) and its daemons killed; a zone or
    # region cut = firewall rules on both sides (no router between machines)
    capabilities = frozenset({SWITCH_PORT, CUT})
    ship_playbook = "ship.yml"
    # The client is the machine nineslab runs on: its resolver is the operator's (README, "Existing hosts").
    deploy_limit = "all:!clients"

    def __init__(self, lab: str) -> None:
        super().__init__(lab)
        self.inventory_path: Path | None = None
        self._machines: dict[str, Machine] | None = None

    @property
    def copy(self) -> Path:
        return lab_dir(self.lab) / INVENTORY_COPY

    # -- the machines --------------------------------------------------------------------------
    def use_inventory(self, path: object) -> None:
        self.inventory_path = Path(str(path))

    def prepare(self, topology: Topology) -> Topology:
        source = self.inventory_path or (self.copy if self.copy.is_file() else None)
        if source is None:
            raise NinesError(
                f"lab {self.lab!r}: the hosts provider needs the machines — give `--inventory FILE` "
                '(README, "Existing hosts over SSH")'
            )
        machines = load_inventory(source, topology)  # validated whole before anything is written
        if source != self.copy:
            self.copy.parent.mkdir(parents=True, exist_ok=True)
            raw = yaml.safe_load(source.read_text())
            for name, machine in machines.items():  # relative key paths were read against the original's folder
                raw["hosts"][name]["key"] = str(machine.key.resolve())
            self.copy.write_text(yaml.safe_dump(raw, sort_keys=False))
        self._machines = machines
        return bind(topology, machines)

    def machines(self) -> dict[str, Machine]:
        if self._machines is None:
            snapshot = lab_dir(self.lab) / "topology.yaml"
            if not (self.copy.is_file() and snapshot.is_file()):
                raise LabError(f"lab {self.lab!r} has no machines on record — deploy it with --inventory FILE")
            self._machines = load_inventory(self.copy, load_topology(str(snapshot)))
        return self._machines

    def bind(self, topology: Topology) -> Topology:
        return bind(topology, self.machines())

    # -- Provider ------------------------------------------------------------------------------
    def create(self, topology: Topology) -> list[InventoryHost]:
        machines = self.machines()
        problems = {h: p for h, p in ssh.probe_all(self.lab, machines).items() if p is not None}
        if problems:
            host, problem = sorted(problems.items())[0]
            raise LabError(
                f"hosts.{host} ({machines[host].target}): {problem} — nothing was changed there; "
                "`nineslab machines` checks every machine"
            )
        return [
            InventoryHost(
                h.name,
                h.role,
                str(h.address),
                h.zone,
                h.region,
                "",  # no namespace: a machine
                # an LB's floating address goes on the device that holds its own address (keepalived)
                interface=self._device(machines[h.name]) if h.role == "lb" else "",
            )
            for h in topology.hosts
        ]

    def _device(self, machine: Machine) -> str:
        res = ssh.run(self.lab, machine, f"ip -o -4 addr show to {machine.address}/32")
        device = res.stdout.split()[1].split("@")[0] if res is not None and res.stdout.split() else ""
        if not device:
            raise LabError(f"hosts.{machine.host}: no network device holds {machine.address} — is it the machine's?")
        return device

    def destroy(self) -> None:
        if not self.copy.is_file():
            return  # never deployed, or already destroyed: nothing of the lab on any machine
        machines = self.machines()
        remote = shlex.quote(str(lab_dir(self.lab)))
        failed = []
        for host, machine in machines.items():
            res = ssh.run(self.lab, machine, _as_root(machine, f"sh -s {remote} purge"), DAEMON_CTL)
            if res is None or res.returncode != 0:
                failed.append(host)
        ssh.close_all(self.lab, machines)
        if failed:
            raise LabError(
                f"lab {self.lab}: could not clean {', '.join(failed)} over SSH — bring them back and destroy again"
            )

    def inventory(self) -> list[InventoryHost]:
        return []

    def present(self, topology: Topology) -> dict[str, bool]:
        # A machine is there whether or not the lab runs on it; its daemons' pidfiles say the rest.
        return {h.name: True for h in topology.hosts}

    def leftovers(self) -> list[str]:
        return []  # on the machines: see destroy (its failure names the machine)

    def host(self, host: Host) -> Handle:
        if host.role == "client":
            return self.router()  # the operator's machine, with its own resolver
        name = host.name
        machine = self.machines()[name]
        prefix = tuple(ssh.ssh_prefix(self.lab, machine))
        return Handle(
            self.lab,
            machine.target,
            (*prefix, "sudo", "-n") if machine.become else prefix,
            lambda: name in self.machines(),
        )

    def router(self) -> Handle:
        return Handle(self.lab, "this machine", (), lambda: True)

    def pids(self, host: Host) -> list[int]:
        return []

    def port(self, topology: Topology, host: Host) -> str:
        raise LabError("the hosts provider has no switch ports: a machine's links are not nineslab's")

    def daemon_pid(self, host: Host, daemon: str) -> int | None:
        if host.role == "client":
            return None
        path = shlex.quote(str(pidfile(self.lab, host.name, daemon)))
        cmd = f'p=$(cat {path} 2>/dev/null) && [ -d /proc/"$p" ] && echo "$p"'
        try:
            res = self.host(host).run([cmd])
        except subprocess.TimeoutExpired:
            return None
        out = res.stdout.strip()
        return int(out) if res.returncode == 0 and out.isdigit() else None

    # -- faults: the same ops, their hands over SSH ------------------------------------------------
    def owns(self, host: Host) -> bool:
        return host.role != "client" and host.name in self.machines()

    def _ctl(self, host: Host, *args: str) -> tuple[int, Acts]:
        """One action of DAEMON_CTL on the host's machine: its exit code and its act (the machine's clock
        when it acted; none when there was nothing to do)."""
        machine = self.machines()[host.name]
        argv = " ".join(shlex.quote(a) for a in (str(host_dir(self.lab, host.name)), *args))
        res = ssh.run(self.lab, machine, _as_root(machine, f"sh -s {argv}"), DAEMON_CTL, CTL_TIMEOUT_S)
        if res is None or res.returncode not in (0, 1):
            why = "no answer" if res is None else " ".join(res.stderr.split())[-200:]
            raise LabError(f"hosts.{host.name}: {' '.join(args)} over SSH failed ({why})")
        return res.returncode, ssh.acted(host.name, res.stdout)

    def signal_daemon(self, host: Host, daemon: str, sig: int) -> Acts:
        return self._ctl(host, "signal", daemon, str(int(sig)))[1]

    def start_daemon(self, host: Host, daemon: str) -> Started:
        rc, acts = self._ctl(host, "start", daemon)
        return Started(rc == 0, acts)

    def hold_down(self, host: Host, daemon: str) -> Acts:
        return self._ctl(host, "hold", daemon)[1]

    def stop_supervisor(self, host: Host) -> Acts:
        return self._ctl(host, "unsupervise")[1]

    def power_off(self, topology: Topology, host: Host) -> Acts:
        return firewall.unplug(self.lab, self.machines()[host.name])

    def power_on(self, topology: Topology, host: Host) -> Acts:
        return firewall.clear(self.lab, self.machines()[host.name])[1]

    def cut(self, inside: list[str], outside: list[str], client: bool) -> Acts:
        return firewall.isolate(self.lab, self.machines(), inside, outside, client)

    def uncut(self) -> tuple[list[str], Acts]:
        return firewall.restore(self.lab, self.machines())

    # -- clocks: every machine keeps its own -----------------------------------------------------
    @property
    def clocks_file(self) -> Path:
        return lab_dir(self.lab) / CLOCKS_FILE

    def measure_clocks(self) -> ClockTable:
        found = ssh.clocks(self.lab, self.machines())
        self.clocks_file.write_text(json.dumps(clocks_to_json(found)))
        return found

    def clock_offsets(self) -> dict[str, Clock]:
        try:
            return measured(clocks_from_json(json.loads(self.clocks_file.read_text())))
        except (OSError, ValueError):
            return {}  # never measured (no run yet): acts stay uncorrected, and say so

    # -- the deploy ----------------------------------------------------------------------------
    def prepare_ship(self, hosts: list[InventoryHost]) -> None:
        for host in hosts:
            if host.role != "client":
                ship_kit(self.lab, host)

    def ansible_vars(self) -> dict[str, Any]:
        base = lab_dir(self.lab)
        here = binaries()
        return {
            "ansible_connection": "ssh",
            "ansible_python_interpreter": PYTHON,
            "controller_bin": here,
            "controller_checker": str(CHECKER),
            "bin": {**here, **{d: str(base / "bin" / d) for ds in SHIPPED.values() for d in ds}},
            "nineslab_shipped": str(base / "bin"),
            "nineslab_scripts": str(base / "scripts"),
        }

    def ansible_host_vars(self, host: InventoryHost) -> dict[str, Any]:
        if host.role == "client":
            return {"ansible_connection": "local"}
        m = self.machines()[host.name]
        return {
            "ansible_host": str(m.address),
            "ansible_user": m.user,
            "ansible_port": m.port,
            "ansible_ssh_private_key_file": str(m.key),
            "ansible_ssh_common_args": " ".join(shlex.quote(o) for o in ssh.common_options(self.lab)),
            "ansible_become": m.become,
            # the lab's known_hosts holds each machine's key from the first probe (accept-new, then held to)
            "ansible_host_key_checking": True,
            "host_dir": str(host_dir(self.lab, host.name)),
            "ship_daemons": SHIPPED.get(host.role, []),
            "ship_kit": str(kit_path(self.lab, host.name)),
        }


def _as_root(machine: Machine, command: str) -> str:
    return f"sudo -n sh -c {shlex.quote(command)}" if machine.become else command


# The roles' helper scripts a machine runs (the other providers run them from the playbook directory).
HELPERS = ("common/files/wait_ready.py", "common/files/daemonctl.sh", "etcd/files/etcd_auth.py")
SECRET_DIR_MODE, SCRIPT_MODE, SECRET_MODE = 0o700, 0o755, 0o600


def kit_path(lab: str, host: str) -> Path:
    return lab_dir(lab) / "ship" / f"{host}.tar"


def ship_kit(lab: str, host: InventoryHost) -> Path:
    """Everything a machine needs but its daemon's binary, in one tar the ship play unpacks at / — the
    lab's directories on it, the roles' helper scripts, the checker and the host's certificates — so
    that shipping is one transfer and one module run per machine: one `copy` or `file` per item took 38 s
    of a 57 s 2az deploy on 11 machines (about 15 module runs each, over SSH, on 2 cores). Entries keep
    their sources' mtimes: unpacking changes nothing (and reports no change) where they are already
    there as they are."""
    base, host_root, secrets = lab_dir(lab), host_dir(lab, host.name), etcd_access.pki_dir(lab)
    dirs = [base / "bin", base / "scripts", secrets, *(host_root / d for d in ("conf", "data", "log", "run"))]
    files = [(PLAYBOOK_DIR / "roles" / h, base / "scripts" / Path(h).name, SCRIPT_MODE) for h in HELPERS]
    files.append((CHECKER, base / "scripts" / "checker.py", 0o644))
    files += [(Path(f), secrets / Path(f).name, SECRET_MODE) for f in pki_files(lab, host)]
    kit = kit_path(lab, host.name)
    kit.parent.mkdir(mode=SECRET_DIR_MODE, exist_ok=True)
    with tarfile.open(kit, "w", format=tarfile.GNU_FORMAT) as tar:
        for d in dirs:
            entry = tarfile.TarInfo(str(d).lstrip("/"))
            entry.type, entry.mode = tarfile.DIRTYPE, SECRET_DIR_MODE  # (GNU tar's --diff ignores a directory's mtime)
            tar.addfile(entry)
        for src, dest, mode in files:
            data = src.read_bytes()
            entry = tarfile.TarInfo(str(dest).lstrip("/"))
            entry.size, entry.mode, entry.mtime = len(data), mode, int(src.stat().st_mtime)
            tar.addfile(entry, io.BytesIO(data))
    kit.chmod(SECRET_MODE)
    return kit


def pki_files(lab: str, host: InventoryHost) -> list[str]:
    """The certificates and secrets a machine needs, no more (never the CA's key)."""
    d = etcd_access.pki_dir(lab)
    if host.role == "etcd":
        names = [f"{host.name}.crt", f"{host.name}.key"]
        names += [f"{u}.{x}" for u in ("root", "deployer") for x in ("crt", "key", "password")]
    elif host.role == "gateway":
        user = pki.gateway_user(host.name)
        names = [f"{user}.crt", f"{user}.key"]
    else:
        return []
    return [str(d / n) for n in ["ca.crt", *names] if (d / n).is_file()]
