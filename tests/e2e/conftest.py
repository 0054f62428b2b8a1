"""End-to-end fixtures: a real ``weft`` process (the coordinator and its REST API).

``start_weft(**env)`` launches the ``weft`` console script as a subprocess against the
test's NATS server and project on a free loopback port, waits until ``GET /health``
answers, and stops it at the end of the test. ``weft`` is one such process with defaults.
Extra keyword arguments become environment variables (e.g. ``LOOM_API_TOKEN="s3cret"``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

WEFT_START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class WeftProcess:
    """A running ``weft``: its URL, the environment it was given, its process and log."""

    url: str
    port: int
    env: dict[str, str]
    proc: subprocess.Popen[bytes]
    log: Path
    stopped: bool = field(default=False)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Stop it (SIGTERM by default, SIGKILL to simulate a crash); return its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.stopped = True
        return int(self.proc.returncode)


def wait_healthy(weft: WeftProcess, timeout: float = WEFT_START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if weft.proc.poll() is not None:
            pytest.fail(f"weft exited with {weft.proc.returncode}:\n{weft.log_text()}")
        try:
            if httpx.get(f"{weft.url}/health", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            weft.stop(signal.SIGKILL)
            pytest.fail(f"weft did not answer /health within {timeout}s:\n{weft.log_text()}")
        time.sleep(0.1)  # readiness poll, bounded by the deadline


def launch_weft(
    bin_dir: str, env: dict[str, str], log_dir: Path, args: tuple[str, ...] = (), port: int | None = None
) -> WeftProcess:
    """Start ``weft --port N`` and wait until it is healthy."""
    port = port or free_port()
    log = log_dir / f"weft-{port}.log"
    with log.open("ab") as sink:
        proc = subprocess.Popen(
            [os.path.join(bin_dir, "weft"), "--host", "127.0.0.1", "--port", str(port), *args],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    weft = WeftProcess(url=f"http://127.0.0.1:{port}", port=port, env=env, proc=proc, log=log)
    wait_healthy(weft)
    return weft


@pytest.fixture
def start_weft(
    agent_env: Callable[..., dict[str, str]], bin_path: Callable[[str], str], tmp_path: Path
) -> Iterator[Callable[..., WeftProcess]]:
    """Factory: ``start_weft(LOOM_API_TOKEN="t", args=("--flag",))`` → a healthy WeftProcess."""
    pytest.importorskip("loom.weft.entry", reason="the weft command is not built yet")
    started: list[WeftProcess] = []
    bin_dir = os.path.dirname(bin_path("weft"))

    def start(args: tuple[str, ...] = (), port: int | None = None, **extra_env: str) -> WeftProcess:
        weft = launch_weft(bin_dir, agent_env(**extra_env), tmp_path, args, port)
        started.append(weft)
        return weft

    yield start
    for weft in started:
        if not weft.stopped:
            weft.stop()


@pytest.fixture
def weft(start_weft: Callable[..., WeftProcess]) -> WeftProcess:
    """One healthy ``weft`` for this test's project, no API token."""
    return start_weft()
