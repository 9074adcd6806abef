"""Wait (bounded) until URL answers as a ready service does; exit 1 with one line if it does not.
Run inside the host's namespace right after its daemon starts (and by etcd's rolling restart, before
the next member may stop). Polls every 0.1 s: Ansible's own `until`/`delay` takes whole seconds.

usage: wait_ready.py [--tls CA CERT KEY] URL [STATUS] [JSON_KEY=VALUE] [TIMEOUT_S]
       wait_ready.py dns://SERVER/NAME   (ready when SERVER answers NAME with an address)"""

import json
import ssl
import sys
import time
import urllib.error
import urllib.request

context = None
if sys.argv[1] == "--tls":  # etcd with mutual TLS: trust the lab's CA, present a client certificate
    context = ssl.create_default_context(cafile=sys.argv[2])
    context.load_cert_chain(sys.argv[3], sys.argv[4])
    del sys.argv[1:5]
url = sys.argv[1]
want_status = int(sys.argv[2]) if len(sys.argv) > 2 else 200
key, _, want_value = (sys.argv[3] if len(sys.argv) > 3 else "=").partition("=")
deadline = time.monotonic() + (float(sys.argv[4]) if len(sys.argv) > 4 else 30.0)
last = "no answer"
if url.startswith("dns://"):
    try:
        from nineslab.services.checker import dns_a  # the same query the health checks make
    except ModuleNotFoundError:  # a machine of a hosts lab: the same module, shipped beside this script
        from checker import dns_a  # type: ignore[import-not-found,no-redef]

    server, _, name = url.removeprefix("dns://").partition("/")
    while time.monotonic() < deadline:
        try:
            if dns_a(server, name):
                sys.exit(0)
            last = "an empty answer"
        except OSError as exc:
            last = str(exc) or type(exc).__name__
        time.sleep(0.1)
    sys.exit(f"{url} not ready in time (last: {last})")
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(url, timeout=1, context=context) as r:
            status, body = r.status, r.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, b""
    except OSError as exc:
        status, body = 0, b""
        last = str(exc)
    if status == want_status and (not key or str(json.loads(body or b"{}").get(key)) == want_value):
        sys.exit(0)
    last = f"HTTP {status}" if status else last
    time.sleep(0.1)
sys.exit(f"{url} not ready in time (last: {last})")
