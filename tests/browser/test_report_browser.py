"""The HTML report opens offline in headless Chromium (Debian `chromium`), shows the verdict, and the
browser logs no console error and no failed load."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from nineslab.analysis import Assumption
from nineslab.report.build import build_results
from nineslab.report.render import to_html
from tests.unit.report.synthetic import make_run

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]


def test_html_report_renders_the_verdict_without_console_errors(tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    assert chromium, "Debian chromium is installed by `make setup`"
    run = make_run(tmp_path)
    page = run / "report.html"
    page.write_text(to_html(build_results(run, {"lb-kill": Assumption(1, 600, "t")})))
    profile = tmp_path / "profile"
    res = subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert 'id="verdict"' in res.stdout and "PASS (point estimate only): projected" in res.stdout
    assert "<svg" in res.stdout
    console = [line for line in res.stderr.splitlines() if "CONSOLE" in line or "net::ERR" in line]
    assert console == [], console
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            chromium,
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--screenshot={shot}",
            "--window-size=1100,1400",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.stat().st_size > 10_000
