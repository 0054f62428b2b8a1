"""Build and run Loom's MCP server over stdio or Streamable HTTP.

One server process is one agent session: it resolves one identity, and it deregisters
the agent when the session ends: on stdin close (stdio), SIGTERM or SIGINT.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import mcp_types as types
import uvicorn
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from loom import __version__
from loom.config import Settings
from loom.mcp import toolsets as catalogue
from loom.mcp.toolkit import ToolRunner
from loom.runtime import Runtime
from loom.signals import stop_on_signals

log = logging.getLogger("loom.mcp")

INSTRUCTIONS = (
    "Loom connects you to a team of agents. Start with register_agent, read the team channels "
    "with read_messages, check your inbox with read_direct_messages, and when you are idle call "
    "wait_for_activity instead of polling."
)


def build_server(runtime: Runtime, toolset_names: Sequence[str], name: str = "loom") -> Server[Any]:
    runner: ToolRunner[Runtime] = ToolRunner(runtime, catalogue.load(toolset_names))

    async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return types.ListToolsResult(tools=runner.list())

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        return await runner.call(params.name, params.arguments)

    return Server(
        name,
        version=__version__,
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


async def run_until_stopped(serve: Any, stop: asyncio.Event) -> bool:
    """Run ``serve`` until it returns (stdin closed) or ``stop`` is set; True when stopped."""
    serve_task = asyncio.ensure_future(serve)
    stop_task = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait({serve_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
    stop_task.cancel()
    if serve_task in done:
        if (error := serve_task.exception()) is not None:
            raise error
        return False
    # Not awaited: the stdio reader sits in a thread blocked on stdin and can't be cancelled.
    serve_task.cancel()
    return True


async def serve(
    settings: Settings,
    toolset_names: Sequence[str],
    *,
    transport: str = "stdio",
    host: str = "127.0.0.1",
    port: int = 8000,
    name: str = "loom",
) -> None:
    """Serve until the session ends, then close the runtime (which deregisters the agent)."""
    async with stop_on_signals() as stop:
        runtime = await Runtime.open(settings)
        stopped = False
        try:
            server = build_server(runtime, toolset_names, name)
            settle_memory()
            serving = _serve_stdio(server) if transport == "stdio" else _serve_http(server, host, port)
            stopped = await run_until_stopped(serving, stop)
        finally:
            await runtime.close()  # deregisters the agent: offline at once
    if stopped and transport == "stdio":
        # A thread is still blocked reading stdin and would keep the process alive until the
        # client closes the pipe; everything is cleaned up, so leave now.
        sys.stdout.flush()
        os._exit(0)


def settle_memory() -> None:
    """Keep what was loaded at start (about 100k objects, mostly the MCP SDK's models) out of
    the garbage collector's full passes: each one would otherwise walk all of it, tens of
    milliseconds added to whichever tool call it lands on."""
    gc.collect()
    gc.freeze()


async def _serve_stdio(server: Server[Any]) -> None:
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


async def _serve_http(server: Server[Any], host: str, port: int) -> None:
    app = server.streamable_http_app(streamable_http_path="/mcp", host=host)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    await _QuietUvicorn(config).serve()


class _QuietUvicorn(uvicorn.Server):
    """uvicorn without its own signal handlers: ``serve`` owns SIGINT/SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
