"""Each lab's own certificate authority (Python `cryptography`): a CA, a certificate per etcd member
(server and peer: its address, 127.0.0.1 and its name) and one per client identity (nineslab's `root`
and `deployer`, each gateway's user). Files live under the lab's state directory in `pki/` (0700), keys
0600. Idempotent: a certificate is issued again only when it is missing, not signed by this lab's CA,
does not cover its names, or has less than RENEW_DAYS left — so a second deploy changes nothing."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3650
CERT_DAYS = 365
RENEW_DAYS = 30


@dataclass(frozen=True)
class Identity:
    """One certificate to hold: a common name, and for a server its addresses and DNS names."""

    name: str  # file stem; a member's common name, a client's organizational unit (see subject())
    addresses: tuple[str, ...] = ()
    dns_names: tuple[str, ...] = ()
    # etcd takes a gRPC client certificate's common name as its user: a client that logs in so
    # (a gateway) has its name as its common name
    user_by_certificate: bool = False

    @property
    def server(self) -> bool:
        return bool(self.addresses or self.dns_names)


ROOT_USER = "root"  # nineslab's own administration: users, roles, auth, the hash check
DEPLOYER_USER = "deployer"  # writes routes: deploy, the route guard, rollback, the bad-route faults


def gateway_user(gateway: str) -> str:
    """A gateway's etcd user (and its certificate's CN): reads its own root key's prefix, nothing else."""
    return gateway


def identities(members: list[tuple[str, str]], gateways: list[str]) -> list[Identity]:
    """Every certificate a lab needs: one per etcd member (name, address) and one per client user. Pure."""
    out = [Identity(name, addresses=(address, "127.0.0.1"), dns_names=(name,)) for name, address in members]
    gateway_users = [Identity(gateway_user(g), user_by_certificate=True) for g in gateways]
    return out + [Identity(ROOT_USER), Identity(DEPLOYER_USER), *gateway_users]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def make_ca(lab: str, key: ec.EllipticCurvePrivateKey, now: dt.datetime, days: int = CA_DAYS) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"nineslab {lab} CA")])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )  # digital_signature, key_cert_sign, crl_sign
        .sign(key, hashes.SHA256())
    )


def issue(
    identity: Identity,
    key: ec.EllipticCurvePrivateKey,
    ca_key: ec.EllipticCurvePrivateKey,
    ca: x509.Certificate,
    now: dt.datetime,
    days: int = CERT_DAYS,
) -> x509.Certificate:
    """A certificate for `identity` signed by the CA: client auth always, server auth with its names.
    `days` may be negative (an expired certificate, for the expiry fault)."""
    usages = [ExtendedKeyUsageOID.CLIENT_AUTH] + ([ExtendedKeyUsageOID.SERVER_AUTH] if identity.server else [])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject(identity))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(min(now, now + dt.timedelta(days=days)) - dt.timedelta(days=1 if days < 0 else 0, minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    )
    if identity.server:
        sans: list[x509.GeneralName] = [x509.IPAddress(ipaddress.ip_address(a)) for a in identity.addresses]
        sans += [x509.DNSName(d) for d in identity.dns_names]
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


def subject(identity: Identity) -> x509.Name:
    """A member is named by its common name, and so is a client that logs in by its certificate (gRPC).
    nineslab's own clients (root, deployer) have none: etcd 3.5 refuses any client certificate with a
    common name on its JSON gateway once authentication is on ("CommonName of client sending a request
    against gateway will be ignored and not used as expected"); their user comes from a token. Their
    name is the organizational unit."""
    if identity.server or identity.user_by_certificate:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, identity.name)])
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "nineslab"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, identity.name),
        ]
    )


def days_left(cert: x509.Certificate, now: dt.datetime | None = None) -> float:
    return (cert.not_valid_after_utc - (now or utcnow())).total_seconds() / 86400


def covers(cert: x509.Certificate, identity: Identity) -> bool:
    """The certificate names exactly this identity (common name and, for a server, every address/name)."""
    if cert.subject != subject(identity):
        return False
    if not identity.server:
        return True
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    have = {str(a) for a in sans.get_values_for_type(x509.IPAddress)} | set(sans.get_values_for_type(x509.DNSName))
    return have == set(identity.addresses) | set(identity.dns_names)


def signed_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, Exception):  # noqa: BLE001 - any failure: not ours
        return False
    return True


def needs_issue(cert: x509.Certificate | None, ca: x509.Certificate, identity: Identity, now: dt.datetime) -> bool:
    """Pure: whether a certificate must be (re)issued."""
    return cert is None or not signed_by(cert, ca) or not covers(cert, identity) or days_left(cert, now) < RENEW_DAYS


# -- files ------------------------------------------------------------------------------------------
def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    tmp.replace(path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def write_private(path: Path, data: bytes) -> None:
    """Root-only (0600), atomically."""
    _write(path, data, 0o600)


def load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path} is not an EC private key")
    return key


def write_cert(path: Path, cert: x509.Certificate) -> None:
    _write(path, cert.public_bytes(serialization.Encoding.PEM), 0o644)


def _read_cert(path: Path) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class Pki:
    root: Path

    @property
    def ca_cert(self) -> Path:
        return self.root / "ca.crt"

    def cert(self, name: str) -> Path:
        return self.root / f"{name}.crt"

    def key(self, name: str) -> Path:
        return self.root / f"{name}.key"


def _usable_ca(pki: Pki, now: dt.datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None:
    """The lab's CA and its key, or None when either is missing, unreadable or near its end."""
    ca = _read_cert(pki.ca_cert)
    try:
        ca_key = load_key(pki.key("ca"))
    except (OSError, ValueError):
        return None
    if ca is None or days_left(ca, now) < RENEW_DAYS:
        return None
    return ca, ca_key


def to_issue(root: Path, identities: list[Identity], now: dt.datetime | None = None) -> list[str]:
    """What `ensure` would issue now, nothing written: the CA (and so every certificate) when it is not
    usable, else each certificate that is due."""
    now = now or utcnow()
    pki = Pki(root)
    usable = _usable_ca(pki, now)
    if usable is None:
        return ["ca", *(i.name for i in identities)]
    return [i.name for i in identities if needs_issue(_read_cert(pki.cert(i.name)), usable[0], i, now)]


def ensure(root: Path, lab: str, identities: list[Identity], now: dt.datetime | None = None) -> list[str]:
    """The lab's CA and every identity's certificate, (re)issued where needed. Returns what was issued."""
    now = now or utcnow()
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    pki = Pki(root)
    issued = []
    usable = _usable_ca(pki, now)
    if usable is None:
        ca_key = new_key()
        ca = make_ca(lab, ca_key, now)
        _write(pki.key("ca"), _key_pem(ca_key), 0o600)
        _write(pki.ca_cert, ca.public_bytes(serialization.Encoding.PEM), 0o644)
        issued.append("ca")
    else:
        ca, ca_key = usable
    for ident in identities:
        if needs_issue(_read_cert(pki.cert(ident.name)), ca, ident, now):
            key = new_key()
            _write(pki.key(ident.name), _key_pem(key), 0o600)
            _write(
                pki.cert(ident.name), issue(ident, key, ca_key, ca, now).public_bytes(serialization.Encoding.PEM), 0o644
            )
            issued.append(ident.name)
    return issued
