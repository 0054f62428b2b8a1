"""Running ``shuttle`` as a real subprocess (sync and async) and reading what it printed."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SHUTTLE = str(Path(sys.executable).parent / "shuttle")
RUN_TIMEOUT = 60.0


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def lines(self) -> list[Any]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]

    def error(self) -> dict[str, Any]:
        """The ``{"error": {...}}`` document a ``--json`` failure writes to stderr."""
        body = json.loads(self.err.strip().splitlines()[-1])
        assert set(body["error"]) >= {"code", "message", "exitCode"}, body
        return dict(body["error"])

    def __str__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


def shuttle_env(config_home: Path, api_url: str | None = None, **extra: str) -> dict[str, str]:
    """A clean environment: no developer settings, a private config dir, Weft's URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOOM_", "NATS_", "SHUTTLE_"))}
    env["XDG_CONFIG_HOME"] = str(config_home)
    env.pop("NO_COLOR", None)
    if api_url:
        env["LOOM_API_URL"] = api_url
    env.update(extra)
    return env


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> Result:
    proc = subprocess.run(
        [SHUTTLE, *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


async def start(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        SHUTTLE, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )


async def finish(proc: asyncio.subprocess.Process, timeout: float = RUN_TIMEOUT) -> Result:
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return Result(proc.returncode, out.decode(), err.decode())


async def run_async(env: dict[str, str], *args: str) -> Result:
    return await finish(await start(env, *args))


async def read_line(proc: asyncio.subprocess.Process, timeout: float = 20.0) -> str:
    """The next stdout line of a running shuttle (fails if none comes in time)."""
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), timeout)
    assert line, f"shuttle ended (exit {proc.returncode}) without printing"
    return line.decode()
