"""Defaults shared by the CLI, the library and the Ansible roles (passed to them as variables): one
place to read or change them."""

from __future__ import annotations

RATE = 200.0  # requests/s of the load under every run (load, chaos run, suite, compare, calibrate)
DEADLINE_S = 2.0  # hard total deadline of one request, DNS included
HEAL_WAIT_S = 60.0  # how long heal waits for the lab to be healthy again
SLO_MS = 1000.0  # a request slower than this counts as failed
ETCD_CLIENT_PORT = 2379
ETCD_PEER_PORT = 2380
# Admin surfaces, on each host's loopback only (off the data path): Traefik's ping, haproxy's stats.
ADMIN_PORT_TRAEFIK = 8080
ADMIN_PORT_HAPROXY = 8404
