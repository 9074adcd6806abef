"""The lab's nft table on a machine: named after the lab, replaced whole, ours accepted before any drop."""

from __future__ import annotations

from nineslab.providers.hosts.firewall import ruleset, table


def test_the_table_is_the_labs_own() -> None:
    assert table("my-lab") == "nineslab_my_lab" and table("nines") == "nineslab_nines"


def test_a_cut_accepts_loopback_and_our_ssh_connection_before_dropping_the_peers() -> None:
    script = ruleset("lab1", "198.19.255.10", 22, ["198.18.2.21", "198.18.2.31", "198.19.255.10"])
    lines = [line.strip() for line in script.splitlines()]
    # replaced whole, on a machine that has no table yet as on one that has
    assert lines[:3] == ["table inet nineslab_lab1", "delete table inet nineslab_lab1", "table inet nineslab_lab1 {"]
    i = lines.index("chain input {")
    assert lines[i + 2 : i + 5] == [
        'iif "lo" accept',
        "ip saddr 198.19.255.10 tcp dport 22 accept",  # only our SSH: the operator's load is cut like the rest
        "ip saddr { 198.18.2.21, 198.18.2.31, 198.19.255.10 } drop",
    ]
    o = lines.index("chain output {")
    assert lines[o + 3 : o + 5] == [
        "ip daddr 198.19.255.10 tcp sport 22 accept",
        "ip daddr { 198.18.2.21, 198.18.2.31, 198.19.255.10 } drop",
    ]


def test_power_off_drops_everything_else() -> None:
    lines = [line.strip() for line in ruleset("lab1", "198.19.255.10", 2222, None).splitlines()]
    assert lines.count("drop") == 2 and 'oif "lo" accept' in lines
    assert "ip saddr 198.19.255.10 tcp dport 2222 accept" in lines
