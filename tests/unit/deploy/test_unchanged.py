"""deploy.unchanged: what a no-op deploy must prove, on files and records (no lab)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from nineslab.deploy import unchanged
from nineslab.services import gateway
from nineslab.topology import load_topology

TOPOLOGY = load_topology("2az")


def _host(tmp_path: Path) -> tuple[Path, str]:
    """A host's directory and the record its start script writes (its own command, run by /bin/sh)."""
    hdir = tmp_path / "lab-lb-a"
    (hdir / "conf").mkdir(parents=True)
    (hdir / "run").mkdir()
    (hdir / "run" / "haproxy.start").write_text("exec haproxy\n")
    (hdir / "conf" / "haproxy.cfg").write_text("global\n")
    cmd = f"cd {hdir} && sha1sum run/haproxy.start conf/haproxy.cfg"
    return hdir, subprocess.run(["/bin/sh", "-c", cmd], capture_output=True, text=True, check=True).stdout


def test_a_daemon_that_loaded_what_is_on_disk_is_not_stale(tmp_path: Path) -> None:
    hdir, record = _host(tmp_path)
    assert unchanged.stale_files(hdir, record) == []
    # another daemon's file written later (keepalived beside haproxy) is not what haproxy loads
    (hdir / "conf" / "keepalived.conf").write_text("vrrp_instance x {}\n")
    assert unchanged.stale_files(hdir, record) == []


def test_an_edited_file_or_start_script_or_no_record_is_stale(tmp_path: Path) -> None:
    hdir, record = _host(tmp_path)
    (hdir / "conf" / "haproxy.cfg").write_text("global\n# edited\n")
    assert unchanged.stale_files(hdir, record) == ["conf/haproxy.cfg"]
    (hdir / "run" / "haproxy.start").unlink()
    assert unchanged.stale_files(hdir, record) == ["run/haproxy.start", "conf/haproxy.cfg"]
    assert unchanged.stale_files(hdir, "") != []


def test_routes_as_the_topology_wants_them_differ_in_nothing() -> None:
    wanted = gateway.all_route_keys(TOPOLOGY)
    digest = gateway.routes_digest(TOPOLOGY)
    marker = f"{gateway.rootkey(TOPOLOGY.by_role('gateway')[0])}/{gateway.ROUTES_MARKER}"
    assert unchanged.routes_differ(TOPOLOGY, {**wanted, marker: "push-1"}, digest) == []
    key = next(iter(wanted))
    assert unchanged.routes_differ(TOPOLOGY, {**wanted, key: "other"}, digest) == [key]
    assert unchanged.routes_differ(TOPOLOGY, {**wanted, "traefik-gw-a/left": "x"}, digest) == ["traefik-gw-a/left"]
    assert unchanged.routes_differ(TOPOLOGY, wanted, None) == [gateway.DIGEST_KEY]


def test_the_inputs_digest_follows_the_topology_file_and_the_certificates(tmp_path: Path) -> None:
    source = tmp_path / "2az.yaml"
    shutil.copy(TOPOLOGY.source, source)
    topo = load_topology(str(source))
    pki = tmp_path / "pki"
    pki.mkdir()
    (pki / "ca.crt").write_text("one")
    first = unchanged.inputs_digest(topo, "netns", pki)
    assert unchanged.inputs_digest(topo, "netns", pki) == first
    assert unchanged.inputs_digest(topo, "docker", pki) != first
    (pki / "ca.crt").write_text("two")
    renewed = unchanged.inputs_digest(topo, "netns", pki)
    assert renewed != first
    source.write_text(source.read_text() + "\n# a comment is a change of input too\n")
    assert unchanged.inputs_digest(topo, "netns", pki) != renewed


def test_only_the_hosts_that_differ_are_configured_and_every_etcd_member_with_one() -> None:
    assert unchanged.hosts_to_configure(TOPOLOGY, {"gw-a"}) == ["gw-a"]
    assert unchanged.hosts_to_configure(TOPOLOGY, {"dns-b", "lb-a"}) == ["lb-a", "dns-b"]  # topology order
    members = [h.name for h in TOPOLOGY.by_role("etcd")]
    assert unchanged.hosts_to_configure(TOPOLOGY, {"etcd-b1", "gw-b"}) == ["gw-b", *members]
    assert unchanged.hosts_to_configure(TOPOLOGY, set()) == [], "nothing named: every host"
