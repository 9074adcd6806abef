"""`nineslab serve`: the run store over HTTP on 127.0.0.1 only, for people who prefer a URL."""

from __future__ import annotations

import functools
import http.server
import time
from collections.abc import Callable
from pathlib import Path

from nineslab.errors import NinesError
from nineslab.report.index import write_index

HOST = "127.0.0.1"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 — the base class's name
        pass


def serve(root: Path, port: int, say: Callable[[str], None], seconds: float | None = None) -> None:
    """Serve `root` (index first rewritten) until interrupted, or for `seconds`."""
    handler = functools.partial(_Quiet, directory=str(root))
    try:
        server = http.server.ThreadingHTTPServer((HOST, port), handler)
    except OSError as exc:
        raise NinesError(f"--port {port}: cannot listen on {HOST} ({exc.strerror}) — pick another port") from None
    with server:
        index = write_index(root)  # only once the port is ours: a refused serve changes nothing
        say(f"serving {root} at http://{HOST}:{server.server_address[1]}/{index.name} (Ctrl-C stops)")
        server.timeout = 0.5
        end = None if seconds is None else time.monotonic() + seconds
        while end is None or time.monotonic() < end:
            server.handle_request()
