"""Bad CLI input gets one line on stderr (no traceback), a non-zero exit, and touches nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from nineslab.paths import TOPOLOGY_DIR
from tests.unit.cli_run import run_cli as _nineslab


def test_bad_topology_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((TOPOLOGY_DIR / "1az.yaml").read_text().replace("role: app", "role: cache", 1))
    state = tmp_path / "state"
    res = _nineslab("deploy", "--topology", str(bad), "--lab", "unitbad", env={"NINESLAB_STATE_DIR": str(state)})
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr
    assert "bad.yaml: hosts[4].role: unknown role 'cache'" in lines[0]
    assert not state.exists(), "a rejected topology must change nothing"


def test_bad_lab_name_is_one_line() -> None:
    res = _nineslab("status", "--lab", "Bad-Name")
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "--lab: 'Bad-Name' is not a valid lab name" in res.stderr


def test_status_of_missing_lab_says_what_to_do(tmp_path: Path) -> None:
    res = _nineslab("status", "--lab", "nolab", env={"NINESLAB_STATE_DIR": str(tmp_path)})
    assert res.returncode == 2
    assert "no lab named 'nolab' is deployed" in res.stderr and "nineslab deploy" in res.stderr


def test_topologies_lists_the_reference_files() -> None:
    res = _nineslab("topologies")
    assert res.returncode == 0
    assert [line.split()[0] for line in res.stdout.splitlines()] == ["1az", "2az", "3dc"]


@pytest.mark.parametrize(
    "args",
    [
        ("suite", "--processes", "0"),
        ("suite", "--rate", "-5"),
        ("serve", "--port", "70000"),
        ("serve", "--for", "0"),
        ("ledger", "--mechanism", "teleport"),
        ("ledger", "--rate", "0"),
        ("ledger", "--processes", "0"),
        ("compare", "--processes", "0"),
        ("load", "--workers", "-1"),
        ("suite", "--workers", "2", "--processes", "2"),
        ("load", "--workers", "2", "--processes", "2"),
        ("routes", "rollback", "0"),
    ],
)
def test_bad_arguments_are_one_line_errors_that_change_nothing(args: tuple[str, ...], tmp_path: Path) -> None:
    res = _nineslab(*args, env={"NINESLAB_REPORTS_DIR": str(tmp_path), "NINESLAB_STATE_DIR": str(tmp_path / "state")})
    assert res.returncode == 2 and res.stderr.startswith("nineslab: error: Invalid value for")
    assert res.stderr.count("\n") == 1 and f"see `nineslab {args[0]}" in res.stderr, "one line, with where help is"
    assert list(tmp_path.iterdir()) == [], "nothing written"


def test_a_malformed_routes_file_is_refused_before_any_lab_is_looked_at(tmp_path: Path) -> None:
    bad = tmp_path / "routes.yaml"
    bad.write_text("set:\n  http/routers/api/rule: [1, 2]\n")
    res = _nineslab("routes", "push", str(bad), "--lab", "nolab", env={"NINESLAB_STATE_DIR": str(tmp_path / "s")})
    assert res.returncode == 2 and res.stderr.count("\n") == 1
    assert f"{bad}: set.http/routers/api/rule: [1, 2] is not a value" in res.stderr
    assert not (tmp_path / "s").exists(), "nothing written"


def test_heal_on_a_lab_whose_deploy_did_not_finish_says_to_deploy_at_once(tmp_path: Path) -> None:
    lab = tmp_path / "half"
    lab.mkdir()
    (lab / "lab.json").write_text('{"lab": "half", "topology": "2az", "provider": "netns", "deploying": true}')
    res = _nineslab("heal", "--lab", "half", env={"NINESLAB_STATE_DIR": str(tmp_path)})
    assert res.returncode == 2 and res.stderr.count("\n") == 1
    assert "the last deploy of lab half did not finish" in res.stderr
    assert "run `nineslab deploy --topology 2az --lab half`" in res.stderr
    assert sorted(p.name for p in lab.iterdir()) == ["lab.json"], "nothing touched"


def test_an_unexpected_exception_is_one_line_naming_the_file_with_its_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from nineslab.cli import main as cli_main

    def buggy(**_: object) -> None:
        raise KeyError("hosts")

    monkeypatch.setattr(cli_main, "cli", buggy)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    with pytest.raises(SystemExit) as ended:
        cli_main.main()
    assert ended.value.code == 70
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nineslab: internal error") and "KeyError: 'hosts'" in lines[0]
    (kept,) = tmp_path.glob("nineslab-traceback-*.txt")
    assert kept.name in lines[0] and "Traceback" in kept.read_text() and "KeyError: 'hosts'" in kept.read_text()
