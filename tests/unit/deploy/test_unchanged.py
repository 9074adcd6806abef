"""deploy.unchanged: what a no-op deploy must prove, on files and records (no lab)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from nineslab.deploy import unchanged
from nineslab.services import gateway
from nineslab.topology import load_topology

TOPOLOGY = load_topology("2az")


def _host(tmp_path: Path) -> Path:
    hdir = tmp_path / "lab-gw-a"
    (hdir / "conf" / "caddy").mkdir(parents=True)  # a daemon's own state under conf/ is a directory
    (hdir / "run").mkdir()
    (hdir / "run" / "traefik.start").write_text("exec traefik\n")
    (hdir / "conf" / "traefik.yml").write_text("entryPoints: {}\n")
    (hdir / "conf" / "B.conf").write_text("upper case sorts first in byte order\n")
    return hdir


def test_the_digest_is_the_one_the_start_script_writes(tmp_path: Path) -> None:
    hdir = _host(tmp_path)
    # the start script's own command (daemon.start.j2), run by /bin/sh as on a host
    cmd = f"cat {hdir}/run/traefik.start {hdir}/conf/* 2>/dev/null | sha1sum | cut -c1-40"
    shell = subprocess.run(["/bin/sh", "-c", cmd], capture_output=True, text=True, check=True).stdout.strip()
    assert unchanged.loaded_now(hdir, "traefik") == shell


def test_a_changed_file_or_start_script_changes_what_would_load(tmp_path: Path) -> None:
    hdir = _host(tmp_path)
    before = unchanged.loaded_now(hdir, "traefik")
    (hdir / "conf" / "traefik.yml").write_text("entryPoints: {web: {}}\n")
    edited = unchanged.loaded_now(hdir, "traefik")
    (hdir / "run" / "traefik.start").write_text("exec traefik --debug\n")
    assert len({before, edited, unchanged.loaded_now(hdir, "traefik")}) == 3


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
