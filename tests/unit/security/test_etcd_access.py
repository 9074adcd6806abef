"""Who may do what in a lab's etcd, the files behind it, and how status words it."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import stat
from pathlib import Path

import pytest

from nineslab.health.describe import certificates_line
from nineslab.security import etcd_access
from nineslab.services import gateway
from nineslab.services.etcd import prefix_range
from nineslab.topology import load_topology
from nineslab.topology.model import Security

NOW = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)


def _covers(prefix: str, key: str) -> bool:
    rng = prefix_range(prefix)
    lo, hi = (base64.b64decode(rng[k]).decode() for k in ("key", "range_end"))
    return lo <= key < hi


def test_a_gateway_reads_its_own_routes_only_and_the_deployer_writes_routes_and_nothing_else() -> None:
    topo = load_topology("3dc")
    grants = etcd_access.permissions(topo)
    gateways = topo.by_role("gateway")
    assert set(grants) == {etcd_access.DEPLOYER, *(g.name for g in gateways)}, "root is etcd's own root role"
    for gw in gateways:
        (kind, prefix), *more = grants[gw.name]
        assert kind == "READ" and not more
        for other in gateways:
            key = f"{gateway.rootkey(other)}/{gateway.API_RULE_KEY}"
            assert _covers(prefix, key) == (other == gw), (gw.name, other.name)
        assert not _covers(prefix, gateway.DIGEST_KEY)
    deployer = dict((p, k) for k, p in grants[etcd_access.DEPLOYER])
    assert all(k == "READWRITE" for k in deployer.values())
    assert any(_covers(p, gateway.DIGEST_KEY) for p in deployer)
    assert all(any(_covers(p, f"{gateway.rootkey(g)}/x") for p in deployer) for g in gateways)
    assert not any(_covers(p, "other/key") for p in deployer)


def test_ensure_makes_the_ca_certificates_and_passwords_once_readable_by_root_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NINESLAB_STATE_DIR", str(tmp_path))
    topo = load_topology("1az")
    made = etcd_access.ensure("nines", topo, NOW)
    members = [h.name for h in topo.by_role("etcd")]
    assert {"ca", "root", "deployer", *members, "root.password", "deployer.password"} <= set(made)
    pki = etcd_access.pki_dir("nines")
    assert stat.S_IMODE(pki.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in [*pki.glob("*.key"), *pki.glob("*.password")])
    assert etcd_access.ensure("nines", topo, NOW) == [], "a second deploy issues nothing"
    assert not list(pki.glob("gw-*.password")), "a gateway logs in by its certificate only"
    spec = etcd_access.auth_spec(topo)
    assert spec["deployer"]["password"] and not spec["gw-a1"]["password"]
    access = etcd_access.access("nines", topo, "deployer")
    assert access["auth"]["user"] == "deployer" and len(access["auth"]["password"]) >= 24
    assert access["tls"]["cert"].endswith("/pki/deployer.crt")
    assert set(etcd_access.certificate_days("nines", topo, NOW).values()) >= {3650.0, 365.0}


def test_without_tls_nothing_is_made_and_nothing_presented(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NINESLAB_STATE_DIR", str(tmp_path))
    plain = dataclasses.replace(load_topology("1az"), security=Security(etcd_tls=False))
    assert etcd_access.ensure("nines", plain) == [] and not any(tmp_path.iterdir())
    assert etcd_access.access("nines", plain, "deployer") == {}
    assert etcd_access.certificate_days("nines", plain) == {}


def test_an_expired_certificate_replaces_the_good_one_until_it_is_restored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NINESLAB_STATE_DIR", str(tmp_path))
    topo = load_topology("1az")
    etcd_access.ensure("nines", topo)
    member = topo.by_role("etcd")[0].name
    good = (etcd_access.pki_dir("nines") / f"{member}.crt").read_bytes()
    etcd_access.write_expired("nines", topo, member)
    etcd_access.write_expired("nines", topo, member)  # twice: the good one stays saved
    assert -2 < etcd_access.certificate_days("nines", topo)[member] < 0
    assert etcd_access.restore_certificate("nines", member)
    assert (etcd_access.pki_dir("nines") / f"{member}.crt").read_bytes() == good
    assert not etcd_access.restore_certificate("nines", member), "nothing left to restore"


def test_status_says_the_soonest_expiry_and_what_is_missing() -> None:
    st = {"etcd_tls": True, "certificates": {"ca": 3650.0, "etcd-a1": 364.9, "gw-a": None}}
    assert certificates_line(st) == (
        "etcd mutual TLS and users: 2 certificates, soonest etcd-a1: 364.9 days left; MISSING gw-a"
    )
    st["certificates"]["etcd-a1"] = -1.0
    assert "soonest etcd-a1: EXPIRED" in certificates_line(st)
    assert "NO CERTIFICATES" in certificates_line({"etcd_tls": True, "certificates": {}})
    assert "without TLS" in certificates_line({"etcd_tls": False})
