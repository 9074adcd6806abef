"""Make etcd's users and roles what the lab wants, then switch authentication on (idempotent; once per
deploy, on one member, after the cluster is healthy). Stdlib only: runs inside a member's namespace.

usage: etcd_auth.py ENDPOINT PKI_DIR < users.json
  users.json: {"user": {"grants": [["READ" | "READWRITE", "key prefix"], ...], "password": true|false}}
  (root is not listed: it holds etcd's root role and has a password). A user without a password logs
  in by its certificate's common name only.
Prints {"changed": true|false, "did": [...]}; exit 1 with one line when etcd refuses."""

import json
import ssl
import sys
import urllib.error
import urllib.request
from base64 import b64encode
from pathlib import Path

endpoint, pki = sys.argv[1], Path(sys.argv[2])
wanted = json.load(sys.stdin)
ctx = ssl.create_default_context(cafile=str(pki / "ca.crt"))
ctx.load_cert_chain(str(pki / "root.crt"), str(pki / "root.key"))
token = None
did = []


def call(path: str, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(f"{endpoint}{path}", data=json.dumps(body).encode(), method="POST")
    if token:
        req.add_header("Authorization", token)
    try:
        with urllib.request.urlopen(req, timeout=5, context=ctx) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def must(path: str, body: dict, allow: str = "") -> dict:
    status, answer = call(path, body)
    message = str(answer.get("message", answer.get("error", "")))
    if status != 200 and not (allow and allow in message):
        sys.exit(f"etcd refused {path}: {message or status}")
    return answer


def b64(text: str) -> str:
    return b64encode(text.encode()).decode()


def prefix_end(prefix: str) -> str:
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def password(user: str) -> str:
    return (pki / f"{user}.password").read_text().strip()


status, login = call("/v3/auth/authenticate", {"name": "root", "password": password("root")})
token = login.get("token") if status == 200 else None  # none: authentication is not on yet

for user in ["root", *wanted]:
    with_password = user == "root" or wanted[user]["password"]
    add = (
        {"name": user, "password": password(user)}
        if with_password
        else {"name": user, "options": {"no_password": True}}
    )
    if "user name already exists" not in str(must("/v3/auth/user/add", add, allow="user name already exists")):
        did.append(f"user {user}")
    role = user  # root's is etcd's built-in root role; every other user has a role of its own name
    if user != "root":
        if "role name already exists" not in str(
            must("/v3/auth/role/add", {"name": role}, allow="role name already exists")
        ):
            did.append(f"role {role}")
        have = {
            (p.get("permType", "READ"), p.get("key", ""), p.get("range_end", ""))
            for p in must("/v3/auth/role/get", {"role": role}).get("perm", [])
        }
        want = {(kind, b64(prefix), b64(prefix_end(prefix))) for kind, prefix in wanted[user]["grants"]}
        for kind, key, end in sorted(want - have):
            must("/v3/auth/role/grant", {"name": role, "perm": {"permType": kind, "key": key, "range_end": end}})
            did.append(f"grant {kind} to {role}")
        for kind, key, end in sorted(have - want):
            must("/v3/auth/role/revoke", {"role": role, "key": key, "range_end": end})
            did.append(f"revoke {kind} from {role}")
    if role not in must("/v3/auth/user/get", {"name": user}).get("roles", []):
        must("/v3/auth/user/grant", {"user": user, "role": role})
        did.append(f"role {role} to {user}")

if token is None:
    must("/v3/auth/enable", {})
    did.append("authentication on")
print(json.dumps({"changed": bool(did), "did": did}))
