"""Run every module on a lab host. A netns host: the local connection, each command wrapped in
`nsenter --net=/run/netns/NS` (files are shared by all namespaces, so copies stay local). A container
host (the docker provider): each command through enter.sh — in the container's cgroups and namespaces —
and files copied into its own file system through /proc/PID/root."""

from __future__ import annotations

import shlex
import shutil
import typing as t
from pathlib import Path

from ansible.plugins.connection.local import Connection as LocalConnection

DOCUMENTATION = """
    name: netns
    short_description: execute on the controller, inside a lab host's network namespace or container
    description:
      - The local connection, with every command run inside /run/netns/NAME via nsenter, or, when
        nineslab_init_pidfile is set, inside the container whose init that pidfile names.
    author: nineslab
    options:
      netns:
        description: name of the network namespace (as in `ip netns list`)
        vars:
          - name: ansible_netns
        required: true
      init_pidfile:
        description: a pidfile naming the container's init (written by the docker provider on every start)
        vars:
          - name: nineslab_init_pidfile
        required: false
      enter:
        description: the enter.sh that joins a container's cgroups and namespaces
        vars:
          - name: nineslab_enter
        required: false
"""


class Connection(LocalConnection):
    transport = "netns"

    def _init_pid(self) -> str | None:
        pidfile = self.get_option("init_pidfile")
        return Path(pidfile).read_text().strip() if pidfile else None

    def exec_command(self, cmd: str, in_data: bytes | None = None, sudoable: bool = True) -> tuple[int, bytes, bytes]:
        pid = self._init_pid()
        if pid:
            wrapped = f"{shlex.quote(self.get_option('enter'))} {pid} /bin/sh -c {shlex.quote(cmd)}"
        else:
            netns = self.get_option("netns")
            # nsenter (not `ip netns exec`): it does not remount /sys, so daemons keep their cgroup view.
            wrapped = f"nsenter --net=/run/netns/{shlex.quote(netns)} /bin/sh -c {shlex.quote(cmd)}"
        return t.cast(tuple[int, bytes, bytes], super().exec_command(wrapped, in_data=in_data, sudoable=sudoable))

    def _inside(self, path: str) -> str:
        pid = self._init_pid()
        return f"/proc/{pid}/root{path}" if pid else path

    def put_file(self, in_path: str, out_path: str) -> None:
        if not self._init_pid():
            super().put_file(in_path, out_path)
            return
        shutil.copyfile(in_path, self._inside(out_path))

    def fetch_file(self, in_path: str, out_path: str) -> None:
        if not self._init_pid():
            super().fetch_file(in_path, out_path)
            return
        shutil.copyfile(self._inside(in_path), out_path)
