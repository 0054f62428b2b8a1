"""Separate `warp` OS processes over stdio: coordination, shutdown paths and crashes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from loom.config import Settings
from loom.runtime import Runtime
from loom.services.directory import AgentDirectory
from tests.mcp_helpers import in_process, subprocess_agent
from tests.waiting import eventually


class StdioWarp:
    """A `warp` child spoken to in MCP's JSON-RPC over stdio, so the test owns its PID."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self._next = 0

    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self._next += 1
        await self._send({"jsonrpc": "2.0", "id": self._next, "method": method, "params": params})
        assert self.process.stdout is not None
        while True:
            line = await asyncio.wait_for(self.process.stdout.readline(), 30)
            message = json.loads(line)
            if message.get("id") == self._next:
                return dict(message["result"])

    async def _send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        await self.process.stdin.drain()

    async def call(self, tool: str, **arguments: Any) -> dict[str, Any]:
        result = await self.request("tools/call", {"name": tool, "arguments": arguments})
        assert not result.get("isError"), result
        return dict(result["structuredContent"])


@contextlib.asynccontextmanager
async def stdio_warp(bin_path: Callable[[str], str], env: dict[str, str]) -> AsyncIterator[StdioWarp]:
    process = await asyncio.create_subprocess_exec(
        bin_path("warp"), env=env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    warp = StdioWarp(process)
    try:
        await warp.request(
            "initialize",
            {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "test", "version": "0"},
            },
        )
        await warp._send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        yield warp
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_three_warp_processes_find_each_other(
    bin_path: Callable[[str], str], agent_env: Callable[..., dict[str, str]]
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        agents = [
            await stack.enter_async_context(
                subprocess_agent(bin_path("warp"), agent_env(LOOM_AGENT_ID=f"p{i}"))
            )
            for i in range(3)
        ]
        guids = [
            (await a.call("register_agent", agentType="dev", capabilities=[f"c{i}"]))["guid"]
            for i, a in enumerate(agents)
        ]
        assert len(set(guids)) == 3

        async def all_seen() -> bool:
            found = await agents[0].call("discover_agents")
            return {a["guid"] for a in found["agents"]} == set(guids)

        await eventually(all_seen, timeout=10)
        await agents[2].call("send_message", channel="general", message="hello from p2")
        page = await agents[1].call("read_messages", channel="general")
        assert [m["message"] for m in page["messages"]] == ["hello from p2"]


@pytest.mark.parametrize("how", ["sigterm", "sigint", "stdin-close"])
async def test_agent_goes_offline_at_once_and_the_process_exits(
    how: str, bin_path: Callable[[str], str], agent_env: Callable[..., dict[str, str]], settings: Settings
) -> None:
    async with (
        await Runtime.open(settings) as observer,
        stdio_warp(bin_path, agent_env(LOOM_AGENT_ID=how)) as warp,
    ):
        directory = observer.service(AgentDirectory)
        await directory.start()
        guid = (await warp.call("register_agent", agentType="dev"))["guid"]
        await eventually(lambda: directory.is_online(guid), timeout=10)
        if how == "stdin-close":
            assert warp.process.stdin is not None
            warp.process.stdin.close()
        else:
            warp.process.send_signal(signal.SIGTERM if how == "sigterm" else signal.SIGINT)
        assert await asyncio.wait_for(warp.process.wait(), 20) in (0, 130, -2)
        # Offline at once: no waiting for the presence TTL (60 s heartbeat here). The presence and
        # agents buckets reach the directory through separate watches, in no set order: wait on both.
        await eventually(
            lambda: (
                not directory.is_online(guid)
                and guid in directory.records
                and directory.records[guid].status == "offline"
            ),
            timeout=10,
            message="agent not shown offline",
        )


async def test_a_killed_agent_loses_its_claim_to_another_after_the_lease(
    bin_path: Callable[[str], str],
    agent_env: Callable[..., dict[str, str]],
    make_settings: Callable[..., Settings],
) -> None:
    env = agent_env(LOOM_AGENT_ID="victim", LOOM_WORK_LEASE="2", LOOM_HEARTBEAT_SECONDS="1")
    async with (
        await Runtime.open(make_settings(agent_id="rescuer", work_lease=2)) as rt,
        in_process(rt) as rescuer,
    ):
        await rescuer.call("register_agent", agentType="dev", capabilities=["build"])
        item_id = (await rescuer.call("broadcast_work_offer", description="x", requiredCapability="build"))[
            "workItemId"
        ]
        async with stdio_warp(bin_path, env) as victim:
            await victim.call("register_agent", agentType="dev", capabilities=["build"])
            claimed = await victim.call("claim_work", capability="build", timeout=0)
            assert claimed["workItem"]["id"] == item_id
            victim.process.kill()  # SIGKILL while holding the claim
            await victim.process.wait()
        item = (await rescuer.call("claim_work", capability="build", timeout=15000))["workItem"]
        assert (item["id"], item["attempts"]) == (item_id, 2)
        await rescuer.call("complete_work", workItemId=item_id, summary="rescued")
        final = await rescuer.call("get_work_item", workItemId=item_id)
        assert (final["status"], final["summary"]) == ("completed", "rescued")


async def test_warp_serves_streamable_http(
    bin_path: Callable[[str], str], agent_env: Callable[..., dict[str, str]]
) -> None:
    import socket

    from mcp import Client

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = await asyncio.create_subprocess_exec(
        bin_path("warp"),
        "--transport",
        "http",
        "--port",
        str(port),
        env=agent_env(LOOM_AGENT_ID="http-agent"),
    )
    try:

        async def listening() -> bool:
            with socket.socket() as probe:
                return probe.connect_ex(("127.0.0.1", port)) == 0

        await eventually(listening, timeout=20)
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            result = await client.call_tool("register_agent", {"agentType": "remote"})
            assert not result.is_error and result.structured_content["agentType"] == "remote"  # type: ignore[index]
            sent = await client.call_tool("send_message", {"channel": "general", "message": "over http"})
            assert sent.structured_content["sequence"] == 1  # type: ignore[index]
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 20) == 0
