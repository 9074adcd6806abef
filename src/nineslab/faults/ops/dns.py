"""DNS faults: the nameservers answer, but badly."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from nineslab.errors import NinesError
from nineslab.faults.ops.base import Lab, Params, State, Swept, owned
from nineslab.paths import host_dir
from nineslab.services import dns as dns_service
from nineslab.topology import Host

__all__ = [
    "BAD_ANSWERS",
    "SAVED_ZONE",
    "apply_bad_answer",
    "broken_zone",
    "is_bad_answer",
    "plan_bad_answer",
    "recover_bad_answer",
    "sweep_bad_answer",
    "zone_file",
]


# -- dns: the nameservers answer, but badly (a bad zone pushed): SERVFAIL or NXDOMAIN for the API name --
BAD_ANSWERS = ("servfail", "nxdomain")
SAVED_ZONE = ".before-nineslab"  # suffix of the zone file saved while a bad one is served


def is_bad_answer(value: Any) -> str | None:
    return None if value in BAD_ANSWERS else f"must be one of {', '.join(BAD_ANSWERS)}"


def broken_zone(text: str, label: str, answer: str) -> str:
    """The zone file with the API name's record broken: its LUA code failing (PowerDNS answers SERVFAIL)
    or the record gone (NXDOMAIN, negatively cached for the SOA's minimum). Pure."""
    out = []
    for line in text.splitlines(keepends=True):
        if line.split(None, 1)[:1] == [label]:
            if answer == "nxdomain":
                continue
            line = f"{label} IN LUA A \"error('answer broken by nineslab')\"\n"
        out.append(line)
    return "".join(out)


def zone_file(lab: Lab, host: Host) -> Path:
    return host_dir(lab.name, host.name) / "conf" / f"{dns_service.domain(lab.topology())}.zone"


def _reload_zone(lab: Lab, host: Host) -> None:
    """PowerDNS reads the zone file again now (bind backend; a file that does not parse is refused and
    the old zone kept, so the fault's file must parse)."""
    res = owned(lab, host).run(
        [
            "pdns_control",
            f"--socket-dir={host_dir(lab.name, host.name) / 'run'}",
            "bind-reload-now",
            dns_service.domain(lab.topology()),
        ],
        timeout=10,
    )
    if res.returncode != 0 or "rejected" in res.stdout:
        detail = " ".join((res.stdout + res.stderr).split())[-300:]
        raise NinesError(
            f"{host.name}: PowerDNS did not reload its zone ({detail}) — is it running? (`nineslab status`)"
        )


def plan_bad_answer(lab: Lab, hosts: list[Host], params: Params) -> State:
    for h in hosts:
        owned(lab, h)
    return {"hosts": [h.name for h in hosts], "answer": params["answer"]}


def apply_bad_answer(lab: Lab, state: State) -> None:
    topo = lab.topology()
    label = topo.dns_name.split(".", 1)[0]
    for name in state["hosts"]:
        host = topo.host(name)
        zone = zone_file(lab, host)
        saved = zone.with_name(zone.name + SAVED_ZONE)
        if not saved.exists():  # a second apply must not save the broken zone over the good one
            shutil.copy2(zone, saved)
        zone.write_text(broken_zone(saved.read_text(), label, state["answer"]))
        _reload_zone(lab, host)


def _restore_zone(lab: Lab, host: Host) -> bool:
    zone = zone_file(lab, host)
    saved = zone.with_name(zone.name + SAVED_ZONE)
    if not saved.exists():
        return False
    saved.replace(zone)
    _reload_zone(lab, host)
    return True


def recover_bad_answer(lab: Lab, state: State) -> None:
    topo = lab.topology()
    for name in state["hosts"]:
        _restore_zone(lab, topo.host(name))


def sweep_bad_answer(lab: Lab) -> Swept:
    """Every nameserver serving a zone nineslab broke gets its saved zone back."""
    actions, errors = [], []
    for host in lab.topology().by_role("dns"):
        try:
            if _restore_zone(lab, host):
                actions.append(f"restored the zone of {host.name}")
        except NinesError as exc:
            errors.append(str(exc))
    return actions, errors
