"""Run every module inside the host's network namespace: the local connection, with each command
wrapped in `nsenter --net=/run/netns/NS`. Files are shared by all namespaces, so copies stay local."""

from __future__ import annotations

import shlex
import typing as t

from ansible.plugins.connection.local import Connection as LocalConnection

DOCUMENTATION = """
    name: netns
    short_description: execute on the controller, inside a network namespace
    description:
      - The local connection, with every command run inside /run/netns/NAME via nsenter.
    author: nineslab
    options:
      netns:
        description: name of the network namespace (as in `ip netns list`)
        vars:
          - name: ansible_netns
        required: true
"""


class Connection(LocalConnection):
    transport = "netns"

    def exec_command(self, cmd: str, in_data: bytes | None = None, sudoable: bool = True) -> tuple[int, bytes, bytes]:
        netns = self.get_option("netns")
        # nsenter (not `ip netns exec`): it does not remount /sys, so daemons keep their cgroup view.
        wrapped = f"nsenter --net=/run/netns/{shlex.quote(netns)} /bin/sh -c {shlex.quote(cmd)}"
        return t.cast(tuple[int, bytes, bytes], super().exec_command(wrapped, in_data=in_data, sudoable=sudoable))
