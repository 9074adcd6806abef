"""The bad-answer DNS op's pure parts: the broken zone it writes, its parameter, where it applies.
Its effect on real nameservers is tests/integration/test_faults.py (dns-servfail, dns-nxdomain)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from nineslab.errors import NinesError
from nineslab.faults.catalogue import applicable, check_params, find
from nineslab.faults.ops.dns import broken_zone
from nineslab.providers.netns import NetnsProvider
from nineslab.topology import load_topology

ZONE = """$ORIGIN nines.lab.
$TTL 1
@ IN SOA dns-a.nines.lab. hostmaster.nines.lab. 1 3600 600 86400 1
@ IN NS dns-a.nines.lab.
dns-a IN A 198.18.1.53
api IN LUA A "ifurlup('http://api.nines.lab/api/', {'198.18.1.11'}, {selector='all'})"
apix IN A 198.18.1.99
"""


def test_nxdomain_deletes_only_the_api_record() -> None:
    out = broken_zone(ZONE, "api", "nxdomain")
    assert "ifurlup" not in out and "apix IN A 198.18.1.99" in out
    assert out.splitlines() == [line for line in ZONE.splitlines() if not line.startswith("api ")]


def test_servfail_replaces_the_record_with_lua_that_fails() -> None:
    out = broken_zone(ZONE, "api", "servfail")
    assert "api IN LUA A \"error('answer broken by nineslab')\"" in out.splitlines()
    assert len(out.splitlines()) == len(ZONE.splitlines()) and "apix IN A" in out


@pytest.mark.parametrize("answer", ["refused", "", None, 3, "SERVFAIL "])
def test_an_unknown_answer_is_refused_naming_the_entry(answer: object) -> None:
    with pytest.raises(NinesError, match=r"^faults\[1\]\.params\.answer: .* must be one of servfail, nxdomain"):
        check_params("faults[1]", "bad_answer", {"answer": answer})


def test_it_applies_where_powerdns_answers_not_where_dnsmasq_does() -> None:
    caps = NetnsProvider.capabilities
    topo = load_topology("2az")
    spec = find("dns-nxdomain", topo)
    assert applicable(spec, topo, caps)
    plain = replace(topo, escape=replace(topo.escape, dns_health_checks=False))
    assert not applicable(spec, plain, caps)
