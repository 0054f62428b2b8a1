#!/usr/bin/env python3
"""loom-healthcheck: the HEALTHCHECK of the ``loom`` image.

Healthy (exit 0) when ``$LOOM_HEALTHCHECK_URL`` (default: Weft's ``/health`` on port 8765)
answers 200 with ``status: ok``, i.e. Weft serves and is connected to NATS. Anything else
exits 1 with one line saying why. For a container that runs something other than Weft, point
the variable at that process's own endpoint, or turn the check off (``--no-healthcheck``).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8765/health"
TIMEOUT = 4.0  # under the image's HEALTHCHECK --timeout, so this script reports, not Docker


def check(url: str) -> str | None:
    """None when healthy, else the reason."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            body = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return f"{url} answered {exc.code}"
    except (OSError, ValueError) as exc:
        return f"{url} unreachable or not JSON ({exc.__class__.__name__})"
    if not isinstance(body, dict):
        return f"{url} did not answer a JSON object"
    if body.get("status") != "ok":
        return f"{url} reports status {body.get('status')!r} (nats: {body.get('nats')!r})"
    return None


def main() -> int:
    url = os.environ.get("LOOM_HEALTHCHECK_URL") or DEFAULT_URL
    problem = check(url)
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    print(f"healthy: {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
