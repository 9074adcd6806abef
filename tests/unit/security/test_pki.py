"""The lab CA (pure parts and files): what is issued, when it is issued again, who signed it."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID

from nineslab.security import pki

NOW = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
MEMBER = pki.Identity("etcd-a1", addresses=("198.18.1.41", "127.0.0.1"), dns_names=("etcd-a1",))
GATEWAY = pki.Identity("gw-a")


def test_a_member_certificate_covers_its_names_and_a_client_one_only_its_user() -> None:
    ca_key = pki.new_key()
    ca = pki.make_ca("nines", ca_key, NOW)
    member = pki.issue(MEMBER, pki.new_key(), ca_key, ca, NOW)
    client = pki.issue(GATEWAY, pki.new_key(), ca_key, ca, NOW)
    assert pki.covers(member, MEMBER) and pki.covers(client, GATEWAY)
    assert not pki.covers(
        member, pki.Identity("etcd-a1", addresses=("198.18.1.42", "127.0.0.1"), dns_names=("etcd-a1",))
    )
    assert pki.signed_by(member, ca) and pki.signed_by(client, ca)
    other_ca = pki.make_ca("other", pki.new_key(), NOW)
    assert not pki.signed_by(member, other_ca), "another lab's CA did not sign it"
    assert round(pki.days_left(member, NOW)) == pki.CERT_DAYS


def test_issued_again_only_when_missing_foreign_misnamed_or_expiring() -> None:
    ca_key = pki.new_key()
    ca = pki.make_ca("nines", ca_key, NOW)
    cert = pki.issue(MEMBER, pki.new_key(), ca_key, ca, NOW)
    assert not pki.needs_issue(cert, ca, MEMBER, NOW)
    assert pki.needs_issue(None, ca, MEMBER, NOW)
    assert pki.needs_issue(cert, pki.make_ca("x", pki.new_key(), NOW), MEMBER, NOW)
    assert pki.needs_issue(cert, ca, GATEWAY, NOW)
    assert pki.needs_issue(cert, ca, MEMBER, NOW + dt.timedelta(days=pki.CERT_DAYS - pki.RENEW_DAYS + 1))
    expired = pki.issue(MEMBER, pki.new_key(), ca_key, ca, NOW, days=-1)
    assert pki.days_left(expired, NOW) < 0 and expired.not_valid_before_utc < expired.not_valid_after_utc


def test_files_are_made_once_with_private_keys_readable_by_root_only(tmp_path: Path) -> None:
    root = tmp_path / "pki"
    assert pki.ensure(root, "nines", [MEMBER, GATEWAY], NOW) == ["ca", "etcd-a1", "gw-a"]
    assert pki.ensure(root, "nines", [MEMBER, GATEWAY], NOW) == [], "a second run issues nothing"
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    for key in root.glob("*.key"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key
    ca = x509.load_pem_x509_certificate((root / "ca.crt").read_bytes())
    member = x509.load_pem_x509_certificate((root / "etcd-a1.crt").read_bytes())
    assert pki.signed_by(member, ca)
    (root / "gw-a.crt").unlink()
    assert pki.ensure(root, "nines", [MEMBER, GATEWAY], NOW) == ["gw-a"]


def test_a_lab_needs_a_certificate_per_member_and_per_user() -> None:
    got = pki.identities([("etcd-a1", "198.18.1.41"), ("etcd-b1", "198.18.2.41")], ["gw-a", "gw-b"])
    assert [i.name for i in got] == ["etcd-a1", "etcd-b1", "root", "deployer", "gw-a", "gw-b"]
    assert got[0].addresses == ("198.18.1.41", "127.0.0.1") and got[0].server and not got[2].server


def test_only_members_and_certificate_users_carry_a_common_name() -> None:
    """etcd 3.5 refuses a client certificate with a common name on its JSON gateway under auth, and takes
    it as the user on gRPC: nineslab's own clients have none, a gateway has its name."""
    ca_key = pki.new_key()
    ca = pki.make_ca("nines", ca_key, NOW)
    by_name = {i.name: i for i in pki.identities([("etcd-a1", "198.18.1.41")], ["gw-a"])}
    for name, cn in {"etcd-a1": ["etcd-a1"], "gw-a": ["gw-a"], "root": [], "deployer": []}.items():
        cert = pki.issue(by_name[name], pki.new_key(), ca_key, ca, NOW)
        assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)] == cn, name
        assert pki.covers(cert, by_name[name])
