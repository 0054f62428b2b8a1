"""Helpers to talk to Loom's MCP server through a real MCP client session."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from mcp import Client, StdioServerParameters
from mcp_types import CallToolResult

from loom.mcp.server import build_server
from loom.mcp.toolsets import WARP_DEFAULT
from loom.runtime import Runtime


class ToolError(AssertionError):
    """A tool answered isError; ``code`` is the CODE of ``Error [CODE]: ...``."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text
        self.code = text.split("[", 1)[1].split("]", 1)[0] if text.startswith("Error [") else ""


class Agent:
    """An MCP client session with convenience calls."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def raw(self, tool: str, **arguments: Any) -> CallToolResult:
        return await self.client.call_tool(tool, arguments)

    async def call(self, tool: str, **arguments: Any) -> dict[str, Any]:
        """Call a tool; return its structuredContent or raise ``ToolError``."""
        result = await self.raw(tool, **arguments)
        text = result.content[0].text if result.content else ""  # type: ignore[union-attr]
        if result.is_error:
            raise ToolError(text)
        assert isinstance(result.structured_content, dict), result
        assert text, "every tool returns a text for the model"
        return result.structured_content

    async def error(self, tool: str, **arguments: Any) -> ToolError:
        """Call a tool that must fail; return the error."""
        try:
            await self.call(tool, **arguments)
        except ToolError as exc:
            return exc
        raise AssertionError(f"{tool} did not fail")


@contextlib.asynccontextmanager
async def in_process(runtime: Runtime, toolsets: Sequence[str] = WARP_DEFAULT) -> AsyncIterator[Agent]:
    """A real MCP session against an in-process server (the MCP protocol, in memory)."""
    async with Client(build_server(runtime, toolsets)) as client:
        yield Agent(client)


@contextlib.asynccontextmanager
async def subprocess_agent(
    command: str, env: dict[str, str], args: Sequence[str] = (), cwd: str | None = None
) -> AsyncIterator[Agent]:
    """A real MCP session over stdio with a separate ``warp``/``pattern`` OS process."""
    params = StdioServerParameters(command=command, args=list(args), env=env, cwd=cwd)
    async with Client(params) as client:
        yield Agent(client)
