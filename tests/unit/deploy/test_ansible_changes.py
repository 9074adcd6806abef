"""deploy.ansible: which hosts each task changed, read from ansible-playbook's output (check mode
shows a restart handler only as its included stop)."""

from __future__ import annotations

from nineslab.deploy.ansible import PlaybookResult, _Changes

OUTPUT = """
TASK [gateway : Gateway | Write the static configuration] **********************
ok: [gw-b]
changed: [gw-a]
TASK [dns : Dns | Stop the nameserver this lab no longer uses (its escape switch changed)] ***
included: /p/roles/common/tasks/stop_unused.yml for dns-a, dns-b
TASK [dns : Dns | Write the PowerDNS configuration, zone list and zone] *********
changed: [dns-a] => (item=pdns.conf)
changed: [dns-a] => (item=zone)
RUNNING HANDLER [gateway : Gateway | Restart traefik] **************************
included: /p/roles/common/tasks/stop.yml for gw-a
"""


def test_each_host_gets_the_tasks_that_changed_it_once_and_a_handler_it_would_run() -> None:
    result = PlaybookResult()
    changes = _Changes(result.tasks)
    for line in OUTPUT.splitlines():
        changes.feed(line)
    assert result.tasks == {
        "gw-a": ["Gateway | Write the static configuration", "Gateway | Restart traefik"],
        "dns-a": ["Dns | Write the PowerDNS configuration, zone list and zone"],
    }
