"""Deploying over a half-broken lab repairs it; two labs coexist (on docker: one per provider); a wrong
deploy changes nothing. On both providers."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from nineslab.errors import LabError
from nineslab.lab import Lab
from nineslab.providers.base import CONTAINER
from nineslab.providers.daemons import hold_down, stop_supervisor
from nineslab.services import etcd, gateway
from tests.integration.conftest import (
    NINESLAB,
    STATE_DIR,
    alive,
    both_providers,
    client_get,
    eventually,
    lab_deployed,
    lab_pids,
    leftovers,
    nineslab,
    nineslab_json,
)

LAB = "itfix"
TOPOLOGY = "1az"
pytestmark = both_providers


@pytest.fixture(scope="module")
def deployed(provider: str) -> Iterator[dict[str, Any]]:
    with lab_deployed(LAB, TOPOLOGY, provider) as result:
        yield result


def lose_host(host: str) -> None:
    """A host lost entirely: its namespace deleted, or on docker its container removed."""
    lab = Lab(LAB)
    if CONTAINER in lab.provider.capabilities:
        client = lab.provider.engine.client()  # type: ignore[attr-defined]
        try:
            client.containers.get(f"{LAB}-{host}").remove(force=True)
        finally:
            client.close()
    subprocess.run(["ip", "netns", "del", f"{LAB}-{host}"], check=False)


def test_deploy_repairs_killed_daemons_and_a_lost_host(deployed: dict[str, Any]) -> None:
    before = lab_pids(LAB)
    for host in ("gw-a1", "etcd-a2"):  # the host's supervision tree dies with it, or it restarts them at once
        stop_supervisor(LAB, host)
    os.kill(before["gw-a1/traefik"], signal.SIGKILL)
    os.kill(before["etcd-a2/etcd"], signal.SIGKILL)
    lose_host("app-a2")
    seen: list[list[str]] = []

    def named_down() -> bool:
        broken = nineslab_json("status", "--lab", LAB, check=False)
        seen.append(sorted(h["name"] for h in broken["hosts"] if not h["healthy"]))
        return seen[-1] == ["app-a2", "etcd-a2", "gw-a1"]

    # Until a gateway's health check (1 s apart) drops the lost app, a request that meets the app's
    # vanished address waits out the gateway's 300 ms dial timeout before its retry, past the LB's own
    # 300 ms server timeout: an LB probed then fails too (lb-a2, right after the loss).
    assert eventually(named_down, 5, 0.1), seen

    repaired = nineslab_json("deploy", "--topology", TOPOLOGY, "--lab", LAB)
    assert repaired["status"]["healthy"], repaired["status"]
    # Ansible ran on what was broken (and every etcd member, with one of them) — not on the rest
    members = {h["name"] for h in repaired["status"]["hosts"] if h["role"] == "etcd"}
    assert set(repaired["only"]) == {"app-a2", "gw-a1"} | members, repaired["only"]
    after = lab_pids(LAB)
    assert after["gw-a1/traefik"] != before["gw-a1/traefik"] and alive(after["gw-a1/traefik"])
    assert after["etcd-a2/etcd"] != before["etcd-a2/etcd"] and alive(after["etcd-a2/etcd"])
    assert not alive(before["app-a2/caddy"]), "the daemon of the lost namespace is ended, by its PID"
    assert after["lb-a1/haproxy"] == before["lb-a1/haproxy"], "healthy daemons are left alone"
    assert all(h["supervisor"] for h in repaired["status"]["hosts"]), "every host supervised again"
    assert len(repaired["status"]["etcd"]["healthy_members"]) == 3
    r = client_get(LAB, "http://198.18.1.32/health")  # the re-created host answers at its address
    assert r["status"] == 200 and r["body"]["app"] == "app-a2"


def test_deploy_brings_back_an_etcd_member_that_lost_its_data(deployed: dict[str, Any]) -> None:
    # The member goes down (its supervisor told not to restart it, as a failed machine stays down) and
    # its disk is lost: etcd refuses to bootstrap it again as it was.
    pid = hold_down(LAB, "etcd-a2", "etcd")
    assert pid and eventually(lambda: not alive(pid), 5, 0.05)
    data = STATE_DIR / LAB / "hosts" / "etcd-a2" / "data" / "member"
    shutil.rmtree(data)
    repaired = nineslab_json("deploy", "--topology", TOPOLOGY, "--lab", LAB)
    assert repaired["status"]["healthy"] and len(repaired["status"]["etcd"]["healthy_members"]) == 3
    assert data.is_dir()
    # A local (serializable) read on the member itself: it caught up with the cluster's data.
    read = {"key": etcd.b64(gateway.DIGEST_KEY), "serializable": True}
    lab = Lab(LAB)
    url = f"{etcd.endpoint(lab.topology().host('etcd-a2'), lab.topology())}/v3/kv/range"
    check = {"kind": "http", "url": url, "data": read, **lab.etcd.access}  # with its certificate and user
    checker = lab.checker(lab.provider.router())  # the client cannot reach etcd
    last: dict[str, Any] = {}

    def caught_up() -> bool:
        # Retried: on a loaded machine the rejoined member may still be applying the leader's
        # snapshot, or an election may be under way, for a few seconds after deploy returned.
        last.update(checker.run({"m": check})["m"])
        return last.get("status") == 200 and bool(last.get("body", {}).get("kvs"))

    assert eventually(caught_up, 20, 0.5), last
    assert nineslab_json("deploy", "--topology", TOPOLOGY, "--lab", LAB)["changed"] == 0, "then a redeploy is a no-op"


def test_deploy_deletes_route_keys_the_topology_no_longer_wants(deployed: dict[str, Any]) -> None:
    lab = Lab(LAB)
    stale = "traefik-gw-a1./http/services/apps/loadBalancer/servers/9/url"  # as an earlier topology left it

    def put() -> bool:
        # A put is idempotent, so it may be retried while the cluster settles after the previous test's
        # member rejoin (an election on a loaded machine outlasts the checker's 2 s timeout).
        try:
            lab.etcd.call("/v3/kv/put", {"key": etcd.b64(stale), "value": etcd.b64("http://198.18.1.99:80")})
        except LabError:
            return False
        return True

    assert eventually(put, 20, 0.5), "no etcd member took the put within 20 s"
    before = {k: v for k, v in lab.etcd.prefix("traefik-").items() if k != stale}
    assert lab.etcd.get(stale)
    nineslab("deploy", "--topology", TOPOLOGY, "--lab", LAB)
    assert lab.etcd.get(stale) is None
    # The deletion went out through the guard (canary first), which marks each gateway with its token.
    after = {k: v for k, v in lab.etcd.prefix("traefik-").items() if not k.endswith(gateway.ROUTES_MARKER)}
    assert after == before, "every wanted key stays as it was"
    assert client_get(LAB, "http://198.18.1.21/api/")["status"] == 200


def test_an_etcd_configuration_change_restarts_one_member_at_a_time(deployed: dict[str, Any]) -> None:
    before = lab_pids(LAB)
    members = sorted(k for k in before if k.endswith("/etcd"))
    for member in members:  # each member's configuration differs from what deploy writes
        conf = STATE_DIR / LAB / "hosts" / member.split("/")[0] / "conf" / "etcd.conf.yml"
        conf.write_text(conf.read_text() + "# edited by hand\n")

    def running() -> int:
        n = 0
        for member in members:
            pidfile = STATE_DIR / LAB / "hosts" / member.split("/")[0] / "run" / "etcd.pid"
            with contextlib.suppress(OSError, ValueError):
                n += alive(int(pidfile.read_text()))
        return n

    fewest = [len(members)]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.005):
            fewest[0] = min(fewest[0], running())

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        result = nineslab_json("deploy", "--topology", TOPOLOGY, "--lab", LAB)
    finally:
        done.set()
        sampler.join()
    after = lab_pids(LAB)
    assert all(after[m] != before[m] for m in members), "every member restarted for its new configuration"
    assert fewest[0] == len(members) - 1, "one member down at a time: the quorum is never lost"
    assert result["status"]["healthy"] and len(result["status"]["etcd"]["healthy_members"]) == 3


def test_a_second_lab_interrupted_by_ctrl_c_then_finished_coexists_and_goes_alone(deployed: dict[str, Any]) -> None:
    other = "itfix2"  # always on netns: beside a docker lab, two labs of two providers
    nineslab("destroy", "--lab", other, check=False)
    try:
        proc = subprocess.Popen(
            [NINESLAB, "deploy", "--topology", TOPOLOGY, "--lab", other],
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        log = STATE_DIR / other / "ansible.log"
        assert eventually(lambda: log.exists() and "TASK [" in log.read_text(), 60, 0.1), "ansible is running"
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in a terminal: the whole foreground process group
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        last = err.strip().splitlines()[-1]  # the lines before it are progress
        assert last.startswith("nineslab: interrupted: ") and f"deploy --topology {TOPOLOGY} --lab {other}" in last
        assert "Traceback" not in err
        st = nineslab_json("deploy", "--topology", TOPOLOGY, "--lab", other)["status"]
        assert st["healthy"]
        assert client_get(other, "http://api.nines.lab/api/")["status"] == 200
    finally:
        nineslab("destroy", "--lab", other, check=False)
    assert leftovers(other) == []
    assert nineslab_json("status", "--lab", LAB)["healthy"], "destroying one lab must not touch another"


def test_deploying_another_topology_over_a_lab_is_refused(deployed: dict[str, Any]) -> None:
    before = lab_pids(LAB)
    res = nineslab("deploy", "--topology", "3dc", "--lab", LAB, check=False)
    assert res.returncode == 2
    assert f"lab '{LAB}' runs topology 1az — destroy it first" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert lab_pids(LAB) == before
    assert not any(p.name.endswith("-gw-c") for p in (STATE_DIR / LAB / "hosts").iterdir())
