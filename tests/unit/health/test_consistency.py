"""etcd's hash check after a run: the pure comparison of `etcdctl endpoint status/hashkv` answers, and
what a disagreement does to the verdict and the renderings."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from nineslab.analysis import verdict, verdict_reasons
from nineslab.health.consistency import compare_hashes
from nineslab.report.build import build_results
from nineslab.report.render import to_html, to_junit, to_markdown
from nineslab.rigs.synthetic import make_run
from tests.unit.analysis.test_verdict import results

NAMES = {
    "http://198.18.1.41:2379": "etcd-a1",
    "http://198.18.1.42:2379": "etcd-a2",
    "http://198.18.2.41:2379": "etcd-b1",
}


def status(rev: dict[str, int]) -> list[dict[str, Any]]:
    return [{"Endpoint": ep, "Status": {"header": {"revision": rev[n]}}} for ep, n in NAMES.items() if n in rev]


def hashes(h: dict[str, int]) -> list[dict[str, Any]]:
    return [{"Endpoint": ep, "HashKV": {"hash": h[n]}} for ep, n in NAMES.items() if n in h]


def test_members_with_one_hash_agree_at_the_lowest_revision() -> None:
    out = compare_hashes(
        status({"etcd-a1": 9, "etcd-a2": 8, "etcd-b1": 9}), hashes(dict.fromkeys(NAMES.values(), 7)), NAMES
    )
    assert out["consistent"] is True and out["revision"] == 8
    assert out["reason"] == "3 members agree at revision 8"


def test_one_member_with_another_hash_is_named() -> None:
    out = compare_hashes(
        status(dict.fromkeys(NAMES.values(), 5)), hashes({"etcd-a1": 1, "etcd-a2": 1, "etcd-b1": 2}), NAMES
    )
    assert out["consistent"] is False
    assert out["reason"] == "etcd members disagree at revision 5: etcd-a1=1, etcd-a2=1, etcd-b1=2"


def test_a_member_that_did_not_answer_leaves_it_unchecked_not_passed() -> None:
    out = compare_hashes(status({"etcd-a1": 5, "etcd-a2": 5}), hashes({"etcd-a1": 1, "etcd-a2": 1}), NAMES)
    assert out["consistent"] is None and out["missing"] == ["etcd-b1"]
    assert compare_hashes([], [], NAMES)["consistent"] is None


def test_a_disagreement_fails_a_run_that_would_pass() -> None:
    bad = {"consistent": False, "reason": "etcd members disagree at revision 5: etcd-a1=1, etcd-b1=2"}
    outcome = {"healthy": True, "experiments": [{"experiment": "gateway-kill", "status": "completed"}]}
    assert verdict(results(outcome={**outcome, "etcd_consistency": {"consistent": True}})) == "PASS"
    assert verdict(results(outcome={**outcome, "etcd_consistency": {"consistent": None}})) == "PASS"
    res = results(outcome={**outcome, "etcd_consistency": bad})
    assert verdict(res) == "FAIL"
    assert verdict_reasons(res) == [f"FAIL: {bad['reason']}"]


def test_the_report_shows_the_check_and_junit_fails_on_a_disagreement(tmp_path: Path) -> None:
    import json

    run = make_run(tmp_path)
    outcome = json.loads((run / "outcome.json").read_text())
    bad = {"consistent": False, "reason": "etcd members disagree at revision 5: etcd-a1=1, etcd-b1=2"}
    (run / "outcome.json").write_text(json.dumps({**outcome, "etcd_consistency": bad}))
    res = build_results(run, {})
    assert res["etcd_consistency"] == bad and res["verdict"] == "FAIL"
    assert "INCONSISTENT: etcd members disagree" in to_markdown(res)
    assert "INCONSISTENT: etcd members disagree" in to_html(res)
    cases = {c.get("name"): c for c in ET.fromstring(to_junit(res)).iter("testcase")}
    assert cases["etcd-consistency"].find("failure") is not None
