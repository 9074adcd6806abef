"""The checker's etcd login: a remembered token is used until its member refuses it, then one fresh login."""

from __future__ import annotations

from typing import Any

import pytest

from nineslab.services import checker


def test_a_refused_token_is_told_apart_from_any_other_refusal() -> None:
    assert checker._token_refused({"status": 401, "body": {}})
    assert checker._token_refused({"status": 400, "body": {"error": "etcdserver: invalid auth token"}})
    assert not checker._token_refused({"status": 403, "body": {"error": "etcdserver: permission denied"}})
    assert not checker._token_refused({"ok": False, "error": "ConnectionRefusedError"})


def test_a_remembered_token_is_used_and_replaced_once_when_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str | None]] = []

    def fake_http(url: str, data: Any = None, tls: Any = None, token: str | None = None) -> dict[str, Any]:
        calls.append((url.split("/", 3)[3], token))
        if url.endswith("/v3/auth/authenticate"):
            return {"ok": True, "status": 200, "body": {"token": "fresh"}}
        return {"ok": True, "status": 401 if token == "old" else 200, "body": {}}

    monkeypatch.setattr(checker, "_http", fake_http)
    monkeypatch.setattr(checker, "_tokens", {})
    check = {"url": "https://198.18.1.41:2379/v3/kv/range", "auth": {"user": "u", "password": "p", "token": "old"}}
    res = checker._etcd_call(check, b"{}")
    assert res["status"] == 200 and res["token"] == "fresh"
    assert calls == [("v3/kv/range", "old"), ("v3/auth/authenticate", None), ("v3/kv/range", "fresh")]
    calls.clear()
    assert checker._etcd_call(check, b"{}")["token"] == "fresh" and calls == [("v3/kv/range", "fresh")]
