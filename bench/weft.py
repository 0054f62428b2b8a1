"""Scenario 6: Weft with 8 scripted agents; ``loom up`` time to ready; idle RSS of Weft and warp.

``loom up`` runs as a real process (embedded nats-server plus Weft); ready is the moment
Weft's ``/health`` first answers, beside a bare nats-server's start on the same machine.
Eight ``loom agent run`` processes take the work. Throughput is items submitted through
``POST /api/work`` until ``/api/stats`` counts them completed, beside the same items
offered straight to the queue through the services (no REST, no coordinator).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from asyncio.subprocess import Process
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.harness import Row, at_most
from bench.machine import rss_mib
from bench.stack import BIN, child_pids, cmdline, free_port, process_env, project, settings, stdio_session
from loom.bus.embedded import EmbeddedNats
from loom.runtime import Runtime
from loom.services.work import WorkService, WorkSpec

SCENARIO = "6 weft"
AGENTS = 8
CAPABILITY = "chore"
IN_FLIGHT = 8
SETTLE = 2.0  # seconds a process sits idle before its RSS is read


def sizes(quick: bool) -> int:
    return 200 if quick else 1_000


def bare_nats_start() -> float:
    with tempfile.TemporaryDirectory(prefix="loom-bench-") as tmp:
        started = time.perf_counter()
        with EmbeddedNats(data_dir=Path(tmp)):
            return time.perf_counter() - started


def bare_python_rss() -> float:
    """RSS of an idle interpreter with nothing imported: the floor any Python process pays."""
    process = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        time.sleep(SETTLE)  # a separate process settling; nothing to synchronise with
        return rss_mib(process.pid)
    finally:
        process.communicate(b"")


async def spawn(argv: list[str], env: dict[str, str]) -> Process:
    return await asyncio.create_subprocess_exec(
        *argv, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


async def stop(process: Process, timeout: float = 10) -> None:
    """SIGTERM (a clean stop), then SIGKILL if it takes too long."""
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            process.kill()
            await process.wait()


def reap(pids: list[int], data_dir: Path, timeout: float = 10) -> None:
    """Stop a nats-server of ``loom up`` that outlived it, so no server is left behind.

    Only a process whose command line still names ``data_dir`` is signalled (a pid can be reused).
    """

    def ours(pid: int) -> bool:
        return str(data_dir) in " ".join(cmdline(pid))

    for pid in filter(ours, pids):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for pid in pids:
        while ours(pid) and time.monotonic() < deadline:
            time.sleep(0.05)  # not our child: nothing to wait on but its /proc entry
        if ours(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@dataclass
class Up:
    process: Process
    api_url: str
    nats_url: str
    ready_s: float


@contextlib.asynccontextmanager
async def loom_up(env: dict[str, str], data_dir: Path) -> AsyncIterator[Up]:
    """A ``loom up`` process, yielded once Weft's ``/health`` answers."""
    nats_port, api_port = free_port(), free_port()
    argv = [str(BIN / "loom"), "up", "--data-dir", str(data_dir), "--nats-port", str(nats_port),
            "--api-port", str(api_port)]  # fmt: skip
    api = f"http://127.0.0.1:{api_port}"
    started = time.perf_counter()
    process = await spawn(argv, env)
    try:
        async with httpx.AsyncClient(timeout=2) as http:
            while True:
                if process.returncode is not None:
                    raise RuntimeError(f"loom up exited with {process.returncode}")
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get(f"{api}/health")).status_code == 200:
                        break
                await asyncio.sleep(0.01)  # polling is the measurement here
        ready = time.perf_counter() - started
        yield Up(process, api, f"nats://127.0.0.1:{nats_port}", ready)
    finally:
        server = child_pids(process.pid)  # its embedded nats-server, in a session of its own
        await stop(process, 30)
        await asyncio.to_thread(reap, server, data_dir)


async def wait_for(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        await asyncio.sleep(0.1)


async def completed(http: httpx.AsyncClient) -> int:
    count: int = (await http.get("/api/stats")).json()["work"]["completed"]
    return count


async def drain(http: httpx.AsyncClient, count: int, submit: Callable[[int], Awaitable[None]]) -> float:
    """Submit ``count`` items (bounded in flight) and wait until all of them are completed."""
    before = await completed(http)
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(i: int) -> None:
        async with gate:
            await submit(i)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(count)))

    async def done() -> bool:
        return await completed(http) >= before + count

    await wait_for(done, 600, f"{count} items to complete")
    return time.perf_counter() - started


async def throughput(
    http: httpx.AsyncClient, nats_url: str, project_id: str, count: int
) -> tuple[float, float]:
    """(items/s through Weft's REST API, items/s offered straight to the queue)."""

    async def through_weft(i: int) -> None:
        reply = await http.post("/api/work", json={"description": f"chore {i}", "capability": CAPABILITY})
        reply.raise_for_status()

    async with await Runtime.open(settings(nats_url, project_id, agent_id="bench-offerer")) as rt:
        service = rt.service(WorkService)

        async def direct(i: int) -> None:
            await service.offer(WorkSpec(description=f"chore {i}", capability=CAPABILITY), None)

        # Alternating halves, so a slow spell of the machine falls on both sides.
        half = count // 2
        direct_s = weft_s = 0.0
        for _ in range(2):
            direct_s += await drain(http, half, direct)
            weft_s += await drain(http, half, through_weft)
    return 2 * half / weft_s, 2 * half / direct_s


async def warp_idle_rss(env: dict[str, str]) -> float:
    async with stdio_session("warp", env) as warp:
        await warp.call("register_agent", agentType="bench", capabilities=["idle"], handle="idle")
        await asyncio.sleep(SETTLE)  # the process settles after its first calls
        return rss_mib(warp.pid)


async def start_times(env: dict[str, str], starts: int) -> list[float]:
    """Seconds to ready of ``starts`` fresh ``loom up`` processes, each stopped again."""
    times = []
    for _ in range(starts):
        with tempfile.TemporaryDirectory(prefix="loom-bench-") as tmp:
            async with loom_up(env, Path(tmp)) as up:
                times.append(up.ready_s)
    return times


async def with_agents(
    http: httpx.AsyncClient, nats_url: str, project_id: str, count: int
) -> tuple[float, float]:
    """Start the scripted agents, wait until Weft lists them online, measure, stop them."""
    agents: list[Process] = []
    try:
        for i in range(AGENTS):
            argv = [str(BIN / "loom"), "agent", "run", "-c", CAPABILITY, "--handle", f"worker{i}"]
            agents.append(
                await spawn(argv, process_env(nats_url, project_id, LOOM_AGENT_ID=f"bench-worker-{i}"))
            )

        async def all_online() -> bool:
            reply = await http.get("/api/agents", params={"capability": CAPABILITY, "status": "online"})
            return int(reply.json()["count"]) >= AGENTS

        await wait_for(all_online, 60, f"{AGENTS} scripted agents to register")
        return await throughput(http, nats_url, project_id, count)
    finally:
        await asyncio.gather(*(stop(agent) for agent in agents))


async def run(url: str, quick: bool) -> list[Row]:
    count = sizes(quick)
    nats_start = await asyncio.to_thread(bare_nats_start)
    python_rss = await asyncio.to_thread(bare_python_rss)
    project_id = project("weft")
    env = process_env("", project_id)
    env.pop("NATS_URL")
    ready = await start_times(env, 2)
    with tempfile.TemporaryDirectory(prefix="loom-bench-") as tmp:
        async with loom_up(env, Path(tmp)) as up, httpx.AsyncClient(base_url=up.api_url, timeout=30) as http:
            ready.append(up.ready_s)
            await asyncio.sleep(SETTLE)  # idle, as a user would leave it
            weft_rss = rss_mib(up.process.pid)
            warp_rss = await warp_idle_rss(process_env(up.nats_url, project_id, LOOM_AGENT_ID="bench-idle"))
            weft_rate, direct_rate = await with_agents(http, up.nats_url, project_id, count)
    return [
        Row(
            SCENARIO, f"submitted → completed via Weft, {AGENTS} scripted agents, {count:,} items",
            weft_rate, "items/s", direct_rate, "offered straight to the queue",
        ),
        Row(
            SCENARIO, "loom up: start to Weft /health answering", statistics.median(ready), "s", nats_start,
            "bare nats-server start", at_most(2, "s"), higher_is_better=False,
            detail=f"median of {len(ready)}, {min(ready):.2f}–{max(ready):.2f} s", extra={"starts_s": ready},
        ),
        Row(
            SCENARIO, "Weft idle RSS (loom up process)", weft_rss, "MiB", python_rss, "bare python",
            at_most(120, "MiB"), higher_is_better=False,
        ),
        Row(
            SCENARIO, "warp idle RSS (registered session)", warp_rss, "MiB", python_rss, "bare python",
            at_most(80, "MiB"), higher_is_better=False,
        ),
    ]  # fmt: skip
