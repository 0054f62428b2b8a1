"""`loom demo` runs the whole showcase to a clean exit."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable

import pytest


@pytest.mark.timeout(300)  # the subprocess gets 300 s: the global 120 s must not cut it short
def test_demo_checks_out(bin_path: Callable[[str], str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOOM_", "NATS_"))} | {"NO_COLOR": "1"}
    result = subprocess.run([bin_path("loom"), "demo"], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Every step checked out." in result.stdout
    assert "✗" not in result.stdout
    for step in ("spun one up", "retired the idle docs agent", "went to the DLQ", "retried item completed"):
        assert step in result.stdout
