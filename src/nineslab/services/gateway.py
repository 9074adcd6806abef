"""Gateway (Traefik with its etcd provider): each gateway reads its own routes under its own root key,
because gateways in different zones may reach different apps and each names itself in a header."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from nineslab.services.etcd import b64, prefix_range
from nineslab.topology import Host, Topology

API_PATH = "/api/"
DIGEST_KEY = "nineslab/routes-digest"


ROOTKEY_PREFIX = "traefik-"
# escape.fast_ejection: how long a gateway waits for an app to connect or to start answering before its
# retry middleware tries another app (the apps answer in about a millisecond; a 1 s SLO leaves room
# for one such wait and a retry).
FAST_TIMEOUT = "300ms"


def rootkey(host: Host) -> str:
    """The gateway's root key, ending in a character no host name has: no gateway's root is the start of
    another's (`traefik-gw-a` alone would be the start of `traefik-gw-ab`). Traefik reads its whole
    root as one etcd range [root, root+1), so the gateway's read-only permission is on that range and must
    not reach another gateway's routes; a root ending in `/` Traefik does not decode ("invalid label
    root", measured with 3.7.15)."""
    return f"{ROOTKEY_PREFIX}{host.name}."


def route_keys(topology: Topology, gw: Host) -> dict[str, str]:
    """Every key of one gateway's configuration. `rule` is what makes a router live in Traefik."""
    root = rootkey(gw)
    apps, _ = topology.next_hops(gw, "app")
    keys = {
        f"{root}/http/routers/api/entryPoints/0": "web",
        f"{root}/http/routers/api/service": "apps",
        f"{root}/http/routers/api/middlewares/0": "identity",
        f"{root}/http/routers/api/middlewares/1": "retry",
        f"{root}/http/middlewares/identity/headers/customResponseHeaders/X-Nines-Gateway": gw.name,
        f"{root}/http/middlewares/retry/retry/attempts": "3",
        f"{root}/http/middlewares/retry/retry/initialInterval": "10ms",
        f"{root}/http/services/apps/loadBalancer/healthCheck/path": "/health",
        f"{root}/http/services/apps/loadBalancer/healthCheck/interval": "1s",
        f"{root}/http/services/apps/loadBalancer/healthCheck/timeout": "500ms",
        f"{root}/http/services/apps/loadBalancer/passiveHealthCheck/failureWindow": "5s",
        f"{root}/http/services/apps/loadBalancer/passiveHealthCheck/maxFailedAttempts": "2",
    }
    if topology.escape.fast_ejection:
        # A frozen app holds a request no longer than this before the retry middleware tries another.
        transport = f"{root}/http/serversTransports/fast/forwardingTimeouts"
        keys[f"{transport}/dialTimeout"] = FAST_TIMEOUT
        keys[f"{transport}/responseHeaderTimeout"] = FAST_TIMEOUT
        keys[f"{root}/http/services/apps/loadBalancer/serversTransport"] = "fast"
    for i, app in enumerate(apps):
        keys[f"{root}/http/services/apps/loadBalancer/servers/{i}/url"] = f"http://{app.address}:80"
    keys[f"{root}/{API_RULE_KEY}"] = f"PathPrefix(`{API_PATH.rstrip('/')}`)"
    return keys


def all_route_keys(topology: Topology) -> dict[str, str]:
    keys: dict[str, str] = {}
    for gw in topology.by_role("gateway"):
        keys.update(route_keys(topology, gw))
    return keys


def routes_digest(topology: Topology) -> str:
    return hashlib.sha256(json.dumps(all_route_keys(topology), sort_keys=True).encode()).hexdigest()


def digest_put(topology: Topology) -> dict[str, Any]:
    """The op that records this topology's route set as published (deploy's route step then does nothing)."""
    return {"requestPut": {"key": b64(DIGEST_KEY), "value": b64(routes_digest(topology))}}


def routes_txn(topology: Topology) -> dict[str, Any]:
    """One etcd v3 transaction (JSON gateway form): if the digest key already holds this exact route
    set, do nothing; otherwise put every key and the digest together, atomically."""
    digest = routes_digest(topology)
    puts = [{"requestPut": {"key": b64(k), "value": b64(v)}} for k, v in all_route_keys(topology).items()]
    puts.append(digest_put(topology))
    return {
        "compare": [{"key": b64(DIGEST_KEY), "target": "VALUE", "result": "EQUAL", "value": b64(digest)}],
        "success": [],
        "failure": puts,
    }


def routes_range() -> dict[str, Any]:
    """etcd v3 range request (JSON gateway form) for every key under every gateway's root key."""
    return {**prefix_range(ROOTKEY_PREFIX), "keys_only": True}


# The API route's rule under each gateway's root: what a bad route breaks and heal looks at.
API_RULE_KEY = "http/routers/api/rule"
# The response header a route push writes beside its change, under each root: the canary check knows
# the change is loaded when a response carries this push's token.
ROUTES_MARKER = "http/middlewares/identity/headers/customResponseHeaders/X-Nines-Routes"


def wanted_route_keys(topology: Topology) -> list[str]:
    """The route keys this topology wants (base64, as etcd's JSON gateway returns them), with the
    marker of the last route push: any other key under a gateway root key was left by an earlier
    topology and is deleted on deploy."""
    markers = [f"{rootkey(g)}/{ROUTES_MARKER}" for g in topology.by_role("gateway")]
    return sorted(b64(k) for k in [*all_route_keys(topology), *markers])


def health_check(host: Host, topology: Topology) -> dict[str, Any]:
    # A real route, never /ping: a gateway without its routes answers /ping with 200 too.
    return {"kind": "http", "url": f"http://{host.address}{API_PATH}", "expect": 200}
