"""The control-plane fence's rules (pure). On real labs: tests/integration/test_lab.py."""

from __future__ import annotations

from nineslab.security.fence import fence_script, fence_table
from nineslab.topology import load_topology


def test_the_fence_drops_the_client_segment_to_etcds_ports_only_in_the_labs_own_table() -> None:
    script = fence_script("nines", load_topology("3dc"))
    assert fence_table("nines") == "nines-fence"
    lines = script.splitlines()
    # declared, deleted and written again: the same script installs and repairs it
    assert lines[:3] == ["table inet nines-fence {}", "delete table inet nines-fence", "table inet nines-fence {"]
    assert "    ip saddr 198.19.255.0/24 tcp dport { 2379, 2380 } counter drop" in lines
    assert "hook forward" in script and "hook input" not in script, "forwarded packets only: the router may reach etcd"
    assert script.count("drop") == 1
