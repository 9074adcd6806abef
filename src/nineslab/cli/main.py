"""`nineslab` command line. Thin: parse, call Lab, print. A NinesError becomes one line on stderr; so does
an exception nineslab did not expect (exit 70, its traceback kept in a file)."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import click

from nineslab.analysis import exit_code
from nineslab.defaults import DEADLINE_S, HEAL_WAIT_S, RATE, SLO_MS
from nineslab.errors import Interrupted, NinesError, RolledBack
from nineslab.faults import engine as faults_engine
from nineslab.faults.catalogue import find
from nineslab.faults.engine import describe_dry_run
from nineslab.health import unhealthy_hosts
from nineslab.health.describe import status_lines
from nineslab.lab import DEFAULT_LAB, DeployPlan, Lab, check_lab_name
from nineslab.load.runner import SEED
from nineslab.providers import DEFAULT_PROVIDER, PROVIDERS
from nineslab.runs import Run
from nineslab.signals import ctrl_c_interrupts
from nineslab.topology import load_topology, topology_names, topology_row

LAB_OPTION = click.option(
    "--lab",
    default=lambda: os.environ.get("NINESLAB_LAB", DEFAULT_LAB),
    show_default="nines (or $NINESLAB_LAB)",
    help="Lab name: prefix of every namespace, link and file of the lab.",
)


class FiniteRange(click.FloatRange):
    """A float range that also refuses nan and infinity (click's FloatRange lets both through: every
    comparison with nan is false, and inf is above any minimum) — `--rate inf` is not a rate."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


POSITIVE = FiniteRange(min=0, min_open=True)
MAX_PROCESSES = 64  # load processes: more than a machine has cores only makes them measure each other
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON on stdout.")
PROCESSES_OPTION = click.option(
    "--processes",
    default=1,
    type=click.IntRange(min=1, max=MAX_PROCESSES),
    show_default=True,
    help="Locust processes: 2 keeps the load generator from stalling under hang-type faults on 2 cores.",
)
WORKERS_OPTION = click.option(
    "--workers",
    default=0,
    type=click.IntRange(min=0, max=MAX_PROCESSES),
    show_default=True,
    help="Locust's distributed mode: a master and N workers spread over the topology's client hosts "
    "(client.extra); 0: one Locust, no master.",
)


def _one_of(processes: int, workers: int) -> None:
    if processes > 1 and workers:
        raise click.BadParameter(
            "give --processes or --workers, not both (each worker is one Locust process)", param_hint="--workers"
        )


def _progress(as_json: bool) -> Any:
    start = time.monotonic()

    def say(msg: str) -> None:
        if not as_json:
            click.echo(f"[{time.monotonic() - start:6.1f}s] {msg}", err=True)

    return say


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nineslab")
def cli() -> None:
    """Deploy reference API-gateway topologies as real local labs and prove their availability tier."""


@cli.command()
@click.option("--topology", "-t", required=True, help="1az, 2az, 3dc, or a path to a topology .yaml file.")
@click.option(
    "--provider",
    type=click.Choice(sorted(PROVIDERS)),
    help=f"What a host is: a network namespace (netns), a container (docker), or an existing machine over "
    f"SSH (hosts, with --inventory). Default: the lab's own, or {DEFAULT_PROVIDER} for a new lab.",
)
@click.option(
    "--inventory",
    "-i",
    type=click.Path(path_type=Path),
    help="With --provider hosts: the YAML file binding each host to an existing machine (see `machines`).",
)
@click.option(
    "--full",
    is_flag=True,
    help="Run Terraform and Ansible even when the running lab already matches (by default such a deploy "
    "returns after proving it: inputs, what each daemon loaded, routes, health).",
)
@click.option(
    "--plan",
    "plan_only",
    is_flag=True,
    help="Print what a deploy would change, host by host (Ansible's check mode, the daemons' records, the "
    "routes in etcd), and change nothing.",
)
@LAB_OPTION
@JSON_OPTION
def deploy(
    topology: str, provider: str | None, inventory: Path | None, full: bool, plan_only: bool, lab: str, as_json: bool
) -> None:
    """Create (or repair) the lab: hosts via Terraform (or existing machines over SSH), services via
    Ansible, then an end-to-end check. Idempotent: a second deploy changes nothing, and when the lab
    is proven to match already it runs neither Terraform nor Ansible."""
    try:
        the_lab = Lab(lab, provider=provider, inventory=inventory)
        if plan_only:
            _print_plan(the_lab.plan(topology), as_json)
            return
        result = the_lab.deploy(topology, progress=_progress(as_json), full=full)
    except KeyboardInterrupt:
        raise Interrupted(
            f"deploy of lab {lab} stopped part-way — run `nineslab deploy --topology {topology} --lab {lab}` "
            f"again to finish it, or `nineslab destroy --lab {lab}` to remove it"
        ) from None
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(result), indent=2))
        return
    if result.noop:
        click.echo(
            f"lab {result.lab} ({result.topology}) already runs this deploy — checked in {result.seconds:.1f}s "
            "(inputs, what each daemon loaded, routes, health); nothing changed (--full runs Terraform and Ansible)"
        )
    else:
        only = f" on {', '.join(result.only)} (the other hosts already ran this deploy)" if result.only else ""
        click.echo(
            f"lab {result.lab} ({result.topology}) is up in {result.seconds:.1f}s (hosts "
            f"{result.terraform_seconds:.1f}s, services {result.ansible_seconds:.1f}s, {result.changed} changes{only})"
        )
    click.echo("\n".join(status_lines(result.status)))


def _print_plan(plan: DeployPlan, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(plan), indent=2))
        return
    if plan.noop:
        click.echo(f"lab {plan.lab} ({plan.topology}) already runs this deploy: nothing would change")
        return
    click.echo(
        f"a deploy of {plan.topology} on lab {plan.lab} would change {len(plan.hosts)} host(s) and "
        f"{len(plan.routes)} route key(s) (nothing was changed):"
    )
    for host, steps in plan.hosts.items():
        click.echo(f"  {host}:")
        click.echo("\n".join(f"    - {step}" for step in steps))
    if plan.routes:
        click.echo("  etcd routes:")
        click.echo("\n".join(f"    - {key}" for key in plan.routes))


@cli.command()
@LAB_OPTION
@JSON_OPTION
@click.option("--hashkv", is_flag=True, help="Also compare every etcd member's hash of the store (endpoint hashkv).")
def status(lab: str, as_json: bool, hashkv: bool) -> None:
    """Health of every host, the etcd cluster and the entrypoint. Exit 1 if anything is unhealthy (with
    --hashkv: or if etcd's members disagree)."""
    the_lab = Lab(lab)
    st = the_lab.status()
    if hashkv:
        from nineslab.health.consistency import etcd_consistency

        st["etcd_consistency"] = etcd_consistency(the_lab.provider, the_lab.topology())
    if as_json:
        click.echo(json.dumps(st, indent=2))
    else:
        click.echo("\n".join(status_lines(st)))
        if hashkv:
            from nineslab.report.render import consistency_text

            click.echo(f"etcd store: {consistency_text(st['etcd_consistency'])}")
    disagree = hashkv and st["etcd_consistency"]["consistent"] is False
    sys.exit(0 if st["healthy"] and not disagree else 1)


@cli.command()
@LAB_OPTION
@JSON_OPTION
def destroy(lab: str, as_json: bool) -> None:
    """Stop every daemon of the lab and remove its namespaces, links and files. Safe to run twice."""
    the_lab = Lab(lab)
    stopped = the_lab.destroy()
    left = the_lab.leftovers()
    if as_json:
        click.echo(json.dumps({"lab": lab, "stopped": stopped, "leftovers": left}, indent=2))
    else:
        click.echo(f"lab {lab} destroyed ({len(stopped)} daemons stopped)" + (f"; LEFT: {left}" if left else ""))
    sys.exit(1 if left else 0)


@cli.command()
@click.option("--build", is_flag=True, help="Build the hosts' base image if it is not built (debootstrap, ~1 min).")
@click.option("--prune", is_flag=True, help="Remove images of older recipes that no container is made from.")
@JSON_OPTION
def images(build: bool, prune: bool, as_json: bool) -> None:
    """The docker provider's images: what is built on nineslab's own engine, and the tag of the current
    recipe. Starts nineslab's engine if needed, and stops it again unless a docker lab uses it."""
    from nineslab.providers.docker import Engine, default_recipe
    from nineslab.providers.docker import engine as docker_engine
    from nineslab.providers.docker import image as host_image

    engine, recipe = Engine.default(), default_recipe()
    client = engine.client()
    try:
        removed: list[str] = []
        busy: list[str] = []
        if prune:
            removed, busy = host_image.prune(client, recipe.tag)
        if build:
            host_image.build(client, recipe, engine.root / "build", progress=_progress(as_json))
        rows = host_image.listing(client)
    finally:
        client.close()
        docker_engine.release(engine)
    data = {"engine": engine.url, "recipe": recipe.tag, "images": rows, "removed": removed, "kept_in_use": busy}
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"engine {engine.url}; current recipe {recipe.tag}")
    for tag in removed:
        click.echo(f"  removed {tag} (an older recipe)")
    for tag in busy:
        click.echo(f"  kept {tag}: a container is made from it (destroy its lab, then prune again)")
    for row in rows:
        mark = "current" if row["tag"] == recipe.tag else "stale (an older recipe)"
        click.echo(f"  {row['tag']:<28} {row['id']:<20} {row['size_mb']:>7.1f} MB  {mark}")
    if not any(row["tag"] == recipe.tag for row in rows):
        click.echo("  the current recipe is not built — `nineslab images --build` builds it")


@cli.command()
@click.option("--topology", "-t", required=True, help="1az, 2az, 3dc, or a path to a topology .yaml file.")
@click.option(
    "--inventory",
    "-i",
    required=True,
    type=click.Path(path_type=Path),
    help="YAML file binding each host of the topology to an existing machine (address, user, key).",
)
@LAB_OPTION
@JSON_OPTION
def machines(topology: str, inventory: Path, lab: str, as_json: bool) -> None:
    """Check the machines of an existing-hosts inventory: every host of the topology bound to one machine,
    and each answering over SSH with python3 and root (sudo -n where `become: true`) and holding the Debian
    packages its host needs; each clock's offset measured. Changes nothing on them; exit 1 with a one-line
    line naming the first host that is not ready (exit 2: the inventory itself is wrong)."""
    from nineslab.providers.hosts.inventory import load_inventory
    from nineslab.providers.hosts.ssh import survey

    check_lab_name(lab)
    topo = load_topology(topology)
    rows = survey(lab, load_inventory(inventory, topo), topo)
    if as_json:
        click.echo(json.dumps({"topology": topo.name, "inventory": str(inventory), "machines": rows}, indent=2))
    else:
        for r in rows:
            state = "ready" if r["problem"] is None else f"NOT READY: {r['problem']}"
            c = r["clock"]
            clock = f"clock {c['offset_s'] * 1000:+.1f} ±{c['error_s'] * 1000:.1f} ms" if c else "clock ?"
            click.echo(
                f"{r['host']:<10} {r['target']:<28} port {r['port']:<5} {'sudo' if r['become'] else 'root':<4} "
                f"{clock:<24} {state}"
            )
    bad = [r for r in rows if r["problem"]]
    if bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        first = f"hosts.{bad[0]['host']}: {bad[0]['problem']}{more}"
        click.echo(f"nineslab: not ready: {inventory}: {first} — fix it and check again", err=True)
        sys.exit(1)


@cli.command()
@click.argument("topology", required=False)
@JSON_OPTION
def topologies(topology: str | None, as_json: bool) -> None:
    """List the reference topologies, or validate one file (exit 1 with a one-line error if it is bad)."""
    names = [topology] if topology else topology_names()
    rows = [topology_row(load_topology(name)) for name in names]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        counts = " ".join(f"{k}={v}" for k, v in row["roles"].items())
        click.echo(f"{row['name']:<6} {row['target'] * 100:.3f} %  zones={','.join(row['zones'])}  {counts}")


@cli.command()
@LAB_OPTION
@JSON_OPTION
def faults(lab: str, as_json: bool) -> None:
    """The faults that apply to the deployed topology (catalogue order), with the expected outcome."""
    from nineslab.faults import active_faults, fault_rows

    the_lab = Lab(lab)
    active = {f["fault"] for f in active_faults(the_lab)}
    rows = fault_rows(the_lab.topology(), the_lab.provider.capabilities, active)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        flag = " [ACTIVE]" if r["active"] else ""
        params = "".join(f" {k}={v}" for k, v in r["params"].items())
        click.echo(
            f"{r['name']:<24} {r['kind']:<6} {r['op']}{params} {r['role']}:{r['select']} hold {r['hold_s']:g}s{flag}"
        )
        click.echo(f"{'':<24} expected: {r['expected']}")


def _fault_command(func: Any) -> Any:
    """A command on one catalogue fault of a lab: FAULT, --lab, --json."""
    return cli.command()(click.argument("fault")(LAB_OPTION(JSON_OPTION(func))))


def _stop_options(func: Any) -> Any:
    """--abort-if-error-ratio R --for S: a run's stop condition (see orchestration/stop.py)."""
    func = click.option(
        "--for",
        "for_s",
        type=POSITIVE,
        default=5.0,
        show_default=True,
        help="Window of --abort-if-error-ratio, in seconds of requests.",
    )(func)
    return click.option(
        "--abort-if-error-ratio",
        "abort_ratio",
        type=FiniteRange(min=0, max=1, min_open=True),
        help="Stop condition: recover every fault at once and ABORT the run when this share of the "
        "requests of the last --for seconds failed.",
    )(func)


def _stop_condition(abort_ratio: float | None, for_s: float) -> Any:
    from nineslab.orchestration.stop import StopCondition

    return StopCondition(abort_ratio, for_s) if abort_ratio is not None else None


DRY_RUN_OPTION = click.option(
    "--dry-run", "dry", is_flag=True, help="Print what would be done (hosts, processes, rules, holds); change nothing."
)


@DRY_RUN_OPTION
@_fault_command
def inject(fault: str, lab: str, as_json: bool, dry: bool) -> None:
    """Inject one catalogue fault and leave it in place (undo: `nineslab recover FAULT` or `heal`)."""
    the_lab = Lab(lab)
    if dry:
        spec = find(fault, the_lab.topology(), capabilities=the_lab.provider.capabilities)
        plan = faults_engine.dry_run(the_lab, spec)
        _emit({"dry_run": True, **plan}, as_json, "\n".join(["dry run — nothing changed", *describe_dry_run(plan)]))
        return
    record = faults_engine.inject(the_lab, fault)
    hosts = ", ".join(record["hosts"])
    _emit(record, as_json, f"injected {record['fault']} on {hosts} — undo with `nineslab recover {fault}`")


@_fault_command
def recover(fault: str, lab: str, as_json: bool) -> None:
    """Recover one injected fault (idempotent; works from any process, after a crash too)."""
    record = faults_engine.recover(Lab(lab), fault)
    _emit(record, as_json, f"recovered {fault}" if record["recovered"] else f"{fault}: {record['note']}")


@cli.command()
@LAB_OPTION
@JSON_OPTION
@click.option(
    "--wait", default=HEAL_WAIT_S, type=FiniteRange(min=0), show_default=True, help="Seconds to wait for healthy."
)
def heal(lab: str, as_json: bool, wait: float) -> None:
    """Undo every injected fault (recorded or not), restart what is down, wait until healthy.
    Exit 1, loudly, if the lab did not come back."""
    from nineslab.errors import LabError
    from nineslab.faults import heal as do_heal

    the_lab = Lab(lab)
    if the_lab.unfinished_deploy():
        topology = (the_lab.meta() or {}).get("topology", "TOPOLOGY")
        raise LabError(
            f"the last deploy of lab {lab} did not finish — heal undoes faults, it cannot finish a deploy: "
            f"run `nineslab deploy --topology {topology} --lab {lab}`"
        )
    result = do_heal(the_lab, wait_s=wait, progress=_progress(as_json))
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        for action in result["actions"]:
            click.echo(f"  {action}")
        for err in result["errors"]:
            click.echo(f"  error: {err}", err=True)
        if result["healthy"]:
            click.echo(f"lab {lab} healed: healthy")
        else:
            click.echo(
                f"LAB {lab} DID NOT COME BACK: down {unhealthy_hosts(result['status'])} — "
                f"run `nineslab deploy` to repair it",
                err=True,
            )
    sys.exit(0 if result["healthy"] else 1)


@cli.command()
@LAB_OPTION
@JSON_OPTION
@click.option("--duration", default=60.0, type=POSITIVE, show_default=True, help="Seconds of load.")
@click.option("--rate", default=RATE, type=POSITIVE, show_default=True, help="Target requests/s (5 req/s per user).")
@click.option(
    "--deadline", default=DEADLINE_S, type=POSITIVE, show_default=True, help="Hard total deadline per request (s)."
)
@click.option(
    "--processes",
    default=1,
    type=click.IntRange(min=1, max=MAX_PROCESSES),
    show_default=True,
    help="Locust processes (for high rates).",
)
@click.option("--seed", default=SEED, type=int, show_default=True, help="Seed of the open-loop (Poisson) schedule.")
@WORKERS_OPTION
def load(
    lab: str, as_json: bool, duration: float, rate: float, deadline: float, processes: int, seed: int, workers: int
) -> None:
    """Drive Locust through the lab (client namespace, lab DNS) and record every request in a new run."""
    from nineslab.runs import new_run_dir

    _one_of(processes, workers)
    the_lab = Lab(lab)
    the_lab.topology()  # a missing lab fails here, before a run directory is made
    run_dir = new_run_dir("load")
    run = the_lab.load(
        run_dir, rate=rate, duration_s=duration, deadline_s=deadline, processes=processes, seed=seed, workers=workers
    )
    run.start()
    try:
        summary = run.wait(progress=_progress(as_json))
    finally:
        run.stop()
    summary.update(run=str(run_dir), **run.settings())
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        click.echo(
            f"{summary['requests']} requests, {summary['errors']} errors "
            f"({summary['requests'] / duration:.0f} req/s); samples in {run.samples_dir}"
        )


@cli.group()
def routes() -> None:
    """Route changes: pushed through a canary gateway with automatic rollback (escape.guarded_push),
    their history, and rollback to any revision."""


@routes.command("push")
@click.argument("file", type=click.Path(path_type=Path))
@LAB_OPTION
@JSON_OPTION
def routes_push(file: Path, lab: str, as_json: bool) -> None:
    """Publish the change in FILE (`set:` key: value, `delete:` keys, relative to each gateway's root key):
    to one canary gateway first, checked with real requests, then to the rest. A failing canary is rolled
    back automatically (exit 3); a malformed file writes nothing (exit 2)."""
    from nineslab.routes import load_change, push

    change = load_change(file)  # checked before the lab is even looked at
    the_lab = Lab(lab)
    result = push(the_lab.etcd, the_lab.checker(), change, the_lab.topology())
    where = f"canary {result['canary']} passed in {result['canary_s']:.1f}s, then " if result["guarded"] else ""
    _emit(result, as_json, f"pushed {file}: {where}{len(result['gateways'])} gateways, revision {result['revision']}")


@routes.command("history")
@LAB_OPTION
@JSON_OPTION
def routes_history(lab: str, as_json: bool) -> None:
    """Every route push and rollback of the lab, oldest first, with the etcd revision each wrote."""
    from nineslab.routes import history

    entries = history(Lab(lab).etcd)
    lines = [f"{'REVISION':>8}  {'OUTCOME':<12} {'BEFORE':>6}  WHAT"]
    for e in entries:
        what = f"to revision {e['to']}" if e["outcome"] == "rollback" else e.get("source", "")
        lines.append(f"{e['revision']:>8}  {e['outcome']:<12} {e['before']:>6}  {what} {e.get('reason', '')}".rstrip())
    _emit(entries, as_json, "\n".join(lines) if entries else "no route push yet")


@routes.command("rollback")
@click.argument("revision", type=click.IntRange(min=1), required=False)
@LAB_OPTION
@JSON_OPTION
def routes_rollback(revision: int | None, lab: str, as_json: bool) -> None:
    """Every gateway's routes back to REVISION (default: before the last push), in one transaction."""
    from nineslab.routes import rollback

    result = rollback(Lab(lab).etcd, revision)
    _emit(result, as_json, f"routes restored to revision {result['to']} ({result['keys']} keys changed)")


@cli.group()
def chaos() -> None:
    """Chaos Toolkit experiments (chaos/experiments/*.json), run with rollbacks always."""


@chaos.command("run")
@click.argument("experiment")
@LAB_OPTION
@JSON_OPTION
@DRY_RUN_OPTION
@_stop_options
def chaos_run(experiment: str, lab: str, as_json: bool, dry: bool, abort_ratio: float | None, for_s: float) -> None:
    """Run one experiment (a catalogue fault name or a .json path) under load in a new run directory.
    Exit 1 if it deviated or failed, was stopped by its stop condition, or the lab did not come back."""
    from nineslab.orchestration.runner import run_experiment

    stop = _stop_condition(abort_ratio, for_s)
    result = run_experiment(Lab(lab), experiment, _progress(as_json), dry=dry, stop=stop)
    if dry:
        _print_dry_run(result, as_json)
        return
    _print_result(result, as_json)


@chaos.command("generate")
@click.option("--force", is_flag=True, help="Overwrite existing experiment files too.")
def chaos_generate(force: bool) -> None:
    """Write an experiment file for every catalogue fault that has none (edit them freely after)."""
    from nineslab.chaos.experiments import write_missing
    from nineslab.faults import load_catalogue

    for path in write_missing(load_catalogue(), force=force):
        click.echo(f"wrote {path}")


@cli.command()
@LAB_OPTION
@JSON_OPTION
@click.option(
    "--rate", default=RATE, type=POSITIVE, show_default=True, help="Requests/s of the load through the suite."
)
@click.option("--only", multiple=True, help="Run only these faults (repeatable).")
@click.option(
    "--holds-for-target",
    is_flag=True,
    help="Size holds and the baseline so the 95 %% bound can meet the target (prints the run time first).",
)
@click.option("--plan", "plan_only", is_flag=True, help="Print the --holds-for-target plan and stop.")
@click.option(
    "--repeat",
    default=1,
    type=click.IntRange(1, 20),
    show_default=True,
    help="Run each fault this many times in a row (the bound takes the largest transition seen).",
)
@PROCESSES_OPTION
@WORKERS_OPTION
@DRY_RUN_OPTION
@_stop_options
def suite(
    lab: str,
    as_json: bool,
    rate: float,
    only: tuple[str, ...],
    holds_for_target: bool,
    plan_only: bool,
    repeat: int,
    processes: int,
    workers: int,
    dry: bool,
    abort_ratio: float | None,
    for_s: float,
) -> None:
    """Every fault that applies to the deployed topology, in catalogue order, under one continuous load,
    into one run directory; then its report and verdict. Refuses (exit 2) when a fault that applies has
    no rate in the assumptions file. Exits as `nineslab report` does: 0 only for a proven PASS, 1 for
    FAIL/UNPROVEN/PARTIAL, 4 when the run itself failed (INCOMPLETE/ABORTED: an experiment that did not
    run through, a lab that did not come back). --repeat K runs each fault K times: the bound takes the
    largest transition seen and the report shows the spread.
    Proving a tier takes evidence: --holds-for-target holds each fault long enough (and runs a baseline
    long enough) that a clean estate's 95 %% bound fits the budget — at 3dc's 99.999 %% that is about
    half a million clean requests; --plan shows the plan without running it."""
    from nineslab.orchestration.runner import run_suite

    _one_of(processes, workers)
    result = run_suite(
        Lab(lab),
        _progress(as_json),
        rate=rate,
        only=list(only) or None,
        holds_for_target=holds_for_target,
        plan_only=plan_only,
        processes=processes,
        workers=workers,
        dry=dry,
        stop=_stop_condition(abort_ratio, for_s),
        repeat=repeat,
    )
    if dry and not plan_only:
        _print_dry_run(result, as_json)
        return
    if plan_only:
        if as_json:
            click.echo(json.dumps(result, indent=2))
            return
        plan = result["plan"]
        click.echo(f"{'part':<26} {'clean requests':>14} {'hold/run':>9}")
        click.echo(f"{'baseline':<26} {plan['requests']['baseline']:>14,} {plan['baseline_s']:>8.0f}s")
        for fault, hold in plan["holds"].items():
            click.echo(f"{fault:<26} {plan['requests'].get(fault, 0):>14,} {hold:>8.0f}s")
        click.echo(f"about {plan['run_s'] / 60:.0f} min at {result['rate']:g} req/s — plan only: nothing was run")
        return
    _print_result(result, as_json, judged=True)


@cli.command()
@click.argument("run", required=False)
@JSON_OPTION
@click.option("--assumptions", type=click.Path(), help="Fault-rate assumptions (default assumptions/fault-rates.yaml).")
@click.option("--slo-ms", default=SLO_MS, type=POSITIVE, show_default=True, help="Latency over this counts as failed.")
@click.option(
    "--require",
    type=click.Choice(["point", "bound"]),
    default="bound",
    show_default=True,
    help="What exits 0: a PASS proven by the 95 % bound, or (point, asked for by name) an UNPROVEN too.",
)
def report(run: str | None, as_json: bool, assumptions: str | None, slo_ms: float, require: str) -> None:
    """SLA report of a run (default: the latest): report.html, report.md, results.json, junit.xml in the
    run directory. Re-run it after editing the assumptions; the lab is not needed. The verdict is PASS
    (the 95 % bound meets the target), UNPROVEN (only the point estimate does), FAIL, PARTIAL (a fault
    that applies was not run or has no rate), INCOMPLETE (not finished, or a fault unmeasured) or
    ABORTED. Exit 0 only for a PASS, 1 for FAIL/UNPROVEN/PARTIAL, 4 when the run itself failed
    (INCOMPLETE/ABORTED)."""
    from nineslab.report import write_report

    res = write_report(run, assumptions, slo_ms)
    if as_json:
        click.echo(json.dumps({k: v for k, v in res.items() if k != "timeline"}, indent=2, default=str))
    else:
        from nineslab.analysis import verdict_reasons
        from nineslab.report.render import headline

        click.echo(headline(res))
        for reason in verdict_reasons(res):
            click.echo(reason)
        click.echo(f"report: {res['files']['report.html']}")
    sys.exit(exit_code(res["verdict"], accept_point=require == "point"))


@cli.command()
@click.option(
    "--runs", multiple=True, help="Existing runs to compare (repeatable); without: run the suite on each topology."
)
@click.option("--topologies", default="1az,2az,3dc", show_default=True, help="Topologies to run (without --runs).")
@click.option("--rate", default=RATE, type=POSITIVE, show_default=True, help="Load of each suite (without --runs).")
@click.option("--lab", default="cmp", show_default=True, help="Lab name each topology is deployed under, in turn.")
@PROCESSES_OPTION
@JSON_OPTION
def compare(runs: tuple[str, ...], topologies: str, rate: float, lab: str, processes: int, as_json: bool) -> None:
    """The same fault schedule on several topologies, side by side: each topology deployed (as --lab),
    its suite run and reported, then destroyed; or existing runs read with --runs. Tiers are ordered by
    their 95 % bound. Exit 0 only when every tier is a proven PASS (4 if a run failed itself, else 1)."""
    from nineslab.orchestration.runner import run_compare
    from nineslab.report import write_report
    from nineslab.report.compare import compare_markdown, compare_results, write_comparison

    if runs:
        results = [write_report(r) for r in runs]
    else:
        results = run_compare(
            topologies.split(","), check_lab_name(lab), _progress(as_json), rate=rate, processes=processes
        )
    out = write_comparison(results)
    if as_json:
        click.echo(json.dumps({"run": str(out), **compare_results(results)}, indent=2, default=str))
    else:
        click.echo(compare_markdown(compare_results(results)))
        click.echo(f"comparison: {out / 'compare.html'}")
    # 0 only when every tier is a proven PASS; 4 when a run failed itself, else 1
    sys.exit(max((exit_code(r["verdict"]) for r in results), default=1))


@cli.command()
@LAB_OPTION
@JSON_OPTION
@click.option("--rate", default=RATE, type=POSITIVE, show_default=True, help="Load of each side's run.")
@click.option("--mechanism", "mechanisms", multiple=True, help="Only these escape mechanisms (repeatable).")
@click.option("--plan", "plan_only", is_flag=True, help="Print which faults each mechanism needs, and stop.")
@PROCESSES_OPTION
def ledger(lab: str, as_json: bool, rate: float, mechanisms: tuple[str, ...], plan_only: bool, processes: int) -> None:
    """The nines ledger of the deployed lab: per escape mechanism, the faults it addresses run with it on
    and with it off (the lab redeployed with that one switch off, then back), error-seconds and projected
    minutes/year saved. Runs already in the store with the same topology, switches, rate and holds are
    reused. Writes ledger.html and ledger.json to a new run directory."""
    from nineslab.orchestration.ledger import MECHANISMS, estimate_s, plan, run_ledger

    the_lab = Lab(lab)
    bad = sorted(set(mechanisms) - set(MECHANISMS))
    if bad:
        raise click.BadParameter(f"{bad[0]!r} is not one of {', '.join(MECHANISMS)}", param_hint="--mechanism")
    chosen = list(mechanisms) or list(MECHANISMS)
    if plan_only:
        topology = the_lab.topology()
        planned = plan(the_lab, topology, chosen)
        minutes = estimate_s(the_lab, topology, chosen) / 60
        lines = [f"{m:<18} {', '.join(f)}" for m, f in planned.items()]
        _emit({"plan": planned, "estimate_min": minutes}, as_json, "\n".join([*lines, f"about {minutes:.0f} min"]))
        return
    out = run_ledger(the_lab, _progress(as_json), rate=rate, mechanisms=chosen, processes=processes)
    data = json.loads(Run(out).ledger_json.read_text())
    lines = [f"{m:<18} {v:8.1f} projected min/year saved" for m, v in data["saved_minutes_per_year"].items()]
    _emit({"run": str(out), **data}, as_json, "\n".join([*lines, f"ledger: {out / 'ledger.html'}"]))


@cli.command()
@click.option("--port", default=8080, type=click.IntRange(1, 65535), show_default=True, help="Port on 127.0.0.1.")
@click.option("--for", "seconds", type=POSITIVE, help="Stop after this many seconds (default: until Ctrl-C).")
def serve(port: int, seconds: float | None) -> None:
    """Serve the run store (reports/, with its index.html of every run) on 127.0.0.1."""
    from nineslab.report.serve import serve as serve_store
    from nineslab.runs import reports_root

    serve_store(reports_root(), port, lambda msg: click.echo(msg, err=True), seconds)


@cli.command()
@LAB_OPTION
@JSON_OPTION
@click.option(
    "--outage",
    "outages",
    multiple=True,
    type=POSITIVE,
    default=[2.0],
    show_default=True,
    help="Outage length(s) in seconds to inject (repeatable).",
)
@click.option("--rate", default=RATE, type=POSITIVE, show_default=True, help="Requests/s during calibration.")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(["refuse", "hang"]),
    default=["refuse"],
    show_default=True,
    help="Connections to the LBs refused at once, or dropped (they hang to the deadline). Repeatable.",
)
@click.option(
    "--client-stall",
    default=0.0,
    type=FiniteRange(min=0, max=10),
    show_default=True,
    help="Also stop the load generator itself this many seconds (away from the outage): a client stall.",
)
@click.option(
    "--stall-inside",
    is_flag=True,
    help="Put the --client-stall inside the outage's window (1 s after it ends) instead of before it.",
)
@PROCESSES_OPTION
def calibrate(
    lab: str,
    as_json: bool,
    outages: tuple[float, ...],
    rate: float,
    kinds: tuple[str, ...],
    client_stall: float,
    stall_inside: bool,
    processes: int,
) -> None:
    """Inject outages of known length under load; print the true length next to what the report measures."""
    from nineslab.orchestration.calibration import calibrate as run_calibrations

    rows = run_calibrations(
        Lab(lab),
        list(outages),
        rate=rate,
        progress=_progress(as_json),
        kinds=kinds,
        client_stall_s=client_stall,
        processes=processes,
        stall_inside=stall_inside,
    )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        for row in rows:
            stall = f"; client stall {row['client_stall_true_s']:.3f}s, reported {row['client_stall_reported_s']:.3f}s"
            click.echo(
                f"{row['kind']}: true {row['true_s']:.4f}s  measured {row['measured_s']:.4f}s  "
                f"error {row['error_ms']:+.1f} ms" + (stall if row["client_stall_true_s"] else "")
            )


def _emit(data: Any, as_json: bool, text: str) -> None:
    """JSON on stdout with --json, else one line of text."""
    click.echo(json.dumps(data, indent=2, default=str) if as_json else text)


def _print_result(result: dict[str, Any], as_json: bool, judged: bool = False) -> None:
    """A run's outcome; judged (a suite): exit by the tier verdict (see analysis.verdict), else
    (one `chaos run`) Chaos Toolkit's convention: 0 when the experiment completed without deviating."""
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        for r in result["experiments"]:
            flag = "DEVIATED" if r["deviated"] else r["status"]
            click.echo(f"  {r['experiment']:<26} {flag}")
        click.echo(
            f"run {result['run']}: {result['requests']} requests recorded, {result['failed']} failed, "
            f"{result.get('stalled', 0)} held up by the load generator (failed in the bound only); "
            f"lab {'healthy' if result['healthy'] else 'DID NOT COME BACK'}"
        )
        if result.get("stopped"):
            click.echo(f"STOPPED: {result['stopped']['reason']} ({result['stopped']['condition']})")
        click.echo(result["headline"])
        click.echo(f"report: {result['report']}")
    if judged:
        sys.exit(exit_code(result["verdict"]))
    sys.exit(0 if result["clean"] else 1)


def _print_dry_run(result: dict[str, Any], as_json: bool) -> None:
    """A run's dry run: every fault's plan, the time it would take, and whether it would start at all."""
    lines = ["dry run — nothing changed (hosts chosen by etcd leadership are chosen again when the run gets there)"]
    for plan in result["faults"]:
        lines += describe_dry_run(plan)
    total = result.get("run_s", result["hold_s"])
    lines.append(
        f"{len(result['faults'])} faults, about {total / 60:.1f} min on lab {result['lab']} ({result['topology']})"
    )
    if not result["would_start"]:
        lines.append(f"the run would refuse to start: lab not healthy (down: {result['down']}) — `nineslab heal` first")
    _emit(result, as_json, "\n".join(lines))


def main() -> None:
    ctrl_c_interrupts()
    try:
        cli(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.UsageError as exc:
        # one line, like every other error: what is wrong with which argument, and where help is
        where = f"{exc.ctx.command_path} --help" if exc.ctx else "nineslab --help"
        message = " ".join(exc.format_message().split())
        click.echo(f"nineslab: error: {message} — see `{where}`", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except Interrupted as exc:
        click.echo(f"nineslab: interrupted: {exc}", err=True)
        sys.exit(130)
    except RolledBack as exc:
        click.echo(f"nineslab: rolled back: {exc}", err=True)
        sys.exit(3)
    except NinesError as exc:
        click.echo(f"nineslab: error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("nineslab: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug of ours: still one line, the traceback kept in a file
        sys.exit(internal_error(exc))


# sysexits.h EX_SOFTWARE: distinct from a refusal (2) and a failed check (1), so a script can tell a bug.
INTERNAL_ERROR_EXIT = 70


def internal_error(exc: BaseException) -> int:
    """An exception nineslab did not expect: one line on stderr naming it and the file its traceback
    went to (in the temporary directory: it belongs to no lab), so it can be reported."""
    import tempfile
    import traceback

    fd, path = tempfile.mkstemp(prefix="nineslab-traceback-", suffix=".txt")
    with os.fdopen(fd, "w") as f:
        f.write(f"nineslab {' '.join(sys.argv[1:])}\n")
        traceback.print_exception(exc, file=f)
    message = " ".join(str(exc).split())[:200]
    click.echo(
        f"nineslab: internal error (a bug in nineslab, not in your input): {type(exc).__name__}: {message} "
        f"— traceback in {path}; please report it with that file",
        err=True,
    )
    return INTERNAL_ERROR_EXIT


if __name__ == "__main__":
    main()
