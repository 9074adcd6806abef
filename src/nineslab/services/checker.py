"""The checker: health checks executed INSIDE the lab (run through a provider's handle, e.g. in the
client's namespace), because the root namespace holds no lab address. Reads a JSON list of checks on stdin,
answers JSON on stdout. Stdlib only and import-light: it starts once per status call. Every check has a hard timeout."""

from __future__ import annotations

import json
import random
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

TIMEOUT_S = 2.0
IDENTITY_HEADERS = ("X-Nines-LB", "X-Nines-Gateway", "X-Nines-App", "X-Nines-Zone", "X-Nines-Routes")


def _tls_context(tls: dict[str, str] | None) -> ssl.SSLContext | None:
    """Trust only the lab's CA and present the client certificate (etcd with mutual TLS)."""
    if not tls:
        return None
    ctx = ssl.create_default_context(cafile=tls["ca"])
    ctx.load_cert_chain(tls["cert"], tls["key"])
    return ctx


_tokens: dict[str, str] = {}
_tokens_lock = threading.Lock()


def base_url(url: str) -> str:
    return "/".join(url.split("/")[:3])


def _etcd_token(url: str, check: dict[str, Any], fresh: bool = False) -> str | None:
    """A token of the member that serves `url` (etcd's simple tokens are per member): the one the caller
    remembered from an earlier run, else one from `/v3/auth/authenticate` — etcd checks the password with
    bcrypt, the costly part of a call — at most once per member per run."""
    base = base_url(url)
    with _tokens_lock:
        if not fresh and (base in _tokens or check["auth"].get("token")):
            return _tokens.get(base) or check["auth"].get("token")
    auth = check["auth"]
    res = _http(
        f"{base}/v3/auth/authenticate",
        json.dumps({"name": auth["user"], "password": auth["password"]}).encode(),
        check.get("tls"),
    )
    token = res["body"].get("token") if res.get("status") == 200 and isinstance(res.get("body"), dict) else None
    if token:
        with _tokens_lock:
            _tokens[base] = token
    return token


def _token_refused(res: dict[str, Any]) -> bool:
    """A remembered token the member no longer knows (it restarted, or the token expired)."""
    body = res.get("body")
    return res.get("status") == 401 or (isinstance(body, dict) and "auth token" in str(body.get("error", "")))


def _etcd_call(check: dict[str, Any], data: bytes | None) -> dict[str, Any]:
    """An etcd call with the check's certificate and, under authentication, a token (fetched again once
    when the remembered one is refused). The token used goes back to the caller to remember."""
    if "auth" not in check:
        return _http(check["url"], data, check.get("tls"))
    token = _etcd_token(check["url"], check)
    res = _http(check["url"], data, check.get("tls"), token)
    if _token_refused(res):
        token = _etcd_token(check["url"], check, fresh=True)
        res = _http(check["url"], data, check.get("tls"), token)
    return {**res, "token": token}


def _http(
    url: str, data: bytes | None = None, tls: dict[str, str] | None = None, token: str | None = None
) -> dict[str, Any]:
    start = time.monotonic()
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    if token:
        req.add_header("Authorization", token)
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_S, context=_tls_context(tls)) as resp:
            status, body, headers = resp.status, resp.read(), resp.headers
    except urllib.error.HTTPError as exc:
        status, body, headers = exc.code, exc.read(), exc.headers
    except (OSError, ValueError, ssl.SSLError) as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}", "elapsed": time.monotonic() - start}
    try:
        parsed: Any = json.loads(body)
    except ValueError:
        parsed = body.decode(errors="replace")[:200]
    return {
        "ok": True,
        "status": status,
        "body": parsed,
        "served_by": {h: headers.get(h) for h in IDENTITY_HEADERS if headers.get(h)},
        "elapsed": time.monotonic() - start,
    }


def dns_a(server: str, name: str) -> list[str]:
    """One A query over UDP, straight to `server` (not through resolv.conf)."""
    qid = random.randrange(65536)
    question = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\x00" + struct.pack(">HH", 1, 1)
    packet = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + question
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(TIMEOUT_S)
        sock.sendto(packet, (server, 53))
        reply = sock.recv(4096)
    rid, flags, _qd, ancount = struct.unpack(">HHHH", reply[:8])
    if rid != qid or flags & 0x000F:
        raise OSError(f"DNS rcode {flags & 0x000F}")
    pos = 12 + len(question)
    addresses = []
    for _ in range(ancount):
        pos += 2 if reply[pos] & 0xC0 == 0xC0 else len(name) + 2  # compressed or literal name
        rtype, _cls, _ttl, rdlen = struct.unpack(">HHIH", reply[pos : pos + 10])
        pos += 10
        if rtype == 1 and rdlen == 4:
            addresses.append(socket.inet_ntoa(reply[pos : pos + 4]))
        pos += rdlen
    return addresses


def dns_answer_healthy(addresses: list[str], check: dict[str, Any]) -> bool:
    """A static answer must list every entry point; a health-checked one a non-empty subset of them."""
    if check.get("subset"):
        return bool(addresses) and set(addresses) <= set(check["expect"])
    return sorted(addresses) == sorted(check["expect"])


def canary(check: dict[str, Any]) -> dict[str, Any]:
    """Real requests to one gateway (every 50 ms, bounded by `within_s`) after a route push: healthy
    once `passes` answers in a row are 200 and carry the push's token in X-Nines-Routes (the change is
    loaded and serves); failed at `failures` errors in a row (a 200 without the token is the old
    configuration, still serving: neither)."""
    start, good, bad, last = time.monotonic(), 0, 0, {}
    while time.monotonic() - start < check["within_s"]:
        last = _http(check["url"])
        if last["ok"] and last["status"] == 200:
            bad = 0
            good = good + 1 if last["served_by"].get("X-Nines-Routes") == check["token"] else 0
        else:
            good, bad = 0, bad + 1
        if good >= check["passes"] or bad >= check["failures"]:
            break
        time.sleep(0.05)
    healthy = good >= check["passes"]
    return {**last, "healthy": healthy, "loaded": healthy, "errors_in_a_row": bad, "seconds": time.monotonic() - start}


def run_check(check: dict[str, Any]) -> dict[str, Any]:
    kind = check["kind"]
    if kind == "http":
        # With "data": POST it as JSON (how the etcd v3 JSON gateway is driven from inside the lab).
        data = json.dumps(check["data"]).encode() if "data" in check else None
        res = _etcd_call(check, data)
        res["healthy"] = res["ok"] and res["status"] == check.get("expect", 200)
        return res
    if kind == "etcd_status":
        res = _etcd_call(check, b"{}")
        res["healthy"] = res["ok"] and res["status"] == 200 and not (res.get("body") or {}).get("errors")
        return res
    if kind == "dns":
        try:
            addrs = dns_a(check["server"], check["name"])
        except OSError as exc:
            return {"ok": False, "healthy": False, "error": f"{type(exc).__name__}: {exc}"}
        return {"ok": True, "addresses": addrs, "healthy": dns_answer_healthy(addrs, check)}
    if kind == "canary":
        return canary(check)
    if kind == "entry":
        # The client's own path: system resolver (resolv.conf of the namespace) -> LB -> gateway -> app.
        res = _http(check["url"])
        res["healthy"] = res["ok"] and res["status"] == 200
        return res
    return {"ok": False, "healthy": False, "error": f"unknown check kind {kind!r}"}


def main() -> int:
    checks: dict[str, dict[str, Any]] = json.load(sys.stdin)
    with ThreadPoolExecutor(max_workers=max(1, min(32, len(checks)))) as pool:
        results = dict(zip(checks, pool.map(run_check, checks.values()), strict=True))
    json.dump(results, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
