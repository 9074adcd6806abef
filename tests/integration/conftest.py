"""Integration tests deploy real labs (root, network namespaces, real daemons), in a private state
directory, and always destroy what they made. A module that reconfigures its lab deploys its own, under
its own name; modules that only use one (fault it, load it, read it) share one lab per topology and
provider (`shared_lab`): run next to each other, the lab checked fresh (healthy, no fault left) each time
it is handed on, and destroyed after its last user."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from nineslab.lab import Lab
from nineslab.load import read_samples

NINESLAB = str(Path(sys.executable).parent / "nineslab")

# The whole integration run shares one private state root (removed at the end if empty).
STATE_DIR = Path(os.environ.setdefault("NINESLAB_STATE_DIR", f"/tmp/nineslab-it-{os.getpid()}"))

if os.geteuid() != 0:
    pytest.skip("integration tests need root (network namespaces)", allow_module_level=True)


# Providers an integration test runs on: every test that takes `provider` (directly or through its
# module's lab fixture) runs on netns; a test marked `both_providers` runs on docker too. The parameter
# is module-scoped, so a module deploys its lab once per provider and runs its tests grouped by it.
PROVIDERS = ("netns", "docker")
both_providers = pytest.mark.both_providers


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "provider" in metafunc.fixturenames:
        both = metafunc.definition.get_closest_marker("both_providers") is not None
        metafunc.parametrize("provider", PROVIDERS if both else PROVIDERS[:1], scope="module")


# One lab name per topology for the modules that share (netns and docker never at once: a group is
# destroyed before the next is deployed).
SHARED_NAMES = {"1az": "it1az", "2az": "it2az", "3dc": "it3dc"}
SharedKey = tuple[str, str]  # (topology, provider)


def shared_key(item: pytest.Item) -> SharedKey | None:
    """The shared lab a test uses: its module's SHARED_TOPOLOGY on its provider, or its `shared` param."""
    params = dict(getattr(item, "callspec", None).params) if hasattr(item, "callspec") else {}
    if "shared" in params:
        topology, provider = params["shared"]
        return str(topology), str(provider)
    topology = getattr(item.module, "SHARED_TOPOLOGY", None)
    provider = params.get("provider", getattr(item.module, "SHARED_PROVIDER", PROVIDERS[0]))
    return (str(topology), str(provider)) if topology else None


_users: dict[SharedKey, int] = {}  # modules (per provider) still to use each shared lab
_deployed: dict[str, tuple[SharedKey, dict[str, Any]]] = {}  # lab name -> what is deployed under it


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The users of one shared lab run one after another, where the first of them was; a module whose
    last test destroys it (DESTROYS_SHARED_LAB: test_lab, test_docker_lab, test_gray) runs last of its group."""
    first: dict[SharedKey, int] = {}
    keys = [shared_key(item) for item in items]
    for i, key in enumerate(keys):
        if key is not None:
            first.setdefault(key, i)
    order = {
        id(item): (first[key] if key else i, bool(key) and getattr(item.module, "DESTROYS_SHARED_LAB", False), i)
        for i, (item, key) in enumerate(zip(items, keys, strict=True))
    }
    items.sort(key=lambda item: order[id(item)])


def pytest_collection_finish(session: pytest.Session) -> None:
    """How many modules will use each shared lab, counted on what is left to run (after -k, -m)."""
    users: dict[SharedKey, set[str]] = {}
    for item in session.items:
        key = shared_key(item)
        if key is not None:
            users.setdefault(key, set()).add(item.module.__name__)
    _users.clear()
    _users.update({key: len(modules) for key, modules in users.items()})


def fresh_state(lab: str, topology: str) -> list[str]:
    """What a module left in a shared lab that the next one must not find: unhealthy hosts, a fault
    still recorded, anything a deploy of the lab's topology would change (a variant of it deployed,
    routes pushed)."""
    st = nineslab_json("status", "--lab", lab, check=False)
    problems = (
        [] if st.get("healthy") else [f"not healthy: {[h['name'] for h in st.get('hosts', []) if not h['healthy']]}"]
    )
    faults = sorted(p.stem for p in (STATE_DIR / lab / "faults").glob("*.json"))
    plan = nineslab_json("deploy", "--topology", topology, "--lab", lab, "--plan")
    changed = [] if plan["noop"] else [f"a deploy of {topology} would change {plan['hosts']} {plan['routes']}"]
    return problems + ([f"faults still injected: {faults}"] if faults else []) + changed


@contextlib.contextmanager
def shared_lab(
    topology: str, provider: str, reports: Path, restore: bool = False
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The shared lab of `topology` on `provider` (deployed by its first user, checked fresh for every
    later one) with the run store moved to `reports`; destroyed after its last user. restore: the user
    reconfigures the lab (a variant of the topology, routes pushed), and the lab is deployed with its
    topology again when it is done, before it is handed on."""
    key = (topology, provider)
    name = SHARED_NAMES[topology]
    os.environ["NINESLAB_REPORTS_DIR"] = str(reports)
    held = _deployed.get(name)
    if held is None or held[0] != key:
        nineslab("destroy", "--lab", name, check=False)  # another provider's, or leftovers of a crashed run
        _deployed[name] = (key, nineslab_json("deploy", "--topology", topology, "--provider", provider, "--lab", name))
    else:
        left = fresh_state(name, topology)
        assert not left, f"shared lab {name} ({topology}, {provider}) handed on not fresh: {left}"
    try:
        yield name, _deployed[name][1]
    finally:
        if restore:
            nineslab("deploy", "--topology", topology, "--lab", name, check=False)
        _users[key] = _users.get(key, 1) - 1
        if _users[key] <= 0:
            nineslab("destroy", "--lab", name, check=False)
            _deployed.pop(name, None)


@pytest.fixture(scope="session", autouse=True)
def _private_state_dir() -> Iterator[None]:
    yield
    from nineslab.providers.docker import engine

    for name in list(_deployed):  # a shared lab whose last user never ran (interrupted)
        nineslab("destroy", "--lab", name, check=False)
    engine.Engine(STATE_DIR / "docker-engine").remove()  # the docker tests' engine and image, built once
    if STATE_DIR.is_dir() and not any(STATE_DIR.iterdir()):
        STATE_DIR.rmdir()


def nineslab(*args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    res = subprocess.run([NINESLAB, *args], capture_output=True, text=True, timeout=timeout)
    if check and res.returncode != 0:
        raise AssertionError(f"nineslab {' '.join(args)} exited {res.returncode}: {res.stderr[-2000:]}")
    return res


def nineslab_json(*args: str, check: bool = True) -> dict[str, Any]:
    res = nineslab(*args, "--json", check=check)
    data: dict[str, Any] = json.loads(res.stdout)
    return data


def suite_run(lab: str, *faults: str, rate: int = 50) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """`nineslab suite --only F ...` on a deployed lab: its exit code, its outcome and its results."""
    args = ["suite", "--lab", lab, "--rate", str(rate), "--json"]
    for fault in faults:
        args += ["--only", fault]
    res = nineslab(*args, check=False, timeout=900)
    out: dict[str, Any] = json.loads(res.stdout)
    results: dict[str, Any] = json.loads((Path(out["run"]) / "results.json").read_text())
    return res.returncode, out, results


def steady_impact(results: dict[str, Any], fault: str) -> float:
    """A measured fault's steady error ratio (the second half of its hold)."""
    (f,) = [x for x in results["faults"] if x["fault"] == fault]
    assert f["impact"]["measured"], f["impact"]["unmeasured_because"]
    ratio: float = f["impact"]["steady"]["error_ratio"]
    return ratio


def answered_while_dark(run: Path, fault: str, slo_ms: float = 1000.0) -> int:
    """Requests of `run` answered within the SLO that started while `fault` was held, more than one SLO
    before its recovery began (a request started later may still be answered in time once the cut is
    lifted: the lab showed 10 of 369 steady requests so, all in the last 0.16 s before recovery)."""
    events = [json.loads(line) for line in (run / "faults.jsonl").read_text().splitlines()]
    inject = next(e for e in events if e["fault"] == fault and e["phase"] == "inject")
    recover = next(e for e in events if e["fault"] == fault and e["phase"] == "recover")
    lo, hi = inject["end"] + 1.0, recover["start"] - slo_ms / 1000  # one second to take effect
    return sum(
        1 for s in read_samples(run / "samples") if lo <= s.start < hi and s.ok and s.lag_ms + s.latency_ms <= slo_ms
    )


FETCH = r"""
import json, sys, urllib.request, urllib.error
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
        status, headers, body = r.status, r.headers, json.loads(r.read())
except urllib.error.HTTPError as e:
    status, headers, body = e.code, e.headers, None
print(json.dumps({"status": status, "headers": {k.lower(): v for k, v in headers.items()}, "body": body}))
"""


def in_client(lab: str, script: str, arg: str, timeout: float = 60) -> dict[str, Any]:
    """Run a Python snippet inside the lab's client namespace (its resolv.conf: the lab's DNS)."""
    res = subprocess.run(
        [*Lab(lab).in_client(), sys.executable, "-c", script, arg],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    data: dict[str, Any] = json.loads(res.stdout)
    return data


def client_get(lab: str, url: str) -> dict[str, Any]:
    """GET from inside the lab's client namespace, resolving names through the lab's DNS like a client."""
    return in_client(lab, FETCH, url, timeout=30)


def lab_pids(lab: str) -> dict[str, int]:
    """host/daemon -> PID, from the lab's pidfiles."""
    pids = {}
    for pidfile in (STATE_DIR / lab / "hosts").glob("*/run/*.pid"):
        if pidfile.stem.endswith("-own"):
            continue
        pids[f"{pidfile.parent.parent.name}/{pidfile.stem}"] = int(pidfile.read_text())
    return pids


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (ProcessLookupError, FileNotFoundError):  # gone, or gone between the two looks
        return False


def leftovers(lab: str) -> list[str]:
    found = (
        [f"netns {n}" for n in os.listdir("/run/netns") if n.startswith(f"{lab}-")]
        if Path("/run/netns").is_dir()
        else []
    )
    found += (
        [f"/etc/netns/{n}" for n in os.listdir("/etc/netns") if n.startswith(f"{lab}-")]
        if Path("/etc/netns").is_dir()
        else []
    )
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    found += [f"link {line.split(':')[1].strip()}" for line in links.splitlines() if f" {lab}-" in line]
    if (STATE_DIR / lab).exists():
        found.append(f"dir {STATE_DIR / lab}")
    loops = subprocess.run(["losetup", "-n", "-l", "-O", "BACK-FILE"], capture_output=True, text=True).stdout
    found += [f"loop device on {f.strip()}" for f in loops.splitlines() if f"/{lab}/hosts/" in f]
    return found + lab_containers(lab)


def lab_containers(lab: str) -> list[str]:
    """Containers of `lab` on nineslab's engine, if that engine runs."""
    from nineslab.providers.docker import engine

    docker_engine = engine.Engine(STATE_DIR / "docker-engine")
    if not docker_engine.pid():
        return []
    client = docker_engine.client()
    try:
        found = client.containers.list(all=True, filters={"label": f"nineslab.lab={lab}"})
        return [f"container {c.name}" for c in found]
    finally:
        client.close()


@contextlib.contextmanager
def lab_with_reports(lab: str, topology: str, reports: Path, provider: str = "netns") -> Iterator[dict[str, Any]]:
    """lab_deployed, with the run store (NINESLAB_REPORTS_DIR) moved to `reports`."""
    os.environ["NINESLAB_REPORTS_DIR"] = str(reports)
    with lab_deployed(lab, topology, provider) as deployed:
        yield deployed


@contextlib.contextmanager
def lab_deployed(lab: str, topology: str, provider: str = "netns") -> Iterator[dict[str, Any]]:
    """Deploy `lab` with `topology` on `provider`; destroy it afterwards whatever happened."""
    nineslab("destroy", "--lab", lab, check=False)  # leftovers of an earlier crashed run
    try:
        yield nineslab_json("deploy", "--topology", topology, "--provider", provider, "--lab", lab)
    finally:
        nineslab("destroy", "--lab", lab, check=False)


RESOLVE = r"""
import json, socket, sys, time
t = time.monotonic()
try:
    addrs = sorted({a[4][0] for a in socket.getaddrinfo(sys.argv[1], 80, socket.AF_INET, socket.SOCK_STREAM)})
    print(json.dumps({"ok": True, "addresses": addrs, "seconds": time.monotonic() - t}))
except OSError as e:
    print(json.dumps({"ok": False, "error": str(e), "seconds": time.monotonic() - t}))
"""


def client_resolve(lab: str, name: str = "api.nines.lab") -> dict[str, Any]:
    """getaddrinfo from the client namespace through its resolv.conf (its caching resolver, or the nameservers)."""
    return in_client(lab, RESOLVE, name)


def client_try(lab: str, url: str) -> dict[str, Any]:
    """Like client_get, but a failed connection is a result ({"status": 0}), not an exception."""
    try:
        return client_get(lab, url)
    except subprocess.CalledProcessError:
        return {"status": 0, "headers": {}, "body": None}


def eventually(check: Callable[[], Any], within_s: float, every_s: float = 0.25) -> Any:
    """Poll `check` until it returns something truthy or `within_s` passes; its last value."""
    deadline = time.monotonic() + within_s
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every_s)


def settles(lab: str, url: str, ok: Callable[[dict[str, Any]], bool], within_s: float, streak: int = 5) -> float | None:
    """Seconds until `streak` requests in a row to `url` satisfy `ok` (a fault's transition is over:
    health checks have ejected what died, stale connections have timed out), or None if not within `within_s`.
    Tests then assert the steady state on fresh requests; the transition's cost is the report's job."""
    t0 = time.monotonic()
    run = 0
    while time.monotonic() - t0 < within_s:
        run = run + 1 if ok(client_try(lab, url)) else 0
        if run >= streak:
            return time.monotonic() - t0
        if run == 0:
            time.sleep(0.2)
    return None
