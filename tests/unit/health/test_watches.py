"""A gateway's etcd connection counts as live only while the member holds the same connection."""

from __future__ import annotations

from nineslab.health.watches import half_open, parse_ss

GW_B = "0      0      198.18.2.21:43704 198.18.1.41:2379\n0      0      198.18.2.21:80 198.18.2.11:51000\n"
MEMBER_A1 = "0      0      198.18.1.41:2379 198.18.2.21:43704\n0      0      198.18.1.41:2380 198.18.1.42:40000\n"


def test_ss_lines_become_local_and_peer() -> None:
    assert parse_ss(GW_B) == [("198.18.2.21:43704", "198.18.1.41:2379"), ("198.18.2.21:80", "198.18.2.11:51000")]
    assert parse_ss("") == [] and parse_ss("garbage\n") == []


def test_a_connection_both_ends_hold_is_live() -> None:
    assert half_open({"gw-b": parse_ss(GW_B)}, {"198.18.1.41": parse_ss(MEMBER_A1)}) == {"gw-b": []}


def test_a_connection_the_member_lost_is_half_open() -> None:
    # etcd-a1 came back (a new socket table) and has no such connection: gw-b's watch is dead
    restarted = "0      0      198.18.1.41:2379 198.18.1.99:1111\n"
    assert half_open({"gw-b": parse_ss(GW_B)}, {"198.18.1.41": parse_ss(restarted)}) == {"gw-b": ["198.18.1.41:2379"]}
    assert half_open({"gw-b": parse_ss(GW_B)}, {"198.18.1.41": []}) == {"gw-b": ["198.18.1.41:2379"]}


def test_a_member_that_cannot_be_looked_at_is_not_judged_and_other_ports_do_not_count() -> None:
    assert half_open({"gw-b": parse_ss(GW_B)}, {"198.18.1.41": None}) == {"gw-b": []}
    # the connection from an LB to the gateway's port 80 is not an etcd connection
    assert half_open({"gw-b": parse_ss(GW_B)}, {"198.18.2.11": []}) == {"gw-b": []}
