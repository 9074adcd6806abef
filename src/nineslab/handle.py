"""One way into a place of the lab. A provider hands these out (`Provider.host`, `Provider.router`);
everything above the providers runs a program in a host through one and never builds the transport
(a namespace entered, ssh to a machine) itself. Below `security/` and `load/`, which take one."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

__all__ = ["Handle"]


@dataclass(frozen=True)
class Handle:
    """A way into one place of the lab over the provider's transport: a namespace entered, ssh to a
    machine, or nothing (the machine nineslab runs on)."""

    lab: str
    label: str  # what a person is shown: the namespace's name, or the machine
    prefix: tuple[str, ...]  # the transport: what runs a program there
    present: Callable[[], bool] = field(compare=False, repr=False)

    @property
    def here(self) -> bool:
        """Whether this place is the machine nineslab runs on itself (its ports, its loopback)."""
        return not self.prefix

    def argv(self, cmd: Sequence[str]) -> list[str]:
        """`cmd` as run in this place (for a process the caller keeps, e.g. Popen)."""
        return [*self.prefix, *cmd]

    def run(
        self, cmd: Sequence[str], input: str | None = None, timeout: float = 30.0
    ) -> subprocess.CompletedProcess[str]:
        """`cmd` run here to its end, its output captured as text."""
        return subprocess.run(self.argv(cmd), input=input, capture_output=True, text=True, timeout=timeout)
