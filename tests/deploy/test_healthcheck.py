"""The `loom` image's HEALTHCHECK script against a real Weft (and against no Weft)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

from tests.deploy.files import HEALTHCHECK
from tests.e2e.conftest import WeftProcess, free_port


def healthcheck(url: str) -> subprocess.CompletedProcess[str]:
    env = {"LOOM_HEALTHCHECK_URL": url, "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK)], env=env, capture_output=True, text=True, timeout=30
    )


def test_weft_connected_to_nats_is_healthy_and_a_wrong_endpoint_is_not(
    start_weft: Callable[..., WeftProcess],
) -> None:
    weft = start_weft()
    result = healthcheck(f"{weft.url}/health")
    assert (result.returncode, result.stdout.strip()) == (0, f"healthy: {weft.url}/health")
    result = healthcheck(f"{weft.url}/metrics")  # answers 200, but not Weft's health object
    assert result.returncode == 1
    assert "unhealthy" in result.stderr and "not JSON" in result.stderr
    result = healthcheck(f"{weft.url}/no-such-page")
    assert result.returncode == 1
    assert "answered 404" in result.stderr


def test_nothing_listening_is_unhealthy() -> None:
    result = healthcheck(f"http://127.0.0.1:{free_port()}/health")
    assert result.returncode == 1
    assert result.stderr.startswith("unhealthy: ") and "unreachable" in result.stderr
