"""Property-based fuzzing of every input a user hands nineslab — topology, catalogue, experiment,
assumptions and routes files, and command-line arguments — in-process, against a fake lab whose
provider fails the test if anything reaches it. The property, for every generated case: the input is
either accepted by its validator, or the command refuses it with ONE line on stderr naming the file
(or the option), exit code 2, no traceback, and nothing changed: no run directory, no moved `latest`
link, no state file, nothing written next to it, the lab untouched.

NINESLAB_FUZZ_EXAMPLES sets the cases per kind (default 120); NINESLAB_FUZZ_STATS names a JSON file
that gets the counts (bench/reliability.py reads it)."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nineslab import lab as lab_module
from nineslab.chaos import experiments as experiments_module
from nineslab.chaos.experiments import EXPERIMENT_DIR, check_experiment
from nineslab.errors import NinesError
from nineslab.faults import catalogue as catalogue_module
from nineslab.faults.catalogue import CATALOGUE, load_catalogue
from nineslab.paths import ASSUMPTIONS_FILE, TOPOLOGY_DIR
from nineslab.providers import PROVIDERS
from nineslab.providers.netns import NetnsProvider
from nineslab.report import serve as serve_module
from nineslab.report.build import load_assumptions
from nineslab.rigs.synthetic import make_run
from nineslab.routes import load_change
from nineslab.topology import load_topology
from tests.unit.cli_run import CliResult, run_cli
from tests.unit.fuzz.mutate import JUNK, broken_file

# 120 fixed cases per kind in `make test` (CI time); bench/reliability.py runs 1000 fresh random ones.
EXAMPLES = int(os.environ.get("NINESLAB_FUZZ_EXAMPLES", "120"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("NINESLAB_FUZZ_RANDOM"),  # CI: the same cases every run
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
    database=None,
)
LAB = "fz"
STATS: Counter[str] = Counter()


class UntouchableProvider(NetnsProvider):
    """The fake lab's provider: naming as the real one, and any attempt to act on hosts fails the test."""

    name = "fuzzfake"

    def __getattribute__(self, attr: str) -> Any:
        if attr in ("name", "lab", "capabilities", "bind", "__class__", "__dict__"):  # bind: pure
            return object.__getattribute__(self, attr)
        raise AssertionError(f"the lab was touched: provider.{attr}")


def _accepted(what: str) -> Callable[..., None]:
    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError(f"a fuzz case was accepted and reached {what}")

    return refuse


def _tree(root: Path) -> dict[str, bytes | str]:
    """Every file, link and directory under `root` with its content (a link: its target)."""
    out: dict[str, bytes | str] = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        out[rel] = f"-> {os.readlink(p)}" if p.is_symlink() else (p.read_bytes() if p.is_file() else "dir")
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """A deployed-looking lab `fz` (its state directory only) and a run store with one run."""
    root = tmp_path_factory.mktemp("fuzz")
    state, reports, experiments = root / "state", root / "reports", root / "experiments"
    (state / LAB).mkdir(parents=True)
    (state / LAB / "topology.yaml").write_text((TOPOLOGY_DIR / "2az.yaml").read_text())
    meta = {"lab": LAB, "topology": "2az", "topology_file": str(TOPOLOGY_DIR / "2az.yaml"), "provider": "fuzzfake"}
    (state / LAB / "lab.json").write_text(json.dumps(meta))
    run = make_run(reports)
    (reports / "latest").symlink_to(run.name)
    experiments.mkdir()
    # Safety net, not a stand-in: a case the CLI wrongly accepted must not build labs or serve forever.
    # Every lab — the fake one and any new name (`compare` deploys `cmp`) — gets the untouchable provider.
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(PROVIDERS, "fuzzfake", (__name__, UntouchableProvider.__name__))
        patch.setattr(lab_module, "DEFAULT_PROVIDER", "fuzzfake")
        patch.setattr(serve_module, "serve", _accepted("serve"))
        yield {"root": root, "state": state, "reports": reports, "experiments": experiments, "run": run}
    stats = os.environ.get("NINESLAB_FUZZ_STATS")
    if stats:
        Path(stats).write_text(json.dumps(dict(STATS), indent=1))


def cli(world: dict[str, Path], *args: str) -> CliResult:
    env = {"NINESLAB_STATE_DIR": str(world["state"]), "NINESLAB_REPORTS_DIR": str(world["reports"])}
    return run_cli(*args, env=env)


def refused(res: CliResult, names: str) -> None:
    """The one way bad input may end: one line naming `names`, exit 2, no traceback."""
    lines = res.stderr.splitlines()
    assert res.returncode == 2, (res.returncode, res.stderr[-500:])
    assert "Traceback" not in res.stderr and len(lines) == 1, res.stderr[-500:]
    assert lines[0].startswith("nineslab: error: ") and names in lines[0], lines[0]


def check_file_kind(
    world: dict[str, Path],
    kind: str,
    data: bytes,
    validate: Callable[[Path], Any],
    command: Callable[[Path], tuple[str, ...]],
) -> None:
    """Write the case; if its validator refuses it (a one-line NinesError, nothing else), the command
    must refuse it the same way and change nothing."""
    path = world["root"] / f"case-{kind}.{'json' if kind == 'experiment' else 'yaml'}"
    path.write_bytes(data)
    STATS[f"{kind}.cases"] += 1
    try:
        validate(path)
    except NinesError as exc:
        assert "\n" not in str(exc), f"a multi-line error: {exc!r}"
    except Exception as exc:  # noqa: BLE001 - this IS the finding: a traceback a user would see
        STATS[f"{kind}.tracebacks"] += 1
        raise AssertionError(f"{kind}: {type(exc).__name__}: {exc}") from exc
    else:
        STATS[f"{kind}.accepted"] += 1
        return
    before = {k: _tree(world[k]) for k in ("state", "reports", "experiments")}
    res = cli(world, *command(path))
    if "Traceback" in res.stderr or res.returncode not in (0, 1, 2):
        STATS[f"{kind}.tracebacks"] += 1
    refused(res, str(path))
    STATS[f"{kind}.refused"] += 1
    assert {k: _tree(world[k]) for k in ("state", "reports", "experiments")} == before, "a refused input changed disk"


def _text(path: Path) -> str:
    return path.read_text()


TOPOLOGY = (TOPOLOGY_DIR / "3dc.yaml").read_text()


@FUZZ
@given(data=broken_file(yaml.safe_load(TOPOLOGY), TOPOLOGY, "yaml"))
def test_topology_files(world: dict[str, Path], data: bytes) -> None:
    check_file_kind(
        world,
        "topology",
        data,
        lambda p: load_topology(str(p)),
        lambda p: ("deploy", "--topology", str(p), "--lab", "fznew"),
    )


CATALOGUE_TEXT = CATALOGUE.read_text()


@FUZZ
@given(data=broken_file(yaml.safe_load(CATALOGUE_TEXT), CATALOGUE_TEXT, "yaml"))
def test_catalogue_entries(world: dict[str, Path], data: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    path = world["root"] / "case-catalogue.yaml"
    monkeypatch.setattr(catalogue_module, "CATALOGUE", path)
    monkeypatch.setattr(experiments_module, "EXPERIMENT_DIR", world["experiments"])
    check_file_kind(world, "catalogue", data, load_catalogue, lambda p: ("chaos", "generate"))
    path.write_bytes(data)
    try:
        load_catalogue(path)
    except NinesError:
        refused(cli(world, "faults", "--lab", LAB), str(path))  # the catalogue read against the lab's topology


EXPERIMENT = (EXPERIMENT_DIR / "zone-isolate.json").read_text()


@FUZZ
@given(data=broken_file(json.loads(EXPERIMENT), EXPERIMENT, "json"))
def test_experiment_files(world: dict[str, Path], data: bytes) -> None:
    topology = load_topology("2az")
    check_file_kind(
        world,
        "experiment",
        data,
        lambda p: check_experiment(p, topology, NetnsProvider.capabilities),
        lambda p: ("chaos", "run", str(p), "--lab", LAB),
    )


ASSUMPTIONS = ASSUMPTIONS_FILE.read_text()


@FUZZ
@given(data=broken_file(yaml.safe_load(ASSUMPTIONS), ASSUMPTIONS, "yaml"))
def test_assumptions_files(world: dict[str, Path], data: bytes) -> None:
    run = world["run"]
    check_file_kind(
        world, "assumptions", data, load_assumptions, lambda p: ("report", str(run), "--assumptions", str(p))
    )


ROUTES = (
    "set:\n  http/routers/api/rule: PathPrefix(`/api`)\n  http/routers/api/priority: '10'\n"
    "delete:\n  - http/routers/old/rule\n"
)


@FUZZ
@given(data=broken_file(yaml.safe_load(ROUTES), ROUTES, "yaml"))
def test_routes_files(world: dict[str, Path], data: bytes) -> None:
    check_file_kind(world, "routes", data, load_change, lambda p: ("routes", "push", str(p), "--lab", LAB))


# -- command-line arguments: every command, one option (or word) that cannot be right ------------------
POSITIVE = ("0", "-5", "abc", "", "nan", "inf", "-inf", "1e999", "0x10", "5s")
COUNT = ("0", "-1", "1.5", "two", "", "nan", "99999999999999999999999")
OPTIONS: dict[tuple[str, ...], dict[str, tuple[str, ...]]] = {
    ("load",): {
        "--duration": POSITIVE,
        "--rate": POSITIVE,
        "--deadline": POSITIVE,
        "--processes": COUNT,
        "--seed": ("x", "1.5", ""),
    },
    ("suite",): {
        "--rate": POSITIVE,
        "--processes": COUNT,
        "--abort-if-error-ratio": ("0", "1.5", "-1", "nan", "x"),
        "--for": POSITIVE,
    },
    ("chaos", "run"): {"--abort-if-error-ratio": ("0", "2", "nan", "x", ""), "--for": POSITIVE},
    ("heal",): {"--wait": ("x", "", "nan", "-inf")},
    ("report",): {"--slo-ms": POSITIVE, "--require": ("both", "", "POINT")},
    ("compare",): {"--rate": POSITIVE, "--processes": COUNT},
    ("ledger",): {"--rate": POSITIVE, "--processes": COUNT, "--mechanism": ("teleport", "", "WAF_BYPASS")},
    ("serve",): {"--port": ("0", "65536", "-1", "http", ""), "--for": POSITIVE},
    ("calibrate",): {
        "--outage": ("x", ""),
        "--rate": POSITIVE,
        "--kind": ("drop", ""),
        "--client-stall": ("-1", "11", "x", "nan"),
    },
    ("routes", "rollback"): {"--lab": ("Bad", "1abc", "", "a" * 9)},
    ("status",): {"--lab": ("Bad", "1abc", "", "a" * 9, "a-b", "../x")},
    ("deploy",): {"--topology": ("", "no-such-topology", "/dev/null", "/nonexistent.yaml")},
    ("destroy",): {"--lab": ("Bad", "", "a" * 9, "x y")},
    ("inject",): {"--lab": ("Bad", "")},
}


TEXT_OPTIONS = ("--lab", "--topology", "--mechanism", "--require", "--kind")


def _not_a_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return True
    return False


@st.composite
def bad_arguments(draw: st.DrawFn) -> tuple[tuple[str, ...], str]:
    """argv that must be refused, and the word the refusal must name."""
    command = draw(st.sampled_from(sorted(OPTIONS)))
    shape = draw(st.sampled_from(["value", "value", "unknown-option", "missing-value"]))
    extra = ("gateway-kill",) if command in (("chaos", "run"), ("inject",)) else ()
    if shape == "unknown-option":
        option = "--" + draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=2, max_size=10)).strip("-")
        if (
            option == "--"
            or any(o.startswith(option) for o in OPTIONS[command])
            or option in ("--json", "--help", "--dry-run", "--plan", "--holds-for-target", "--force", "--version")
        ):
            option = "--no-such-option"
        return (*command, *extra, option, "1"), option
    option = draw(st.sampled_from(sorted(OPTIONS[command])))
    if shape == "missing-value":
        return (*command, *extra, option), option
    values = st.sampled_from(OPTIONS[command][option])
    if option not in TEXT_OPTIONS:  # any text that is not a number is a bad number
        values = st.one_of(values, JUNK.map(str).filter(_not_a_number))
    value = draw(values)
    return (*command, *extra, option, value), option


@FUZZ
@given(case=bad_arguments())
def test_command_line_arguments(world: dict[str, Path], case: tuple[tuple[str, ...], str]) -> None:
    argv, names = case
    STATS["cli.cases"] += 1
    before = {k: _tree(world[k]) for k in ("state", "reports")}
    res = cli(world, *argv)
    if "Traceback" in res.stderr or res.returncode not in (0, 1, 2):
        STATS["cli.tracebacks"] += 1
    if res.returncode == 2 and names not in res.stderr and "--lab" not in names and "--topology" not in names:
        raise AssertionError(f"{argv}: the refusal does not name {names}: {res.stderr}")
    refused(res, "" if names in ("--lab", "--topology") else names)
    STATS["cli.refused"] += 1
    assert {k: _tree(world[k]) for k in ("state", "reports")} == before, f"{argv} changed disk"
