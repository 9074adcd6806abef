"""A gateway whose etcd connection lost its other end without a word (the member's host lost power, a
partition swallowed the FIN) keeps serving its old routes and follows no change. `status` finds it by
looking at both ends; escape.etcd_keepalive makes the gateway notice by itself and watch again — measured
with the switch off as the control. The silent loss is made exactly: the member's end is destroyed
(`ss -K`) while its reset to the gateway is dropped."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from nineslab.lab import Lab
from nineslab.paths import TOPOLOGY_DIR
from nineslab.services import etcd, gateway
from tests.integration.conftest import SHARED_NAMES, client_get, eventually, nineslab, nineslab_json, shared_lab

SHARED_TOPOLOGY = "1az"  # reconfigured (etcd keepalive switched off) and restored
LAB = SHARED_NAMES[SHARED_TOPOLOGY]
GW, GW_ADDRESS = "gw-a2", "198.18.1.22"


@pytest.fixture(scope="module")
def keepalive_off(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = yaml.safe_load((TOPOLOGY_DIR / "1az.yaml").read_text())
    raw.setdefault("escape", {})["etcd_keepalive"] = False
    path = tmp_path_factory.mktemp("topo") / "1az-no-keepalive.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.fixture(scope="module")
def lab(keepalive_off: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with shared_lab(SHARED_TOPOLOGY, "netns", tmp_path_factory.mktemp("reports"), restore=True) as (_, deployed):
        nineslab("deploy", "--topology", str(keepalive_off), "--lab", LAB)
        yield deployed


def in_ns(host: str, *argv: str, stdin: str = "") -> str:
    res = subprocess.run(["ip", "netns", "exec", f"{LAB}-{host}", *argv], input=stdin, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return res.stdout


def etcd_connections(host: str) -> set[tuple[str, str]]:
    """The gateway's established connections to etcd members' client port: {(local, peer)}."""
    out = in_ns(host, "ss", "-Htn", "state", "established", "dport", "= :2379")
    return {(line.split()[2], line.split()[3]) for line in out.splitlines()}


def lose_silently(host: str) -> set[tuple[str, str]]:
    """Destroy the members' ends of every etcd connection of the gateway, their resets dropped: only the
    gateway still holds them. Returns the connections."""
    conns = eventually(lambda: etcd_connections(host), 10)
    assert conns, f"{host} holds no etcd connection"
    by_ip = {str(h.address): h.name for h in Lab(LAB).topology().by_role("etcd")}
    for local, peer in conns:
        member = by_ip[peer.rsplit(":", 1)[0]]
        ip, port = local.rsplit(":", 1)
        chain = f"chain out {{\n type filter hook output priority 0;\n ip daddr {ip} drop\n }}"
        table = f"table inet {LAB}_cut {{\n {chain}\n}}\n"
        in_ns(member, "nft", "-f", "-", stdin=table)
        try:
            in_ns(member, "ss", "-K", "-tn", "state", "established", "dst", ip, "dport", f"= :{port}")
        finally:
            in_ns(member, "nft", "delete", "table", "inet", f"{LAB}_cut")
    return conns


def mark(value: str) -> None:
    """Write the gateway's routes marker in etcd: its responses carry it once it has loaded the change."""
    host = Lab(LAB).topology().host(GW)
    key = f"{gateway.rootkey(host)}/{gateway.ROUTES_MARKER}"
    Lab(LAB).etcd.call("/v3/kv/put", {"key": etcd.b64(key), "value": etcd.b64(value)})


def serves(value: str) -> bool:
    r = client_get(LAB, f"http://{GW_ADDRESS}/api/")
    return r["status"] == 200 and r["headers"].get("x-nines-routes") == value


def stale(st: dict[str, Any]) -> list[str]:
    return next(h["etcd_half_open"] for h in st["hosts"] if h["name"] == GW)


def test_without_keepalive_the_gateway_follows_no_change_and_status_says_so(lab: dict[str, Any]) -> None:
    mark("before")
    assert eventually(lambda: serves("before"), 5), "a healthy gateway follows etcd"
    lost = lose_silently(GW)
    time.sleep(8)  # longer than the keepalive would take: with the switch off nothing happens
    st = nineslab_json("status", "--lab", LAB, check=False)
    assert not st["healthy"] and stale(st), st["hosts"]
    res = nineslab("status", "--lab", LAB, check=False)
    assert res.returncode == 1 and f"STALE: holds a half-open etcd connection to {stale(st)[0]}" in res.stdout
    assert set(stale(st)) == {peer for _, peer in lost}
    mark("after")
    time.sleep(3)
    assert serves("before"), "the stale gateway still serves the old routes"
    # heal restarts it: a new etcd connection, the change loaded, the lab healthy
    healed = nineslab_json("heal", "--lab", LAB)
    assert healed["healthy"] and any(
        a.startswith(f"restarted {GW}/traefik: it held a half-open") for a in healed["actions"]
    )
    assert eventually(lambda: serves("after"), 5)


def test_keepalive_makes_the_gateway_notice_and_watch_again(lab: dict[str, Any], keepalive_off: Path) -> None:
    # the default topology has the switch on: the redeploy restarts Traefik (its connection takes the
    # keepalive timing it is opened with), which also ends the stale watch of the test before
    nineslab("deploy", "--topology", "1az", "--lab", LAB)
    assert eventually(lambda: nineslab_json("status", "--lab", LAB, check=False)["healthy"], 20)
    mark("on-1")
    assert eventually(lambda: serves("on-1"), 5)
    lost = lose_silently(GW)
    start = time.monotonic()
    # the first keepalive probe (at most 5 s idle) meets a member with no such connection: reset, then
    # the gateway's etcd client connects and watches again
    assert eventually(lambda: (now := etcd_connections(GW)) and not now & lost, 20, 0.2)
    noticed = time.monotonic() - start
    mark("on-2")
    assert eventually(lambda: serves("on-2"), 5), "the gateway follows etcd again"
    st = nineslab_json("status", "--lab", LAB, check=False)
    assert st["healthy"] and not stale(st), st["hosts"]
    assert noticed < 12, noticed
