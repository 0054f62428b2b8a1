"""`loom agent run` as a real process: claims, runs its command, completes or fails, exits."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path

from loom.config import Settings
from loom.runtime import Runtime
from loom.services.control import ControlService
from loom.services.directory import AgentDirectory
from loom.services.work import WorkService, WorkSpec
from tests.waiting import eventually

SCRIPT = """
import json, os, sys
item = json.load(sys.stdin)
if item["description"] == "break":
    sys.stderr.write("cannot do " + os.environ["LOOM_WORK_ID"])
    sys.exit(1)
print("PROGRESS 50 half")
print("did", item["description"])
"""


async def start(
    bin_path: Callable[[str], str], env: dict[str, str], *args: str
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        bin_path("loom"),
        "agent",
        "run",
        *args,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_worker_completes_fails_and_exits_when_idle(
    tmp_path: Path,
    bin_path: Callable[[str], str],
    agent_env: Callable[..., dict[str, str]],
    settings: Settings,
) -> None:
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    env = agent_env(LOOM_WORK_MAX_ATTEMPTS="1", LOOM_AGENT_ID="scripted-1")
    async with await Runtime.open(settings) as rt:
        work = rt.service(WorkService)
        good = await work.offer(WorkSpec(description="lint", capability="review"), None)
        bad = await work.offer(WorkSpec(description="break", capability="review"), None)
        proc = await start(
            bin_path, env, "-c", "review", "--exec", f"{sys.executable} {script}", "--idle-exit", "3"
        )
        assert await asyncio.wait_for(proc.wait(), 60) == 0
        done = await work.get(good.id)
        assert (done.status, done.summary, done.progress) == ("completed", "did lint", 100)
        failed = await work.get(bad.id)
        assert failed.status == "dead-lettered"
        assert failed.errors[-1].error == f"cannot do {bad.id}"
        directory = rt.service(AgentDirectory)
        await directory.start()
        assert [r.status for r in directory.records.values()] == ["offline"]


async def test_worker_exits_on_a_shutdown_request(
    bin_path: Callable[[str], str], agent_env: Callable[..., dict[str, str]], settings: Settings
) -> None:
    async with await Runtime.open(settings) as rt:
        directory = rt.service(AgentDirectory)
        await directory.start()
        proc = await start(bin_path, agent_env(), "-c", "review")
        try:
            await eventually(lambda: len(directory.records) == 1, timeout=20)
            guid = next(iter(directory.records))
            await rt.service(ControlService).request_shutdown(guid, reason="idle")
            assert await asyncio.wait_for(proc.wait(), 30) == 0
        finally:
            if proc.returncode is None:
                proc.kill()
