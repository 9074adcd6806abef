"""The escape mechanisms on real labs, each timed by the test itself: health-checked DNS drops a killed
LB within 3 s and adds it back; the client's caching resolver answers within 100 ms while the primary
nameserver is blackholed (after the first lookup) and from stale data while every nameserver is down;
a zone's floating address moves within 3 s when its holder is powered off."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nineslab.lab import Lab
from tests.integration.conftest import (
    SHARED_NAMES,
    client_resolve,
    lab_deployed,
    nineslab,
    nineslab_json,
    shared_lab,
)

REPO = Path(__file__).resolve().parents[2]
SHARED_TOPOLOGY = "2az"
LAB = SHARED_NAMES[SHARED_TOPOLOGY]
VLAB = "itvip"

# Polls inside the client namespace: one line of JSON per change, {t (wall clock), value}.
WATCH = r"""
import json, sys, time, urllib.request
from nineslab.services.checker import dns_a
kind, target, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
end, last = time.monotonic() + seconds, object()
while time.monotonic() < end:
    try:
        if kind == "dns":
            value = sorted(dns_a(target, "api.nines.lab"))
        else:
            with urllib.request.urlopen(target, timeout=0.3) as r:
                value = r.headers.get("X-Nines-LB")
    except Exception as exc:
        value = type(exc).__name__
    if value != last:
        print(json.dumps({"t": time.time(), "value": value}), flush=True)
        last = value
    time.sleep(0.02)
"""

# Timed lookups through the namespace's resolver (unbound on 127.0.0.1): {seconds, ok} per lookup,
# each after the 1 s TTL has run out, so each one goes past the cache.
LOOKUPS = r"""
import json, socket, sys, time
out = []
for _ in range(int(sys.argv[1])):
    t = time.monotonic()
    try:
        ok = bool(socket.getaddrinfo("api.nines.lab", 80, socket.AF_INET, socket.SOCK_STREAM))
    except OSError:
        ok = False
    out.append({"seconds": time.monotonic() - t, "ok": ok})
    time.sleep(1.2)
print(json.dumps(out))
"""


def watch(lab: str, kind: str, target: str, seconds: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*Lab(lab).in_client(), sys.executable, "-c", WATCH, kind, target, str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )


def changes(proc: subprocess.Popen[str]) -> list[dict[str, Any]]:
    out, _ = proc.communicate(timeout=60)
    return [json.loads(line) for line in out.splitlines()]


def lookups(lab: str, n: int) -> list[dict[str, Any]]:
    res = subprocess.run(
        [*Lab(lab).in_client(), sys.executable, "-c", LOOKUPS, str(n)], capture_output=True, text=True, timeout=120
    )
    data: list[dict[str, Any]] = json.loads(res.stdout)
    return data


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    # the switch's test redeploys the lab with escape off and back: handed on as the topology says
    with shared_lab(SHARED_TOPOLOGY, "netns", tmp_path_factory.mktemp("reports"), restore=True) as (_, deployed):
        yield deployed


def test_a_stopped_lb_leaves_the_dns_answer_within_3s_and_comes_back(lab: dict[str, Any]) -> None:
    lb_a = "198.18.1.11"
    proc = watch(LAB, "dns", "198.18.2.53", 12)  # the nameserver of the other zone, asked directly
    time.sleep(1.5)
    killed = time.time()
    nineslab("inject", "lb-down", "--lab", LAB)
    time.sleep(5)
    recovered = time.time()
    nineslab("recover", "lb-down", "--lab", LAB)
    seen = changes(proc)
    assert lb_a in seen[0]["value"], "every entry point is in the answer before the fault"
    gone = next(c["t"] for c in seen if c["t"] > killed and lb_a not in c["value"])
    back = next(c["t"] for c in seen if c["t"] > recovered and lb_a in c["value"])
    assert gone - killed < 3.0, f"dropped {gone - killed:.2f} s after the kill"
    assert back - recovered < 3.0, f"added back {back - recovered:.2f} s after recovery"
    assert all(c["value"] for c in seen), "never an empty answer"


def test_the_caching_resolver_answers_fast_with_the_primary_blackholed(lab: dict[str, Any]) -> None:
    nineslab("inject", "dns-primary-blackhole", "--lab", LAB)
    try:
        timed = lookups(LAB, 10)
    finally:
        nineslab("recover", "dns-primary-blackhole", "--lab", LAB)
    assert all(x["ok"] for x in timed)
    # The dead nameserver costs one timeout — the first lookup that happens to ask it (unbound picks
    # at random among servers it knows nothing against) — and is avoided after that (infra cache).
    seconds = [round(x["seconds"], 3) for x in timed]
    slow = [i for i, x in enumerate(seconds) if x > 0.1]
    assert len(slow) <= 1 and max(seconds) < 0.5, f"one slow lookup at most, then < 100 ms each: {seconds}"


def test_with_every_nameserver_down_the_client_resolves_from_stale_answers(lab: dict[str, Any]) -> None:
    assert lookups(LAB, 1)[0]["ok"]  # the answer is in the cache
    nineslab("inject", "dns-both-down", "--lab", LAB)
    try:
        timed = lookups(LAB, 4)
    finally:
        nineslab("recover", "dns-both-down", "--lab", LAB)
    assert all(x["ok"] for x in timed), "stale answers carry the client (RFC 8767)"
    assert max(x["seconds"] for x in timed) < 0.5, [round(x["seconds"], 3) for x in timed]


def test_switching_escape_off_redeploys_the_seed_setup_and_on_again(lab: dict[str, Any], tmp_path: Path) -> None:
    """The switch is real: the same lab redeployed with escape off runs dnsmasq and the glibc stub
    (primary first), and with it on again PowerDNS and unbound."""

    def running() -> dict[str, list[str]]:
        hosts = nineslab_json("status", "--lab", LAB)["hosts"]
        return {h["name"]: sorted(d for d, pid in h["daemons"].items() if pid) for h in hosts}

    ns = Lab(LAB).provider.netns(Lab(LAB).topology().client)
    off = tmp_path / "2az.yaml"  # same name as the lab's topology: a redeploy, not another topology
    off.write_text((REPO / "topologies/examples/2az-no-escape.yaml").read_text().replace("2az-no-escape", "2az"))
    try:
        nineslab("deploy", "--topology", str(off), "--lab", LAB, timeout=300)
        assert running()["dns-a"] == ["dnsmasq"] and running()["client"] == []
        resolv = Path(f"/etc/netns/{ns}/resolv.conf").read_text()
        assert resolv.index("198.18.1.53") < resolv.index("198.18.2.53") and "127.0.0.1" not in resolv
        # the seed's costs come back: every lookup waits out a blackholed primary; with every
        # nameserver down nothing resolves
        nineslab("inject", "dns-primary-blackhole", "--lab", LAB)
        try:
            slow = client_resolve(LAB)
        finally:
            nineslab("recover", "dns-primary-blackhole", "--lab", LAB)
        assert slow["ok"] and slow["seconds"] >= 0.9, slow
        nineslab("inject", "dns-both-down", "--lab", LAB)
        try:
            assert not client_resolve(LAB)["ok"]
        finally:
            nineslab("recover", "dns-both-down", "--lab", LAB)
    finally:
        nineslab("deploy", "--topology", "2az", "--lab", LAB, timeout=300)
    assert running()["dns-a"] == ["pdns"] and running()["client"] == ["unbound"]
    assert "nameserver 127.0.0.1" in Path(f"/etc/netns/{ns}/resolv.conf").read_text()


@pytest.fixture(scope="module")
def vip_lab() -> Iterator[dict[str, Any]]:
    with lab_deployed(VLAB, "1az") as deployed:
        yield deployed


def test_the_floating_address_moves_within_3s_when_its_holder_powers_off(vip_lab: dict[str, Any]) -> None:
    before = nineslab_json("status", "--lab", VLAB)["vips"]["east-a"]
    proc = watch(VLAB, "http", "http://198.18.1.10/api/", 8)
    time.sleep(1.5)
    off = time.time()
    nineslab("inject", "vip-holder-power-off", "--lab", VLAB)
    try:
        seen = changes(proc)
        after = nineslab_json("status", "--lab", VLAB, check=False)["vips"]["east-a"]
    finally:
        nineslab("recover", "vip-holder-power-off", "--lab", VLAB)
    other = {"lb-a1": "lb-a2", "lb-a2": "lb-a1"}[before]
    assert after == other, "the other LB holds the address"
    served = next(c["t"] for c in seen if c["t"] > off and c["value"] == other)
    assert served - off < 3.0, f"the address answered from {other} {served - off:.2f} s after the power-off"
