"""Guarded route pushes on a real 1az lab: a good change reaches every gateway through the canary; a bad
one is rolled back by itself and never reaches the second gateway; `routes rollback` restores a chosen
revision; a malformed file writes nothing; a redeploy that changes routes goes through the canary too;
the `bad-route` fault takes the guarded path and `bad-route-bypass` goes around it."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from nineslab.lab import Lab
from nineslab.services import gateway
from nineslab.services.etcd import b64
from tests.integration.conftest import SHARED_NAMES, client_try, eventually, nineslab, nineslab_json, shared_lab

REPO = Path(__file__).resolve().parents[2]
SHARED_TOPOLOGY = "1az"  # routes pushed and a variant deployed, then the topology's routes restored
LAB = SHARED_NAMES[SHARED_TOPOLOGY]
ATTEMPTS = "http/middlewares/retry/retry/attempts"
RULE = "http/routers/api/rule"


def value(gw: str, key: str) -> str | None:
    return Lab(LAB).etcd.get(f"traefik-{gw}./{key}")


def mod_revision(gw: str, key: str) -> int:
    kvs = Lab(LAB).etcd.call("/v3/kv/range", {"key": b64(f"traefik-{gw}./{key}")}).get("kvs", [])
    return int(kvs[0]["mod_revision"]) if kvs else 0


def revision() -> int:
    return int(
        Lab(LAB).etcd.call("/v3/kv/range", {"key": b64(gateway.DIGEST_KEY)})["header"]["revision"]
    )  # any key the deployer may read


def routes_file(tmp_path: Path, name: str, data: Any) -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return str(path)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with shared_lab(SHARED_TOPOLOGY, "netns", tmp_path_factory.mktemp("reports"), restore=True) as (_, deployed):
        yield deployed


def test_a_good_push_reaches_every_gateway_through_the_canary(lab: dict[str, Any], tmp_path: Path) -> None:
    res = nineslab_json("routes", "push", routes_file(tmp_path, "good.yaml", {"set": {ATTEMPTS: 4}}), "--lab", LAB)
    assert res["guarded"] and res["canary"] == "gw-a1" and res["gateways"] == ["gw-a1", "gw-a2"]
    assert value("gw-a1", ATTEMPTS) == value("gw-a2", ATTEMPTS) == "4"
    assert nineslab_json("routes", "history", "--lab", LAB)[-1]["outcome"] == "pushed"


def test_a_bad_push_is_rolled_back_by_itself_and_never_reaches_a_second_gateway(
    lab: dict[str, Any], tmp_path: Path
) -> None:
    before = revision()
    rule = value("gw-a1", RULE)
    bad = routes_file(tmp_path, "bad.yaml", {"set": {RULE: "PathPrefix(`/nowhere`)"}})
    res = nineslab("routes", "push", bad, "--lab", LAB, check=False)
    assert res.returncode == 3, res.stderr
    line = res.stderr.strip()
    assert "\n" not in line and "failed on the canary gw-a1" in line and "rolled back" in line
    assert value("gw-a1", RULE) == rule, "the canary's route is back"
    assert mod_revision("gw-a2", RULE) <= before, "the second gateway's route was never written"
    assert eventually(lambda: client_try(LAB, "http://198.18.1.21/api/")["status"] == 200, 5)
    last = nineslab_json("routes", "history", "--lab", LAB)[-1]
    assert last["outcome"] == "rolled back" and last["canary"] == "gw-a1"


def test_rollback_restores_a_chosen_revision(lab: dict[str, Any], tmp_path: Path) -> None:
    nineslab("routes", "push", routes_file(tmp_path, "five.yaml", {"set": {ATTEMPTS: 5}}), "--lab", LAB)
    five = revision()
    nineslab("routes", "push", routes_file(tmp_path, "six.yaml", {"set": {ATTEMPTS: 6}}), "--lab", LAB)
    assert value("gw-a2", ATTEMPTS) == "6"
    nineslab("routes", "rollback", str(five), "--lab", LAB)
    assert value("gw-a1", ATTEMPTS) == value("gw-a2", ATTEMPTS) == "5"
    last = nineslab_json("routes", "history", "--lab", LAB)[-1]
    assert last["outcome"] == "rollback" and last["to"] == five
    res = nineslab("routes", "rollback", "999999", "--lab", LAB, check=False)
    assert res.returncode == 2 and "does not exist" in res.stderr


def test_a_malformed_routes_file_is_one_line_and_writes_nothing(lab: dict[str, Any], tmp_path: Path) -> None:
    before = revision()
    res = nineslab("routes", "push", routes_file(tmp_path, "bad.yaml", {"set": {"../x": 1}}), "--lab", LAB, check=False)
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "bad.yaml: set.../x" in res.stderr
    assert revision() == before


def test_a_redeploy_that_changes_routes_pushes_them_through_the_canary(lab: dict[str, Any], tmp_path: Path) -> None:
    data = yaml.safe_load((REPO / "topologies" / "1az.yaml").read_text())
    data["escape"] = {"fast_ejection": False}  # the gateways' fast transport keys go
    variant = tmp_path / "1az.yaml"
    variant.write_text(yaml.safe_dump(data))
    nineslab("deploy", "--topology", str(variant), "--lab", LAB)
    last = nineslab_json("routes", "history", "--lab", LAB)[-1]
    assert last["outcome"] == "pushed" and last["source"] == "deploy of 1az"
    assert value("gw-a2", "http/services/apps/loadBalancer/serversTransport") is None
    nineslab("deploy", "--topology", "1az", "--lab", LAB)
    assert value("gw-a2", "http/services/apps/loadBalancer/serversTransport") == "fast"


def test_the_bad_route_fault_takes_the_guarded_path_and_the_bypass_does_not(lab: dict[str, Any]) -> None:
    nineslab("inject", "bad-route", "--lab", LAB)
    try:
        assert value("gw-a2", RULE) == value("gw-a1", RULE) == "PathPrefix(`/api`)", "rolled back already"
    finally:
        nineslab("recover", "bad-route", "--lab", LAB)
    nineslab("inject", "bad-route-bypass", "--lab", LAB)
    try:
        assert {value("gw-a1", RULE), value("gw-a2", RULE)} == {"PathPrefix(`/broken-by-nineslab`)"}
    finally:
        nineslab("recover", "bad-route-bypass", "--lab", LAB)
    assert value("gw-a2", RULE) == "PathPrefix(`/api`)"
    encoded = Lab(LAB).etcd.call("/v3/kv/range", {"key": b64(f"traefik-gw-a1./{RULE}")})["kvs"][0]["value"]
    assert base64.b64decode(encoded).decode() == "PathPrefix(`/api`)"
