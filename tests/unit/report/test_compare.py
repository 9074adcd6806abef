"""`nineslab compare --runs`: existing runs of several topologies, side by side."""

from __future__ import annotations

import json
from pathlib import Path

from nineslab.rigs.synthetic import make_run
from tests.unit.cli_run import run_cli


def test_compare_reads_existing_runs_side_by_side(tmp_path: Path) -> None:
    runs = []
    for topo, target, outage in (("1az", 0.999, (5.0, 6.0)), ("3dc", 0.99999, (5.0, 5.5))):
        root = tmp_path / topo
        root.mkdir()
        run = make_run(root, outage=outage, topology=topo, target=target)
        dest = tmp_path / f"{run.name}-{topo}"
        run.rename(dest)
        runs.append(dest)
    env = {"NINESLAB_REPORTS_DIR": str(tmp_path)}
    res = run_cli("compare", "--runs", str(runs[0]), "--runs", str(runs[1]), "--json", env=env)
    # neither is a proven PASS (2,000 requests prove no tier): only all-proven exits 0
    assert res.returncode == 1, res.stderr
    out = json.loads(res.stdout)
    assert {t["topology"] for t in out["topologies"]} == {"1az", "3dc"}
    bounds = [t["projected_lo"] for t in out["topologies"]]
    assert bounds == sorted(bounds)  # ordered by the bound the tiers are judged on
    assert out["faults"][0]["fault"] == "lb-kill"
    assert out["faults"][0]["1az"]["error_seconds"] > out["faults"][0]["3dc"]["error_seconds"] > 0
    cmp_dir = Path(out["run"])
    assert (cmp_dir / "compare.html").is_file() and "| verdict |" in (cmp_dir / "compare.md").read_text()


def test_a_waf_tier_shows_its_unfiltered_share_beside_an_estate_without_one(tmp_path: Path) -> None:
    from nineslab.report.build import build_results
    from nineslab.report.compare import compare_results, summary_rows

    plain = build_results(make_run(tmp_path / "a", topology="3dc", target=0.99999), {})
    waf = dict(plain, topology="3dc-waf", waf={"answered": 200, "unfiltered": 50, "share": 0.25})
    rows = {r[0]: r[1:] for r in summary_rows(compare_results([plain, waf]))}
    assert rows["served unfiltered (past a WAF tier)"] == ["no WAF tier", "50 of 200 (25.00 %)"]
    assert "served unfiltered (past a WAF tier)" not in {r[0] for r in summary_rows(compare_results([plain]))}
