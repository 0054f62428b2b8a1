"""``local``: run the target's argv (never through a shell), output to a log per launch."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

from loom.models.target import LocalConfig
from loom.weft.spinup.base import LaunchError, LaunchRequest


async def launch_local(config: LocalConfig, request: LaunchRequest) -> str:
    log_dir = request.log_dir or Path.cwd() / ".loom" / "spinups"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{request.spin_up_id}.log"
    env = {**os.environ, **config.env, **request.fields()}
    with log_path.open("ab") as log:
        try:
            process = await asyncio.create_subprocess_exec(
                *config.command, cwd=config.cwd, env=env, stdin=asyncio.subprocess.DEVNULL,
                stdout=log, stderr=log, start_new_session=True,
            )  # fmt: skip
        except OSError as exc:
            raise LaunchError(f"cannot run {config.command[0]!r}: {exc.strerror or exc}") from None
    return f"pid {process.pid}, log {log_path}"


async def check_local(config: LocalConfig) -> None:
    program = config.command[0]
    found = (
        shutil.which(program) if "/" not in program else (program if os.access(program, os.X_OK) else None)
    )
    if not found:
        raise LaunchError(f"{program!r} not found or not executable")
