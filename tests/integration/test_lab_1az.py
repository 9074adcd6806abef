"""Deploy the 1az reference topology for real and check what a user relies on."""

from __future__ import annotations

from typing import Any

from tests.integration import lab_checks
from tests.integration.conftest import nineslab_json

LAB = "it1az"
TOPOLOGY = "1az"


def test_deploys_healthy_with_one_etcd_leader(deployed: dict[str, Any]) -> None:
    lab_checks.check_healthy_lab(LAB, TOPOLOGY, deployed, 0.999)


def test_request_crosses_dns_lb_gateway_app(deployed: dict[str, Any]) -> None:
    lab_checks.check_request_path(LAB, nineslab_json("status", "--lab", LAB))


def test_every_gateway_serves_the_route(deployed: dict[str, Any]) -> None:
    lab_checks.check_every_gateway_serves(LAB, nineslab_json("status", "--lab", LAB))


def test_second_deploy_changes_nothing(deployed: dict[str, Any]) -> None:
    lab_checks.check_second_deploy_is_noop(LAB, TOPOLOGY)


def test_destroy_leaves_nothing(deployed: dict[str, Any]) -> None:
    lab_checks.check_destroy_leaves_nothing(LAB)
