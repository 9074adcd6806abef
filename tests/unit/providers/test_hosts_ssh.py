"""The SSH side of the hosts provider that is pure logic: its options and the clock-offset bound."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from nineslab.paths import lab_dir
from nineslab.providers.hosts.inventory import Machine
from nineslab.providers.hosts.ssh import offset_bounds, ssh_options, stamped


def test_offset_is_the_midpoint_and_the_bound_half_the_round_trip() -> None:
    # sent at 100.0, answered at 100.2 (our clock), the machine read 105.1: 5.0 s ahead, give or take 0.1
    offset, bound = offset_bounds(100.0, 105.1, 100.2)
    assert offset == pytest.approx(5.0) and bound == pytest.approx(0.1)
    # whatever the true offset within the bound, the reading is possible
    for true in (offset - bound, offset + bound):
        assert 100.0 <= 105.1 - true <= 100.2 + 1e-9


def test_options_never_prompt_pin_host_keys_per_lab_and_share_one_connection() -> None:
    m = Machine("gw-a", ipaddress.IPv4Address("192.0.2.10"), "debian", Path("/k/id"), 2222, True)
    opts = ssh_options("lab1", m)
    pairs = dict(opts[i + 1].split("=", 1) for i, o in enumerate(opts) if o == "-o")
    assert pairs["BatchMode"] == "yes" and pairs["StrictHostKeyChecking"] == "accept-new"
    assert pairs["UserKnownHostsFile"] == str(lab_dir("lab1") / "ssh" / "known_hosts")
    assert pairs["ControlMaster"] == "auto" and pairs["ControlPath"].startswith(str(lab_dir("lab1") / "ssh"))
    assert opts[opts.index("-i") + 1] == "/k/id" and opts[opts.index("-p") + 1] == "2222"


def test_a_commands_time_stamp_is_split_from_what_else_it_printed() -> None:
    # daemonctl.sh's `signal`: the machine's clock at the kill, then the PID it killed
    assert stamped("@1795834346.123456789\n4242\n") == (pytest.approx(1795834346.123456789), ["4242"])
    assert stamped("4242\n") == (None, ["4242"])  # nothing acted (no stamp): the line stays
    assert stamped("@x\n@12.5\n\n") == (12.5, ["@x"])  # a line that is no time stays a line
