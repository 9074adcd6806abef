"""What nineslab derives from a topology for each component (pure functions)."""

from __future__ import annotations

import base64
import dataclasses

from nineslab.paths import REPO_ROOT
from nineslab.services import etcd, gateway, lb, waf
from nineslab.topology import load_topology
from nineslab.topology.model import Security


def _decode(op: dict[str, dict[str, str]]) -> tuple[str, str]:
    put = op["requestPut"]
    return base64.b64decode(put["key"]).decode(), base64.b64decode(put["value"]).decode()


def test_routes_are_one_transaction_guarded_by_their_digest() -> None:
    topo = load_topology("3dc")
    txn = gateway.routes_txn(topo)
    puts = dict(_decode(op) for op in txn["failure"])
    assert txn["success"] == []  # digest equal: nothing to write
    assert puts[gateway.DIGEST_KEY] == base64.b64decode(txn["compare"][0]["value"]).decode()
    for gw in topo.by_role("gateway"):
        root = gateway.rootkey(gw)
        assert puts[f"{root}/http/routers/api/rule"] == "PathPrefix(`/api`)"
        assert puts[f"{root}/http/middlewares/identity/headers/customResponseHeaders/X-Nines-Gateway"] == gw.name
        assert puts[f"{root}/http/services/apps/loadBalancer/healthCheck/path"] == "/health"
        assert f"{root}/http/services/apps/loadBalancer/passiveHealthCheck/maxFailedAttempts" in puts
    # gw-c (south) reaches only south-c's app; east gateways reach both east apps.
    servers = {k: v for k, v in puts.items() if "/servers/" in k}
    assert sorted(v for k, v in servers.items() if k.startswith("traefik-gw-c./")) == ["http://198.19.3.31:80"]
    assert sorted(v for k, v in servers.items() if k.startswith("traefik-gw-a./")) == [
        "http://198.18.1.31:80",
        "http://198.18.2.31:80",
    ]


def test_rule_is_written_last_within_each_gateway() -> None:
    # Traefik makes a router live when its rule appears: everything else must already be there.
    topo = load_topology("2az")
    for gw in topo.by_role("gateway"):
        keys = list(gateway.route_keys(topo, gw))
        assert keys[-1].endswith("/routers/api/rule")


def test_routes_digest_changes_with_the_topology() -> None:
    a = gateway.routes_txn(load_topology("1az"))["compare"][0]["value"]
    b = gateway.routes_txn(load_topology("2az"))["compare"][0]["value"]
    assert a != b
    assert a == gateway.routes_txn(load_topology("1az"))["compare"][0]["value"]


def test_route_range_covers_every_gateway_root_and_nothing_else() -> None:
    rng = gateway.routes_range()
    lo, hi = (base64.b64decode(rng[k]).decode() for k in ("key", "range_end"))
    inside = [f"{gateway.rootkey(gw)}/http/routers/api/rule" for gw in load_topology("3dc").by_role("gateway")]
    assert all(lo <= k < hi for k in inside)
    assert not any(lo <= k < hi for k in (gateway.DIGEST_KEY, "traefik/http/x", "traefik.", "traefik"))
    wanted = {base64.b64decode(k).decode() for k in gateway.wanted_route_keys(load_topology("1az"))}
    markers = {f"traefik-{gw}./{gateway.ROUTES_MARKER}" for gw in ("gw-a1", "gw-a2")}  # the last push's
    assert wanted == set(gateway.all_route_keys(load_topology("1az"))) | markers


def test_no_gateway_root_is_the_start_of_another_gateways_root() -> None:
    """A gateway's etcd user may read its root's whole range: gw-a's must not reach gw-ab's routes."""
    topo = load_topology("2az")
    gw_a = topo.by_role("gateway")[0]
    roots = [gateway.rootkey(dataclasses.replace(gw_a, name=n)) for n in ("gw-a", "gw-ab", "gw-a-1", "gw")]
    assert not [(a, b) for a in roots for b in roots if a != b and b.startswith(a)]


def test_lb_backends_mark_cross_region_gateways_as_backup() -> None:
    topo = load_topology("3dc")
    backends = {b["name"]: b["backup"] for b in lb.backends(topo, topo.host("lb-a"))}
    assert backends == {"gw-a": False, "gw-b": False, "gw-c": True}
    two = load_topology("2az")
    assert {b["name"]: b["backup"] for b in lb.backends(two, two.host("lb-b"))} == {"gw-a": False, "gw-b": False}


def test_with_a_waf_tier_the_lbs_send_to_the_wafs_and_the_wafs_to_the_gateways() -> None:
    topo = load_topology(str(REPO_ROOT / "topologies" / "examples" / "3dc-waf.yaml"))
    assert topo.waf_budget_ms == 50.0 and topo.escape.waf_bypass
    lb_c = {b["name"]: b["backup"] for b in lb.backends(topo, topo.host("lb-c"), "waf")}
    assert lb_c == {"waf-c": False, "waf-a": True, "waf-b": True}
    assert {b["name"]: b["backup"] for b in waf.backends(topo, topo.host("waf-a"))} == {
        "gw-a": False,
        "gw-b": False,
        "gw-c": True,
    }
    assert lb.backends(load_topology("3dc"), load_topology("3dc").host("lb-a"), "waf") == []


def test_etcd_cluster_and_leader_summary() -> None:
    topo = load_topology("1az")
    assert etcd.initial_cluster(topo).count("=https://") == 3  # mutual TLS by default (security.etcd_tls)
    plain = dataclasses.replace(topo, security=Security(etcd_tls=False))
    assert etcd.initial_cluster(plain).count("=http://") == 3 and etcd.endpoints(plain)[0].startswith("http://")
    status = {
        "etcd-a1": {"ok": True, "body": {"header": {"member_id": "11"}, "leader": "22"}},
        "etcd-a2": {"ok": True, "body": {"header": {"member_id": "22"}, "leader": "22"}},
        "etcd-a3": {"ok": False, "error": "refused"},
    }
    summary = etcd.summarize(topo, status)
    assert summary["leader"] == "etcd-a2"
    assert summary["healthy_members"] == ["etcd-a1", "etcd-a2"]
    # Members disagreeing on the leader (mid-election): no leader reported.
    status["etcd-a1"]["body"]["leader"] = "11"
    assert etcd.summarize(topo, status)["leader"] is None
