"""Deploy each reference topology for real and check what a user relies on after `make deploy`.
Tests run grouped per topology (module-scoped parametrized fixture), on the shared lab of that topology
and provider, after its other users (the last test destroys it). 1az and 3dc run on netns, 2az on docker
(the same checks: the provider changes what a host is, nothing else); 2az on netns is deployed, checked
healthy and faulted by most other modules (test_faults, test_gray, test_escape, test_kill9)."""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nineslab.paths import etcd_bin
from nineslab.security.pki import Identity
from nineslab.security.pki import ensure as pki_ensure
from tests.integration.conftest import (
    STATE_DIR,
    alive,
    client_get,
    lab_pids,
    leftovers,
    nineslab,
    nineslab_json,
    shared_lab,
)

TARGETS = {"1az": 0.999, "2az": 0.9999, "3dc": 0.99999}


LABS = [("1az", "netns"), ("2az", "docker"), ("3dc", "netns")]
DESTROYS_SHARED_LAB = True  # test_destroy_leaves_nothing: the conftest runs this module last of each group


@pytest.fixture(scope="module", params=LABS, ids=[f"{t}-{p}" for t, p in LABS])
def shared(request: pytest.FixtureRequest) -> tuple[str, str]:
    """Which shared lab (the conftest runs this module last of its users: its last test destroys it)."""
    topology, provider = request.param
    return topology, provider


@pytest.fixture(scope="module")
def lab(shared: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, dict[str, Any]]]:
    topology, provider = shared
    with shared_lab(topology, provider, tmp_path_factory.mktemp("reports")) as (name, deployed):
        yield name, topology, deployed


def test_deploys_healthy_with_one_etcd_leader(lab: tuple[str, str, dict[str, Any]]) -> None:
    name, topology, deployed = lab
    assert deployed["topology"] == topology and deployed["lab"] == name
    st = nineslab_json("status", "--lab", name)
    assert st["healthy"], st
    assert st["topology"] == topology and st["target"] == TARGETS[topology]
    assert st["entrypoint"]["url"] == "http://api.nines.lab/api/"
    assert st["entrypoint"]["client_netns"] == f"{name}-client"
    assert len(st["entrypoint"]["resolvers"]) >= 2 and st["entrypoint"]["client_resolver"] == "caching"
    assert all(h["netns"] == f"{name}-{h['name']}" and h["address"].startswith("198.1") for h in st["hosts"])
    etcd_hosts = sorted(h["name"] for h in st["hosts"] if h["role"] == "etcd")
    assert len(etcd_hosts) == 3 and sorted(st["etcd"]["healthy_members"]) == etcd_hosts
    assert st["etcd"]["leader"] in etcd_hosts


def test_request_crosses_dns_lb_gateway_app(lab: tuple[str, str, dict[str, Any]]) -> None:
    """client -> DNS (api.nines.lab) -> LB -> gateway -> app, each hop named in the response."""
    name = lab[0]
    hosts = {h["name"]: h for h in nineslab_json("status", "--lab", name)["hosts"]}
    for _ in range(6):
        r = client_get(name, "http://api.nines.lab/api/")
        assert r["status"] == 200
        lb, gw, app = r["headers"]["x-nines-lb"], r["headers"]["x-nines-gateway"], r["headers"]["x-nines-app"]
        assert (hosts[lb]["role"], hosts[gw]["role"], hosts[app]["role"]) == ("lb", "gateway", "app")
        assert r["body"]["app"] == app and r["body"]["zone"] == hosts[app]["zone"]


def test_every_gateway_serves_the_route(lab: tuple[str, str, dict[str, Any]]) -> None:
    name = lab[0]
    gateways = [h for h in nineslab_json("status", "--lab", name)["hosts"] if h["role"] == "gateway"]
    assert len(gateways) >= 2
    for h in gateways:
        r = client_get(name, f"http://{h['address']}/api/")
        assert r["status"] == 200, h
        assert r["headers"]["x-nines-gateway"] == h["name"]


CONNECT = r"""
import json, socket, sys
host, port = sys.argv[1].rsplit(":", 1)
try:
    socket.create_connection((host, int(port)), timeout=1.5).close()
    print(json.dumps({"open": True}))
except OSError as e:
    print(json.dumps({"open": False, "error": type(e).__name__}))
"""


def connects(netns: str, address: str) -> bool:
    """A TCP connect from inside `netns` to address:port succeeds."""
    res = subprocess.run(
        ["ip", "netns", "exec", netns, sys.executable, "-c", CONNECT, address],
        capture_output=True,
        text=True,
        timeout=10,
    )
    return bool(json.loads(res.stdout)["open"])


def test_the_control_plane_and_admin_surfaces_are_off_the_data_path(lab: tuple[str, str, dict[str, Any]]) -> None:
    name = lab[0]
    st = nineslab_json("status", "--lab", name)
    assert st["fence"] and st["etcd"]["leader"], "status reads etcd from the operator's side, past the fence"
    hosts = {h["name"]: h for h in st["hosts"]}
    client = f"{name}-client"
    etcd = next(h for h in hosts.values() if h["role"] == "etcd")
    gw = next(h for h in hosts.values() if h["role"] == "gateway")
    lb = next(h for h in hosts.values() if h["role"] == "lb")
    # etcd: not reachable from the client namespace at all, client port or peer port ...
    assert not connects(client, f"{etcd['address']}:2379") and not connects(client, f"{etcd['address']}:2380")
    # ... while the gateways still read their routes from it (across the router where they are in
    # another zone; 1az has one zone)
    gateways = [g for g in hosts.values() if g["role"] == "gateway"]
    assert all(connects(g["netns"], f"{etcd['address']}:2379") for g in gateways)
    # admin surfaces answer on their host's loopback, and on no address the client can reach
    assert connects(gw["netns"], "127.0.0.1:8080") and not connects(client, f"{gw['address']}:8080")
    assert connects(lb["netns"], "127.0.0.1:8404") and not connects(client, f"{lb['address']}:8404")
    assert client_get(name, f"http://{lb['address']}/api/")["status"] == 200, "the data path is untouched"


def etcdctl(netns: str, endpoint: str, *args: str, timeout: str = "3s") -> subprocess.CompletedProcess[str]:
    """timeout: etcdctl's command timeout. A refused handshake is retried by the client until it runs
    out, so a refusal (asserted by its reason) is given 1 s: an accepted call here takes 0.04 s."""
    cmd = [str(etcd_bin("etcdctl")), f"--endpoints={endpoint}", "--dial-timeout=2s", f"--command-timeout={timeout}"]
    cmd += args
    return subprocess.run(["ip", "netns", "exec", netns, *cmd], capture_output=True, text=True, timeout=30)


def test_etcd_takes_only_this_labs_certificates_and_a_gateway_reads_only_its_own_routes(
    lab: tuple[str, str, dict[str, Any]], tmp_path: Path
) -> None:
    """Seen from a gateway's host (where etcd is reachable; the client segment is fenced off)."""
    name = lab[0]
    st = nineslab_json("status", "--lab", name)
    assert st["etcd_tls"] and min(st["certificates"].values()) > 300, st["certificates"]
    hosts = [h for h in st["hosts"]]
    etcd = next(h for h in hosts if h["role"] == "etcd")
    gw, other = [h for h in hosts if h["role"] == "gateway"][:2]
    pki = STATE_DIR / name / "pki"
    assert stat.S_IMODE(pki.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in [*pki.glob("*.key"), *pki.glob("*.password")])
    url = f"https://{etcd['address']}:2379"
    trust = f"--cacert={pki / 'ca.crt'}"
    # a gateway logs in by its certificate's common name (it has no password)
    mine = [trust, f"--cert={pki / (gw['name'] + '.crt')}", f"--key={pki / (gw['name'] + '.key')}"]
    own_root, other_root = f"traefik-{gw['name']}.", f"traefik-{other['name']}."
    # no client certificate, or plain HTTP: refused before any user is asked about
    res = etcdctl(gw["netns"], url, trust, "get", "--prefix", own_root, timeout="1s")
    assert res.returncode != 0 and "tls: bad certificate" in res.stderr, res.stderr
    # plain HTTP on etcd's TLS port: the member closes the connection (gRPC says "connection closed", or
    # "use of closed network connection" when its write meets the closed socket: both seen on docker)
    res = etcdctl(gw["netns"], f"http://{etcd['address']}:2379", "get", "x", timeout="1s")
    closed = re.search("connection closed|use of closed network connection", res.stderr)
    assert res.returncode != 0 and closed, res.stderr
    # a certificate of the same name from another lab's CA: refused
    pki_ensure(tmp_path, "other", [Identity(gw["name"], user_by_certificate=True)])
    theirs = [trust, f"--cert={tmp_path / (gw['name'] + '.crt')}", f"--key={tmp_path / (gw['name'] + '.key')}"]
    res = etcdctl(gw["netns"], url, *theirs, "get", "--prefix", own_root, timeout="1s")
    assert res.returncode != 0 and "tls: bad certificate" in res.stderr, res.stderr
    # the gateway's own identity: reads its own routes ...
    res = etcdctl(gw["netns"], url, *mine, "get", "--prefix", "--keys-only", own_root)
    assert res.returncode == 0 and f"{own_root}/http/routers/api/rule" in res.stdout, res.stderr
    # ... but not another gateway's, and it cannot write, not even its own
    res = etcdctl(gw["netns"], url, *mine, "get", "--prefix", other_root)
    assert res.returncode != 0 and "permission denied" in res.stderr
    res = etcdctl(gw["netns"], url, *mine, "put", f"{own_root}/http/routers/api/rule", "PathPrefix(`/x`)")
    assert res.returncode != 0 and "permission denied" in res.stderr
    assert client_get(name, "http://api.nines.lab/api/")["status"] == 200


def test_second_deploy_changes_nothing(lab: tuple[str, str, dict[str, Any]]) -> None:
    name, topology, _ = lab
    before = lab_pids(name)
    # proven unchanged: neither Terraform nor Ansible runs
    again = nineslab_json("deploy", "--topology", topology, "--lab", name)
    assert again["noop"] and again["changed"] == 0 and again["ansible_seconds"] == 0, again
    assert again["status"]["healthy"]
    assert lab_pids(name) == before, "a second deploy must not restart anything"
    # and when they do run (--full), they change nothing either: the playbook is idempotent
    full = nineslab_json("deploy", "--topology", topology, "--lab", name, "--full")
    assert not full["noop"] and full["ansible_seconds"] > 0
    assert full["changed"] == 0, f"a second Ansible run changed {full['changed']} things"
    assert lab_pids(name) == before, "a second deploy must not restart anything"
    assert full["status"]["healthy"]


def test_a_configuration_its_daemon_did_not_load_is_not_skipped(lab: tuple[str, str, dict[str, Any]]) -> None:
    """The control of the skip above: a gateway's configuration edited by hand is not what its running
    daemon loaded, so `deploy --plan` names that gateway alone, and the deploy runs Ansible on that
    gateway alone, writes the file back and restarts it."""
    name, topology, deployed = lab
    gw = next(h["name"] for h in deployed["status"]["hosts"] if h["role"] == "gateway")
    before = lab_pids(name)
    conf = STATE_DIR / name / "hosts" / gw / "conf" / "traefik.yml"
    wanted = conf.read_text()
    conf.write_text(wanted + "# edited by hand\n")
    # --plan says so for that gateway alone, and changes nothing
    plan = nineslab_json("deploy", "--topology", topology, "--lab", name, "--plan")
    assert not plan["noop"] and plan["routes"] == [] and list(plan["hosts"]) == [gw], plan
    assert plan["hosts"][gw] == [
        "restart traefik (what it loaded is not what is on disk)",
        "Gateway | Write the static configuration",
        "Gateway | Restart traefik",
    ], plan
    assert conf.read_text().endswith("# edited by hand\n") and lab_pids(name) == before
    again = nineslab_json("deploy", "--topology", topology, "--lab", name)
    assert not again["noop"] and again["changed"] > 0, again
    assert again["only"] == [gw], "Ansible configured that gateway alone"
    assert conf.read_text() == wanted
    after = lab_pids(name)
    restarted = sorted(k for k in before if after.get(k) != before[k])
    assert restarted == [f"{gw}/traefik"], restarted
    assert nineslab_json("deploy", "--topology", topology, "--lab", name)["noop"]


def test_destroy_leaves_nothing(lab: tuple[str, str, dict[str, Any]]) -> None:
    name = lab[0]
    pids = lab_pids(name)
    assert len(pids) >= 11
    nineslab("destroy", "--lab", name)
    assert leftovers(name) == []
    assert [p for p in pids.values() if alive(p)] == []
    nineslab("destroy", "--lab", name)  # twice is fine
    assert leftovers(name) == []
