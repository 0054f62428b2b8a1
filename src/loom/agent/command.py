"""Running a worker's ``--exec`` command for one work item.

The command is an argv list (no shell). It gets the item as JSON on stdin and ``LOOM_WORK_*``
variables in its environment. A stdout line ``PROGRESS <n> [message]`` reports progress; all
other stdout lines form the summary. Exit 0 completes the item; anything else fails it with
the tail of stderr as the error.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from loom.errors import InvalidArgument

PROGRESS_LINE = re.compile(r"^PROGRESS\s+(\d{1,3})(?:\s+(.*))?$")
MAX_SUMMARY = 4000
MAX_ERROR = 2000

ProgressFn = Callable[[int, str | None], Awaitable[None]]


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    summary: str
    error: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def parse_command(command: str | Sequence[str]) -> list[str]:
    """``'python x.py --fast'`` → argv (split like a shell would, but no shell runs it)."""
    argv = shlex.split(command) if isinstance(command, str) else list(command)
    if not argv:
        raise InvalidArgument("must not be empty", field="exec")
    return argv


def work_env(item: Mapping[str, Any], base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of one run: ours plus ``LOOM_WORK_*`` for the item."""
    env = dict(os.environ if base is None else base)
    fields = {
        "ID": item.get("id"),
        "TASK_ID": item.get("taskId"),
        "CAPABILITY": item.get("capability"),
        "BOUNDARY": item.get("boundary"),
        "PRIORITY": item.get("priority"),
        "ATTEMPT": item.get("attempts"),
        "DESCRIPTION": item.get("description"),
    }
    for key, value in fields.items():
        if value is not None:
            env[f"LOOM_WORK_{key}"] = str(value)
    return env


def tail(text: str, limit: int) -> str:
    return text if len(text) <= limit else "…" + text[-limit:]


async def run_command(
    argv: Sequence[str],
    item: Mapping[str, Any],
    on_progress: ProgressFn,
    *,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Outcome:
    """Run ``argv`` for ``item``; report PROGRESS lines as they come."""
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=cwd,
            env=work_env(item, env),
        )
    except OSError as exc:
        return Outcome(127, "", f"cannot run {argv[0]!r}: {exc.strerror or exc}")
    assert process.stdin and process.stdout and process.stderr
    try:
        process.stdin.write(json.dumps(item).encode())
        await process.stdin.drain()
        process.stdin.close()
    except (BrokenPipeError, ConnectionResetError):
        pass  # the command did not read its stdin; its exit code still decides

    summary: list[str] = []

    async def read_stdout() -> None:
        assert process.stdout
        async for raw in process.stdout:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            match = PROGRESS_LINE.match(line)
            if match:
                await on_progress(min(100, int(match.group(1))), match.group(2))
            else:
                summary.append(line)

    stderr_task = asyncio.ensure_future(process.stderr.read())
    try:
        await read_stdout()
        stderr = await stderr_task
        code = await process.wait()
    except asyncio.CancelledError:
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    text = "\n".join(summary).strip()
    error = stderr.decode("utf-8", errors="replace").strip()
    if code != 0 and not error:
        error = f"exited with code {code}"
    return Outcome(code, tail(text, MAX_SUMMARY), tail(error, MAX_ERROR))
