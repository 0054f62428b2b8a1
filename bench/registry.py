"""Scenario 4: 10,000 agents heartbeating; discovery through one ``warp`` and its CPU and memory.

The agents are driven from this process: their records are written once, then each beats
once per ``LOOM_HEARTBEAT_SECONDS`` (spread evenly over the interval) exactly as
``RegistryService.beat`` does. One ``warp`` process over stdio follows them in its directory
cache; we read its CPU and RSS from /proc and time ``discover_agents`` through MCP (beside
the no-op floor on the same process) and inside a server in this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.harness import Row, Stats, fmt_ms, interleaved
from bench.machine import CpuMeter, rss_mib
from bench.seed import agent_guids, capability_of, heartbeat_forever, seed_agents
from bench.stack import McpSession, process_env, project, settings, stdio_session
from loom.mcp import toolsets
from loom.mcp.toolkit import ToolRunner
from loom.runtime import Runtime

SCENARIO = "4 registry"
FILTER = capability_of(7)


def sizes(quick: bool) -> tuple[int, float, float, int]:
    """(agents, heartbeat seconds, CPU window seconds, discover calls)."""
    return (2_000, 5.0, 5.0, 20) if quick else (10_000, 10.0, 20.0, 50)


def discover_calls(
    call: Callable[..., Awaitable[Any]], prefix: tuple[Any, ...] = ()
) -> dict[str, Callable[[int], Awaitable[Any]]]:
    return {
        "floor": lambda i: call(*prefix, "get_my_handle"),
        "all": lambda i: call(*prefix, "discover_agents"),
        "filtered": lambda i: call(*prefix, "discover_agents", capability=FILTER),
    }


async def in_server(rt: Runtime, runs: int) -> dict[str, Stats]:
    runner: ToolRunner[Runtime] = ToolRunner(rt, toolsets.load(["identity", "registry"]))

    async def call(tool: str, **arguments: Any) -> None:
        result = await runner.call(tool, arguments)
        assert not result.is_error, result

    return await interleaved(discover_calls(call), runs, rounds=2, warmup=1)


async def measure(
    warp: McpSession, rt: Runtime, guids: list[str], window: float, runs: int
) -> tuple[dict[str, float], dict[str, Stats], dict[str, Stats]]:
    meter = CpuMeter(warp.pid)
    figures = {"rss_empty": rss_mib(warp.pid)}
    await warp.call("register_agent", agentType="bench", capabilities=["bench"], handle="observer")
    await warp.call("discover_agents", capability=FILTER)  # the directory is loaded
    meter.start()
    await asyncio.sleep(window)  # the quiet window: no beats yet
    figures["cpu_idle"] = meter.percent()
    beats = [0]
    driver = asyncio.create_task(heartbeat_forever(rt, guids, beats))
    try:
        await asyncio.sleep(rt.settings.heartbeat_seconds)  # one full round of beats first
        meter.start()
        counted = beats[0]
        await asyncio.sleep(window)
        figures["cpu_beating"] = meter.percent()
        figures["beats_per_s"] = (beats[0] - counted) / window
        figures["rss_loaded"] = rss_mib(warp.pid)
        mcp = await interleaved(discover_calls(warp.call), runs, rounds=2, warmup=1)
        local = await in_server(rt, runs)
    finally:
        driver.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await driver
    return figures, mcp, local


async def run(url: str, quick: bool) -> list[Row]:
    agents, heartbeat, window, runs = sizes(quick)
    project_id = project("reg")
    beat = {"heartbeat_seconds": heartbeat}
    async with await Runtime.open(settings(url, project_id, agent_id="bench-driver", **beat)) as rt:
        guids = agent_guids(agents)
        started = time.perf_counter()
        await seed_agents(rt, guids)
        seeded = time.perf_counter() - started
        env = process_env(
            url, project_id, LOOM_AGENT_ID="bench-observer", LOOM_HEARTBEAT_SECONDS=str(heartbeat)
        )
        async with stdio_session("warp", env) as warp:
            figures, mcp, local = await measure(warp, rt, guids, window, runs)
    n = f"{agents:,} agents"
    return [
        Row(
            SCENARIO, f"warp CPU, {n} beating every {heartbeat:g} s", figures["cpu_beating"], "% core",
            figures["cpu_idle"], "same warp, no beats", detail=f"{figures['beats_per_s']:,.0f} beats/s",
            higher_is_better=False,
        ),
        Row(
            SCENARIO, f"warp RSS, {n} in its directory", figures["rss_loaded"], "MiB",
            figures["rss_empty"], "same warp before loading", higher_is_better=False,
            detail=f"seeded in {seeded:.1f} s",
        ),
        Row(
            SCENARIO, f"discover_agents p99, all {n}, through MCP", mcp["all"].p99, "ms",
            mcp["floor"].p99, "no-op floor p99",
            detail=f"p50 {fmt_ms(mcp['all'].p50)}; in-server {local['all'].brief()}", higher_is_better=False,
            extra={"mcp": mcp["all"].figures(), "in_server": local["all"].figures()},
        ),
        Row(
            SCENARIO, f"discover_agents p99, capability filter ({agents // 100} of {n}), through MCP",
            mcp["filtered"].p99, "ms", mcp["floor"].p99, "no-op floor p99",
            detail=f"p50 {fmt_ms(mcp['filtered'].p50)}; in-server {local['filtered'].brief()}",
            higher_is_better=False,
            extra={"mcp": mcp["filtered"].figures(), "in_server": local["filtered"].figures()},
        ),
    ]  # fmt: skip
