"""Scenario 1: Warp tools through a real stdio MCP session, beside the protocol floor.

The floor is ``get_my_handle`` on the same ``warp`` process and transport: it touches no
NATS, so its cost is the MCP round trip (JSON-RPC over pipes, validation, result shaping).
Toolkit names are fixed by the contract, so the cheapest existing tool stands in for a
no-op. The same tools are also timed inside a server (``ToolRunner.call`` in this process),
which is the handler's own time without the transport.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bench.harness import Row, Stats, at_least_ratio, at_most, fmt_ms, interleaved
from bench.seed import agent_guids, seed_agents, seed_channel
from bench.stack import McpSession, process_env, project, settings, stdio_session
from loom.mcp import toolsets
from loom.mcp.toolkit import ToolRunner
from loom.runtime import Runtime

SCENARIO = "1 mcp"
HISTORY = "history"


def sizes(quick: bool) -> tuple[int, int, int]:
    """(calls per tool, channel messages, registered agents)."""
    return (60, 10_000, 1_000) if quick else (500, 10_000, 1_000)


def through_mcp(warp: McpSession, guid: str) -> dict[str, Callable[[int], Awaitable[Any]]]:
    async def work_cycle(i: int) -> None:
        offer = await warp.call("broadcast_work_offer", description=f"item {i}", requiredCapability="bench")
        claimed = await warp.call("claim_work", capability="bench", timeout=1000)
        item = claimed["workItem"]
        assert item is not None and item["id"] == offer["workItemId"], claimed
        await warp.call("complete_work", workItemId=item["id"], summary="done")

    async def dm_pair(i: int) -> None:
        await warp.call("send_direct_message", recipientGuid=guid, message=f"note {i}")
        got = await warp.call("read_direct_messages", limit=10)
        assert got["messages"], got

    return {
        "floor": lambda i: warp.call("get_my_handle"),
        "send_message": lambda i: warp.call("send_message", channel="general", message=f"hello {i}"),
        "read_messages": lambda i: warp.call("read_messages", channel=HISTORY, limit=50),
        "discover_agents": lambda i: warp.call("discover_agents"),
        "work_cycle": work_cycle,
        "dm_pair": dm_pair,
    }


def in_server(rt: Runtime) -> dict[str, Callable[[int], Awaitable[Any]]]:
    """The handlers alone: validation, service call and result shaping, no transport."""
    runner: ToolRunner[Runtime] = ToolRunner(rt, toolsets.load(toolsets.WARP_DEFAULT))

    async def call(tool: str, arguments: dict[str, Any]) -> None:
        result = await runner.call(tool, arguments)
        assert not result.is_error, result

    return {
        "floor": lambda i: call("get_my_handle", {}),
        "send_message": lambda i: call("send_message", {"channel": "general", "message": f"in {i}"}),
        "read_messages": lambda i: call("read_messages", {"channel": HISTORY, "limit": 50}),
        "discover_agents": lambda i: call("discover_agents", {}),
    }


def rows(mcp: dict[str, Stats], local: dict[str, Stats], messages: int, agents: int) -> list[Row]:
    floor = mcp["floor"].rate

    def detail(name: str) -> str:
        inside = f"; in-server p50 {fmt_ms(local[name].p50)}" if name in local else ""
        return mcp[name].brief() + inside

    def tool_row(name: str, figure: str, goal: float | None = None, calls: int = 1) -> Row:
        label = "no-op floor" + (f"/{calls}" if calls > 1 else "")
        return Row(
            SCENARIO, figure, mcp[name].rate, "/s", floor / calls, label,
            at_least_ratio(goal) if goal else None, detail(name),
            extra={"mcp": mcp[name].figures(), "in_server": local[name].figures() if name in local else None},
        )  # fmt: skip

    discover_inside = local["discover_agents"]
    return [
        Row(
            SCENARIO,
            "no-op floor (get_my_handle) calls",
            floor,
            "/s",
            detail=detail("floor"),
            extra={"mcp": mcp["floor"].figures(), "in_server": local["floor"].figures()},
        ),
        tool_row("send_message", "send_message calls", 0.8),
        tool_row("read_messages", f"read_messages(limit=50), {messages:,} in channel", 0.5),
        tool_row("discover_agents", f"discover_agents, {agents:,} agents"),
        tool_row("work_cycle", "offer+claim+complete cycles", calls=3),
        tool_row("dm_pair", "send_direct_message+read_direct_messages pairs", calls=2),
        Row(
            SCENARIO,
            f"discover_agents in-server p99, {agents:,} agents",
            discover_inside.p99,
            "ms",
            local["floor"].p99,
            "no-op in-server p99",
            at_most(5, "ms"),
            f"p50 {fmt_ms(discover_inside.p50)}",
            higher_is_better=False,
            extra={"in_server": discover_inside.figures()},
        ),  # fmt: skip
    ]


async def run(url: str, quick: bool) -> list[Row]:
    calls, messages, agents = sizes(quick)
    project_id = project("mcp")
    async with await Runtime.open(settings(url, project_id, agent_id="bench-inproc", handle="inproc")) as rt:
        await seed_channel(rt, HISTORY, messages)
        await seed_agents(rt, agent_guids(agents))
        env = process_env(url, project_id, LOOM_AGENT_ID="bench-mcp")
        async with stdio_session("warp", env) as warp:
            me = await warp.call("register_agent", agentType="bench", capabilities=["bench"], handle="bench")
            mcp = await interleaved(through_mcp(warp, me["guid"]), calls)
        local = await interleaved(in_server(rt), calls)
    return rows(mcp, local, messages, agents)
