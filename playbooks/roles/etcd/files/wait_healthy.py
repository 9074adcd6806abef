"""Wait (at most 30 s) until the etcd member at argv[1] reports itself healthy; exit 1 if it does not.
Run inside the member's namespace by the rolling restart, before the next member may stop."""

import json
import sys
import time
import urllib.request

deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(sys.argv[1], timeout=1) as r:
            if json.load(r).get("health") == "true":
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(f"etcd member {sys.argv[1]} not healthy within 30 s")
