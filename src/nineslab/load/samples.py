"""Sample files: CSV lines written by loadtests/recorder.py, one file per Locust process."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple


class Sample(NamedTuple):
    start: float  # epoch seconds
    latency_ms: float
    status: int  # 0: no response
    error: str  # "" when the request succeeded at the HTTP level
    lb: str
    gateway: str
    app: str
    zone: str

    @property
    def ok(self) -> bool:
        return self.error == "" and 200 <= self.status < 400


def parse_line(line: str) -> Sample | None:
    """None for the header and for a torn last line (a process killed mid-write)."""
    parts = line.rstrip("\n").split(",")
    if len(parts) != 8 or parts[0] == "start":
        return None
    try:
        return Sample(float(parts[0]), float(parts[1]), int(parts[2]), *parts[3:])
    except ValueError:
        return None


def read_samples(samples_dir: Path) -> list[Sample]:
    out: list[Sample] = []
    for path in sorted(samples_dir.glob("samples-*.csv")):
        with path.open() as f:
            out.extend(s for s in map(parse_line, f) if s is not None)
    out.sort(key=lambda s: s.start)
    return out


class Tail:
    """Incremental reader over a samples directory, for live progress."""

    def __init__(self, samples_dir: Path) -> None:
        self.dir = samples_dir
        self.offsets: dict[Path, int] = {}

    def new_samples(self) -> list[Sample]:
        out: list[Sample] = []
        for path in sorted(self.dir.glob("samples-*.csv")):
            with path.open() as f:
                f.seek(self.offsets.get(path, 0))
                data = f.read()
            cut = data.rfind("\n") + 1  # leave a partial last line for next time
            self.offsets[path] = self.offsets.get(path, 0) + len(data[:cut].encode())
            out.extend(s for s in map(parse_line, data[:cut].splitlines()) if s is not None)
        return out
