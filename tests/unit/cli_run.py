"""Run the `nineslab` command line in this process (no installed binary, no subprocess): argv, env,
captured stdout/stderr and the exit code, exactly as `main()` ends."""

from __future__ import annotations

import io
import os
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from unittest import mock

from nineslab.cli.main import main


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, env: dict[str, str] | None = None) -> CliResult:
    out, err = io.StringIO(), io.StringIO()
    code: int = 0
    with (
        mock.patch.dict(os.environ, env or {}),
        mock.patch.object(sys, "argv", ["nineslab", *args]),
        redirect_stdout(out),
        redirect_stderr(err),
    ):
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return CliResult(code, out.getvalue(), err.getvalue())
