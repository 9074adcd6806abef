"""Who may do what in a lab's etcd (security.etcd_tls): the users and their permissions, their
passwords, and the certificate and user a client of nineslab presents.

- `root`: nineslab's own administration (users and roles, member changes, the hash check);
- `deployer`: writes the routes (deploy, the guarded push, rollback, the route faults and their heal)
  and reads etcd's status;
- one user per gateway: reads its own root key's range, nothing else. It has no password: etcd takes its
  certificate's common name as the user (gRPC). Not Traefik's username/password: with those, Traefik's
  etcd provider logs in once when it starts, and a gateway started while etcd is unreachable never
  loads its routes ("Error while initializing provider: failed to Connect to KV store", measured with
  the etcd-cold-start-gateway fault).

etcd's JSON gateway does not take a certificate's name as the user, so nineslab's own calls (root,
deployer) carry a token from `/v3/auth/authenticate` as well as the client certificate. Their passwords
are random, made once per lab, one file per user beside the certificates (0600)."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Any

from cryptography import x509

from nineslab.paths import lab_dir
from nineslab.security import pki
from nineslab.services import gateway
from nineslab.topology import Topology

ROOT = pki.ROOT_USER
DEPLOYER = pki.DEPLOYER_USER
# Keys nineslab itself writes beside the routes (the published digest, the route journal).
NINESLAB_PREFIX = "nineslab/"


# Users that log in with a password (for a token); every other user has none and logs in by certificate.
PASSWORD_USERS = (ROOT, DEPLOYER)


def permissions(topology: Topology) -> dict[str, list[tuple[str, str]]]:
    """Each user but root (who holds etcd's root role) with its (READ | READWRITE, key prefix) grants. Pure."""
    grants = {DEPLOYER: [("READWRITE", gateway.ROOTKEY_PREFIX), ("READWRITE", NINESLAB_PREFIX)]}
    for gw in topology.by_role("gateway"):
        grants[pki.gateway_user(gw.name)] = [("READ", gateway.rootkey(gw))]
    return grants


def pki_dir(lab: str) -> Path:
    return lab_dir(lab) / "pki"


def identities(topology: Topology) -> list[pki.Identity]:
    members = [(h.name, str(h.address)) for h in topology.by_role("etcd")]
    return pki.identities(members, [g.name for g in topology.by_role("gateway")])


def password_file(lab: str, user: str) -> Path:
    return pki_dir(lab) / f"{user}.password"


def ensure(lab: str, topology: Topology, now: dt.datetime | None = None) -> list[str]:
    """The lab's CA, every certificate and every user's password, made where missing (idempotent).
    Returns what was made. Nothing at all where the topology runs etcd without TLS."""
    if not topology.security.etcd_tls:
        return []
    made = pki.ensure(pki_dir(lab), lab, identities(topology), now)
    for user in PASSWORD_USERS:
        path = password_file(lab, user)
        if not path.exists():  # written whole or not at all (a kill mid-write leaves no empty password)
            pki.write_private(path, secrets.token_urlsafe(24).encode())
            made.append(f"{user}.password")
    return made


def to_issue(lab: str, topology: Topology) -> list[str]:
    """What `ensure` would make now (certificates, passwords), nothing written."""
    if not topology.security.etcd_tls:
        return []
    missing = [f"{u}.password" for u in PASSWORD_USERS if not password_file(lab, u).exists()]
    return pki.to_issue(pki_dir(lab), identities(topology)) + missing


def access(lab: str, topology: Topology, user: str) -> dict[str, Any]:
    """What the checker presents to etcd as `user`: its certificate, the CA it trusts, and its user and
    password (for the token). Empty where etcd runs without TLS and users."""
    if not topology.security.etcd_tls:
        return {}
    files = pki.Pki(pki_dir(lab))
    try:
        secret = password_file(lab, user).read_text().strip()
    except OSError:
        secret = ""  # not made yet (a lab half deployed): etcd refuses, and status says so
    return {
        "tls": {"ca": str(files.ca_cert), "cert": str(files.cert(user)), "key": str(files.key(user))},
        "auth": {"user": user, "password": secret},
    }


def auth_spec(topology: Topology) -> dict[str, dict[str, Any]]:
    """What the etcd role's auth task makes: per user but root, its grants and whether it has a password."""
    return {
        user: {"grants": [list(g) for g in grants], "password": user in PASSWORD_USERS}
        for user, grants in permissions(topology).items()
    }


def etcdctl_flags(lab: str, user: str) -> list[str]:
    """The same identity for etcdctl (gRPC)."""
    files = pki.Pki(pki_dir(lab))
    secret = password_file(lab, user).read_text().strip()
    return [
        f"--cacert={files.ca_cert}",
        f"--cert={files.cert(user)}",
        f"--key={files.key(user)}",
        f"--user={user}:{secret}",
    ]


def certificate_days(lab: str, topology: Topology, now: dt.datetime | None = None) -> dict[str, float | None]:
    """Days left on the CA and each certificate the lab holds (None: missing or unreadable)."""
    if not topology.security.etcd_tls:
        return {}
    files = pki.Pki(pki_dir(lab))
    out: dict[str, float | None] = {}
    for name, path in [("ca", files.ca_cert), *((i.name, files.cert(i.name)) for i in identities(topology))]:
        try:
            out[name] = round(pki.days_left(x509.load_pem_x509_certificate(path.read_bytes()), now), 1)
        except (OSError, ValueError):
            out[name] = None
    return out


# -- an expired certificate (the `expired_cert` fault) ----------------------------------------------
SAVED_CERT = ".before-nineslab"


def write_expired(lab: str, topology: Topology, member: str, now: dt.datetime | None = None) -> None:
    """Replace the member's certificate by one of the same key and names that expired a day ago; the good
    one is kept beside it (`<member>.crt.before-nineslab`) for recover and heal."""
    files = pki.Pki(pki_dir(lab))
    cert, saved = files.cert(member), saved_certificate(lab, member)
    if not saved.exists():  # a second apply must not save the expired one over the good one
        saved.write_bytes(cert.read_bytes())
    ident = next(i for i in identities(topology) if i.name == member)
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    ca_key, key = (pki.load_key(files.key(n)) for n in ("ca", member))
    expired = pki.issue(ident, key, ca_key, ca, now or pki.utcnow(), days=-1)
    pki.write_cert(cert, expired)


def saved_certificate(lab: str, member: str) -> Path:
    """Where the member's good certificate waits while the fault's expired one is in place."""
    cert = pki.Pki(pki_dir(lab)).cert(member)
    return cert.with_name(cert.name + SAVED_CERT)


def restore_certificate(lab: str, member: str) -> bool:
    """The member's good certificate back (False: nothing was saved, nothing to do)."""
    cert, saved = pki.Pki(pki_dir(lab)).cert(member), saved_certificate(lab, member)
    if not saved.exists():
        return False
    saved.replace(cert)
    return True
