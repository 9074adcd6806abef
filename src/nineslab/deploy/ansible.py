"""Run playbooks/site.yml with ansible-playbook, streaming task names as progress and keeping the full
log in the lab directory. The recap tells whether anything changed (a second deploy must not)."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nineslab.errors import LabError
from nineslab.paths import PLAYBOOK_DIR, venv_tool
from nineslab.signals import raise_if_interrupted

# ansible-playbook's exit code when it was interrupted (Ctrl-C reaches it through the process group).
ANSIBLE_INTERRUPTED = 99
STOP_GRACE_S = 10.0  # how long an interrupted ansible-playbook gets to stop before it is killed
RECAP_RE = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")
# A task's or handler's header ("TASK [role : Name] ***"), a host it changed, and the hosts a handler
# includes its tasks for (a restart handler includes the role's stop; in check mode that is all it shows).
HEADER_RE = re.compile(r"^(TASK|RUNNING HANDLER) \[(?:[\w-]+ : )?(.*?)\] \*+$")
CHANGED_RE = re.compile(r"^changed: \[([^\]]+)\]")
INCLUDED_RE = re.compile(r"^included: \S+ for (.+)$")


@dataclass
class PlaybookResult:
    changed: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    # host -> the tasks that changed it (and the handlers run for it), in order
    tasks: dict[str, list[str]] = field(default_factory=dict)
    seconds: float = 0.0
    log: Path | None = None

    @property
    def total_changed(self) -> int:
        return sum(self.changed.values())


@dataclass
class _Changes:
    """Which hosts each task changed, read from ansible-playbook's output line by line."""

    by_host: dict[str, list[str]]
    current: str = ""
    in_handler: bool = False

    def feed(self, line: str) -> None:
        if header := HEADER_RE.match(line):
            self.in_handler, self.current = header.group(1) == "RUNNING HANDLER", header.group(2)
            return
        hosts: list[str] = []
        if changed := CHANGED_RE.match(line):
            hosts = [changed.group(1)]
        elif self.in_handler and (included := INCLUDED_RE.match(line)):
            hosts = [h.strip() for h in included.group(1).split(",")]
        for h in hosts:
            done = self.by_host.setdefault(h, [])
            if not done or done[-1] != self.current:  # a loop's items: one entry
                done.append(self.current)


def run_playbook(
    inventory: Path,
    work_dir: Path,
    progress: Callable[[str], None] | None = None,
    playbook: str = "site.yml",
    limit: str | None = None,
    check: bool = False,
) -> PlaybookResult:
    """`check`: Ansible's check mode — what each task would change, nothing changed (deploy --plan)."""
    log_path = work_dir / "ansible.log"
    tmp = work_dir / "ansible-tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(PLAYBOOK_DIR / "ansible.cfg"),
        ANSIBLE_LOCAL_TEMP=str(tmp),
        ANSIBLE_REMOTE_TEMP=str(tmp),
        # With pipelining a module unpacks its payload in the system temp dir and removes it only when it
        # ends: a kill -9 mid-task left /tmp/ansible_*_payload_* behind. Here it is under the lab, which
        # destroy removes. (A container's module falls back to its own /tmp, which goes with it.)
        TMPDIR=str(tmp),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        PYTHONUNBUFFERED="1",
    )
    cmd = [str(venv_tool("ansible-playbook")), "-i", str(inventory), str(PLAYBOOK_DIR / playbook)]
    if limit:
        cmd += ["--limit", limit]
    if check:
        cmd.append("--check")
    result = PlaybookResult(log=log_path)
    changes = _Changes(result.tasks)
    start = time.monotonic()
    with (
        log_path.open("w", buffering=1) as log,  # line-buffered: `tail -f` shows progress
        subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=PLAYBOOK_DIR
        ) as proc,
    ):
        assert proc.stdout is not None
        failures: list[str] = []
        try:
            for line in proc.stdout:
                log.write(line)
                if progress and line.startswith(("PLAY [", "TASK [")):
                    progress(line.strip(" *\n"))
                if line.startswith(("fatal:", "failed:")):
                    failures.append(line.strip())
                changes.feed(line.rstrip("\n"))
                m = RECAP_RE.match(line)
                if m:
                    result.changed[m.group(1)] = int(m.group(3))
                    result.failed[m.group(1)] = int(m.group(4)) + int(m.group(5))
            rc = proc.wait()
        except KeyboardInterrupt:
            proc.terminate()  # Ctrl-C reached ansible-playbook too; make sure it is gone before we say so
            try:
                proc.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                # ansible-playbook can still be busy after SIGINT and SIGTERM, and Popen's own exit would
                # then wait for it without end. The deploy is abandoned anyway (deploy again repairs it).
                proc.kill()
                proc.wait()
            raise
    result.seconds = time.monotonic() - start
    raise_if_interrupted(rc, ANSIBLE_INTERRUPTED)  # the caller knows what was half-done and what to say
    if rc != 0:
        first = failures[0][:300] if failures else f"ansible-playbook exited {rc}"
        what = "deploy --plan" if check else "deploy"
        raise LabError(f"{what} failed: {first} (full log: {log_path}) — fix it and run {what} again")
    return result
