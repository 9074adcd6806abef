"""The hosts provider's pure parts: what the inventory says differently for machines, how a command
reaches one, and which secrets each machine gets."""

from __future__ import annotations

import ipaddress
import shlex
import tarfile
from pathlib import Path

import pytest

from nineslab.errors import LabError
from nineslab.paths import binaries, lab_dir
from nineslab.providers import InventoryHost, NetnsProvider
from nineslab.providers.hosts.inventory import Machine
from nineslab.providers.hosts.provider import HostsProvider, pki_files, ship_kit
from nineslab.security import etcd_access, pki
from nineslab.topology import load_topology


def provider(become: bool = False) -> HostsProvider:
    p = HostsProvider("hl")
    p._machines = {
        "gw-a": Machine("gw-a", ipaddress.IPv4Address("192.0.2.10"), "debian", Path("/k/id"), 2222, become),
        "etcd-a1": Machine("etcd-a1", ipaddress.IPv4Address("192.0.2.20"), "root", Path("/k/id")),
    }
    return p


def test_go_daemons_run_from_what_was_shipped_and_debian_ones_from_the_machine() -> None:
    v = provider().ansible_vars()
    assert v["ansible_connection"] == "ssh" and v["ansible_python_interpreter"] == "/usr/bin/python3"
    for daemon in ("etcd", "traefik", "caddy"):
        assert v["bin"][daemon] == str(lab_dir("hl") / "bin" / daemon)
        assert v["controller_bin"][daemon] == binaries()[daemon]  # shipped from here
    assert v["bin"]["haproxy"] == binaries()["haproxy"]


def test_a_machine_is_reached_over_ssh_with_the_labs_options_and_gets_only_its_role_s_binary() -> None:
    hv = provider().ansible_host_vars(InventoryHost("gw-a", "gateway", "192.0.2.10", "a", "r", ""))
    assert (hv["ansible_host"], hv["ansible_user"], hv["ansible_port"]) == ("192.0.2.10", "debian", 2222)
    assert hv["ansible_ssh_private_key_file"] == "/k/id" and hv["ship_daemons"] == ["traefik"]
    common = shlex.split(hv["ansible_ssh_common_args"])
    assert f"UserKnownHostsFile={lab_dir('hl') / 'ssh' / 'known_hosts'}" in common and "-i" not in common


def test_commands_go_over_ssh_to_the_named_machine_with_sudo_where_it_becomes() -> None:
    topo = load_topology("2az")
    hosts = provider()
    assert hosts.router().here and hosts.host(topo.client).here, "the client: the machine nineslab runs on"
    plain = hosts.host(topo.host("etcd-a1")).prefix
    assert plain[0] == "ssh" and plain[-1] == "root@192.0.2.20"
    assert provider(become=True).host(topo.host("gw-a")).prefix[-3:] == ("debian@192.0.2.10", "sudo", "-n")


def lab_pki(state: Path, monkeypatch: pytest.MonkeyPatch, names: list[str]) -> Path:
    """Lab hl's certificate directory under a private state directory, with these files in it."""
    monkeypatch.setenv("NINESLAB_STATE_DIR", str(state))
    d = etcd_access.pki_dir("hl")
    d.mkdir(parents=True)
    for name in names:
        (d / name).write_text("x")
    return d


def test_an_etcd_member_gets_its_own_and_the_operators_certificates_never_the_cas_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = pki.gateway_user("gw-a")
    names = ["ca.crt", "ca.key", "etcd-a1.crt", "etcd-a1.key", "root.crt", "root.key", f"{user}.crt", f"{user}.key"]
    lab_pki(tmp_path, monkeypatch, names)
    member = {Path(f).name for f in pki_files("hl", InventoryHost("etcd-a1", "etcd", "a", None, None, ""))}
    assert member == {"ca.crt", "etcd-a1.crt", "etcd-a1.key", "root.crt", "root.key"}
    gateway = {Path(f).name for f in pki_files("hl", InventoryHost("gw-a", "gateway", "a", None, None, ""))}
    assert gateway == {"ca.crt", f"{user}.crt", f"{user}.key"}
    assert pki_files("hl", InventoryHost("lb-a", "lb", "a", None, None, "")) == []


def test_a_machine_s_kit_holds_its_directories_scripts_and_own_certificates_and_is_built_the_same_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = pki.gateway_user("gw-a")
    d = lab_pki(tmp_path, monkeypatch, ["ca.crt", "ca.key", "root.key", f"{user}.crt", f"{user}.key"])
    gw = InventoryHost("gw-a", "gateway", "a", None, None, "")
    kit = ship_kit("hl", gw)
    first = kit.read_bytes()
    assert ship_kit("hl", gw).read_bytes() == first, "unchanged inputs: the same archive (nothing to unpack)"
    with tarfile.open(kit) as tar:
        modes = {"/" + m.name: (m.type, m.mode, m.uid) for m in tar.getmembers()}
    base = lab_dir("hl")
    assert modes[str(base / "hosts" / "gw-a" / "data")] == (tarfile.DIRTYPE, 0o700, 0)
    assert modes[str(base / "scripts" / "daemonctl.sh")][1:] == (0o755, 0)
    assert modes[str(d / f"{user}.key")][1:] == (0o600, 0)
    assert {Path(n).name for n in modes if Path(n).parent == d} == {"ca.crt", f"{user}.crt", f"{user}.key"}
    assert oct(kit.stat().st_mode & 0o777) == "0o600", "it holds keys"


def test_an_inventory_is_refused_for_a_provider_that_makes_its_own_hosts() -> None:
    with pytest.raises(LabError, match="--inventory is for --provider hosts"):
        NetnsProvider("hl").use_inventory(Path("x.yaml"))
